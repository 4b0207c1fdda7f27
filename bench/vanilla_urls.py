from django.urls import include, path

from keyfax_site.views import healthz

urlpatterns = [
    path("healthz", healthz),
    path("oidc/", include("mozilla_django_oidc.urls")),
]
