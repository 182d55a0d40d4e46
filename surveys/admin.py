from django.contrib import admin
from django.http import HttpRequest

from surveys.models import LinkRequest


@admin.register(LinkRequest)
class LinkRequestAdmin(admin.ModelAdmin):
    """Read-only: who asked for their links again, and who hit the limit. Rows can be deleted
    (old ones hold personal data; see LinkRequest)."""

    list_display = ["requested_at", "email", "person", "ip_address", "rate_limited", "sent_at"]
    list_filter = ["rate_limited", ("person", admin.EmptyFieldListFilter), "requested_at"]
    list_select_related = ["person"]
    search_fields = ["email", "ip_address"]
    date_hierarchy = "requested_at"
    readonly_fields = ["email", "person", "ip_address", "requested_at", "rate_limited", "sent_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LinkRequest | None = None) -> bool:
        return False
