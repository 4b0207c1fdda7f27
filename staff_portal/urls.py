from django.urls import path, register_converter

from staff_portal import views


class DiagnosticConverter:
    """``repairs`` or ``enquiries``: the keys of :data:`staff_portal.views.DIAGNOSTICS`."""

    regex = "|".join(views.DIAGNOSTICS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(DiagnosticConverter, "diagnostic")

app_name = "staff_portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("results/", views.results, name="results"),
    path("results/<int:pk>/", views.result, name="result"),
    path("<diagnostic:diagnostic>/", views.choose, name="choose"),
    path("<diagnostic:diagnostic>/<int:version_pk>/", views.run, name="run"),
    path("<diagnostic:diagnostic>/<int:version_pk>/submit/", views.submit, name="submit"),
]
