from django.urls import include, path

from admin_tools import views

app_name = "admin_tools"

urlpatterns = [
    path("", views.home, name="home"),
    path("users/", include("admin_tools.users.urls")),
    path("scripts/", include("admin_tools.scripts.urls")),
]
