from django.apps import AppConfig


class StaffPortalConfig(AppConfig):
    name = "staff_portal"
    verbose_name = "Keyfax Web Staff"
