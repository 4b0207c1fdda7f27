from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import element_required
from accounts.sso_config import Element


@element_required(Element.WEB_STAFF)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "staff_portal/home.html")
