"""Forms of the pair page. They only validate; pairs/services.py does the work."""

from typing import TYPE_CHECKING, Any, cast
from uuid import UUID, uuid4

from django import forms
from django.http import QueryDict

from pairs.models import Agreement, Meeting, Pair
from pairs.services import NOTE_MAX_LENGTH, PLEDGE_REQUIRED
from programmes.models import Role

SUBMISSION_MISSING = (
    "This form came from an old page, so it was not saved. Check it and send it again."
)


if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class OneTimeSubmission(_FormBase):
    """A form that creates a row carries a one-time token, fresh on every page it is shown
    on (a hidden field, ``submission``); the service stores it with the row, so the same form
    sent twice (a double click, a browser resending) saves once. A form posted without a
    valid token is refused with a message, and shown again with a fresh one so that sending
    it again works. Mix in before the form class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = {"required": SUBMISSION_MISSING, "invalid": SUBMISSION_MISSING}
        self.fields["submission"] = forms.UUIDField(
            widget=forms.HiddenInput, error_messages=message
        )
        self.submission_missing = False
        if not self.is_bound:
            self.initial["submission"] = uuid4()
            return
        key = self.add_prefix("submission")
        try:
            UUID(str(self.data.get(key, "")))
        except ValueError:
            self.submission_missing = True
            data = cast(QueryDict, self.data).copy()  # as posted: a QueryDict, immutable
            data[key] = str(uuid4())
            self.data = data

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())
        if self.submission_missing:
            self.add_error(None, SUBMISSION_MISSING)
        return cleaned


class AgreementProposeForm(OneTimeSubmission, forms.ModelForm):
    class Meta:
        model = Agreement
        fields = ["driver", "cadence", "meeting_mode", "cancellation", "pledge"]
        labels = {
            "driver": "Who schedules and leads the sessions",
            "cadence": "How often you meet",
            "meeting_mode": "How you meet",
            "cancellation": "How to cancel",
            "pledge": "We keep what is said in our sessions between us unless we both agree",
        }
        widgets = {
            "driver": forms.RadioSelect,
            "cancellation": forms.TextInput,
        }

    def __init__(self, *args: Any, pair: Pair, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["driver"]).choices = [
            (Role.REVERSE_MENTOR, f"{pair.reverse_mentor.person.full_name} (reverse-mentor)"),
            (Role.MENTEE, f"{pair.mentee.person.full_name} (executive)"),
        ]
        self.fields["pledge"].help_text = ""
        self.fields["cancellation"].help_text = "For example: at least a day ahead, by message."

    def clean_cancellation(self) -> str:
        return " ".join(self.cleaned_data["cancellation"].split())

    def clean_pledge(self) -> bool:
        if not self.cleaned_data.get("pledge"):
            raise forms.ValidationError(PLEDGE_REQUIRED)
        return True


class AgreementAcceptForm(forms.Form):
    agreement_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class NoteForm(OneTimeSubmission, forms.Form):
    text = forms.CharField(
        label="Your note",
        help_text=f"One line, up to {NOTE_MAX_LENGTH} characters. Only you see it unless you "
        "share it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": NOTE_MAX_LENGTH}),
        error_messages={"required": "Write your note first."},
    )
    meeting = forms.TypedChoiceField(
        label="About the session", required=False, coerce=int, empty_value=None
    )
    shared = forms.BooleanField(label="Share with my partner", required=False)

    def __init__(self, *args: Any, meetings: list[tuple[Meeting, str]], **kwargs: Any) -> None:
        """``meetings``: the pair's sessions with their labels, already loaded by the view
        (choices from them cost no query)."""
        super().__init__(*args, **kwargs)
        self.meetings = {meeting.pk: meeting for meeting, _ in meetings}
        cast(forms.ChoiceField, self.fields["meeting"]).choices = [
            ("", "No particular session")
        ] + [(meeting.pk, label) for meeting, label in meetings]
        if not meetings:
            self.fields["meeting"].widget = forms.HiddenInput()

    def clean_text(self) -> str:
        text = " ".join(self.cleaned_data["text"].split())
        if not text:
            raise forms.ValidationError("Write your note first.")
        if len(text) > NOTE_MAX_LENGTH:
            raise forms.ValidationError(
                f"Keep your note to one line of {NOTE_MAX_LENGTH} characters at most "
                f"(it has {len(text)})."
            )
        return text

    def clean_meeting(self) -> Meeting | None:
        meeting_id = self.cleaned_data.get("meeting")
        return self.meetings.get(meeting_id) if meeting_id else None


class NoteShareForm(forms.Form):
    shared = forms.BooleanField(required=False)
