"""The operator docs keep up with the code they describe."""

from pathlib import Path

import pytest

from accounts.refusals import Reason
from audit.models import Action

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("reason", list(Reason), ids=lambda r: r.value)
def test_every_refusal_reason_is_explained_to_it(reason):
    assert f"`{reason.value}`" in (DOCS / "sign-in.md").read_text()


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
def test_every_audit_action_is_in_the_catalogue(action):
    catalogue = (DOCS / "audit.md").read_text().split("## Event catalogue")[1].split("\n## ")[0]
    assert f"`{action.value}`" in catalogue
