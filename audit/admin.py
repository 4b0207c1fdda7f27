"""The audit log for IT: read-only for everyone, filterable, searchable, exportable as CSV."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
)
from django.urls import URLPattern, path
from django.utils.html import format_html

from audit import selectors, vocabulary
from audit.admin_export import csv_response
from audit.admin_paging import EstimatedCountPaginator
from audit.models import Action, AuditEvent
from audit.services import record

# The URL lookups IT may use: the filters below, plus exact actor / request / address links.
ALLOWED_LOOKUPS = frozenset({
    "action__exact", "outcome__exact", "actor_kind__exact", "element",
    "created_at__gte", "created_at__lt", "action", "outcome", "actor_kind",
    "actor_username", "actor_user_id", "actor_tenant_id", "actor_object_id",
    "subject", "request_id", "source_ip",
})


class ElementFilter(admin.SimpleListFilter):
    title = "element"
    parameter_name = "element"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(vocabulary.element_labels().items())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(element=self.value()) if self.value() else queryset


EVENT_FIELDS = ("created_at", "action", "outcome", "reason", "element", "subject")
ACTOR_FIELDS = (
    "actor_kind", "actor_user_id", "actor_username", "actor_tenant_id", "actor_object_id",
)
REQUEST_FIELDS = ("source_ip", "user_agent", "request_id")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "action", "outcome", "reason", "element", "actor", "subject", "source_ip",
    )
    list_filter = (
        "action", "outcome", ElementFilter, "actor_kind",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("actor_username",)  # shows the box; get_search_results does the work
    search_help_text = (
        "Exact match on a username, an Entra object id, an IP address or a request reference."
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    list_per_page = 50  # IT pages through a few; rendering, not SQL, is the cost per row
    fieldsets = (
        ("Event", {"fields": EVENT_FIELDS}),
        ("Actor", {"fields": ACTOR_FIELDS}),
        ("Request", {"fields": REQUEST_FIELDS}),
        ("Detail", {"fields": ("detail_pretty",)}),
        ("Integrity", {"fields": ("prev_hash", "hash")}),
    )
    readonly_fields = (
        *EVENT_FIELDS, *ACTOR_FIELDS, *REQUEST_FIELDS, "detail_pretty", "prev_hash", "hash",
    )

    @admin.display(description="actor")
    def actor(self, event: AuditEvent) -> str:
        return event.actor_username or event.actor_object_id or event.get_actor_kind_display()

    @admin.display(description="detail")
    def detail_pretty(self, event: AuditEvent) -> str:
        text = json.dumps(event.detail, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="audit-detail">{}</pre>', text)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        return selectors.search(queryset, search_term), False

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest) -> bool:
        if lookup not in ALLOWED_LOOKUPS or "\x00" in str(value):  # PostgreSQL refuses NUL
            return False
        if lookup == "source_ip":
            return _is_ip(value)
        return True

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export.csv", self.admin_site.admin_view(self.export_csv),
            name="audit_auditevent_export",
        )
        return [export, *super().get_urls()]

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        """The changelist's current filters, search and order (the query string), as a
        streamed CSV file. POST only: each export is audited, so a cross-site link or
        image must not be able to start one in someone's name (CSRF applies)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        request.GET = request.GET.copy()
        request.GET.pop(PAGE_VAR, None)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("These filters are not valid; export nothing.")
        # Who took a copy of the log, and of what, is itself on the record.
        record(Action.AUDIT_EXPORTED, actor=request.user, request=request, subject="audit log",
               detail={"format": "csv", "query": request.GET.urlencode()[:1000]})
        return csv_response(changelist.queryset)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_it(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        """IT reads the log: any active staff account (the site admits only those)."""
        return _is_it(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False


def _is_it(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True
