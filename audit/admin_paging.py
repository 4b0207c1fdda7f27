"""A changelist paginator that never counts a million rows.

Unfiltered on PostgreSQL, the total is the planner's estimate (``pg_class.reltuples``);
otherwise rows are counted up to a cap. The templates say "about" or "more than".
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from audit import selectors


class EstimatedCountPaginator(Paginator):
    cap = 10_000
    estimated = False
    capped = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not queryset.query.where:
            estimate = selectors.estimated_total()
            if estimate is not None and estimate > self.cap:
                self.estimated = True
                return estimate
        bounded = queryset[: self.cap + 1].count()
        if bounded > self.cap:
            self.capped = True
            return self.cap
        return bounded
