"""The cohort list's intake actions: close a cohort's intake, or reopen it, each through a
confirmation page that lists who has not finished (names and how far they got, never an
answer). The matching run's start page asks the same question before a run closes intake
(matching/admin_views.py); both call programmes.services."""

from typing import cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from programmes import services
from programmes.models import Cohort

ONE_AT_A_TIME = "Choose one cohort at a time: the confirmation lists its unfinished people."


def _one(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Cohort | None:
    cohorts = list(queryset.select_related("programme")[:2])
    if len(cohorts) != 1:
        model_admin.message_user(request, ONE_AT_A_TIME, messages.WARNING)
        return None
    return cohorts[0]


def ids_seen(value: str | None) -> frozenset[int]:
    """The unfinished participants' ids a confirmation page showed ("12,15"); anything else
    reads as nobody seen, so the page is shown again."""
    parts = (value or "").split(",")
    return frozenset(
        int(part) for part in parts if part.isascii() and part.isdigit() and len(part) <= 12
    )


def _confirm(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    cohort: Cohort,
    *,
    action: str,
    template: str,
    title: str,
    **extra: object,
) -> TemplateResponse:
    gaps = services.cohort_intake_unfinished(cohort=cohort)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "cohort": cohort,
        "gaps": gaps,
        "seen": ",".join(str(pk) for pk in sorted(gaps.ids)),
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        **extra,
    }
    return TemplateResponse(request, template, context)


def close_intake(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> TemplateResponse | None:
    """Confirm, then close: the confirmation is posted back with the unfinished people the
    manager saw; if more have joined them since, the page asks again."""
    cohort = _one(model_admin, request, queryset)
    if cohort is None:
        return None
    if not cohort.intake_open:
        model_admin.message_user(
            request, f"The intake of {cohort} is already closed.", messages.INFO
        )
        return None
    confirmed = request.POST.get("confirm") == "yes"
    if confirmed:
        gaps = services.cohort_intake_unfinished(cohort=cohort)
        if gaps.ids <= ids_seen(request.POST.get("unfinished")):
            result = services.cohort_intake_close(cohort=cohort, by=cast(User, request.user))
            model_admin.message_user(
                request,
                services.intake_closed_message(cohort, result.withdrawn),
                messages.SUCCESS,
            )
            return None
    return _confirm(
        model_admin,
        request,
        cohort,
        action="close_intake",
        template="admin/programmes/cohort/intake_close.html",
        title=f"Close the intake of {cohort}?",
        changed=confirmed,
    )


def reopen_intake(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> TemplateResponse | None:
    cohort = _one(model_admin, request, queryset)
    if cohort is None:
        return None
    if cohort.intake_open:
        model_admin.message_user(request, f"The intake of {cohort} is open.", messages.INFO)
        return None
    if cohort.status != Cohort.Status.MATCHING:
        model_admin.message_user(
            request, str(services.IntakeCannotReopen.for_cohort(cohort)), messages.ERROR
        )
        return None
    if request.POST.get("confirm") == "yes":
        result = services.cohort_intake_reopen(
            cohort=cohort,
            by=cast(User, request.user),
            invite_again=request.POST.get("invite_again") == "on",
        )
        invited = result.invited
        model_admin.message_user(
            request,
            f"Intake of {cohort} reopened; "
            + (
                f"{invited} fresh invitation{'s' if invited != 1 else ''} queued, reminders "
                "follow 3 and 7 days later."
                if invited
                else "nobody was e-mailed."
            ),
            messages.SUCCESS,
        )
        return None
    gaps = services.cohort_intake_unfinished(cohort=cohort)
    return _confirm(
        model_admin,
        request,
        cohort,
        action="reopen_intake",
        template="admin/programmes/cohort/intake_reopen.html",
        title=f"Reopen the intake of {cohort}?",
        invitable=sum(1 for p in gaps.people if p.invitation_sent_at is not None),
    )
