"""Records whose rows without a programme are the organisation's defaults, which each
programme may override with its own (issue #18): the guides and the messages' wording.

Every manager reads the defaults (they are what their programmes get unless they add their
own); only organisation administrators add, change and delete them. A manager adds, changes
and deletes the rows of the programmes they manage only, and must name one of them: a blank
programme or another programme's is a form error, never saved.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from programmes.scoping import ProgrammeScopedAdmin, is_org_admin

ORGANISATION_DEFAULT = "The organisation's default (every programme)"
ONLY_YOUR_PROGRAMMES = (
    "Choose one of your programmes: the organisation's defaults are changed by its administrators."
)


class OrganisationDefaultsAdmin(ProgrammeScopedAdmin):
    """For a ModelAdmin whose model has a nullable ``programme``; put it first among the
    bases."""

    programme_path = "programme"

    def scope_q(self, request: HttpRequest) -> Q:
        return super().scope_q(request) | Q(programme__isnull=True)

    @admin.display(description="programme", ordering="programme__name")
    def programme_or_default(self, obj: Any) -> str:
        return str(obj.programme) if obj.programme_id else ORGANISATION_DEFAULT

    def may_change(self, request: HttpRequest, obj: Any) -> bool:
        """Whether the user may change ``obj`` (None: the list, a new row) as far as whose
        it is goes: a default is the organisation administrators'."""
        return obj is None or obj.programme_id is not None or is_org_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_change_permission(request, obj)  # type: ignore[misc]  # a ModelAdmin mixin
        return allowed and self.may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed: bool = super().has_delete_permission(request, obj)  # type: ignore[misc]  # a ModelAdmin mixin
        return allowed and self.may_change(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form: type[forms.ModelForm] = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]  # a ModelAdmin mixin
        field = form.base_fields.get("programme")
        if not isinstance(field, forms.ModelChoiceField):
            return form  # a page the user only reads
        if is_org_admin(request.user):
            field.empty_label = ORGANISATION_DEFAULT
        else:
            # Its choices are the user's programmes (ProgrammeScopedAdmin); blank is not theirs.
            field.required = True
            field.error_messages = {
                **field.error_messages,
                "required": ONLY_YOUR_PROGRAMMES,
                "invalid_choice": ONLY_YOUR_PROGRAMMES,
            }
        return form
