"""The outbox and the messages' wording in the admin, scoped by programme (issue #18).

Their admins are the notifications app's, which sits below this one and knows no programme;
they are registered again here (from ProgrammesConfig.ready) with the scoping every admin of
a programme's records has (programmes/scoping.py):

- The outbox: a manager sees the messages of the programmes they manage; a message of
  another programme, or of none (a password reset, a digest), answers 404. Organisation
  administrators see every message.
- Wording: the organisation's defaults (no programme) are changed by organisation
  administrators only; a manager reads them, may start their programme's own wording from
  one, and adds, changes and deletes the wording of the programmes they manage only
  (programmes/admin_defaults.py).
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from notifications.admin import MessageTemplateAdmin, NotificationAdmin
from notifications.models import MessageTemplate, Notification
from programmes.admin import ProgrammeFilter
from programmes.admin_defaults import OrganisationDefaultsAdmin
from programmes.scoping import ProgrammeScopedAdmin

# The wording a manager starts their programme's own from: ?from=<id> on the add page.
START_FROM = "from"
WORDING_COPIED = ("kind", "language", "subject", "body_text", "body_html")

admin.site.unregister(Notification)
admin.site.unregister(MessageTemplate)


@admin.register(Notification)
class ScopedNotificationAdmin(ProgrammeScopedAdmin, NotificationAdmin):
    programme_path = "programme"
    list_filter = [("programme", ProgrammeFilter), *NotificationAdmin.list_filter]


@admin.register(MessageTemplate)
class ScopedMessageTemplateAdmin(OrganisationDefaultsAdmin, MessageTemplateAdmin):
    list_display = [
        "programme_or_default" if name == "programme" else name
        for name in MessageTemplateAdmin.list_display
    ]
    list_filter = [*MessageTemplateAdmin.list_filter, ("programme", ProgrammeFilter)]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "start_own"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.may_change(request, obj) or not self.has_add_permission(request):
            return fieldsets
        return [(None, {"fields": ["start_own"]}), *fieldsets]

    @admin.display(description="Your programme's own")
    def start_own(self, obj: MessageTemplate) -> str:
        url = reverse("admin:notifications_messagetemplate_add") + f"?{START_FROM}={obj.pk}"
        return format_html(
            '<a href="{}">Start your programme\'s own wording from this one</a>', url
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """The add page started from a wording the user can read (?from=<id>)."""
        initial = super().get_changeform_initial_data(request)
        start = initial.pop(START_FROM, "")
        if isinstance(start, str) and start.isdigit():
            source = self.get_queryset(request).filter(pk=int(start)).first()
            if source is not None:
                initial |= {name: getattr(source, name) for name in WORDING_COPIED}
        return initial
