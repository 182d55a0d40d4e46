"""The programme managers' form for a message's wording (the MessageTemplate admin)."""

from typing import Any, cast

from django import forms
from django.conf import settings

from notifications.kinds import KINDS
from notifications.models import MessageTemplate
from notifications.template_checks import wording_problems

DEFAULT_LANGUAGE_LABEL = "Default (all languages)"
WORDING_FIELDS = ("subject", "body_text", "body_html")


def kind_choices() -> list[tuple[str, str]]:
    return [("", "---------"), *((kind.name, kind.label) for kind in KINDS.values())]


def language_choices() -> list[tuple[str, str]]:
    return [("", DEFAULT_LANGUAGE_LABEL), *settings.LANGUAGES]


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def language_label(code: str) -> str:
    return dict(language_choices()).get(code, code)


class MessageTemplateForm(forms.ModelForm):
    kind = forms.ChoiceField(label="Message", choices=kind_choices)
    language = forms.ChoiceField(
        choices=language_choices,
        required=False,
        help_text="People whose language has no wording of its own get the default.",
    )

    class Meta:
        model = MessageTemplate
        fields = ["kind", "language", "programme", *WORDING_FIELDS]
        widgets = {
            "subject": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "body_text": forms.Textarea(attrs={"rows": 24, "class": "vLargeTextField"}),
            "body_html": forms.Textarea(attrs={"rows": 16, "class": "vLargeTextField"}),
        }
        help_texts = {
            "subject": "One line.",
            "body_text": "What every recipient gets; mail programmes that show HTML use the "
            "HTML body instead when there is one.",
            "body_html": "Optional. Leave it empty to send plain text only.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Kept exactly as typed (blank lines at the end are part of the message), with the
        # browser's CRLF line endings made plain newlines, as in the files.
        for name in ("body_text", "body_html"):
            if name in self.fields:  # a wording the user may only read has none
                cast(forms.CharField, self.fields[name]).strip = False

    def clean_body_text(self) -> str:
        return _newlines(self.cleaned_data["body_text"])

    def clean_body_html(self) -> str:
        return _newlines(self.cleaned_data["body_html"])

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"]
        if "\n" in subject or "\r" in subject:
            raise forms.ValidationError("The subject must be one line.", code="multiline")
        return subject.strip()

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())
        kind = cleaned.get("kind")
        language = cleaned.get("language", "")
        for field in WORDING_FIELDS:
            source = cleaned.get(field)
            if not source:
                continue
            for problem in wording_problems(source, kind=kind, field=field, language=language):
                self.add_error(field, forms.ValidationError(problem, code="template"))
        if kind and "language" in cleaned and "programme" in cleaned:
            programme = cleaned["programme"]
            taken = MessageTemplate.objects.filter(
                kind=kind, language=language, programme=programme
            )
            if self.instance.pk is not None:
                taken = taken.exclude(pk=self.instance.pk)
            if taken.exists():
                whose = f"for {programme}" if programme else "for the organisation"
                self.add_error(
                    "language",
                    f"This message already has a wording in {language_label(language)} "
                    f"{whose}: change that one instead.",
                )
        return cleaned
