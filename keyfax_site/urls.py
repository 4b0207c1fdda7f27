from django.contrib import admin
from django.urls import include, path

from keyfax_site import views
from scim.views import scim_endpoint

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("oidc/", include("accounts.oidc_urls")),
    path("admin-tools/", include("admin_tools.urls")),
    path("staff/", include("staff_portal.urls")),
    path("django-admin/", admin.site.urls),
    path("scim/v2", scim_endpoint),
    path("scim/v2/<path:path>", scim_endpoint, name="scim"),
]

handler403 = "accounts.views.permission_denied"
