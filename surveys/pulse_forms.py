"""The pulse form. Which questions it has depends on the session (``PulseSituation``): the
follow-up of last session's action, "is this a good fit?" after the first session, and the
key skills whose turn it is. It checks types and ranges; ``pulses.pulse_submit`` checks the
rest against the session and saves."""

from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from pairs.meeting_forms import local_to_utc
from pairs.meetings import MAX_AHEAD
from programmes.forms import CONFIDENCE_PREFIX
from programmes.models import Role
from surveys.models import Pulse
from surveys.pulses import LINE_MAX_LENGTH, Answers, PulseSituation

YES_NO = [("yes", "Yes"), ("no", "No")]
SCALE = [(str(n), str(n)) for n in range(1, 6)]
SAFETY_CHOICES = [
    ("1", "Not at all"),
    ("2", "A little"),
    ("3", "Somewhat"),
    ("4", "Mostly"),
    ("5", "Completely"),
]


def teaching_choices(side: Role, partner_name: str) -> list[tuple[str, str]]:
    """1 = mostly the reverse-mentor taught … 5 = mostly the executive taught, in the words
    of the person answering."""
    if side == Role.MENTEE:
        mentor, executive = f"Mostly {partner_name}", "Mostly me"
    else:
        mentor, executive = "Mostly me", f"Mostly {partner_name}"
    return [
        ("1", mentor),
        ("2", f"{mentor.removeprefix('Mostly ')}, a bit more"),
        ("3", "About even"),
        ("4", f"{executive.removeprefix('Mostly ')}, a bit more"),
        ("5", executive),
    ]


def _line(label: str, *, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=LINE_MAX_LENGTH,
        help_text=help_text,
        error_messages={
            "max_length": f"Keep it to {LINE_MAX_LENGTH} characters (it has %(show_value)d).",
            "null_characters_not_allowed": "Remove the unusual characters from this line.",
        },
        widget=forms.TextInput(attrs={"maxlength": LINE_MAX_LENGTH, "autocomplete": "off"}),
    )


def _choice(label: str, choices, *, required: bool = False, message: str = "") -> forms.Field:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=required,
        widget=forms.RadioSelect,
        error_messages={
            "required": message or "Choose one of the answers.",
            "invalid_choice": message or "Choose one of the answers shown.",
        },
    )


class PulseForm(forms.Form):
    previous_action_done = _choice(
        "Did you do it?",
        Pulse.Done.choices,
        message="Say whether you did last session's action.",
    )
    held = _choice(
        "Was the session held?", YES_NO, required=True, message="Say whether the session was held."
    )
    not_held = _choice(
        "What happened?", Pulse.NotHeld.choices, message="Say what happened to the session."
    )
    new_date = forms.DateField(
        label="New date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the date as shown, for example 2026-12-03."},
    )
    new_time = forms.TimeField(
        label="New time",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter the time as hours and minutes, for example 14:30."},
    )
    learning = _line("One thing you learned")
    action = _line(
        "One action you commit to", help_text="Optional. Next session, you'll be asked about it."
    )
    shared = forms.BooleanField(required=False)
    good_fit = _choice(
        "Is this a good fit?",
        [("yes", "Yes"), ("no", "No")],
        message="Say whether this feels like a good fit.",
    )
    safety = _choice(
        "I could say what was on my mind without fear",
        SAFETY_CHOICES,
        message="Choose one of the five answers, or leave it empty.",
    )
    teaching = _choice(
        "Who did most of the teaching?",
        [],
        message="Choose one of the five answers, or leave it empty.",
    )

    def __init__(self, *args, situation: PulseSituation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.situation = situation
        partner_name = situation.partner.person.full_name
        self.zone = ZoneInfo(situation.participant.person.time_zone)
        if situation.previous is None:
            del self.fields["previous_action_done"]
        if not situation.asks_good_fit:
            del self.fields["good_fit"]
        else:
            self.fields[
                "good_fit"
            ].help_text = f"Only your programme manager sees this answer, never {partner_name}."
        self.fields["shared"].label = f"Share what I learned and my action with {partner_name}"
        self.fields["safety"].help_text = (
            f"Optional and private: never shown to {partner_name}. A low answer lets your "
            "programme manager offer support."
        )
        cast(forms.ChoiceField, self.fields["teaching"]).choices = teaching_choices(
            situation.side, partner_name
        )
        self.fields["teaching"].help_text = "Optional."
        for skill in situation.skills:
            self.fields[f"{CONFIDENCE_PREFIX}{skill.pk}"] = _choice(
                skill.name,
                SCALE,
                message=f"Rate “{skill.name.replace('%', '%%')}” from 1 to 5, or leave it empty.",
            )

    # --- Groups the template lays out ----------------------------------------------------

    def confidence_fields(self) -> list[forms.BoundField]:
        return [self[f"{CONFIDENCE_PREFIX}{skill.pk}"] for skill in self.situation.skills]

    # --- Cleaning ------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        held = data.get("held")
        if held == "yes":
            if not self.errors.get("learning") and not data.get("learning", "").strip():
                self.add_error("learning", "Write one thing you learned, in a line.")
            asks_fit = "good_fit" in self.fields and "good_fit" not in self.errors
            if asks_fit and not data.get("good_fit"):
                self.add_error("good_fit", "Say whether this feels like a good fit.")
        elif held == "no":
            not_held = data.get("not_held")
            if not not_held and "not_held" not in self.errors:
                self.add_error("not_held", "Say what happened to the session.")
            if not_held == Pulse.NotHeld.RESCHEDULED:
                self._clean_new_time(data)
        if (
            "previous_action_done" in self.fields
            and not data.get("previous_action_done")
            and "previous_action_done" not in self.errors
        ):
            self.add_error("previous_action_done", "Say whether you did last session's action.")
        return data

    def _clean_new_time(self, data: dict) -> None:
        day, at = data.get("new_date"), data.get("new_time")
        if "new_date" in self.errors or "new_time" in self.errors:
            return
        if day is None or at is None:
            self.add_error("new_date", "Give the new date and time of the session.")
            return
        today = timezone.localdate(timezone=self.zone)
        if not today <= day <= today + MAX_AHEAD:
            # Checked on the date first: a year like 9999 cannot even be turned into UTC.
            self.add_error(
                "new_date",
                "Give a date and time in the future."
                if day < today
                else "Give a date within the next year.",
            )
            return
        try:
            starts_at = local_to_utc(day, at, str(self.zone))
        except ValidationError as error:
            self.add_error("new_time", error)
            return
        if starts_at <= timezone.now():
            self.add_error("new_date", "Give a date and time in the future.")
            return
        data["new_starts_at"] = starts_at

    def answers(self) -> Answers:
        data = self.cleaned_data
        held = data["held"] == "yes"
        return Answers(
            held=held,
            not_held=data.get("not_held", "") if not held else "",
            new_starts_at=data.get("new_starts_at"),
            learning=" ".join(data.get("learning", "").split()),
            action=" ".join(data.get("action", "").split()),
            shared=data.get("shared", False),
            previous_action_done=data.get("previous_action_done", ""),
            good_fit={"yes": True, "no": False}.get(data.get("good_fit", "")),
            safety=int(data["safety"]) if data.get("safety") else None,
            teaching=int(data["teaching"]) if data.get("teaching") else None,
            confidence={
                skill.pk: int(data[f"{CONFIDENCE_PREFIX}{skill.pk}"])
                for skill in self.situation.skills
                if data.get(f"{CONFIDENCE_PREFIX}{skill.pk}")
            },
        )

    def apply(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the fields it names (or above the form)."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


def initial_from(pulse: Pulse | None, *, held: str = "") -> dict:
    """The form's starting values: the answers being edited, or the "held" answer the
    e-mail's link chose."""
    if pulse is None:
        return {"held": held} if held in ("yes", "no") else {}
    initial = {
        "held": "yes" if pulse.held else "no",
        "not_held": pulse.not_held,
        "learning": pulse.learning,
        "action": pulse.action,
        "shared": pulse.shared,
        "previous_action_done": pulse.previous_action_done,
        "good_fit": {True: "yes", False: "no", None: ""}[pulse.good_fit],
        "safety": str(pulse.safety or ""),
        "teaching": str(pulse.teaching or ""),
    }
    for rating in pulse.confidence.all():
        initial[f"{CONFIDENCE_PREFIX}{rating.key_skill_id}"] = str(rating.value)
    return initial
