from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import element_required
from accounts.sso_config import Element


@element_required(Element.ADMIN_TOOL)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "admin_tools/home.html")
