"""Forms for authoring scripts; choices are limited to the script being edited."""

from __future__ import annotations

from django import forms

from scripts.models import Action, Answer, Outcome, Script, ScriptSet, Step


class ScriptSetForm(forms.ModelForm):
    class Meta:
        model = ScriptSet
        fields = ["name", "slug", "description"]
        help_texts = {"slug": "Letters, numbers and hyphens; used in addresses."}


class ScriptForm(forms.ModelForm):
    class Meta:
        model = Script
        fields = ["kind", "category", "topic", "description", "start_step"]
        labels = {"start_step": "First step"}

    def __init__(self, *args, script_set: ScriptSet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.instance.script_set = script_set
        if self.instance.pk is None:
            del self.fields["start_step"]
        else:
            self.fields["start_step"].queryset = self.instance.steps.all()

    def clean(self) -> dict:
        data = super().clean()
        category, topic = data.get("category"), data.get("topic")
        clash = Script.objects.filter(script_set=self.instance.script_set, category=category,
                                      topic=topic).exclude(pk=self.instance.pk)
        if category and topic and clash.exists():
            self.add_error("topic", "This Script Set already has a script with this category "
                                    "and topic.")
        return data


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = ["question", "help_text"]
        widgets = {"help_text": forms.Textarea(attrs={"rows": 3})}


class OutcomeForm(forms.ModelForm):
    class Meta:
        model = Outcome
        fields = ["code", "description", "priority", "response_days"]


class AnswerForm(forms.ModelForm):
    """An answer and where it leads: a step of this script, one of its outcomes, or the end."""

    class Meta:
        model = Answer
        fields = ["text", "action", "next_step", "outcome"]
        labels = {"next_step": "Go to step", "action": "Leads to"}
        widgets = {"action": forms.RadioSelect}

    def __init__(self, *args, script: Script, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_step"].queryset = script.steps.all()
        self.fields["outcome"].queryset = script.outcomes.all()
        self.fields["next_step"].help_text = "When it leads to another step."
        self.fields["outcome"].help_text = "When it leads to an outcome."

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("action")
        if action == Action.GOTO and not data.get("next_step"):
            self.add_error("next_step", "Choose the step this answer goes to.")
        if action == Action.OUTCOME and not data.get("outcome"):
            self.add_error("outcome", "Choose the outcome this answer leads to.")
        if action != Action.GOTO:
            data["next_step"] = None
        if action != Action.OUTCOME:
            data["outcome"] = None
        return data
