"""Floods from a pair page (issue 14, item 7): every participant form that creates a row saves
once when it is sent twice, and every change that e-mails the partner (and every note) is
rate-limited in the database, with a message in the page that keeps what was typed."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from notifications.models import Notification
from pairs.models import Agreement, Meeting, Note, Pair
from programmes import throttle
from programmes.models import ParticipantAction, Role
from surveys.models import Pulse
from tests.pairs.meeting_helpers import meeting_for, pair_token
from tests.surveys.pulse_helpers import held_answers, pulse_url

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


@dataclass(frozen=True)
class RowForm:
    name: str
    url: str  # URL name, with the pair token as its one argument
    model: type[Model]
    data: Callable[[int], dict[str, str]]  # the n-th distinct submission
    typed: str  # something typed that the refusing page must keep
    mails: int  # e-mails to the partner per submission
    limit: int


def _agreement(n: int) -> dict[str, str]:
    return {
        "action": "propose",
        "driver": Role.REVERSE_MENTOR,
        "cadence": "weekly",
        "meeting_mode": "video",
        "cancellation": f"A day ahead, take {n}",
        "pledge": "on",
    }


FORMS = [
    RowForm(
        "note",
        "pairs:pair_note_create",
        Note,
        lambda n: {"text": f"Learned thing {n}"},
        "Learned thing",
        0,
        throttle.LIMITS[throttle.Kind.NOTE],
    ),
    RowForm(
        "session",
        "pairs:meeting_schedule",
        Meeting,
        lambda n: {"date": f"2026-04-{n + 1:02d}", "time": "10:00", "duration_minutes": "45"},
        "10:00",
        1,
        throttle.LIMITS[throttle.Kind.PARTNER_MAIL],
    ),
    RowForm(
        "agreement",
        "pairs:pair_agreement",
        Agreement,
        _agreement,
        "A day ahead, take",
        1,
        throttle.LIMITS[throttle.Kind.PARTNER_MAIL],
    ),
]


def _partner_mail(pair: Pair) -> int:
    return Notification.objects.filter(to_email=pair.reverse_mentor.person.email).count()


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_it_saves_a_form_sent_twice_once(
    client: Client, pair: Pair, form: RowForm, django_capture_on_commit_callbacks
) -> None:
    url = reverse(form.url, args=[pair_token(pair.mentee)])
    before = form.model.objects.count()
    data = form.data(1) | {"submission": str(uuid4())}

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, data)
        second = client.post(url, data)

    assert first.status_code == 302
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    assert form.model.objects.count() == before + 1
    assert _partner_mail(pair) == form.mails


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_it_refuses_a_form_without_its_token_and_offers_a_fresh_one(
    client: Client, pair: Pair, form: RowForm
) -> None:
    url = reverse(form.url, args=[pair_token(pair.mentee)])
    before = form.model.objects.count()

    response = client.post(url, form.data(1) | {"submission": "not-a-token"})

    assert response.status_code == 400
    assert "This form came from an old page, so it was not saved." in response.text
    assert form.typed in response.text
    assert 'name="submission" value="not-a-token"' not in response.text
    assert 'name="submission"' in response.text
    assert form.model.objects.count() == before


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_it_rate_limits_a_flood_and_keeps_what_was_typed(
    client: Client, pair: Pair, form: RowForm
) -> None:
    url = reverse(form.url, args=[pair_token(pair.mentee)])
    before = form.model.objects.count()

    statuses = [
        client.post(url, form.data(n) | {"submission": str(uuid4())}).status_code
        for n in range(form.limit)
    ]
    refused = client.post(url, form.data(form.limit) | {"submission": str(uuid4())})

    assert statuses == [302] * form.limit
    assert refused.status_code == 400
    assert "protect your partner" in refused.text
    assert form.typed in refused.text
    assert form.model.objects.count() == before + form.limit
    # Ten minutes on, the participant may go on.
    later = client.post(url, form.data(form.limit + 1) | {"submission": str(uuid4())})
    assert later.status_code == 400
    ParticipantAction.objects.update(at=NOW - throttle.WINDOW)
    assert (
        client.post(url, form.data(form.limit + 2) | {"submission": str(uuid4())}).status_code
        == 302
    )


def test_the_limit_is_per_participant(client: Client, pair: Pair) -> None:
    url = reverse("pairs:pair_note_create", args=[pair_token(pair.mentee)])
    for n in range(throttle.LIMITS[throttle.Kind.NOTE]):
        client.post(url, {"text": f"Note {n}", "submission": str(uuid4())})

    partner_url = reverse("pairs:pair_note_create", args=[pair_token(pair.reverse_mentor)])
    response = client.post(partner_url, {"text": "Mine", "submission": str(uuid4())})

    assert response.status_code == 302


def test_it_rate_limits_changes_to_a_session_that_mail_the_partner(
    client: Client, pair: Pair
) -> None:
    booked = meeting_for(pair, starts_at=NOW + timedelta(days=3), scheduled_by=Role.MENTEE)
    url = reverse("pairs:meeting_edit", args=[pair_token(pair.mentee), booked.pk])

    def move(hour: int):
        return client.post(
            url,
            {
                "action": "reschedule",
                "move-date": "2026-03-05",
                "move-time": f"{hour:02d}:00",
                "move-duration_minutes": "45",
            },
        )

    statuses = [move(8 + n % 10).status_code for n in range(throttle.LIMITS["partner_mail"])]
    refused = move(19)

    assert statuses == [302] * throttle.LIMITS["partner_mail"]
    assert refused.status_code == 400
    assert "protect your partner" in refused.text
    assert 'value="19:00"' in refused.text
    booked.refresh_from_db()
    assert booked.sequence == throttle.LIMITS["partner_mail"]


def test_proposals_close_together_make_one_pending_email_about_the_latest(
    client: Client, pair: Pair
) -> None:
    url = reverse("pairs:pair_agreement", args=[pair_token(pair.mentee)])
    for n in range(4):
        client.post(url, _agreement(n) | {"submission": str(uuid4())})

    pending = Notification.objects.filter(
        kind="agreement_proposed", status=Notification.Status.PENDING
    )
    latest = Agreement.objects.filter(pair=pair).order_by("-number").first()
    assert [row.object_id for row in pending] == [latest.pk]
    assert pending.get().not_before > NOW


def test_a_pulse_sent_twice_is_one_pulse(client: Client, pair: Pair) -> None:
    session = meeting_for(pair, starts_at=NOW - timedelta(hours=2))
    url = pulse_url(pair.mentee, session)

    answers = held_answers(good_fit="yes", safety="4", teaching="2")

    first = client.post(url, answers)
    second = client.post(url, answers)

    assert first.status_code == 302
    assert second.status_code == 302
    assert Pulse.objects.filter(meeting=session, participant=pair.mentee).count() == 1
