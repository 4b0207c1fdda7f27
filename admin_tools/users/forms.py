"""User Maintenance forms: the list's filters, a user's details and permissions, a password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts.models import LoginMode
from accounts.sso_config import Element
from admin_tools.users import selectors
from permissions import catalogue


class FilterForm(forms.Form):
    """GET filters. Invalid values (NUL bytes, unknown choices) are reported and ignored."""

    q = forms.CharField(label="Search", max_length=100, required=False,
                        help_text="Username, name, email, User Group or UPN; "
                                  "every word must match.")
    name = forms.CharField(label="Full name", max_length=100, required=False)
    username = forms.CharField(label="Username", max_length=150, required=False)
    type = forms.ChoiceField(label="Type", required=False,
                             choices=[("", "Any type"), *selectors.UserType.CHOICES])
    group = forms.ChoiceField(label="User Group", required=False)
    sort = forms.ChoiceField(label="Sort by", required=False)

    def __init__(self, *args: Any, groups: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "Any User Group"), *((g, g) for g in groups)]
        sorts = []
        for key, label in selectors.SORT_LABELS.items():
            sorts += [(key, f"{label} (A to Z, oldest first)" if key in ("joined", "last_sign_in")
                       else f"{label} (A to Z)"), (f"-{key}", f"{label} (reversed)")]
        self.fields["sort"].choices = sorts

    def filters(self) -> dict[str, str]:
        """The valid filters (an invalid field counts as not given)."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) or "" for name in self.fields}
        return {"q": data["q"].strip(), "name": data["name"].strip(),
                "username": data["username"].strip(), "kind": data["type"],
                "group": data["group"], "sort": data["sort"] or selectors.DEFAULT_SORT}


class DetailsForm(forms.Form):
    """A user's own fields. Entra-linked users: name, email, username and login mode come
    from Entra ID and are shown read-only."""

    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text="Letters, digits and @ . + - _ only. Unique, "
                                         "whatever the case.")
    first_name = forms.CharField(label="Forename", max_length=150)
    last_name = forms.CharField(label="Surname", max_length=150)
    email = forms.EmailField(label="Email", max_length=254)
    login_mode = forms.ChoiceField(
        label="Login mode", choices=LoginMode.choices, initial=LoginMode.PASSWORD,
        help_text="Keyfax SSO removes any Keyfax password; Keyfax password needs one set "
                  "with Reset password.",
    )
    user_group = forms.CharField(label="User Group", max_length=100, required=False,
                                 help_text="Free text that diagnostic scripts can read.")
    notes = forms.CharField(label="Notes", max_length=2000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="Kept in Keyfax only; never sent to Entra ID.")
    entra_owned = ("username", "first_name", "last_name", "email", "login_mode")

    def __init__(self, *args: Any, pk: int | None = None, entra_linked: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pk = pk
        self.entra_linked = entra_linked
        for name in self.entra_owned if entra_linked else ():
            self.fields[name].disabled = True

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if not self.fields["username"].disabled and selectors.username_taken(
                username, exclude_pk=self.pk):
            raise forms.ValidationError("A user with that username already exists "
                                        "(usernames ignore case).")
        return username

    def details(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in DetailsForm.base_fields}

    def detail_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DetailsForm.base_fields]


def field_name(element: Element) -> str:
    return f"permissions_{element.value}"


class EditForm(DetailsForm):
    """Details plus each element's permission checkboxes.

    Locked elements render read-only; their checkboxes, if posted anyway, are still read
    (and validated) so the lock can refuse and audit a forged change.
    """

    def __init__(self, *args: Any, current: dict[Element, set[str]], locked: set[Element],
                 read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked = locked
        for element in Element:
            self.fields[field_name(element)] = forms.MultipleChoiceField(
                label=f"{element.label} permissions",
                choices=[(e.codename, e.name) for e in catalogue.entries(element)],
                widget=forms.CheckboxSelectMultiple, required=False,
                initial=sorted(current[element]), disabled=element in locked,
            )
        for field in self.fields.values() if read_only else ():  # an IT account: see only
            field.disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.forged: dict[Element, set[str]] = {}
        for element in self.locked:
            name = field_name(element)
            if name not in self.data:
                continue
            posted = set(self.data.getlist(name)) - {""}  # "" alone: nothing ticked, revoke all
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
