"""The operator docs keep up with the code they describe."""

from pathlib import Path

import pytest

from accounts.refusals import Reason

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("reason", list(Reason), ids=lambda r: r.value)
def test_every_refusal_reason_is_explained_to_it(reason):
    assert f"`{reason.value}`" in (DOCS / "sign-in.md").read_text()
