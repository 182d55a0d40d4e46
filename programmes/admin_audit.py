"""The audit trail in the admin: read-only, scoped like every other list (a manager reads the
entries of the programmes they manage; organisation administrators read all of them, including
the organisation's own, such as who was made an administrator), and downloadable as CSV for a
programme and a period. Nobody adds, changes or deletes an entry here, a superuser neither:
the trail is append-only (audit/models.py), and downloading it is itself an entry."""

import csv
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from auditlog.mixins import LogEntryAdminMixin
from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from audit.models import AuditEntry
from audit.records import audit_record
from lib.admin_filters import AllowListedFiltersMixin, ChoiceListFilter, field_filter_parameters
from lib.spreadsheets import csv_cell
from programmes.models import Programme
from programmes.scoping import ProgrammeScopedAdmin, is_org_admin, scope_choices

CSV_COLUMNS = ["when", "who", "event", "programme", "record", "what changed"]
DETAIL = ["created", "event", "object_repr", "what_changed", "programme_name", "who"]
ORGANISATION = "organisation"  # the export's choice of the entries about no programme


def readable_changes(entry: AuditEntry) -> str:
    """``role: → manager; status: active → paused``."""
    return "; ".join(
        f"{field}: {old} → {new}".replace(":  →", ": →")
        for field, (old, new) in (entry.changes or {}).items()
    )


def entries_for(user: Any, *, programme: str, since: date, until: date) -> QuerySet[AuditEntry]:
    """The entries ``user`` may read from ``since`` to ``until`` (whole days in the
    organisation's time zone), of one programme, of the organisation ("organisation") or of
    everything they may read ("")."""
    zone = timezone.get_current_timezone()
    entries = AuditEntry.objects.filter(
        timestamp__gte=datetime.combine(since, time.min, zone),
        timestamp__lt=datetime.combine(until + timedelta(days=1), time.min, zone),
    )
    if programme == ORGANISATION:
        entries = entries.filter(programme__isnull=True)
    elif programme:
        entries = entries.filter(programme_id=programme)
    if not is_org_admin(user):
        entries = entries.filter(programme__in=scope_choices(Programme.objects.all(), user))
    return entries.select_related("actor", "content_type").order_by("timestamp", "pk")


class ExportForm(forms.Form):
    """Which entries to download: a programme (or all the reader may read) and a period."""

    programme = forms.ChoiceField(required=False)
    since = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Every programme I can read")]
        if is_org_admin(user):
            choices.append((ORGANISATION, "The organisation (roles of administrators)"))
        choices += [(str(p.pk), str(p)) for p in scope_choices(Programme.objects.all(), user)]
        field = cast(forms.ChoiceField, self.fields["programme"])
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the period comes before its start.")
        return data


class AuditProgrammeFilter(ChoiceListFilter):
    """The programmes the reader may read; any other value is refused."""

    title = "programme"
    parameter_name = "programme"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        choices: list[tuple[str, str]] = []
        if is_org_admin(request.user):
            choices.append((ORGANISATION, "The organisation"))
        programmes = scope_choices(Programme.objects.all(), request.user)
        return choices + [(str(p.pk), str(p)) for p in programmes]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == ORGANISATION:
            return queryset.filter(programme__isnull=True)
        if self.value():
            return queryset.filter(programme_id=self.value())
        return queryset


class AuditEntryAdmin(
    ProgrammeScopedAdmin, AllowListedFiltersMixin, LogEntryAdminMixin, admin.ModelAdmin
):
    """Who did what, when, in which programme. Registered in programmes/admin.py in place of
    django-auditlog's own admin, which would show every programme to every reader."""

    programme_path = "programme"
    list_display = ["created", "event", "object_repr", "what_changed", "programme_name", "who"]
    list_filter = ["event", AuditProgrammeFilter]
    filter_parameters = field_filter_parameters("event") | {"programme"}
    date_hierarchy = "timestamp"
    list_select_related = ["actor", "content_type"]
    # The record's name as written then: people, pairs, cohorts, runs.
    search_fields = ["object_repr"]
    fields = tuple(DETAIL)
    readonly_fields = tuple(DETAIL)
    actions = None

    @admin.display(description="what changed")
    def what_changed(self, entry: AuditEntry) -> str:
        return readable_changes(entry)

    @admin.display(description="who", ordering="actor_email")
    def who(self, entry: AuditEntry) -> str:
        if entry.actor is not None:
            return entry.actor.get_full_name() or entry.actor.get_username()
        return entry.actor_email or "the system"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="audit_auditentry_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """A form for the programme and the period; once valid, the CSV (and an entry
        saying it was downloaded)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ExportForm(request.GET or None, user=request.user)
        if form.is_bound and form.is_valid():
            return self.export_csv(request, form.cleaned_data)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Download the audit trail",
            "form": form,
        }
        return TemplateResponse(request, "admin/audit/auditentry/export.html", context)

    def export_csv(self, request: HttpRequest, data: dict[str, Any]) -> HttpResponse:
        entries = entries_for(
            request.user, programme=data["programme"], since=data["since"], until=data["until"]
        )
        programme = (
            Programme.objects.filter(pk=data["programme"]).first()
            if data["programme"].isdigit()
            else None
        )
        name = programme.slug if programme else data["programme"] or "all"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-{name}-{data["since"]}-{data["until"]}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for entry in entries:
            row = [
                timezone.localtime(entry.timestamp).isoformat(timespec="seconds"),
                self.who(entry),
                entry.get_event_display(),
                entry.programme_name,
                entry.object_repr,
                readable_changes(entry),
            ]
            writer.writerow([csv_cell(cell) for cell in row])
        audit_record(
            AuditEntry.Event.EXPORT_DOWNLOADED,
            by=cast(User, request.user),
            target=programme or cast(User, request.user),
            programme=programme,
            changes={"export": ("", f"audit trail {data['since']} to {data['until']}")},
        )
        return response
