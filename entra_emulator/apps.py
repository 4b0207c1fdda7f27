from django.apps import AppConfig


class EntraEmulatorConfig(AppConfig):
    """Development only: installed by the settings when DEBUG is on, never in production."""

    name = "entra_emulator"
    verbose_name = "Development Entra ID emulator"
