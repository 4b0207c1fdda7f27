from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-in"

    def ready(self) -> None:
        from accounts import (
            checks,  # noqa: F401  (registers the system checks)
            open_sessions,  # noqa: F401  (forgets a session at sign-out)
        )
        from accounts.sso_config import Element, settings_summary
        from audit import vocabulary

        # Audit sits below accounts and cannot import it: tell it what it shows.
        vocabulary.describe_elements({element.value: element.label for element in Element})
        vocabulary.summarise_settings_with(settings_summary)
