from django.contrib.admin.apps import AdminConfig


class KeyfaxAdminConfig(AdminConfig):
    """Django admin, with Keyfax's admin site (IT's SSO surface)."""

    default_site = "keyfax_site.admin_site.KeyfaxAdminSite"
