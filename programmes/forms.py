"""Forms of the participant pages. They validate and normalise; services write."""

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from programmes import availability
from programmes.models import Audience, Cadence, Intake, KeySkill, Participant, Person, Role, Topic

GOAL_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 1000
OBJECTIVE_FIELDS = ("objective_1", "objective_2", "objective_3")
RANKS = ("1st", "2nd", "3rd")
CONFIDENCE_PREFIX = "confidence_"
FIRST_SLOT = min(availability.SLOTS)

PICK_ONE = "Choose one of the options shown."
LONG_TEXT = "Keep this to %(limit_value)d characters or fewer (it has %(show_value)d)."
NOT_ON_ROAD_MAP = "Choose a topic from this programme’s road map."
AVOID_MAX = 5
NOT_IN_DIRECTORY = (
    "Choose people from the list: one of those chosen is not in the organisation’s directory."
)
AVOID_SELF = "You chose yourself: choose only other people you would rather not be paired with."
AVOID_TOO_MANY = "Choose at most %(limit)d people (you chose %(count)d)."


class FirstOptionRadioSelect(forms.RadioSelect):
    """Radio buttons whose question points at the first option, so that a link in the error
    summary lands on the question rather than at the top of the page."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


class FirstOptionCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return super().id_for_label(id_, "0" if index is None else index)


class SlotGrid(forms.CheckboxSelectMultiple):
    """The availability grid; the template draws it as a table of checkboxes with ids
    ``<id>_<slot>``, the first being Monday's first hour."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return f"{id_}_{FIRST_SLOT if index is None else index}" if id_ else ""


@dataclass(frozen=True)
class Wording:
    """The questions that differ between an executive and a reverse-mentor."""

    objectives: str
    objectives_help: str
    objectives_text: str
    can_share: str
    can_share_help: str
    goals_help: str


WORDING = {
    Role.MENTEE: Wording(
        objectives="What would you most like to learn?",
        objectives_help="Choose up to three topics from the programme’s road map, the one you "
        "want most first.",
        objectives_text="Anything else you would like to learn, in your own words",
        can_share="What could you share with your reverse-mentor?",
        can_share_help="Topics where your own experience could help them. Tick all that apply.",
        goals_help="What would make this worth your time? For example: “Understand how new "
        "joiners use our collaboration tools.”",
    ),
    Role.REVERSE_MENTOR: Wording(
        objectives="What would you like to get out of it?",
        objectives_help="Choose up to three topics you would like to learn about or grow in, "
        "the one you want most first.",
        objectives_text="Anything else you would like to get out of it, in your own words",
        can_share="What could you share with your executive?",
        can_share_help="Topics where you could offer your own view or lived experience. Tick "
        "all that apply.",
        goals_help="What would make this worth your time? For example: “Learn how the "
        "leadership team decides where budgets go.”",
    ),
}


def _choice_field(label: str, choices: Any, required_message: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=FirstOptionRadioSelect,
        error_messages={"required": required_message, "invalid_choice": PICK_ONE},
    )


def _text_field(label: str, max_length: int, *, rows: int | None = None, **kwargs: Any):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput
    kwargs.setdefault("required", False)
    messages = {"max_length": LONG_TEXT} | kwargs.pop("error_messages", {})
    return forms.CharField(
        label=label, max_length=max_length, widget=widget, error_messages=messages, **kwargs
    )


def _topic_choice(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": NOT_ON_ROAD_MAP},
    )


def _topics_field(label: str, required_message: str = "") -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        label=label,
        coerce=int,
        required=False,
        widget=FirstOptionCheckboxSelectMultiple,
        error_messages={"required": required_message, "invalid_choice": NOT_ON_ROAD_MAP},
    )


class PeopleField(forms.MultipleChoiceField):
    """Person ids from the directory. Which ids are acceptable is the form's ``clean_avoid``,
    so that choosing oneself or a tampered id each gets its own message."""

    def validate(self, value: list[str]) -> None:
        forms.Field.validate(self, value)  # only "required": the ids are clean_avoid's

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise ValidationError(NOT_IN_DIRECTORY, code="invalid_list")
        return [str(item) for item in value]


class IntakeForm(forms.Form):
    """The whole intake. It only takes answers: whose intake it is comes from the signed link,
    never from the form. ``cleaned_data`` adds ``objectives`` (topic ids, most wanted first)
    and ``confidence`` ({key skill id: 1–5}) for ``intake_submit``."""

    objective_1 = _topic_choice("1st choice")
    objective_2 = _topic_choice("2nd choice (optional)")
    objective_3 = _topic_choice("3rd choice (optional)")
    objectives_text = _text_field("", TEXT_MAX_LENGTH, rows=3)
    can_share = _topics_field("", "Tick at least one topic you could share.")
    communication_style = _choice_field(
        "How do you like to communicate?",
        Intake.CommunicationStyle.choices,
        "Choose how you like to communicate.",
    )
    feedback_style = _choice_field(
        "How do you prefer to receive feedback?",
        Intake.FeedbackStyle.choices,
        "Choose how you prefer to receive feedback.",
    )
    availability = forms.TypedMultipleChoiceField(
        label="When could you meet?",
        coerce=int,
        choices=[(slot, availability.slot_label(slot)) for slot in sorted(availability.SLOTS)],
        widget=SlotGrid,
        error_messages={
            "required": "Choose at least two hours a week when you could meet.",
            "invalid_choice": "Choose hours from the grid.",
        },
    )
    cadence = _choice_field(
        "How often would you like to meet?",
        Cadence.choices,
        "Choose how often you would like to meet.",
    )
    meeting_mode = _choice_field(
        "How would you like to meet?",
        Intake.MeetingMode.choices,
        "Choose how you would like to meet.",
    )
    goal_1 = _text_field(
        "Your first goal",
        GOAL_MAX_LENGTH,
        required=True,
        error_messages={
            "required": "Write at least one goal.",
            "max_length": "Keep each goal to %(limit_value)d characters or fewer (this one "
            "has %(show_value)d).",
        },
    )
    goal_2 = _text_field(
        "A second goal (optional)",
        GOAL_MAX_LENGTH,
        error_messages={
            "max_length": "Keep each goal to %(limit_value)d characters or fewer (this one "
            "has %(show_value)d)."
        },
    )
    goal_3 = _text_field(
        "A third goal (optional)",
        GOAL_MAX_LENGTH,
        error_messages={
            "max_length": "Keep each goal to %(limit_value)d characters or fewer (this one "
            "has %(show_value)d)."
        },
    )
    off_limits = _topics_field("Topics you would rather not discuss (optional)")
    avoid = PeopleField(
        label="People you would rather not be paired with (optional)",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="For example a former manager, or someone you are in a dispute with. Choose "
        f"up to {AVOID_MAX} (hold Ctrl, or ⌘ on a Mac, to choose more than one). Matching "
        "never pairs you with them.",
    )
    boundaries_text = _text_field(
        "Anything the programme team should know before matching you (optional)",
        TEXT_MAX_LENGTH,
        rows=3,
    )
    consent_pledge = forms.BooleanField(
        label="I will keep what my partner tells me confidential and will not pass it on "
        "without their agreement.",
        error_messages={"required": "Please agree to the confidentiality pledge to take part."},
    )
    consent_data = forms.BooleanField(
        label="I agree that the programme team stores and uses my answers to match me and to "
        "run the programme, as described above.",
        error_messages={
            "required": "Please agree to how we use your answers: we cannot match you without them."
        },
    )

    def __init__(
        self,
        *args: Any,
        participant: Participant,
        topics: list[Topic],
        key_skills: list[KeySkill],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.topics = topics
        self.key_skills = key_skills
        self.participant = participant
        # The directory, but not the person themself: whom they could be asked to avoid.
        self.people = list(
            Person.objects.exclude(pk=participant.person_id)
            .order_by("full_name", "pk")
            .values_list("pk", "full_name", "department")
        )
        cast(forms.ChoiceField, self.fields["avoid"]).choices = [
            (str(pk), f"{name} ({department})" if department else name)
            for pk, name, department in self.people
        ]
        self.wording = WORDING[Role(participant.role)]

        topic_choices = [(topic.pk, topic.title) for topic in topics]
        for rank, name in enumerate(OBJECTIVE_FIELDS):
            empty = "Choose a topic" if rank == 0 else "No topic"
            cast(forms.ChoiceField, self.fields[name]).choices = [
                ("", f"— {empty} —"),
                *topic_choices,
            ]
        self.fields["objectives_text"].label = self.wording.objectives_text
        self.fields["can_share"].label = self.wording.can_share
        self.fields["can_share"].help_text = self.wording.can_share_help
        self.fields["goal_1"].help_text = self.wording.goals_help
        for name in ("can_share", "off_limits"):
            cast(forms.ChoiceField, self.fields[name]).choices = topic_choices
        # A programme without a road map yet cannot ask for topics to share.
        self.fields["can_share"].required = bool(topics)

        for skill in key_skills:
            # Field messages with params are %-formatted: keep a % in a skill's name literal.
            name = skill.name
            self.fields[f"{CONFIDENCE_PREFIX}{skill.pk}"] = forms.TypedChoiceField(
                label=name,
                coerce=int,
                choices=[(value, str(value)) for value in range(1, 6)],
                widget=FirstOptionRadioSelect(attrs={"class": "btn-check", "autocomplete": "off"}),
                error_messages={
                    "required": f"Rate your confidence in “{name}” from 1 to 5.",
                    "invalid_choice": f"Rate your confidence in “{name.replace('%', '%%')}” "
                    "from 1 to 5.",
                },
            )

    @property
    def objective_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in OBJECTIVE_FIELDS]

    @property
    def confidence_fields(self) -> list[tuple[KeySkill, forms.BoundField]]:
        return [(skill, self[f"{CONFIDENCE_PREFIX}{skill.pk}"]) for skill in self.key_skills]

    def availability_rows(self) -> list[dict[str, Any]]:
        """The grid, an hour a row and a day a column, with the ticked cells marked: what was
        typed when the form is bound, the saved answers or draft otherwise."""
        value = self["availability"].value() or []
        ticked = {str(slot) for slot in ([value] if isinstance(value, str | int) else value)}
        return [
            {
                "hour": f"{hour:02d}:00",
                "cells": [
                    {
                        "slot": day * 24 + hour,
                        "label": availability.slot_label(day * 24 + hour),
                        "checked": str(day * 24 + hour) in ticked,
                        "row": row,
                        "column": day,
                    }
                    for day in range(len(availability.DAYS))
                ],
            }
            for row, hour in enumerate(availability.HOURS)
        ]

    def clean_availability(self) -> list[int]:
        slots = sorted(set(self.cleaned_data["availability"]))
        if len(slots) < 2:
            raise ValidationError(
                "Choose at least two hours a week when you could meet.", code="too_few"
            )
        return slots

    def clean_can_share(self) -> list[int]:
        return sorted(set(self.cleaned_data["can_share"]))

    def clean_off_limits(self) -> list[int]:
        return sorted(set(self.cleaned_data["off_limits"]))

    def clean_avoid(self) -> list[int]:
        """Person ids, each someone else in the directory; refused with a message that says
        which rule an id broke (the list shows only others, so a wrong id was typed in)."""
        known = {pk for pk, _, _ in self.people}
        chosen: list[int] = []
        for raw in self.cleaned_data["avoid"]:
            if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
                raise ValidationError(NOT_IN_DIRECTORY, code="not_in_directory")
            pk = int(raw)
            if pk == self.participant.person_id:
                raise ValidationError(AVOID_SELF, code="self")
            if pk not in known:
                raise ValidationError(NOT_IN_DIRECTORY, code="not_in_directory")
            if pk not in chosen:
                chosen.append(pk)
        if len(chosen) > AVOID_MAX:
            raise ValidationError(
                AVOID_TOO_MANY, code="too_many", params={"limit": AVOID_MAX, "count": len(chosen)}
            )
        return sorted(chosen)

    @property
    def audiences(self) -> dict[str, Audience]:
        """The note shown before each question: who besides its author reads the answer."""
        return dict(Intake.AUDIENCE)

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        titles = {topic.pk: topic.title for topic in self.topics}
        chosen = self._rank_objectives(data, titles)
        self._require_objectives(data, chosen)
        data["objectives"] = list(chosen)  # dicts keep insertion order: 1st, 2nd, 3rd
        self._refuse_wanted_off_limits(data, chosen, titles)
        data["confidence"] = {
            skill.pk: data[f"{CONFIDENCE_PREFIX}{skill.pk}"]
            for skill in self.key_skills
            if data.get(f"{CONFIDENCE_PREFIX}{skill.pk}") is not None
        }
        return data

    def _rank_objectives(self, data: dict[str, Any], titles: dict[int, str]) -> dict[int, int]:
        """The chosen topics, each with its rank index; a gap in the ranks or a topic chosen
        twice is an error on the field that made it, so the person sees where to fix it."""
        chosen: dict[int, int] = {}  # topic id → rank index
        for index, name in enumerate(OBJECTIVE_FIELDS):
            topic_id = data.get(name)
            if name in self.errors or topic_id is None:
                continue
            before = OBJECTIVE_FIELDS[index - 1] if index else None
            if before and data.get(before) is None and before not in self.errors:
                self.add_error(
                    name,
                    ValidationError(
                        f"Choose your {RANKS[index - 1]} choice before your {RANKS[index]}.",
                        code="rank_gap",
                    ),
                )
            elif topic_id in chosen:
                self.add_error(
                    name,
                    ValidationError(
                        "You already chose “%(topic)s” as your %(rank)s choice: pick a "
                        "different topic or leave this one empty.",
                        code="duplicate_topic",
                        params={"topic": titles[topic_id], "rank": RANKS[chosen[topic_id]]},
                    ),
                )
            else:
                chosen[topic_id] = index
        return chosen

    def _require_objectives(self, data: dict[str, Any], chosen: dict[int, int]) -> None:
        """Matching needs something to learn: a topic, or the person's own words. Said only
        when no topic field already has an error, which would repeat it."""
        objective_errors = any(name in self.errors for name in OBJECTIVE_FIELDS)
        if not chosen and not objective_errors and not data.get("objectives_text"):
            message = (
                "Choose at least one topic, or say in your own words what you would like to learn."
                if self.topics
                else "Say in your own words what you would like to learn."
            )
            self.add_error(
                "objective_1" if self.topics else "objectives_text",
                ValidationError(message, code="no_objectives"),
            )

    def _refuse_wanted_off_limits(
        self, data: dict[str, Any], chosen: dict[int, int], titles: dict[int, str]
    ) -> None:
        """A topic someone wants to learn cannot also be one they will not talk about."""
        clashes = [topic_id for topic_id in data.get("off_limits", []) if topic_id in chosen]
        if clashes:
            self.add_error(
                "off_limits",
                ValidationError(
                    "“%(topic)s” is one of the things you want to learn, so it cannot be "
                    "off-limits too. Untick it here or choose a different topic above.",
                    code="wanted_and_off_limits",
                    params={"topic": titles[clashes[0]]},
                ),
            )
