from django.urls import path

from admin_tools import views

app_name = "admin_tools"

urlpatterns = [
    path("", views.home, name="home"),
    path("users/", views.user_list, name="users"),
    path("users/<int:user_id>/", views.user_edit, name="user-edit"),
]
