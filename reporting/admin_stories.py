"""Success stories in the admin: managers write them, anonymised, and follow the consents the
participants give on their pair page. Saving goes through reporting.stories.story_save, which
clears the consents when the text they were given to changes."""

from datetime import datetime
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from lib.admin_filters import (
    AllowListedFiltersMixin,
    ChoiceListFilter,
    field_filter_parameters,
)
from programmes.admin import CohortFilter, ProgrammeFilter
from programmes.scoping import ProgrammeScopedAdmin
from reporting import stories
from reporting.models import SuccessStory

CONSENT_HELP = (
    "Participants are asked on their pair page, once you tick “I have removed names and "
    "identifying details”; the story is shown to the programme's sponsors (title and text "
    "only, never names) after both have agreed. Changing the pair, the title or the text, or "
    "unticking that box, clears both consents: they are asked again."
)


class PublishedFilter(ChoiceListFilter):
    title = "shown to sponsors"
    parameter_name = "shown"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("yes", "Yes: anonymised, both agreed"),
            ("waiting", "Waiting for consent"),
            ("draft", "Not anonymised yet"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        both = Q(mentee_consent_at__isnull=False, reverse_mentor_consent_at__isnull=False)
        match self.value():
            case "yes":
                return queryset.filter(both, anonymised=True)
            case "waiting":
                return queryset.filter(anonymised=True).exclude(both)
            case "draft":
                return queryset.filter(anonymised=False)
        return queryset


class SuccessStoryForm(forms.ModelForm):
    class Meta:
        model = SuccessStory
        fields = ["pair", "title", "body", "anonymised"]

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())
        pair = cleaned.get("pair")
        if pair is not None:
            try:
                stories.story_check_pair(pair=pair)
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned


def _when(value: datetime | None) -> str:
    # Said in words, not the admin's dash: the change form ignores a display's empty_value.
    return f"{timezone.localtime(value):%-d %b %Y %H:%M}" if value else "not yet"


@admin.register(SuccessStory)
class SuccessStoryAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, admin.ModelAdmin):
    programme_path = "pair__cohort__programme"
    form = SuccessStoryForm
    list_display = [
        "title",
        "cohort_name",
        "anonymised",
        "mentee_consent",
        "reverse_mentor_consent",
        "shown_to_sponsors",
        "updated_at",
    ]
    list_filter = [
        ("pair__cohort__programme", ProgrammeFilter),
        ("pair__cohort", CohortFilter),
        PublishedFilter,
    ]
    filter_parameters = field_filter_parameters(
        "pair__cohort__programme__id", "pair__cohort__id"
    ) | {PublishedFilter.parameter_name}
    list_select_related = ["pair__cohort"]
    search_fields = ["title"]
    # PairAdmin searches by both names, so a manager finds the pair by typing either.
    autocomplete_fields = ["pair"]
    fieldsets = [
        (None, {"fields": ["pair", "title", "body", "anonymised"]}),
        (
            "Consent",
            {
                "description": CONSENT_HELP,
                "fields": [("mentee_consent", "reverse_mentor_consent"), "shown_to_sponsors"],
            },
        ),
        (None, {"fields": [("written_by", "created_at", "updated_at")]}),
    ]
    readonly_fields = [
        "mentee_consent",
        "reverse_mentor_consent",
        "shown_to_sponsors",
        "written_by",
        "created_at",
        "updated_at",
    ]

    def save_model(
        self, request: HttpRequest, obj: SuccessStory, form: forms.ModelForm, change: bool
    ) -> None:
        had_consent = bool(obj.mentee_consent_at or obj.reverse_mentor_consent_at)
        stories.story_save(story=obj, by=cast(User, request.user))
        if had_consent and not (obj.mentee_consent_at or obj.reverse_mentor_consent_at):
            messages.warning(
                request,
                "The participants' consents were cleared because the story changed or is no "
                "longer marked anonymised: each is asked again by e-mail once it is saved "
                "marked anonymised.",
            )

    @admin.display(description="cohort", ordering="pair__cohort__starts_on")
    def cohort_name(self, obj: SuccessStory) -> str:
        return obj.pair.cohort.name

    @admin.display(description="mentee consent", ordering="mentee_consent_at")
    def mentee_consent(self, obj: SuccessStory) -> str:
        return _when(obj.mentee_consent_at)

    @admin.display(description="reverse-mentor consent", ordering="reverse_mentor_consent_at")
    def reverse_mentor_consent(self, obj: SuccessStory) -> str:
        return _when(obj.reverse_mentor_consent_at)

    @admin.display(description="shown to sponsors", boolean=True)
    def shown_to_sponsors(self, obj: SuccessStory) -> bool:
        return obj.publishable
