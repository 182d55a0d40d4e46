"""Admin lists that accept only the query parameters they declare.

Django's change list filters by any lookup on a model's own fields written in the URL
(``/admin/surveys/pulse/?teaching__gte=4``), shown in the sidebar or not, and the rows it
lists then say who answered what. A list of private rows (answers, free text, or anything
about a participant) therefore names, in ``filter_parameters``, exactly the query parameters
of its own sidebar filters; the change list's own machinery (search, ordering, paging, the
date hierarchy, popups, facets) is added here. Anything else, and any value a filter does not
offer, answers 400 with a page that says which parameter was refused, before the list runs a
query. An allow-list, so a new field is private until someone decides otherwise.

Sidebar filters of these lists are either field filters (their parameters are declared) or
``ChoiceListFilter``: a filter whose value must be one of its own choices, so a filter cannot
be turned into a way of asking about arbitrary values. ``tests/security/test_admin_filters.py``
checks every registered admin of a private model against both rules.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.admin.options import (
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
    IncorrectLookupParameters,
)
from django.contrib.admin.views.main import ALL_VAR, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

# What the change list itself reads from the query string: never a filter on the rows.
# ("e", Django's "invalid filter" flag, is left out: a refused filter answers 400 instead of
# redirecting there.)
CHANGELIST_PARAMETERS = frozenset(
    {SEARCH_VAR, ORDER_VAR, PAGE_VAR, ALL_VAR, IS_POPUP_VAR, TO_FIELD_VAR, IS_FACETS_VAR}
)
DATE_HIERARCHY_PARTS = ("year", "month", "day")
# The date hierarchy's values Django can turn into a date range (it reads them with int() and
# date(), and the year after a year 9999 overflows); the rest it checks itself.
DATE_HIERARCHY_LIMITS = {"year": 9998, "month": 12, "day": 31}


def field_filter_parameters(*field_paths: str) -> frozenset[str]:
    """The parameters of the admin's default filters on ``field_paths``: a choice, boolean or
    plain field takes ``<path>__exact``, a related one ``<path>__id__exact``; all may take
    ``<path>__isnull``. Write the related ones with their ``__id`` (``"cohort__id"``)."""
    names: set[str] = set()
    for path in field_paths:
        names |= {f"{path}__exact", f"{path.removesuffix('__id')}__isnull"}
    return frozenset(names)


class RefusedQuery(Exception):
    """A query parameter or value the list does not accept."""

    def __init__(self, parameters: Iterable[str]) -> None:
        self.parameters = sorted(parameters)
        super().__init__(", ".join(self.parameters))


class ChoiceListFilter(admin.SimpleListFilter):
    """A sidebar filter that accepts only the values of its own choices (``lookups``);
    anything else is refused with a 400, never passed on to ``queryset``."""

    def __init__(self, request: HttpRequest, params: dict, model: type, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        value = self.used_parameters.get(str(self.parameter_name))
        if value is not None and str(value) not in {str(key) for key, _ in self.lookup_choices}:
            raise IncorrectLookupParameters(f"{self.parameter_name}={value}")


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class AllowListedFiltersMixin(_AdminBase):
    """For the ModelAdmin of a private model: see the module. ``filter_parameters`` must be
    declared; an admin that forgets it refuses every filter."""

    filter_parameters: frozenset[str] = frozenset()

    def accepted_parameters(self) -> frozenset[str]:
        accepted = set(CHANGELIST_PARAMETERS) | set(self.filter_parameters)
        if self.date_hierarchy:
            accepted |= {f"{self.date_hierarchy}__{part}" for part in DATE_HIERARCHY_PARTS}
        return frozenset(accepted)

    def refused_parameters(self, request: HttpRequest) -> list[str]:
        accepted = self.accepted_parameters()
        refused = {key for key in request.GET if key not in accepted}
        # PostgreSQL refuses a NUL character in text: say so here rather than fail later.
        refused |= {key for key, values in request.GET.lists() if any("\x00" in v for v in values)}
        if self.date_hierarchy:
            for part, limit in DATE_HIERARCHY_LIMITS.items():
                key = f"{self.date_hierarchy}__{part}"
                for value in request.GET.getlist(key):
                    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= limit):
                        refused.add(key)
        return sorted(refused)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The change list asks this of every filter parameter in the URL; the view has
        # already refused any that is not declared, this keeps the rule for other callers.
        if lookup not in self.accepted_parameters():
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            if refused := self.refused_parameters(request):
                raise RefusedQuery(refused)
            return super().changelist_view(request, extra_context)
        except RefusedQuery as error:
            return self.refused_response(request, error.parameters)

    def get_changelist_instance(self, request: HttpRequest):
        try:
            return super().get_changelist_instance(request)
        except IncorrectLookupParameters as error:
            # Django would redirect to "?e=1"; a value the list does not offer is refused.
            raise RefusedQuery(
                key for key in request.GET if key not in CHANGELIST_PARAMETERS
            ) from error

    def refused_response(self, request: HttpRequest, parameters: list[str]) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"This list of {self.opts.verbose_name_plural} cannot be filtered so",
            "subtitle": None,
            "refused": [p.replace("\x00", "\N{REPLACEMENT CHARACTER}") for p in parameters],
            "accepted": sorted(self.filter_parameters),
            "list_url": request.path,
        }
        return TemplateResponse(request, "admin/filter_refused.html", context, status=400)
