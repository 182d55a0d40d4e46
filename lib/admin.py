"""Pieces every app's admin uses: a view-only mixin and the permission check of the admin's own
pages about one object."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def check_permission(
    model_admin: admin.ModelAdmin, request: HttpRequest, obj: object, *, change: bool
) -> None:
    """For the admin's own pages about one object: PermissionDenied unless the user may
    change it (``change``: the page acts on it) or view it."""
    allowed = (
        model_admin.has_change_permission(request, obj)
        if change
        else model_admin.has_view_permission(request, obj)
    )
    if not allowed:
        raise PermissionDenied


class ViewOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
