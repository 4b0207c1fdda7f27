"""Script authoring pages: thin; permissions in ``access``, every write in ``scripts.services``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import element_required
from accounts.sso_config import Element
from admin_tools.scripts import access
from admin_tools.scripts.forms import AnswerForm, OutcomeForm, ScriptForm, ScriptSetForm, StepForm
from scripts import selectors, services
from scripts.models import Script

T = "admin_tools/scripts/"


def admin_tool(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An admitted Administration Tool session; each view checks its Script Set itself."""
    return element_required(Element.ADMIN_TOOL)(view)


def _to_script(script: Script) -> HttpResponse:
    return redirect("admin_tools:script", pk=script.pk)


@admin_tool
@require_GET
def set_list(request: HttpRequest) -> HttpResponse:
    sets = list(access.visible_sets(request.user))
    access.require(bool(sets) or access.is_global_author(request.user))
    return render(request, T + "set_list.html", {
        "sets": sets, "may_create": request.user.has_perm("permissions.edit_scripts")})


@admin_tool
@require_http_methods(["GET", "POST"])
def set_create(request: HttpRequest) -> HttpResponse:
    access.require(request.user.has_perm("permissions.edit_scripts"))
    form = ScriptSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        script_set = services.save_script_set(form.save(commit=False))
        messages.success(request, f"Created the Script Set {script_set.name}.")
        return redirect("admin_tools:script-set", slug=script_set.slug)
    return render(request, T + "form.html", {"form": form, "title": "New Script Set"})


@admin_tool
@require_GET
def set_detail(request: HttpRequest, slug: str) -> HttpResponse:
    script_set = selectors.script_set(slug)
    access.require(access.may_see(request.user, script_set))
    return render(request, T + "set_detail.html", {
        "script_set": script_set, "categories": selectors.scripts_by_category(script_set),
        "may_edit": access.may_edit(request.user, script_set)})


@admin_tool
@require_http_methods(["GET", "POST"])
def script_create(request: HttpRequest, slug: str) -> HttpResponse:
    script_set = selectors.script_set(slug)
    access.require(access.may_edit(request.user, script_set))
    form = ScriptForm(request.POST or None, script_set=script_set)
    if request.method == "POST" and form.is_valid():
        script = services.save_script(form.save(commit=False))
        messages.success(request, "Created the script. Add its first step.")
        return _to_script(script)
    return render(request, T + "form.html", {"form": form, "script_set": script_set,
                                             "title": f"New script in {script_set.name}"})


@admin_tool
@require_GET
def script_detail(request: HttpRequest, pk: int) -> HttpResponse:
    script = selectors.script(pk)
    access.require(access.may_see(request.user, script.script_set))
    return render(request, T + "script_detail.html", _script_context(request, script))


def _script_context(request: HttpRequest, script: Script, **extra) -> dict:
    return {"script": script, **selectors.draft(script), **extra,
            "may_edit": access.may_edit(request.user, script.script_set),
            "may_publish": access.may_publish(request.user, script.script_set)}


@admin_tool
@require_http_methods(["GET", "POST"])
def script_edit(request: HttpRequest, pk: int) -> HttpResponse:
    script = selectors.script(pk)
    access.require(access.may_edit(request.user, script.script_set))
    form = ScriptForm(request.POST or None, instance=script, script_set=script.script_set)
    if request.method == "POST" and form.is_valid():
        services.save_script(form.save(commit=False))
        messages.success(request, "Saved the script.")
        return _to_script(script)
    return render(request, T + "form.html", {"form": form, "script": script,
                                             "title": f"Edit {script}"})


@admin_tool
@require_POST
def script_publish(request: HttpRequest, pk: int) -> HttpResponse:
    script = selectors.script(pk)
    access.require(access.may_publish(request.user, script.script_set))
    try:
        version = services.publish(script, by=request.user, request=request)
    except services.PublishRefused as refusal:
        context = _script_context(request, script, refused=refusal.problems)
        return render(request, T + "script_detail.html", context, status=400)
    messages.success(request, f"Published version {version.number}: Web Staff now runs it.")
    return _to_script(script)


@admin_tool
@require_GET
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version(pk)
    access.require(access.may_see(request.user, version.script.script_set))
    return render(request, T + "version_detail.html", {
        "version": version, "script": version.script,
        "steps": selectors.version_steps(version.graph)})


def _part_form(request: HttpRequest, form: Any, *, existing: Any, add: Any, script: Any,
               what: str, **context: Any) -> HttpResponse:
    """Save a step, answer or outcome form (edit ``existing`` or ``add`` a new one), or show
    it again with its field errors."""
    if request.method == "POST" and form.is_valid():
        if existing:
            services.save_part(form.save(commit=False), script)
        else:
            add(form.instance)
        messages.success(request, f"Saved the {what}.")
        return _to_script(script)
    return render(request, T + "form.html", {"form": form, "script": script, **context})


@admin_tool
@require_http_methods(["GET", "POST"])
def step_form(request: HttpRequest, pk: int | None = None, script_pk: int | None = None
              ) -> HttpResponse:
    """Add a step to a script (``script_pk``) or edit one (``pk``)."""
    step = selectors.step(pk) if pk else None
    script = step.script if step else selectors.script(script_pk)
    access.require(access.may_edit(request.user, script.script_set))
    return _part_form(
        request, StepForm(request.POST or None, instance=step), existing=step, script=script,
        add=lambda new: services.add_step(script, new), what="step", step=step,
        title="Edit step" if step else "Add a step",
    )


@admin_tool
@require_http_methods(["GET", "POST"])
def answer_form(request: HttpRequest, pk: int | None = None, step_pk: int | None = None
                ) -> HttpResponse:
    """Add an answer to a step (``step_pk``) or edit one (``pk``)."""
    answer = selectors.answer(pk) if pk else None
    step = answer.step if answer else selectors.step(step_pk)
    script = step.script
    access.require(access.may_edit(request.user, script.script_set))
    title = "Edit answer" if answer else "Add an answer"
    return _part_form(
        request, AnswerForm(request.POST or None, instance=answer, script=script),
        existing=answer, script=script, add=lambda new: services.add_answer(step, new),
        what="answer", step=step, title=f"{title} to \u201c{step.question}\u201d",
    )


@admin_tool
@require_http_methods(["GET", "POST"])
def outcome_form(request: HttpRequest, pk: int | None = None, script_pk: int | None = None
                 ) -> HttpResponse:
    """Add an outcome to a script (``script_pk``) or edit one (``pk``)."""
    outcome = selectors.outcome(pk) if pk else None
    script = outcome.script if outcome else selectors.script(script_pk)
    access.require(access.may_edit(request.user, script.script_set))
    return _part_form(
        request, OutcomeForm(request.POST or None, instance=outcome), existing=outcome,
        script=script, add=lambda new: services.add_outcome(script, new), what="outcome",
        title="Edit outcome" if outcome else "Add an outcome",
    )


@admin_tool
@require_POST
def step_delete(request: HttpRequest, pk: int) -> HttpResponse:
    step = selectors.step(pk)
    access.require(access.may_edit(request.user, step.script.script_set))
    services.delete_step(step)
    messages.success(request, "Deleted the step; answers that went to it now lead nowhere.")
    return _to_script(step.script)


@admin_tool
@require_POST
def answer_delete(request: HttpRequest, pk: int) -> HttpResponse:
    answer = selectors.answer(pk)
    access.require(access.may_edit(request.user, answer.step.script.script_set))
    services.delete_answer(answer)
    messages.success(request, "Deleted the answer.")
    return _to_script(answer.step.script)
