"""The script domain: Script Sets and the diagnostic scripts in them.

A script is authored as a *draft* in rows (steps, answers, outcomes) and published as an
immutable :class:`ScriptVersion`: a snapshot of the validated graph as JSON, which Web Staff
runs and diagnostic results point at. Editing the draft never touches a published version.
The Administration Tool authors scripts and Web Staff runs them; both read them from here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models


class Kind(models.TextChoices):
    REPAIR = "repair", "Repair"
    ENQUIRY = "enquiry", "Enquiry"


class ScriptSetManager(models.Manager):
    def get_by_natural_key(self, slug: str) -> ScriptSet:
        return self.get(slug=slug)


class ScriptSet(models.Model):
    """A named group of diagnostic scripts (e.g. Day-to-day repairs), the unit of per-set
    permissions."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    objects = ScriptSetManager()

    class Meta:
        ordering = ["name"]
        # Grantable on one Script Set (django-guardian); ``permissions.catalogue`` lists
        # the same codenames as its per-Script-Set entries (a test keeps the two in step).
        permissions = [
            ("edit_scripts", "Edit scripts in this Script Set"),
            ("publish_scripts", "Publish scripts in this Script Set"),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class Script(models.Model):
    """One diagnostic script, found by category and topic within its Script Set."""

    script_set = models.ForeignKey(ScriptSet, on_delete=models.PROTECT, related_name="scripts")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.REPAIR,
                            help_text="Repair Diagnostics runs repair scripts; Enquiries "
                                      "Diagnostics runs enquiry scripts.")
    category = models.CharField(max_length=100, help_text="For example Plumbing or Heating.")
    topic = models.CharField(max_length=100, help_text="For example Leaking tap.")
    description = models.TextField(blank=True)
    start_step = models.ForeignKey("Step", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", help_text="The step the script opens with.")
    published_version = models.ForeignKey(
        "ScriptVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The version Web Staff runs.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["script_set__name", "category", "topic"]
        constraints = [models.UniqueConstraint(fields=["script_set", "category", "topic"],
                                               name="script_unique_topic_in_set")]

    def __str__(self) -> str:
        return f"{self.category}: {self.topic}"


class Step(models.Model):
    """A question the advisor asks; its answers say where to go next."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    question = models.CharField(max_length=300)
    help_text = models.TextField(blank=True, help_text="Guidance for the advisor (optional).")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.question


class Outcome(models.Model):
    """What a diagnosis ends in: the repair (SOR) or service code and how urgent it is."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="outcomes")
    code = models.CharField("Service / SOR code", max_length=30)
    description = models.CharField(max_length=300)
    priority = models.CharField("Priority code", max_length=10,
                                help_text="For example E (emergency), U (urgent), R (routine).")
    response_days = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(365)],
        help_text="Working days to complete; 0 means today.")

    class Meta:
        ordering = ["code", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Action(models.TextChoices):
    GOTO = "goto", "Go to step"
    OUTCOME = "outcome", "Outcome"
    END = "end", "End (no repair needed)"
    CANCEL = "cancel", "Cancel the diagnostic"


class Answer(models.Model):
    """One answer to a step, leading to another step, an outcome, an end or a cancel."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.GOTO)
    next_step = models.ForeignKey(Step, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    outcome = models.ForeignKey(Outcome, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class ImmutableError(Exception):
    """A published script version cannot be changed or deleted."""


class ScriptVersion(models.Model):
    """A published, immutable snapshot of a script: its validated graph as JSON.

    ``kind``, ``category`` and ``topic`` are copied from the draft at publishing so Web Staff
    lists and filters versions without reading the graph.
    """

    script = models.ForeignKey(Script, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    category = models.CharField(max_length=100)
    topic = models.CharField(max_length=100)
    graph = models.JSONField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["script", "-number"]
        constraints = [models.UniqueConstraint(fields=["script", "number"],
                                               name="script_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.category}: {self.topic} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ImmutableError("A published script version cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A published script version cannot be deleted.")
