"""A script as a plain graph (what a published version stores) and its validation.

The graph is JSON: ``{"script": {...}, "start": "<step id>", "steps": [{"id", "question",
"help", "answers": [{"id", "text", "action", "next", "outcome"}]}], "outcomes": {"<id>":
{"code", "description", "priority", "response_days"}}}``. Step and outcome ids are strings;
steps are a list so their order survives PostgreSQL's ``jsonb`` (which reorders keys).
"""

from __future__ import annotations

from typing import Any

from scripts.models import Action, Answer, Script

Graph = dict[str, Any]


def build_graph(script: Script) -> Graph:
    """The draft's graph, read in three queries (steps, answers, outcomes)."""
    steps = list(script.steps.all())
    answers = script_answers(script)
    outcomes = list(script.outcomes.all())
    return {
        "script": {"set": script.script_set.name, "set_slug": script.script_set.slug,
                   "kind": script.kind, "category": script.category, "topic": script.topic,
                   "description": script.description},
        "start": _key(script.start_step_id),
        "steps": [
            {
                "id": str(step.pk), "question": step.question, "help": step.help_text,
                "answers": [
                    {"id": answer.pk, "text": answer.text, "action": answer.action,
                     "next": _key(answer.next_step_id), "outcome": _key(answer.outcome_id)}
                    for answer in answers if answer.step_id == step.pk
                ],
            } for step in steps
        ],
        "outcomes": {
            str(o.pk): {"code": o.code, "description": o.description, "priority": o.priority,
                        "response_days": o.response_days} for o in outcomes
        },
    }


def script_answers(script: Script) -> list[Answer]:
    return list(Answer.objects.filter(step__script=script).order_by("step_id", "position", "id"))


def _key(pk: int | None) -> str | None:
    return None if pk is None else str(pk)


def problems(graph: Graph) -> list[str]:
    """Why this graph cannot be published: dead ends, missing targets, unreachable steps.

    An empty list means it is valid.
    """
    steps, outcomes = steps_by_id(graph), graph.get("outcomes", {})
    found: list[str] = []
    if not steps:
        return ["The script has no steps."]
    start = graph.get("start")
    if start is None:
        found.append("The script has no first step.")
    elif start not in steps:
        found.append("The first step is missing.")
    for number, step in enumerate(steps.values(), start=1):
        name = f"Step {number} \u201c{step['question']}\u201d"
        if not step["answers"]:
            found.append(f"{name} has no answers: it is a dead end.")
        for answer in step["answers"]:
            found.extend(_answer_problems(name, answer, steps, outcomes))
    if start in steps:
        reachable = reachable_steps(graph)
        for number, (key, step) in enumerate(steps.items(), start=1):
            if key not in reachable:
                found.append(f"Step {number} \u201c{step['question']}\u201d cannot be reached "
                             "from the first step.")
    return found


def _answer_problems(name: str, answer: dict, steps: dict, outcomes: dict) -> list[str]:
    label = f"{name}, answer \u201c{answer['text']}\u201d"
    action = answer["action"]
    if action == Action.GOTO:
        if answer.get("next") is None:
            return [f"{label} leads nowhere: choose the step it goes to."]
        if answer["next"] not in steps:
            return [f"{label} goes to a step that does not exist."]
    elif action == Action.OUTCOME:
        if answer.get("outcome") is None:
            return [f"{label} leads nowhere: choose its outcome."]
        if answer["outcome"] not in outcomes:
            return [f"{label} refers to an outcome that does not exist."]
    elif action not in (Action.END, Action.CANCEL):
        return [f"{label} has an unknown action {action!r}."]
    return []


def reachable_steps(graph: Graph) -> set[str]:
    """The ids of the steps reachable from the first step."""
    steps = steps_by_id(graph)
    seen: set[str] = set()
    todo = [graph.get("start")]
    while todo:
        key = todo.pop()
        if key is None or key in seen or key not in steps:
            continue
        seen.add(key)
        todo.extend(a.get("next") for a in steps[key]["answers"] if a["action"] == Action.GOTO)
    return seen


def steps_by_id(graph: Graph) -> dict[str, dict[str, Any]]:
    """The graph's steps by id, in script order."""
    return {step["id"]: step for step in graph.get("steps", [])}
