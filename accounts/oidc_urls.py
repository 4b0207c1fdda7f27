"""The relying party's URLs, under mozilla-django-oidc's names (DESIGN.md, URLs)."""

from django.urls import path

from accounts.front_channel import front_channel_logout
from accounts.oidc_views import (
    EntraAuthenticateView,
    EntraCallbackView,
    EntraLogoutView,
    EntraRevalidateView,
)

urlpatterns = [
    path("authenticate/", EntraAuthenticateView.as_view(), name="oidc_authentication_init"),
    path("callback/", EntraCallbackView.as_view(), name="oidc_authentication_callback"),
    path("revalidate/", EntraRevalidateView.as_view(), name="oidc_revalidate"),
    path("logout/", EntraLogoutView.as_view(), name="oidc_logout"),
    path("logout/front-channel/", front_channel_logout, name="oidc_front_channel_logout"),
]
