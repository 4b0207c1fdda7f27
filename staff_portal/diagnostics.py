"""Running a published script: the signed state of a run, replaying it, answering, back,
and recording the result.

A run's state is the list of answer ids given so far, signed into the page
(``django.core.signing``, salted per user and version): nothing is kept on the server until
the result is submitted, and a forged state is refused. Every request replays the answers
over the immutable version's graph, so an answer is only accepted when it is one of the
current step's answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core import signing

from scripts.graph import steps_by_id
from scripts.models import Action, ScriptVersion
from staff_portal.models import DiagnosticResult, Ending

MAX_AGE = 12 * 60 * 60  # seconds a diagnostic in progress stays valid


class BadState(Exception):
    """The diagnostic's state was altered, belongs to someone else or has expired."""


class NotAnAnswer(Exception):
    """The answer given is not one of the current step's answers."""


@dataclass
class Run:
    """Where a diagnostic stands after replaying its answers."""

    path: list[int]
    asked: list[dict[str, str]] = field(default_factory=list)  # question/answer pairs
    step: dict[str, Any] | None = None  # the current step, while unfinished
    ending: dict[str, Any] | None = None  # the final answer, once finished
    outcome: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.ending is not None

    @property
    def cancelled(self) -> bool:
        return self.finished and self.ending["action"] == Action.CANCEL


def _salt(user: Any, version: ScriptVersion) -> str:
    return f"keyfax.diagnostic:{user.pk}:{version.pk}"


def sign(user: Any, version: ScriptVersion, path: list[int]) -> str:
    return signing.dumps(path, salt=_salt(user, version), compress=True)


def unsign(user: Any, version: ScriptVersion, token: str) -> list[int]:
    try:
        path = signing.loads(token or "", salt=_salt(user, version), max_age=MAX_AGE)
    except signing.BadSignature as error:
        raise BadState from error
    if not isinstance(path, list) or not all(type(a) is int for a in path):
        raise BadState
    return path


def replay(graph: dict[str, Any], path: list[int]) -> Run:
    """Follow ``path`` from the first step; raises ``NotAnAnswer`` where it strays."""
    steps = steps_by_id(graph)
    run = Run(path=list(path), step=steps[graph["start"]])
    for answer_id in path:
        if run.finished:
            raise NotAnAnswer
        answer = _answer_of(run.step, answer_id)
        run.asked.append({"question": run.step["question"], "answer": answer["text"]})
        if answer["action"] == Action.GOTO:
            run.step = steps[answer["next"]]
        else:
            run.step, run.ending = None, answer
            run.outcome = graph["outcomes"].get(answer.get("outcome") or "")
    return run


def _answer_of(step: dict[str, Any], answer_id: Any) -> dict[str, Any]:
    for answer in step["answers"]:
        if answer["id"] == answer_id:
            return answer
    raise NotAnAnswer


def choose(graph: dict[str, Any], path: list[int], answer_id: str | None) -> Run:
    """The run after answering the current step with ``answer_id`` (a posted value)."""
    run = replay(graph, path)
    if run.finished or not (answer_id or "").isdigit():
        raise NotAnAnswer
    _answer_of(run.step, int(answer_id))
    return replay(graph, [*path, int(answer_id)])


def back(graph: dict[str, Any], path: list[int]) -> Run:
    return replay(graph, path[:-1])


def complete_by(start: dt.date, response_days: int) -> dt.date:
    """``start`` plus ``response_days`` working days (Monday to Friday; bank holidays are not
    modelled). 0 means ``start`` itself, the same day, as for an emergency."""
    day, left = start, response_days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def record(user: Any, version: ScriptVersion, run: Run, today: dt.date) -> DiagnosticResult:
    """Store a finished (not cancelled) run as the user's diagnostic result."""
    if not run.finished or run.cancelled:
        raise BadState
    outcome = run.outcome or {}
    days = outcome.get("response_days")
    return DiagnosticResult.objects.create(
        user=user, version=version, kind=version.kind,
        script_set=version.graph["script"]["set"], category=version.category,
        topic=version.topic, path=run.asked,
        ending=Ending.OUTCOME if run.outcome else Ending.END,
        code=outcome.get("code", ""), description=outcome.get("description", ""),
        priority=outcome.get("priority", ""), response_days=days,
        complete_by=None if days is None else complete_by(today, days),
    )
