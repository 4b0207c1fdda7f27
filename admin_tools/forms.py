"""The User Maintenance form: User Group, and each element's permission checkboxes."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.sso_config import Element
from permissions import catalogue


def field_name(element: Element) -> str:
    return f"permissions_{element.value}"


class UserMaintenanceForm(forms.Form):
    """Locked elements render read-only; their checkboxes, if posted anyway, are still read
    (and validated) so the lock can refuse and audit a forged change."""

    user_group = forms.CharField(
        label="User Group", max_length=100, required=False,
        help_text="Free text that diagnostic scripts can read.",
    )

    def __init__(self, *args: Any, current: dict[Element, set[str]], locked: set[Element],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked = locked
        for element in Element:
            self.fields[field_name(element)] = forms.MultipleChoiceField(
                label=f"{element.label} permissions",
                choices=[(e.codename, e.name) for e in catalogue.entries(element)],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                initial=sorted(current[element]),
                disabled=element in locked,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.forged: dict[Element, set[str]] = {}
        for element in self.locked:
            name = field_name(element)
            if name not in self.data:
                continue
            posted = set(self.data.getlist(name))
            valid = {code for code, _label in self.fields[name].choices}
            if posted - valid:
                self.add_error(name, "Select a valid choice.")
            else:
                self.forged[element] = posted
        return cleaned

    def requested(self) -> dict[Element, set[str]]:
        """The permissions asked for, per element (locked ones only when posted anyway)."""
        wanted = {e: set(self.cleaned_data[field_name(e)]) for e in Element if e not in self.locked}
        wanted.update(self.forged)
        return wanted

    def element_fields(self) -> list[tuple[Element, forms.BoundField]]:
        return [(element, self[field_name(element)]) for element in Element]
