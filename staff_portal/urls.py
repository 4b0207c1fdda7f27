from django.urls import path

from staff_portal import views

app_name = "staff_portal"

urlpatterns = [
    path("", views.home, name="home"),
]
