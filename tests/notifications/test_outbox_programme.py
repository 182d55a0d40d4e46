"""Each message knows the programme it belongs to (issue #18): every kind about a programme's
record (a participant, a pair, a session, a check-in, a pulse, a story, the programme itself)
carries it from the moment it is asked, so its managers, and only they, see it in the outbox
and it is sent in its programme's wording. The few kinds about no one programme carry none."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from notifications.kinds import KINDS, Message
from notifications.models import Notification
from notifications.services import notify
from pairs.models import Meeting
from programmes.models import Programme
from tests.factories import ProgrammeFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for

pytestmark = pytest.mark.django_db

# To a person about all their places, to a user who asked for a reset, and a digest of every
# programme its recipient manages.
ABOUT_NO_ONE_PROGRAMME = {"participant_links", "password_reset", "risk_digest"}

filled = importlib.import_module("notifications.migrations.0004_notification_programme_filled")


def test_every_message_about_a_programme_s_record_carries_that_programme(
    built: dict[str, Message | None], programme: Programme
) -> None:
    ProgrammeFactory(name="Another programme")  # there is another to pick by mistake
    rows = list(Notification.objects.all())
    assert {row.kind for row in rows} == set(KINDS), "every kind was asked (the `built` fixture)"
    for row in rows:
        expected = None if row.kind in ABOUT_NO_ONE_PROGRAMME else programme.pk
        assert row.programme_id == expected, (row.kind, row.key)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_declares_its_programme_as_the_migration_filled_it(kind: str) -> None:
    """The data migration copied the paths; a kind added later has no rows it could fill."""
    path = KINDS[kind].programme_path
    if kind in filled.ABOUT:
        assert (path or "pk") == filled.ABOUT[kind][1]
    else:
        assert path is None


def test_the_migration_fills_the_rows_asked_before_and_leaves_the_rest(
    programme: Programme,
) -> None:
    pair = agreed_pair(programme=programme)
    meeting = meeting_for(pair, starts_at=timezone.now() + timedelta(days=2))
    notify(kind="meeting_scheduled", key="m", to=pair.mentee.person, about=meeting)
    notify(kind="session_reminder", key="gone", to=pair.mentee.person, about=meeting)
    notify(kind="sponsor_status", key="s", to="sponsor@example.org", about=programme)
    notify(kind="password_reset", key="p", to="someone@example.org")
    Notification.objects.update(programme=None)
    Notification.objects.filter(key="gone").update(object_id=meeting.pk + 1000)  # deleted

    filled.fill(apps, None)

    assert dict(Notification.objects.values_list("key", "programme")) == {
        "m": programme.pk,
        "gone": None,
        "s": programme.pk,
        "p": None,
    }


def test_asking_finds_the_programme_without_a_query_of_its_own(
    programme: Programme, django_assert_num_queries
) -> None:
    pair = agreed_pair(programme=programme)
    meeting = Meeting.objects.get(
        pk=meeting_for(pair, starts_at=timezone.now() + timedelta(days=2)).pk
    )  # nothing of its pair loaded
    person = pair.mentee.person
    ContentType.objects.get_for_model(Meeting)  # cached for the process, as in production

    with django_assert_num_queries(1):  # the INSERT, with the programme as a subquery
        notify(kind="meeting_scheduled", key="m", to=person, about=meeting)

    assert Notification.objects.get(key="m").programme == programme
