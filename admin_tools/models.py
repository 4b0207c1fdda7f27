"""The Administration Tool's own data. ScriptSet is minimal for now; a later issue grows it."""

from __future__ import annotations

from django.db import models

from permissions import catalogue


class ScriptSet(models.Model):
    """A named group of diagnostic scripts (e.g. Repairs), the unit of per-set permissions."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        permissions = catalogue.script_set_permissions()

    def __str__(self) -> str:
        return self.name
