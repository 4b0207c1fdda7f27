from django.urls import path

from admin_tools import views

app_name = "admin_tools"

urlpatterns = [
    path("", views.home, name="home"),
]
