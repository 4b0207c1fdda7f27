"""Keyfax Web Staff's own data: the stored result of each finished diagnostic."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from scripts.models import Kind


class Ending(models.TextChoices):
    OUTCOME = "outcome", "Outcome"
    END = "end", "Ended without a repair"


class DiagnosticResult(models.Model):
    """Who ran which published script version, the answers given and where it ended."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="diagnostic_results")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.ForeignKey("scripts.ScriptVersion", on_delete=models.PROTECT,
                                related_name="results")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    script_set = models.CharField(max_length=100)
    category = models.CharField(max_length=100)
    topic = models.CharField(max_length=100)
    path = models.JSONField(help_text="The questions asked and the answers given, in order.")
    ending = models.CharField(max_length=10, choices=Ending.choices)
    code = models.CharField("Repair / service code", max_length=30, blank=True)
    description = models.CharField(max_length=300, blank=True)
    priority = models.CharField(max_length=10, blank=True)
    response_days = models.PositiveSmallIntegerField(null=True, blank=True)
    complete_by = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="result_user_recent_idx")]

    def __str__(self) -> str:
        return f"{self.category}: {self.topic} ({self.created_at:%Y-%m-%d %H:%M})"
