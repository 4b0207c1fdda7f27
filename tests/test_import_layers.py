"""The layers in DESIGN.md are a build failure, not a drawing: ``lint-imports`` (in
``make lint`` and ``make test``) refuses an upward import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("keyfax_site", "admin_tools", "staff_portal", "permissions", "scripts", "accounts",
            "audit", "entra_emulator")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's Python packages and its contracts."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("templates", "static", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=project, capture_output=True, text=True,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"}, timeout=120,
    )


def plant(project: Path, module: str, statement: str) -> None:
    path = project / Path(*module.split(".")).with_suffix(".py")
    path.write_text(f"{statement}  # planted by the test\n")


def test_the_project_keeps_its_layers(project):
    result = lint_imports(project)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "statement", "complaint"), [
    ("audit.planted", "import accounts.models", "audit is not allowed to import accounts"),
    ("accounts.planted", "from permissions import catalogue",
     "accounts is not allowed to import permissions"),
    ("admin_tools.planted", "import staff_portal.views",
     "admin_tools is not allowed to import staff_portal"),
    ("scripts.planted", "import permissions.catalogue",
     "scripts is not allowed to import permissions"),
    ("accounts.planted", "import entra_emulator", "entra_emulator"),
])
def test_an_upward_or_sideways_import_fails_the_build(project, module, statement, complaint):
    plant(project, module, statement)
    result = lint_imports(project)
    assert result.returncode != 0
    assert complaint in result.stdout
