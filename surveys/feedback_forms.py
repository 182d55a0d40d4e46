"""The programme questions' form. It validates and normalises; ``feedback_submit`` writes."""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from programmes.forms import CONFIDENCE_PREFIX, FirstOptionRadioSelect
from programmes.models import KeySkill
from surveys.feedback import (
    CONTROL_CHARACTERS,
    END,
    SCORE_MESSAGE,
    WHY_MAX_LENGTH,
    WHY_TOO_LONG,
    normalise_why,
)

SCORE_QUESTION = "How likely are you to recommend this programme to a colleague?"


class ScaleRadioSelect(FirstOptionRadioSelect):
    """A row of numbered buttons: each radio is hidden behind its label, which is the tap
    target (Bootstrap's ``btn-check``)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"class": "btn-check", "autocomplete": "off", **(attrs or {})})


class FeedbackForm(forms.Form):
    """The score, the why and, at the end, confidence in each key skill. ``cleaned_data``
    adds ``confidence`` ({key skill id: 1–5}, or None before the end) for
    ``feedback_submit``."""

    score = forms.TypedChoiceField(
        label=SCORE_QUESTION,
        coerce=int,
        choices=[(value, str(value)) for value in range(11)],
        widget=ScaleRadioSelect,
        error_messages={"required": SCORE_MESSAGE, "invalid_choice": SCORE_MESSAGE},
    )
    why = forms.CharField(
        label="Why? (optional)",
        required=False,
        strip=False,  # normalised in clean_why, as the service does
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Up to {WHY_MAX_LENGTH} characters. Only you can read this.",
        error_messages={"null_characters_not_allowed": CONTROL_CHARACTERS},
    )

    def __init__(self, *args: Any, moment: str, key_skills: list[KeySkill], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.moment = moment
        self.key_skills = key_skills if moment == END else []
        for skill in self.key_skills:
            # Field messages with params are %-formatted: keep a % in a skill's name literal.
            name = skill.name
            message = f"Rate your confidence in “{name}” from 1 to 5."
            self.fields[f"{CONFIDENCE_PREFIX}{skill.pk}"] = forms.TypedChoiceField(
                label=name,
                coerce=int,
                choices=[(value, str(value)) for value in range(1, 6)],
                widget=ScaleRadioSelect,
                error_messages={
                    "required": message,
                    "invalid_choice": message.replace("%", "%%"),
                },
            )

    @property
    def confidence_fields(self) -> list[tuple[KeySkill, forms.BoundField]]:
        return [(skill, self[f"{CONFIDENCE_PREFIX}{skill.pk}"]) for skill in self.key_skills]

    def clean_why(self) -> str:
        why = normalise_why(self.cleaned_data["why"])
        if len(why) > WHY_MAX_LENGTH:
            raise ValidationError(
                WHY_TOO_LONG,
                code="max_length",
                params={"limit": WHY_MAX_LENGTH, "count": len(why)},
            )
        return why

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        data["confidence"] = (
            {
                skill.pk: data[f"{CONFIDENCE_PREFIX}{skill.pk}"]
                for skill in self.key_skills
                if data.get(f"{CONFIDENCE_PREFIX}{skill.pk}") is not None
            }
            if self.moment == END
            else None
        )
        return data
