"""The development emulator is a development tool: it will not run on a production site."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.tokens import CLIENT_ID, CLIENT_SECRET, TENANT_ID


@pytest.fixture
def emulator_settings(settings):
    settings.DEBUG = True
    settings.ENTRA_TENANT_ID = TENANT_ID
    settings.ENTRA_CLIENT_ID = CLIENT_ID
    settings.ENTRA_CLIENT_SECRET = CLIENT_SECRET
    return settings


def test_it_refuses_to_start_when_debug_is_off(emulator_settings):
    emulator_settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run when DEBUG is False"):
        call_command("entra_emulator", "--port", "0")


def test_it_refuses_a_non_loopback_host(emulator_settings):
    with pytest.raises(CommandError, match="loopback"):
        call_command("entra_emulator", "--host", "0.0.0.0", "--port", "0")  # noqa: S104


def test_it_names_missing_settings(emulator_settings):
    emulator_settings.ENTRA_CLIENT_SECRET = ""
    with pytest.raises(CommandError, match="ENTRA_CLIENT_SECRET"):
        call_command("entra_emulator", "--port", "0")


def test_a_broken_people_file_is_a_clear_error(emulator_settings, tmp_path):
    broken = tmp_path / "people.json"
    broken.write_text(json.dumps({"people": [{"oid": "not-a-guid"}]}))
    with pytest.raises(CommandError):
        call_command("entra_emulator", "--port", "0", "--people", str(broken))


def _installed_apps(**env: str) -> list[str]:
    import os
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings; " \
           "print(','.join(settings.INSTALLED_APPS))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "keyfax_site.settings", **env},
    )
    return result.stdout.strip().split(",")


def test_production_settings_do_not_install_the_emulator():
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "keyfax.example"}
    assert "entra_emulator" not in _installed_apps(**production)
    assert "entra_emulator" in _installed_apps(DEBUG="true")
