"""``pip install .`` installs the site (docs/deployment.md): the wheel holds every app with its
migrations, management commands, templates and static files, and nothing of the tests.

The wheel is built from a copy of the working tree as git sees it (tracked files plus
untracked ones that are not ignored), so stray local files such as ``build/`` cannot hide a
missing ``[tool.setuptools]`` entry. The installed site is then started from the unpacked
wheel alone, away from this checkout."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("keyfax_site", "accounts", "permissions", "scripts", "audit", "admin_tools",
        "staff_portal", "scim", "entra_emulator")
LEFT_OUT = ("tests/", "bench/", "docs/", "fixtures/", "node_modules/", "manage.py")


def git_files() -> list[str]:
    """Tracked files and untracked, not-ignored ones, as a fresh clone plus local edits."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True, timeout=60,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def isolation_args() -> list[str]:
    """Build offline with the venv's setuptools when it can build a wheel by itself (70.1+,
    which also meets ``build-system.requires``); otherwise pip's isolated build, as ``pip
    install .`` does."""
    try:
        major, minor = (int(part) for part in
                        importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return []
    return ["--no-build-isolation"] if (major, minor) >= (70, 1) else []


@pytest.fixture(scope="module")
def sources() -> list[str]:
    return git_files()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, sources) -> Path:
    copy = tmp_path_factory.mktemp("checkout")
    for name in sources:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
         *isolation_args(), "-w", str(out), str(copy)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (built,) = out.glob("keyfax_sso-*.whl")
    return built


@pytest.fixture(scope="module")
def names(wheel) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.fixture(scope="module")
def site(wheel, tmp_path_factory) -> Path:
    """The wheel unpacked, as pip would lay it out in site-packages."""
    target = tmp_path_factory.mktemp("site-packages")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def test_the_wheel_holds_every_app_with_its_migrations_and_commands(names):
    for name in (
        "keyfax_site/settings.py",
        "keyfax_site/wsgi.py",
        "accounts/models.py",
        "accounts/entra/__init__.py",
        "admin_tools/scripts/__init__.py",
        "scripts/migrations/0001_initial.py",
        "audit/management/commands/verify_audit.py",
        "permissions/management/commands/set_permissions.py",
        "entra_emulator/management/commands/entra_emulator.py",
    ):
        assert name in names


def test_the_wheel_holds_the_site_and_app_templates_and_static_files(names):
    for name in (
        "keyfax_site/templates/base.html",
        "keyfax_site/templates/403.html",
        "keyfax_site/static/css/site.css",
        "admin_tools/templates/admin_tools/home.html",
        "staff_portal/templates/staff_portal/home.html",
        "accounts/templates/accounts/login.html",
        "audit/templates/admin/audit/auditevent/search_form.html",
    ):
        assert name in names


def test_every_module_template_and_static_file_of_the_apps_is_in_the_wheel(names, sources):
    shipped = [name for name in sources if name.split("/")[0] in APPS and (
        name.endswith(".py") or "/templates/" in name or "/static/" in name)]
    assert len(shipped) > 150
    assert sorted(set(shipped) - names) == []


def test_the_wheel_leaves_out_tests_bench_docs_and_fixtures(names):
    assert [name for name in names if name.startswith(LEFT_OUT) or "node_modules/" in name
            or "__pycache__" in name or name.endswith(".pyc")] == []
    top = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top == set(APPS)


PROBE = """
import json, sys
import django
django.setup()
from django.apps import apps
from django.contrib.staticfiles import finders
from django.core.management import get_commands
from django.db.migrations.loader import MigrationLoader
from django.template.loader import get_template

print(json.dumps({
    "apps": {config.name: config.path for config in apps.get_app_configs()},
    "templates": {name: get_template(name).origin.name for name in sys.argv[1:]},
    "static": finders.find("css/site.css"),
    "commands": get_commands(),
    "migrations": sorted(
        f"{app}/migrations/{name}.py"
        for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    ),
}))
"""


def test_the_installed_site_finds_its_templates_static_files_and_migrations(
        site, sources, tmp_path):
    """Django started from the unpacked wheel alone: ``-P`` and a scratch working directory
    keep this checkout off ``sys.path``; the venv supplies Django."""
    templates = ["base.html", "403.html", "home.html", "admin_tools/home.html",
                 "staff_portal/home.html", "admin/audit/auditevent/search_form.html"]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(site),
        "DJANGO_SETTINGS_MODULE": "keyfax_site.settings",
        "DEBUG": "true",
    }
    result = subprocess.run([sys.executable, "-P", "-c", PROBE, *templates], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.splitlines()[-1])

    for app in APPS:
        if app != "keyfax_site":  # the project package, not an installed app
            assert found["apps"][app] == str(site / app)
    # The site-wide templates (TEMPLATES DIRS) still come first.
    assert found["templates"]["base.html"] == str(site / "keyfax_site/templates/base.html")
    assert found["templates"]["403.html"] == str(site / "keyfax_site/templates/403.html")
    for name in templates:
        assert found["templates"][name].startswith(str(site) + os.sep)
    assert found["static"] == str(site / "keyfax_site/static/css/site.css")
    for command, app in (("entra_emulator", "entra_emulator"), ("verify_audit", "audit"),
                         ("set_permissions", "permissions")):
        assert found["commands"][command] == app
    on_disk = [name for name in sources if "/migrations/0" in name and name.endswith(".py")]
    assert len(on_disk) > 15
    assert sorted(set(on_disk) - set(found["migrations"])) == []
