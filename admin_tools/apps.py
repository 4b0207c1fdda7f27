from django.apps import AppConfig


class AdminToolsConfig(AppConfig):
    name = "admin_tools"
    verbose_name = "Keyfax Administration Tool"
