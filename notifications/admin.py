import copy
from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import translation
from django.utils.html import format_html_join

from audit.models import AuditEntry
from audit.records import audit_record
from notifications.forms import (
    DEFAULT_LANGUAGE_LABEL,
    WORDING_FIELDS,
    MessageTemplateForm,
    language_label,
)
from notifications.kinds import KINDS, Kind
from notifications.models import MessageTemplate, Notification
from notifications.rendering import Rendered, render_from
from notifications.samples import MissingSample, sample_context
from notifications.schema import Schema, offers
from notifications.template_checks import wording_problems


class KindFilter(admin.SimpleListFilter):
    title = "message"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(kind.name, kind.label) for kind in KINDS.values()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: what went out to whom and when, and what is waiting or failed.
    Rows hold ids, never a message's text. Each manager sees their programmes' messages only
    (programmes/admin_outbox.py registers it scoped)."""

    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    list_display = [
        "created_at",
        "kind",
        "to_email",
        "programme",
        "status",
        "not_before",
        "attempts",
        "sent_at",
    ]
    # The kinds come from the registry, not from a DISTINCT over every message; the creation
    # date's filter (today, past 7 days, …) stands in for a date hierarchy, whose years or
    # months would be another DISTINCT over every message on every page.
    list_filter = ["status", KindFilter, "created_at"]
    search_fields = ["to_email", "key"]
    readonly_fields = [
        "kind",
        "key",
        "to_email",
        "person",
        "user",
        "content_type",
        "object_id",
        "programme",
        "status",
        "not_before",
        "attempts",
        "lease_until",
        "last_error",
        "created_at",
        "sent_at",
    ]
    exclude = ["data"]
    list_select_related = ["person", "user", "programme"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False


class LanguageFilter(admin.SimpleListFilter):
    title = "language"
    parameter_name = "language"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("default", DEFAULT_LANGUAGE_LABEL), *settings.LANGUAGES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(language="" if value == "default" else value)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """The wording of each message, per language: the organisation's defaults and each
    programme's own (who may change which: programmes/admin_outbox.py). Every edit is
    checked before it is saved (notifications/template_checks.py) and can be previewed with
    sample data, saved or not."""

    form = MessageTemplateForm
    list_display = [
        "kind_label",
        "language_label",
        "programme",
        "subject",
        "wording_check",
        "updated_at",
    ]
    list_select_related = ["programme"]
    list_filter = [KindFilter, LanguageFilter]
    search_fields = ["kind", "subject"]
    readonly_fields = ["placeholders"]
    fieldsets = [
        (None, {"fields": ["kind", "language", "programme", "placeholders"]}),
        (
            "Wording",
            {
                "fields": ["subject", "body_text", "body_html"],
                "description": (
                    "Write {{ placeholder }} where a detail goes, for example "
                    '{{ person.full_name }} or {{ starts|date:"l j F, H:i" }}. Times are '
                    "shown in the recipient's time zone. Preview shows the message with "
                    "made-up people and dates; nothing is sent."
                ),
            },
        ),
    ]

    @admin.display(description="Message", ordering="kind")
    def kind_label(self, obj: MessageTemplate) -> str:
        kind = KINDS.get(obj.kind)
        return kind.label if kind else f"{obj.kind} (no longer sent)"

    @admin.display(description="Check")
    def wording_check(self, obj: MessageTemplate) -> str:
        """A wording saved before today's checks (an older release, a data import) may ask
        for what its kind no longer offers: it still sends, with those parts empty (the
        renderer only holds what is declared), and is flagged here until someone edits it."""
        problems = wording_check(obj)
        if not problems:
            return "OK"
        return f"Needs an edit: {problems[0]}" + (
            f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        )

    @admin.display(description="Language", ordering="language")
    def language_label(self, obj: MessageTemplate) -> str:
        return language_label(obj.language)

    @admin.display(description="Placeholders")
    def placeholders(self, obj: MessageTemplate | None) -> str:
        kind = KINDS.get(obj.kind) if obj is not None and obj.pk else None
        if kind is not None:
            return ", ".join(kind_offers(kind))
        return format_html_join(
            "",
            "{}: {}<br>",
            ((k.label, ", ".join(kind_offers(k))) for k in KINDS.values()),
        )

    # Every change of wording is in the audit trail: what changed, never the words.
    def save_model(
        self, request: HttpRequest, obj: MessageTemplate, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        what = ", ".join(form.changed_data) if change else "written"
        self._audit(request, obj, ("", what))

    def delete_model(self, request: HttpRequest, obj: MessageTemplate) -> None:
        self._audit(request, obj, ("", "deleted: back to the default"))
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self._audit(request, obj, ("", "deleted: back to the default"))
        super().delete_queryset(request, queryset)

    def _audit(self, request: HttpRequest, obj: MessageTemplate, change: tuple[str, str]) -> None:
        audit_record(
            AuditEntry.Event.WORDING_CHANGED,
            by=request.user,
            target=obj,
            programme=obj.programme,
            changes={"wording": change},
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        name = "notifications_messagetemplate_"
        return [
            path("preview/", view(self.preview_view), name=name + "preview_unsaved"),
            path("<path:object_id>/preview/", view(self.preview_view), name=name + "preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """GET: the saved wording. POST (the change form's Preview button): the typed
        wording, checked as if it were saved, and not saved."""
        obj = None
        if object_id is not None:
            obj = self.get_object(request, unquote(object_id))
            if obj is None:
                return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]  # Django's own, not in the stubs
        form = None
        if request.method == "POST":
            allowed = (
                self.has_change_permission(request, obj)
                if obj is not None
                else self.has_add_permission(request)
            )
            if not allowed:
                raise PermissionDenied
            # The form works on a copy: a preview never changes the saved row. It is the
            # admin's form, with the same choices as the page it was posted from.
            form_class = self.get_form(request, obj, change=obj is not None)
            form = form_class(request.POST, instance=copy.copy(obj) if obj else None)
            row = form.instance if form.is_valid() else None
        elif obj is not None:
            if not self.has_view_or_change_permission(request, obj):
                raise PermissionDenied
            row = obj
        else:
            return redirect("admin:notifications_messagetemplate_add")
        preview, problem = wording_preview(row) if row is not None else (None, "")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Preview",
            "original": obj,
            "form": form,
            "row": row,
            "kind_label": self.kind_label(row) if row is not None else "",
            "language": language_label(row.language) if row is not None else "",
            "preview": preview,
            "problem": problem,
        }
        return TemplateResponse(
            request, "admin/notifications/messagetemplate/preview.html", context
        )


def kind_offers(kind: Kind) -> list[str]:
    """Everything a wording of ``kind`` may read, as it is written: ``partner.full_name``."""
    placeholders = cast(Mapping[str, Schema], kind.placeholders)  # a mapping once made
    return [path for name, schema in placeholders.items() for path in offers(schema, name)]


def wording_check(row: MessageTemplate) -> list[str]:
    """What the checks would say of ``row`` if it were saved again today."""
    if row.kind not in KINDS:
        return []  # listed as "no longer sent"
    return [
        problem
        for field in WORDING_FIELDS
        if getattr(row, field)
        for problem in wording_problems(
            getattr(row, field), kind=row.kind, field=field, language=row.language
        )
    ]


def wording_preview(row: MessageTemplate) -> tuple[Rendered | None, str]:
    """``row`` rendered as a send would render it, with the sample data of its kind; or why
    it cannot be."""
    try:
        context = sample_context(row.kind)
    except KeyError:
        return None, "This kind of message is no longer sent."
    except MissingSample as error:
        return None, str(error)
    try:
        with translation.override(row.language or None):
            return render_from(row, context), ""
    except Exception as error:
        return None, f"This wording does not work with the sample data: {error}"
