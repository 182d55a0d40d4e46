"""Forms of the session pages. They only validate and turn the viewer's local date and time
into a UTC instant; pairs/meetings.py does the work."""

from datetime import UTC, date, datetime, time
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet

from pairs.forms import OneTimeSubmission
from pairs.meetings import DURATION_MESSAGE, MAX_MINUTES, MIN_MINUTES, TOPIC_MESSAGE
from pairs.models import Meeting, Pair
from programmes.models import Role, Topic


def local_to_utc(day: date, clock: time, zone: str) -> datetime:
    """The UTC instant of a wall-clock time in ``zone``. Refuses a time the clocks skip (spring
    forward) or pass twice (fall back) rather than guess which was meant."""
    tz = ZoneInfo(zone)
    naive = datetime.combine(day, clock)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    try:
        round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    except OverflowError:  # the first or last day datetime can hold
        raise forms.ValidationError(
            "Choose a time within the next year.", code="out_of_range"
        ) from None
    if round_trip != naive:
        raise forms.ValidationError(
            f"That time does not exist in {zone} on that day (clocks change). "
            "Choose a time an hour later or earlier.",
            code="nonexistent",
        )
    if first.utcoffset() != second.utcoffset():
        raise forms.ValidationError(
            f"That time happens twice in {zone} on that day (clocks go back). "
            "Choose a time outside that hour.",
            code="ambiguous",
        )
    return first.astimezone(UTC)


def _topic_field(topics: QuerySet[Topic]) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=topics,
        required=False,
        empty_label="No topic yet",
        label="Topic from the road map",
        error_messages={"invalid_choice": TOPIC_MESSAGE},
    )


class MeetingTimeForm(forms.Form):
    """When, how long and on what: for scheduling and for rescheduling."""

    date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Enter the day.", "invalid": "Enter a real date."},
    )
    time = forms.TimeField(
        label="Start time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"required": "Enter the start time.", "invalid": "Enter a time like 14:30."},
    )
    duration_minutes = forms.IntegerField(
        label="Length in minutes",
        initial=45,
        widget=forms.NumberInput(attrs={"min": MIN_MINUTES, "max": MAX_MINUTES, "step": 5}),
        error_messages={"required": DURATION_MESSAGE, "invalid": DURATION_MESSAGE},
    )

    def __init__(self, *args: Any, zone: str, topics: QuerySet[Topic], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.fields["topic"] = _topic_field(topics)
        self.fields["time"].help_text = f"In your time zone, {zone}."

    def clean_duration_minutes(self) -> int:
        minutes = self.cleaned_data["duration_minutes"]
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise forms.ValidationError(DURATION_MESSAGE)
        return minutes

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())
        day, clock = cleaned.get("date"), cleaned.get("time")
        if day is not None and clock is not None:
            try:
                cleaned["starts_at"] = local_to_utc(day, clock, self.zone)
            except forms.ValidationError as error:
                self.add_error("time", error)
        return cleaned

    @classmethod
    def initial_for(cls, meeting: Meeting, zone: str) -> dict[str, Any]:
        local = meeting.starts_at.astimezone(ZoneInfo(zone))
        return {
            "date": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
            "duration_minutes": meeting.duration_minutes,
            "topic": meeting.topic_id,
        }


class MeetingScheduleForm(OneTimeSubmission, MeetingTimeForm):
    """Booking a new session: sent twice, it books once."""


class MeetingCancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=Meeting._meta.get_field("cancel_reason").max_length,
        help_text="Your partner sees this.",
    )


class MeetingMarkForm(forms.Form):
    status = forms.ChoiceField(
        label="How did it go?",
        choices=[(Meeting.Status.HELD, "We held it"), (Meeting.Status.MISSED, "It was missed")],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether the session was held or missed."},
    )
    led_by = forms.ChoiceField(
        label="Who led it?",
        required=False,
        widget=forms.RadioSelect,
        help_text="Only for a session you held.",
    )
    # Who did not turn up to a missed session: only the programme's at-risk score reads it
    # (as counts), never the partner.
    missed_by = forms.ChoiceField(
        label="Who could not make it?",
        required=False,
        widget=forms.RadioSelect,
        help_text="Only for a missed session; leave it if you would rather not say.",
    )

    def __init__(self, *args: Any, pair: Pair, topics: QuerySet[Topic], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["led_by"]).choices = [
            (Role.REVERSE_MENTOR, f"{pair.reverse_mentor.person.full_name} (reverse-mentor)"),
            (Role.MENTEE, f"{pair.mentee.person.full_name} (executive)"),
            ("", "Not sure"),
        ]
        cast(forms.ChoiceField, self.fields["missed_by"]).choices = [
            (Role.REVERSE_MENTOR, f"{pair.reverse_mentor.person.full_name} (reverse-mentor)"),
            (Role.MENTEE, f"{pair.mentee.person.full_name} (executive)"),
            ("", "Both, or not saying"),
        ]
        self.fields["topic"] = _topic_field(topics)

    @classmethod
    def initial_for(cls, meeting: Meeting) -> dict[str, Any]:
        return {
            "status": meeting.status if meeting.status != Meeting.Status.SCHEDULED else "",
            "led_by": meeting.led_by,
            "missed_by": meeting.missed_by,
            "topic": meeting.topic_id,
        }
