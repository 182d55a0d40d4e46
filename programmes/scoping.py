"""Who sees which programme in the admin (issue #18).

Organisation administrators (superusers, or members of the "Organisation administrators"
group) see every programme. Everyone else on the staff sees only the programmes they manage
(``Programme.managers``): every list, object page and foreign-key choice of a model that
belongs to a programme goes through :class:`ProgrammeScopedAdmin`, and a record of another
programme answers 404, as if it did not exist (never 403, which would confirm it does).

Whether a user manages a programme is read from the database on every request, so a grant or
a revocation takes effect at once, for sessions already signed in too.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from programmes.models import Programme

ORG_ADMINS_GROUP = "Organisation administrators"

AnyUser = AbstractBaseUser | AnonymousUser

# How each model that can be chosen in a form reaches its programme (by label: the pairs app
# sits above this one and is not imported here).
CHOICE_PATHS = {
    "programmes.programme": "",
    "programmes.cohort": "programme",
    "programmes.participant": "cohort__programme",
    "programmes.topic": "programme",
    "programmes.keyskill": "programme",
    "pairs.pair": "cohort__programme",
}


# What only an organisation administrator holds: their group has it (programmes/roles.py), the
# managers' group does not. Reading the permission, not the group, costs no query: the admin
# has already loaded the user's permissions for the request.
ORG_ADMIN_PERMISSION = "programmes.add_programme"


def is_org_admin(user: AnyUser) -> bool:
    """A superuser, or an active member of the organisation administrators' group."""
    if not (user.is_authenticated and user.is_active):
        return False
    if not isinstance(user, PermissionsMixin):
        return False
    return user.is_superuser or user.has_perm(ORG_ADMIN_PERMISSION)


def managed_programme_ids(user: AnyUser) -> QuerySet[Programme, Any]:
    """The ids of the programmes ``user`` manages, as a subquery (read when the query runs)."""
    if not user.is_authenticated:
        return Programme.objects.none().values("pk")
    return Programme.objects.filter(managers=user.pk).values("pk")


def programme_q(path: str, user: AnyUser) -> Q:
    """Rows whose programme (reached through ``path``; "" for Programme itself) ``user``
    manages."""
    field = f"{path}__in" if path else "pk__in"
    return Q(**{field: managed_programme_ids(user)})


def scope(queryset: QuerySet, user: AnyUser, path: str) -> QuerySet:
    """``queryset`` narrowed to ``user``'s programmes, unless they are an organisation
    administrator."""
    if is_org_admin(user):
        return queryset
    return queryset.filter(programme_q(path, user))


def scope_choices(queryset: QuerySet, user: AnyUser) -> QuerySet:
    """A queryset of choices narrowed to ``user``'s programmes when its model belongs to one."""
    path = CHOICE_PATHS.get(queryset.model._meta.label_lower)
    return queryset if path is None else scope(queryset, user, path)


class ProgrammeScopedAdmin:
    """For a ModelAdmin whose model belongs to a programme: lists, object pages, actions and
    foreign-key choices show only the user's programmes (all of them to an organisation
    administrator). Put it first among the bases."""

    # How the model reaches its programme: "cohort__programme", "" for Programme itself.
    programme_path: str = ""

    def scope_q(self, request: HttpRequest) -> Q:
        """The rows of the user's programmes (a model with shared rows widens it)."""
        return programme_q(self.programme_path, request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]  # a ModelAdmin mixin
        if is_org_admin(request.user):
            return queryset
        return queryset.filter(self.scope_q(request))

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        # For a manager, a record of another programme is one that does not exist: a 404,
        # like any missing record, rather than the admin's redirect with a message.
        if not is_org_admin(request.user):
            raise Http404
        return super()._get_obj_does_not_exist_redirect(request, opts, object_id)  # type: ignore[misc]  # Django's own, not in the stubs

    def _scope_field(self, db_field: Any, request: HttpRequest, kwargs: dict[str, Any]) -> None:
        model: type[Model] = db_field.remote_field.model
        if model._meta.label_lower not in CHOICE_PATHS or is_org_admin(request.user):
            return
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(None, db_field, request)  # type: ignore[attr-defined]  # ModelAdmin's
            if queryset is None:
                queryset = model._default_manager.all()
        kwargs["queryset"] = scope_choices(queryset, request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_field(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]  # a ModelAdmin mixin

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_field(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]  # a ModelAdmin mixin


def get_scoped_or_404(queryset: QuerySet, request: HttpRequest, path: str, **lookup: Any) -> Any:
    """The one row of ``queryset`` matching ``lookup`` in the user's programmes (``path``: how
    the model reaches its programme); 404 otherwise, whether it is missing or another
    programme's, so a custom admin page taking an id says no more than the admin's own."""
    row = scope(queryset, request.user, path).filter(**lookup).first()
    if row is None:
        raise Http404
    return row
