"""Posting Django admin's real forms back, as a browser would."""

from __future__ import annotations

import datetime as dt


def form_data(response) -> dict:
    """What the browser posts back from a Django admin form page: every field of the form and
    its inlines."""
    forms = [response.context["adminform"].form]
    for inline in response.context.get("inline_admin_formsets", []):
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict = {}
    for form in forms:
        for name, field in form.fields.items():
            key, value = form.add_prefix(name), form[name].value()
            if getattr(field.widget, "input_type", None) == "checkbox" or isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, dt.datetime):
                data[f"{key}_0"] = value.date().isoformat()
                data[f"{key}_1"] = value.time().isoformat(timespec="seconds")
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None:
                data[key] = value
    return data
