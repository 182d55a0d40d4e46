"""The admin page where programme managers import people and participants from a CSV file:
upload, preview every row and every problem, then confirm. Nothing is written before the
confirmation, and then only if the whole file is still valid."""

from typing import cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from programmes.forms_import import ConfirmImportForm, PeopleImportForm, fits_in_one_request
from programmes.imports import (
    ImportConflict,
    ImportPlan,
    ImportResult,
    parse_people_csv,
    people_import,
)
from programmes.models import Cohort, Participant
from programmes.scoping import scope_choices

# Updating people already in the directory is part of every import.
IMPORT_PERMISSIONS = (
    "programmes.add_person",
    "programmes.change_person",
    "programmes.add_participant",
)
# A valid file's preview lists this many rows; a file with problems lists all its problems.
PREVIEW_ROWS = 500

EXAMPLE_CSV = """\
full_name,email,job_title,department,manager_email,time_zone,language,role,capacity
Grace Okafor,grace@example.org,Chief Operating Officer,Operations,,Europe/London,en,mentee,
Tomás Ruiz,tomas@example.org,Analyst,Finance,grace@example.org,Europe/Madrid,es,reverse_mentor,2
Mei Chen,mei@example.org,Software Engineer,Technology,tomas@example.org,,,,
"""


def import_people(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied
    if request.GET.get("example") == "csv":
        response = HttpResponse(EXAMPLE_CSV, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="people-import-example.csv"'
        return response

    upload = _scoped(PeopleImportForm(), request)
    confirm = ConfirmImportForm(user=request.user)
    plan: ImportPlan | None = None
    if request.method == "POST" and "preview" in request.POST:
        confirm = ConfirmImportForm(request.POST, user=request.user)
        if confirm.is_valid():
            previewed = confirm.cleaned_data["preview"]
            cohort = previewed["cohort"]
            if cohort is not None and not _in_scope(cohort, request):
                raise Http404  # no longer the user's programme since the preview
            # The directory may have changed since the preview: check everything again.
            plan = parse_people_csv(data=previewed["csv"], cohort=previewed["cohort"])
            if plan.is_valid:
                try:
                    result = people_import(plan=plan, by=cast(User, request.user))
                except ImportConflict:
                    messages.error(
                        request,
                        "Someone changed the directory while this file was being imported, "
                        "so nothing was imported. Check the preview below and confirm again.",
                    )
                    plan = parse_people_csv(data=previewed["csv"], cohort=previewed["cohort"])
                else:
                    messages.success(request, _summary(result))
                    return HttpResponseRedirect(_after_import_url(plan))
            else:
                messages.error(
                    request,
                    "The directory has changed since the preview and this file now has "
                    "problems, so nothing was imported.",
                )
    elif request.method == "POST":
        upload = _scoped(PeopleImportForm(request.POST, request.FILES), request)
        if upload.is_valid():
            plan = parse_people_csv(
                data=upload.cleaned_data["file"], cohort=upload.cleaned_data["cohort"]
            )

    signed = ""
    if plan is not None and plan.is_valid:
        signed = confirm.sign(text=plan.text, cohort=plan.cohort)
    context = {
        **admin.site.each_context(request),
        "title": "Import people from CSV",
        "opts": Participant._meta,
        "upload": upload,
        "confirm": confirm,
        "plan": plan,
        "preview": signed if fits_in_one_request(signed) else "",
        "too_big_to_confirm": bool(signed) and not fits_in_one_request(signed),
        "shown_rows": plan.rows[:PREVIEW_ROWS] if plan and plan.is_valid else [],
        "example": EXAMPLE_CSV,
    }
    return TemplateResponse(request, "admin/programmes/participant/import.html", context)


def _scoped(form: PeopleImportForm, request: HttpRequest) -> PeopleImportForm:
    """The upload form offering only the cohorts of the user's programmes."""
    field = cast(ModelChoiceField, form.fields["cohort"])
    field.queryset = scope_choices(cast(QuerySet, field.queryset), request.user)
    return form


def _in_scope(cohort: Cohort, request: HttpRequest) -> bool:
    return scope_choices(Cohort.objects.filter(pk=cohort.pk), request.user).exists()


def _summary(result: ImportResult) -> str:
    people = "person" if result.created == 1 else "people"
    participants = "participant" if result.participants_added == 1 else "participants"
    return (
        f"Imported: {result.created} new {people}, {result.updated} updated, "
        f"{result.participants_added} {participants} added"
    )


def _after_import_url(plan: ImportPlan) -> str:
    if plan.cohort is None:
        return reverse("admin:programmes_person_changelist")
    changelist = reverse("admin:programmes_participant_changelist")
    return f"{changelist}?cohort__id__exact={plan.cohort.pk}"
