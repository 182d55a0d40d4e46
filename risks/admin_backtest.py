"""The risk backtest of a cohort as a page (the button on its diagnosis page), for those who
may see the cohort and the at-risk flags: the same report as ``manage.py risk_backtest``
(risks/backtest.py). Counts, dates and names only."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from programmes.models import Cohort
from programmes.scoping import get_scoped_or_404
from risks.backtest import EARLY_DAYS, backtest
from risks.models import RiskFlag


def backtest_view(
    request: HttpRequest, cohort_id: int, *, model_admin: admin.ModelAdmin
) -> HttpResponse:
    cohort = get_scoped_or_404(
        Cohort.objects.select_related("programme"), request, "programme", pk=cohort_id
    )
    flags_admin = model_admin.admin_site._registry[RiskFlag]
    if not (
        model_admin.has_view_permission(request, cohort)
        and flags_admin.has_view_permission(request)
    ):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Risk backtest: {cohort}",
        "subtitle": None,
        "cohort": cohort,
        "result": backtest(cohort),
        "early_days": EARLY_DAYS,
        "diagnosis_url": reverse("admin:programmes_cohort_diagnosis", args=[cohort.pk]),
    }
    return TemplateResponse(request, "admin/risks/backtest.html", context)
