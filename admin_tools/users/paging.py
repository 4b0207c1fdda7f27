"""Paging that stays fast deep into a long list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


class IdFirstPaginator(Paginator):
    """Pick the page's ids first, then load those rows with their joins.

    ``OFFSET`` over the joined, sorted list makes the database join and sort every user
    before the page; an id subquery (``WHERE id IN (SELECT id … ORDER BY … OFFSET … LIMIT …)``)
    walks the sort index alone and joins only the page's rows. Still one query. ``rows`` turns
    the id subquery into the page's rows (joined and ordered, without the filters again).
    """

    def __init__(self, object_list: QuerySet, per_page: int,
                 rows: Callable[[QuerySet], Any], **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows

    def page(self, number: object) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.rows(ids), number, self)
