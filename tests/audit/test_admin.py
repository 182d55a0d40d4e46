"""Reading the audit trail: organisation administrators read and download all of it, per
programme and period; a manager reads their own programmes' entries only (another's answer
404, as missing ones do); nobody adds, changes or deletes an entry, a superuser neither."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.admin import site
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from programmes.admin_audit import AuditEntryAdmin
from programmes.models import Programme
from programmes.roles import MANAGERS_GROUP
from programmes.scoping import ORG_ADMINS_GROUP
from tests.factories import ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

Event = AuditEntry.Event
LIST = reverse("admin:audit_auditentry_changelist")
EXPORT = reverse("admin:audit_auditentry_export")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Trail:
    entries: dict[str, AuditEntry]
    a: Programme
    b: Programme
    omar: User  # B's manager
    olga: User  # an organisation administrator


@pytest.fixture
def trail(programme: Programme, manager: User) -> Trail:
    """Entries of programme A on two days, of programme B and of the organisation."""
    other = ProgrammeFactory(name="Programme B", slug="programme-b")
    omar = UserFactory(username="omar", is_staff=True)
    omar.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    other.managers.add(omar)
    olga = UserFactory(username="olga", is_staff=True)
    olga.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    zone = timezone.get_current_timezone()
    when = {
        "a_october": (programme, datetime(2026, 10, 3, 12, tzinfo=zone)),
        "a_november": (programme, datetime(2026, 11, 20, 23, 30, tzinfo=zone)),
        "b": (other, datetime(2026, 11, 5, 12, tzinfo=zone)),
        "organisation": (None, datetime(2026, 11, 6, 12, tzinfo=zone)),
    }
    entries = {
        name: AuditEntry.objects.create(
            content_type=ContentType.objects.get_for_model(User),
            object_pk=str(manager.pk),
            object_id=manager.pk,
            object_repr=f"=entry {name}",  # a formula, if a spreadsheet were to run it
            action=AuditEntry.Action.UPDATE,
            event=Event.ROLE_GRANTED,
            actor=manager,
            actor_email=manager.email,
            changes={"role": ["", "sponsor"]},
            programme_id=None if where is None else where.pk,
            programme_name="" if where is None else where.name,
            timestamp=at,
        )
        for name, (where, at) in when.items()
    }
    return Trail(entries, programme, other, omar, olga)


def _listed(client: Client, **query) -> set[str]:
    response = client.get(LIST, query)
    assert response.status_code == 200
    return {entry.object_repr.removeprefix("=entry ") for entry in response.context["cl"].queryset}


def test_each_reader_lists_only_the_entries_of_their_programmes(trail: Trail, manager) -> None:
    assert _listed(_client(manager)) == {"a_october", "a_november"}
    assert _listed(_client(trail.omar)) == {"b"}
    assert _listed(_client(trail.olga)) == {"a_october", "a_november", "b", "organisation"}
    assert _listed(_client(trail.olga), programme="organisation") == {"organisation"}
    assert _listed(_client(trail.olga), programme=trail.b.pk) == {"b"}


def test_another_programme_s_entry_is_not_found_and_its_filter_refused(trail: Trail) -> None:
    client = _client(trail.omar)
    for name in ("a_october", "organisation"):
        url = reverse("admin:audit_auditentry_change", args=[trail.entries[name].pk])
        assert client.get(url).status_code == 404
    assert client.get(LIST, {"programme": trail.a.pk}).status_code == 400
    assert client.get(LIST, {"programme": "organisation"}).status_code == 400
    assert client.get(LIST, {"changes__icontains": "sponsor"}).status_code == 400
    own = reverse("admin:audit_auditentry_change", args=[trail.entries["b"].pk])
    assert client.get(own).status_code == 200


def test_nobody_adds_changes_or_deletes_an_entry(trail: Trail) -> None:
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    entry = trail.entries["a_october"]
    for user in (root, trail.olga):
        client = _client(user)
        change = reverse("admin:audit_auditentry_change", args=[entry.pk])
        assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
        assert client.post(change, {"object_repr": "rewritten"}).status_code == 403
        delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        page = client.get(change)
        assert page.status_code == 200
        assert not page.context["has_change_permission"]
        assert "action" not in client.get(LIST).context["cl"].model_admin.get_actions(
            page.wsgi_request
        )
    entry.refresh_from_db()
    assert entry.object_repr == "=entry a_october"


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_an_administrator_downloads_one_programme_over_a_period(trail: Trail) -> None:
    client = _client(trail.olga)
    query = {"programme": trail.a.pk, "since": "2026-11-01", "until": "2026-11-20"}

    rows = _rows(client.get(EXPORT, query))

    assert rows[0] == ["when", "who", "event", "programme", "record", "what changed"]
    # 23:30 on the 20th is within "until the 20th", in the organisation's time zone.
    assert [row[2:] for row in rows[1:]] == [
        ["Role granted", trail.a.name, "'=entry a_november", "role: → sponsor"]
    ]
    everything = _rows(client.get(EXPORT, {"since": "2026-01-01", "until": "2026-12-31"}))
    assert {row[4] for row in everything[1:]} >= {
        "'=entry a_october",
        "'=entry a_november",
        "'=entry b",
        "'=entry organisation",
    }


def test_a_manager_downloads_only_their_programmes(trail: Trail) -> None:
    client = _client(trail.omar)
    rows = _rows(client.get(EXPORT, {"since": "2026-01-01", "until": "2026-12-31"}))
    assert [row[4] for row in rows[1:]] == ["'=entry b"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2026-12-01", "until": "2026-11-01"}, "comes before its start"),
        ({"since": "yesterday", "until": "2026-11-01"}, "Enter a valid date"),
        ({"since": "2026-11-01"}, "This field is required"),
        ({"since": "2026-11-01", "until": "2026-11-30", "programme": "A"}, "valid choice"),
    ],
)
def test_a_bad_period_or_programme_says_why_keeps_what_was_typed_and_writes_nothing(
    trail: Trail, query: dict, message: str
) -> None:
    before = AuditEntry.objects.count()
    response = _client(trail.omar).get(EXPORT, query)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert query["since"] in page
    assert AuditEntry.objects.count() == before


def test_a_manager_cannot_download_another_programme_s_entries(trail: Trail) -> None:
    for programme in (str(trail.a.pk), "organisation"):
        response = _client(trail.omar).get(
            EXPORT, {"programme": programme, "since": "2026-01-01", "until": "2026-12-31"}
        )
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
        assert "entry a_" not in response.content.decode()


def test_the_trail_admin_is_the_scoped_one() -> None:
    """django-auditlog registers an admin of its own for the entries, scoped to nobody's
    programmes; ours replaces it."""
    assert type(site._registry[AuditEntry]) is AuditEntryAdmin
    assert not site.is_registered(LogEntry)
