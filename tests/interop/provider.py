"""An independent OpenID Provider for interop tests: `oidc-provider` (npm) dressed as Entra ID.

    with OidcProviderProcess(tenant_id=..., client_id=..., client_secret=...,
                             redirect_uris=[...], people_file=path) as op:
        settings.ENTRA_AUTHORITY = op.authority          # http://127.0.0.1:PORT
        response = session.get(rp_login_url)             # follows the RP's redirect to the OP
        response = complete_login(session, response, person_oid)  # from .browser

The Node side is ``op_server.mjs`` beside this file (see README.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

INTEROP_DIR = Path(__file__).resolve().parent
SERVER_SCRIPT = INTEROP_DIR / "op_server.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
NPM_CI_TIMEOUT = 600.0


# --------------------------------------------------------------------------------------------
# node_modules


def _pinned_version() -> str | None:
    package = json.loads((INTEROP_DIR / "package.json").read_text())
    return package.get("dependencies", {}).get("oidc-provider")


def _installed_version() -> str | None:
    try:
        installed = NODE_MODULES / "oidc-provider" / "package.json"
        return json.loads(installed.read_text()).get("version")
    except (OSError, ValueError):
        return None


def ensure_node_modules() -> None:
    """Run ``npm ci`` in tests/interop unless the pinned oidc-provider is installed already."""
    if _installed_version() is not None and _installed_version() == _pinned_version():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH: it is needed to install tests/interop/node_modules")
    # Several test processes may get here at once: one installs, the others wait for it.
    lock_path = Path(tempfile.gettempdir()) / f"keyfax-interop-npm-{os.getuid()}.lock"
    with open(lock_path, "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not on POSIX
            pass
        if _installed_version() is not None and _installed_version() == _pinned_version():
            return
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=INTEROP_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"`npm ci` in {INTEROP_DIR} took over {NPM_CI_TIMEOUT:.0f} s"
            ) from exc
        if done.returncode != 0 or _installed_version() is None:
            raise RuntimeError(
                f"`npm ci` in {INTEROP_DIR} failed (exit {done.returncode}):\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )


# --------------------------------------------------------------------------------------------
# The process


class OidcProviderProcess:
    """Starts ``node op_server.mjs`` on a free 127.0.0.1 port; a context manager.

    ``authority`` is what the RP uses as ENTRA_AUTHORITY; ``issuer`` is
    ``{authority}/{tenant_id}/v2.0``; discovery is at ``{issuer}/.well-known/openid-configuration``
    (``discovery_url``).
    The server's stderr is kept: ``log()`` returns it (useful in an assertion message).
    """

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        people_file: Path,
        post_logout_redirect_uris: list[str] | None = None,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        if not redirect_uris:
            raise ValueError("redirect_uris must not be empty")
        for uri in [*redirect_uris, *(post_logout_redirect_uris or [])]:
            if "," in uri:
                raise ValueError(f"a redirect URI must not contain a comma: {uri!r}")
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.post_logout_redirect_uris = list(post_logout_redirect_uris or [])
        self.people_file = Path(people_file)
        self.ready_timeout = ready_timeout
        self.port: int | None = None
        self.authority: str = ""
        self.issuer: str = ""
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[str] | None = None
        self._last_log = ""
        self._pump: threading.Thread | None = None

    # -- properties ---------------------------------------------------------------------------

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        if self._stderr is None:
            return self._last_log
        try:
            return Path(self._stderr.name).read_text(errors="replace")
        except OSError:
            return ""

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> OidcProviderProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("the OpenID Provider is already running")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH: the interop OpenID Provider needs Node.js 20+")
        if not self.people_file.is_file():
            raise RuntimeError(f"people file {self.people_file} does not exist")
        ensure_node_modules()

        env = {
            **os.environ,
            "OP_PORT": "0",
            "TENANT_ID": self.tenant_id,
            "CLIENT_ID": self.client_id,
            "CLIENT_SECRET": self.client_secret,
            "REDIRECT_URIS": ",".join(self.redirect_uris),
            "POST_LOGOUT_REDIRECT_URIS": ",".join(self.post_logout_redirect_uris),
            "PEOPLE_FILE": str(self.people_file.resolve()),
            "OP_EXIT_ON_STDIN_EOF": "1",
        }
        env.pop("DEBUG", None)  # oidc-provider's debug logging would be noise
        self._stderr = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            mode="w+", prefix="interop-op-", suffix=".log", delete=False
        )
        started = time.monotonic()
        self._process = subprocess.Popen(
            [node, str(SERVER_SCRIPT)],
            cwd=INTEROP_DIR,
            env=env,
            stdin=subprocess.PIPE,  # never written; node exits when it closes (orphan guard)
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            start_new_session=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        self._pump = threading.Thread(
            target=_pump_stdout, args=(self._process.stdout, lines), daemon=True
        )
        self._pump.start()

        ready = None
        deadline = started + self.ready_timeout
        while ready is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"no ready line within {self.ready_timeout:.0f} s")
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self._process.poll() is not None:
                    self._fail(f"node exited with status {self._process.returncode}")
                continue
            if line is None:
                self._process.wait(timeout=STOP_TIMEOUT)
                self._fail(f"node exited with status {self._process.returncode}")
            try:
                message = json.loads(line)
            except ValueError:
                self._fail(f"unexpected first line on stdout: {line!r}")
            if not isinstance(message, dict) or message.get("ready") is not True:
                self._fail(f"unexpected first line on stdout: {line!r}")
            ready = message

        self.startup_seconds = time.monotonic() - started
        self.port = int(ready["port"])
        self.authority = f"http://127.0.0.1:{self.port}"
        self.issuer = str(ready["issuer"])
        expected = f"{self.authority}/{self.tenant_id}/v2.0"
        if self.issuer != expected:
            self._fail(f"issuer {self.issuer!r} is not {expected!r}")

    def _fail(self, reason: str) -> None:
        self.stop()
        raise RuntimeError(
            f"the interop OpenID Provider (node {SERVER_SCRIPT.name}) did not start: {reason}\n"
            f"--- its stderr ---\n{self._last_log}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if process is not None:
            if self._pump is not None:
                self._pump.join(timeout=STOP_TIMEOUT)
                self._pump = None
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        self._last_log = self.log()
        if self._stderr is not None:
            with contextlib.suppress(OSError):
                self._stderr.close()
                os.unlink(self._stderr.name)
            self._stderr = None


def _pump_stdout(stream, lines: queue.Queue[str | None]) -> None:
    """Hand the first line to the waiting thread, then keep draining so node never blocks."""
    first = True
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            if first:
                lines.put(line.strip())
                first = False
    if first:
        lines.put(None)
