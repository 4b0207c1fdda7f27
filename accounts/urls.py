from django.urls import path

from accounts import session_pages, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("signed-out/", views.signed_out, name="signed-out"),
    path("sessions/", session_pages.my_sessions, name="sessions"),
]
