"""Forms of the matching admin: they only validate what the manager picked, scoped to one
run and its cohort, so an id from another run or cohort is an invalid choice, never a 500."""

from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from matching.engine import DEFAULT_WEIGHTS
from matching.models import MatchingPolicy, MatchingRun, PairRule, ProposedPair
from programmes.models import Cohort, Participant, Role

WEIGHT_HELP = {
    "objectives": "What the executive wants to learn, against what the reverse-mentor can share.",
    "availability": "Shared hours in the week (four or more count in full).",
    "time_zone": "How close the two time zones are.",
    "style": "Same communication and feedback style.",
    "mode": "Compatible meeting mode (in person, video, either).",
    "departments": "The two work in different departments.",
}


class MatchingPolicyForm(forms.ModelForm):
    class Meta:
        model = MatchingPolicy
        fields = [
            "programme",
            *(f"weight_{name}" for name in DEFAULT_WEIGHTS),
            "allow_without_shared_time",
            "protect_worst_off",
        ]
        labels = {"protect_worst_off": "Protect the worst-off"}
        help_texts = {
            f"weight_{name}": f"{WEIGHT_HELP[name]} Default {default:.2f}."
            for name, default in DEFAULT_WEIGHTS.items()
        }


def matchable_cohorts() -> QuerySet[Cohort]:
    return (
        Cohort.objects.exclude(status=Cohort.Status.FINISHED)
        .select_related("programme__matching_policy")
        .order_by("programme__name", "starts_on")
    )


class StartRunForm(forms.Form):
    cohort = forms.ModelChoiceField(queryset=Cohort.objects.none(), empty_label=None)
    protect_worst_off = forms.BooleanField(
        label="Protect the worst-off",
        required=False,
        help_text=(
            "First make the lowest pair score as high as possible, then the total. "
            "Ticked by default when the programme's matching policy says so."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cohorts = list(matchable_cohorts())
        cohort_field = cast(forms.ModelChoiceField, self.fields["cohort"])
        cohort_field.queryset = matchable_cohorts()
        # One query for the choices and the policy defaults: the widget would query again.
        cohort_field.choices = [(c.pk, str(c)) for c in cohorts]
        self.protect_defaults = {str(c.pk): _protects(c) for c in cohorts}
        if not self.is_bound and cohorts:
            chosen = str(self.initial.get("cohort"))
            if chosen not in self.protect_defaults:
                chosen = str(cohorts[0].pk)
            self.initial["cohort"] = chosen
            self.initial["protect_worst_off"] = self.protect_defaults[chosen]


def _protects(cohort: Cohort) -> bool:
    try:
        return cohort.programme.matching_policy.protect_worst_off
    except MatchingPolicy.DoesNotExist:
        return MatchingPolicy._meta.get_field("protect_worst_off").default


class _ProposalForm(forms.Form):
    proposal = forms.ModelChoiceField(queryset=ProposedPair.objects.none())

    def __init__(self, *args: Any, run: MatchingRun, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run = run
        proposal = cast(forms.ModelChoiceField, self.fields["proposal"])
        proposal.queryset = run.proposals.select_related("mentee__person", "reverse_mentor__person")


class PairRuleForm(_ProposalForm):
    kind = forms.ChoiceField(
        choices=[(PairRule.Kind.LOCKED, "Lock"), (PairRule.Kind.EXCLUDED, "Exclude")]
    )


class ChangePartnerForm(_ProposalForm):
    mentor = forms.ModelChoiceField(queryset=Participant.objects.none(), label="New reverse-mentor")
    action = forms.ChoiceField(choices=[("check", "Check"), ("save", "Save")])

    def __init__(self, *args: Any, run: MatchingRun, **kwargs: Any) -> None:
        super().__init__(*args, run=run, **kwargs)
        cast(forms.ModelChoiceField, self.fields["mentor"]).queryset = cohort_mentors(run)


class SwapForm(_ProposalForm):
    other = forms.ModelChoiceField(queryset=ProposedPair.objects.none(), label="Swap with")
    action = forms.ChoiceField(choices=[("check", "Check"), ("save", "Swap")])

    def __init__(self, *args: Any, run: MatchingRun, **kwargs: Any) -> None:
        super().__init__(*args, run=run, **kwargs)
        proposal = cast(forms.ModelChoiceField, self.fields["proposal"])
        cast(forms.ModelChoiceField, self.fields["other"]).queryset = proposal.queryset

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        if data.get("proposal") and data.get("other") and data["proposal"] == data["other"]:
            raise forms.ValidationError("Pick another pair to swap with.")
        return data


def cohort_mentors(run: MatchingRun) -> QuerySet[Participant]:
    return (
        Participant.objects.filter(cohort_id=run.cohort_id, role=Role.REVERSE_MENTOR)
        .exclude(status=Participant.Status.WITHDRAWN)
        .select_related("person")
        .order_by("person__full_name")
    )


def first_error(form: forms.Form) -> str:
    """The form's first problem in words, for an admin message."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        label = label or (field.replace("_", " ") if field != "__all__" else "")
        return f"{label.capitalize()}: {errors[0]}" if label else str(errors[0])
    return "Something in the request was not valid."
