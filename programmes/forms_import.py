"""Forms of the CSV import: the upload, and the confirmation that carries the previewed file.

The confirmation carries the file itself, signed and compressed, rather than keeping it on the
server between two requests: the page stays stateless, and the file is checked again anyway.
"""

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core import signing

from programmes.imports import MAX_BYTES
from programmes.models import Cohort

PREVIEW_LIFETIME = timedelta(hours=2)
_SALT = "programmes.people-import"


class PeopleImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 (as “CSV UTF-8” from a spreadsheet), at most {MAX_BYTES // 2**20} MB.",
    )
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.select_related("programme"),
        required=False,
        empty_label="— none: update the directory only —",
        help_text="Everyone with a role joins this cohort.",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"This file is larger than {MAX_BYTES // 2**20} MB: split it into smaller files."
            )
        return upload.read()


class ConfirmImportForm(forms.Form):
    preview = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: AbstractBaseUser | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.salt = f"{_SALT}:{user.pk}"  # a preview confirms only for whoever made it

    def clean_preview(self) -> dict[str, Any]:
        try:
            payload = signing.loads(
                self.cleaned_data["preview"], salt=self.salt, max_age=PREVIEW_LIFETIME
            )
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "This preview is more than two hours old: upload the file again."
            ) from None
        except signing.BadSignature:
            raise forms.ValidationError(
                "This preview could not be read: upload the file again."
            ) from None
        cohort = None
        if payload["cohort"] is not None:
            cohort = Cohort.objects.select_related("programme").filter(pk=payload["cohort"]).first()
            if cohort is None:
                raise forms.ValidationError(
                    "The cohort chosen for this import no longer exists: upload the file again."
                )
        return {"csv": payload["csv"].encode(), "cohort": cohort}

    def sign(self, *, text: str, cohort: Cohort | None) -> str:
        return signing.dumps(
            {"csv": text, "cohort": cohort.pk if cohort else None}, salt=self.salt, compress=True
        )


def fits_in_one_request(preview: str) -> bool:
    """Whether a signed preview can come back in a confirmation: Django refuses form data
    beyond DATA_UPLOAD_MAX_MEMORY_SIZE (files apart), and a file of random text barely
    compresses. The margin is for the CSRF token and the field names."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is None or len(preview) < limit - 10_000
