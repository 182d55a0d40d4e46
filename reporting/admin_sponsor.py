"""The managers' "what we need from you" line for a programme's sponsors, one per programme and
month, in the admin. It appears on that month's status page and in its e-mail, which sponsors
read: the field's help text asks for no participants' names."""

from datetime import date
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format

from lib.admin_filters import AllowListedFiltersMixin, field_filter_parameters
from programmes.admin import ProgrammeFilter
from programmes.scoping import ProgrammeScopedAdmin
from reporting.models import SponsorAsk


class SponsorAskForm(forms.ModelForm):
    class Meta:
        model = SponsorAsk
        fields = ["programme", "month", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 80, "maxlength": 300})}
        help_texts = {
            "month": "Any day of the month will do: the ask belongs to the whole month. The "
            "status e-mailed on the first working day of a month reports the month before.",
        }
        # The model's clean() makes any day the month's first, so two days of one month
        # are the same ask.
        error_messages = {
            NON_FIELD_ERRORS: {
                "unique_together": "This programme already has an ask for that month: change "
                "that one instead.",
            }
        }


@admin.register(SponsorAsk)
class SponsorAskAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, admin.ModelAdmin):
    programme_path = "programme"
    form = SponsorAskForm
    list_display = ["programme", "month_label", "text", "written_by", "updated_at"]
    list_display_links = ["programme", "month_label"]
    list_filter = [("programme", ProgrammeFilter)]
    filter_parameters = field_filter_parameters("programme__id")
    list_select_related = ["programme", "written_by"]
    search_fields = ["text", "programme__name"]
    fields = ["programme", "month", "text", ("written_by", "updated_at")]
    readonly_fields = ["written_by", "updated_at"]

    @admin.display(description="month", ordering="month")
    def month_label(self, obj: SponsorAsk) -> str:
        return date_format(obj.month, "F Y")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # Written during a month for that month's status, e-mailed early the next.
        today: date = timezone.localdate()
        return {"month": today.replace(day=1)} | super().get_changeform_initial_data(request)

    def save_model(
        self, request: HttpRequest, obj: SponsorAsk, form: forms.ModelForm, change: bool
    ) -> None:
        obj.written_by = cast(User, request.user)
        super().save_model(request, obj, form, change)
