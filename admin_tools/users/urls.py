"""User Maintenance URLs, included under ``admin-tools/users/`` in the ``admin_tools``
namespace (``admin_tools:users`` and ``admin_tools:user-edit`` are linked from elsewhere)."""

from django.urls import path

from admin_tools.users import directory_views, session_views, views

urlpatterns = [
    path("", views.user_list, name="users"),
    path("new/", views.user_create, name="user-create"),
    path("register/", directory_views.register, name="user-register"),
    path("<int:user_id>/", views.user_edit, name="user-edit"),
    path("<int:user_id>/disable/", views.user_disable, name="user-disable"),
    path("<int:user_id>/enable/", views.user_enable, name="user-enable"),
    path("<int:user_id>/password/", views.user_password, name="user-password"),
    path("<int:user_id>/sessions/end/", session_views.end_sessions, name="user-end-sessions"),
    path("<int:user_id>/link/", directory_views.link, name="user-link"),
    path("<int:user_id>/unlink/", directory_views.unlink, name="user-unlink"),
]
