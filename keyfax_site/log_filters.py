"""Keep codes, tokens and secrets out of the logs, whoever logs them (server, urllib3, us)."""

from __future__ import annotations

import logging
import re

_SECRET_PARAMETER = re.compile(
    r"(?i)\b(code|id_token|access_token|refresh_token|client_secret|code_verifier|password"
    r"|client_assertion)=([^&\s\"']+)"
)


def redact(text: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1=[redacted]", text)


class RedactSecrets(logging.Filter):
    """Rewrite ``name=value`` pairs whose name says secret, in every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
