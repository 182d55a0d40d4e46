"""Every message to one person carries only links that open that person's own pages, and no
calendar file carries a personal link at all (DESIGN.md: "A calendar file or e-mail to one
person never carries a link that opens another person's page").

The test builds every kind of message the outbox knows for a pair A/B (as each side), sends
them through the real builders and wording, and decodes every signed token found in what
each recipient gets."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse

from matching.notices import ask_match_introduction
from notifications.kinds import KINDS
from notifications.models import Notification
from notifications.sending import notification_send
from notifications.services import notify
from pairs import meetings
from pairs import notices as pair_notices
from pairs import queries as pair_queries
from pairs import services as pair_services
from pairs.models import Meeting, Pair
from programmes import notices as programme_notices
from programmes.links import SALT, Purpose, read_token
from programmes.models import Cohort, Participant, Role
from reporting import notices as reporting_notices
from reporting.consent import story_version
from reporting.models import SuccessStory
from risks import checkins
from risks import notices as risk_notices
from risks.models import CheckIn
from surveys import notices as survey_notices
from surveys.models import LinkRequest, Pulse, PulseRequest
from tests.factories import ParticipantFactory, UserFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for, pair_token

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
# A signed participant token (django.core.signing: base64 JSON, timestamp, signature).
TOKEN = re.compile(r"eyJ[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+")


@dataclass
class Received:
    texts: list[str] = field(default_factory=list)
    calendars: list[bytes] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)


def _send_everything_pending() -> None:
    """What the outbox would send now, quiet hours aside."""
    Notification.objects.filter(status=Notification.Status.PENDING).update(not_before=NOW)
    for pk in Notification.objects.filter(status=Notification.Status.PENDING).values_list(
        "pk", flat=True
    ):
        notification_send(pk)


def _every_message(pair: Pair, actor: Participant, manager) -> dict[str, Received]:
    """Every kind of message, asked the way the product asks it, with ``actor`` doing what
    mails the partner; returns what each address received."""
    me = pair_queries.partner_of(pair=pair, participant=actor)
    cohort = pair.cohort
    cohort.programme.managers.add(manager)

    # Intake messages, while the cohort takes intakes.
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.INTAKE)
    for participant in (me, actor):
        programme_notices.ask_intake_invitation(participant)
        programme_notices.ask_intake_reminder(participant, 3)
    _send_everything_pending()
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.RUNNING)
    # A confirmation is about a submitted intake; its builder reads only the participant.
    for participant in (me, actor):
        notify_kind("intake_confirmation", participant)

    # The agreement: a proposal by the actor, and the reminder to whoever has not accepted.
    pair_services.agreement_propose(
        pair=pair,
        by=actor,
        driver=Role.REVERSE_MENTOR,
        cadence="fortnightly",
        meeting_mode="video",
        cancellation="A day ahead",
        pledge=True,
    )
    pair_notices.ask_agreement_reminder(pair, me)
    _send_everything_pending()
    pair_services.agreement_accept(
        pair=pair, by=me, agreement_id=pair.agreements.order_by("-number").first().pk
    )

    # Sessions: booked, moved, cancelled, marked; a reminder; a pulse and its nudge.
    booked = meetings.meeting_schedule(
        pair=pair, by=actor, starts_at=NOW + timedelta(days=3), duration_minutes=45, topic=None
    )
    _send_everything_pending()
    pair_notices.ask_session_reminder(booked, me)
    _send_everything_pending()
    meetings.meeting_reschedule(
        meeting=booked,
        by=actor,
        starts_at=NOW + timedelta(days=4),
        duration_minutes=45,
        topic=None,
    )
    _send_everything_pending()
    meetings.meeting_cancel(meeting=booked, by=actor, reason="Travel")
    _send_everything_pending()
    past = meeting_for(pair, starts_at=NOW - timedelta(days=1), scheduled_by=Role.MENTEE)
    meetings.meeting_mark(
        meeting=Meeting.objects.get(pk=past.pk), by=actor, status="held", led_by="", topic=None
    )
    _send_everything_pending()
    for participant in (me, actor):
        request = PulseRequest.objects.create(meeting=past, participant=participant)
        survey_notices.ask_pulse_request(request)
        survey_notices.ask_pulse_nudge(request)
    _send_everything_pending()

    # A "not a good fit" alert and a check-in answer go to the managers.
    pulse = Pulse.objects.create(
        meeting=past,
        participant=actor,
        held=True,
        good_fit=False,
        submitted_at=NOW,
        session_starts_at=past.starts_at,
    )
    survey_notices.ask_rematch_alert(pulse)
    missed = meeting_for(pair, starts_at=NOW - timedelta(days=2), status=Meeting.Status.MISSED)
    for participant in (me, actor):
        scan = CheckIn.objects.create(pair=pair, participant=participant, trigger=missed)
        by_hand = CheckIn.objects.create(pair=pair, participant=participant)
        risk_notices.ask_checkin(scan)
        risk_notices.ask_checkin(by_hand)
    _send_everything_pending()
    checkins.checkin_answer(
        checkin=CheckIn.objects.get(participant=actor, trigger=missed),
        choice=CheckIn.Choice.REMATCH,
    )
    _send_everything_pending()

    # The introduction, links sent again, the programme questions, a story to consent to.
    ask_match_introduction(pair)
    for participant in (me, actor):
        link_request = LinkRequest.objects.create(
            email=participant.person.email, person=participant.person
        )
        survey_notices.ask_participant_links(link_request)
        survey_notices.ask_feedback_request(participant, "midpoint")
    story = SuccessStory.objects.create(
        pair=pair, title="Slides", body="We stopped using them.", anonymised=True
    )
    for participant in (me, actor):
        reporting_notices.ask_story_consent(story, participant, story_version(story))
    _send_everything_pending()

    # The pair ends with a session still booked: both get the calendar cancellation.
    meeting_for(pair, starts_at=NOW + timedelta(days=5), scheduled_by=actor_side(pair, actor))
    pair_services.pair_close(Pair.objects.get(pk=pair.pk), reason="Re-matched", now=NOW)
    _send_everything_pending()

    received: dict[str, Received] = {}
    for message in mail.outbox:
        [to] = message.to
        got = received.setdefault(to, Received())
        got.kinds.add(message.subject)
        got.texts.append(message.subject + "\n" + message.body)
        got.texts.extend(content for content, _ in getattr(message, "alternatives", []))
        for name, content, mimetype in message.attachments:
            assert name.endswith(".ics")
            assert mimetype == "text/calendar"
            got.calendars.append(content if isinstance(content, bytes) else content.encode())
    return received


def notify_kind(kind: str, participant: Participant) -> None:
    notify(kind=kind, key=f"{kind}:{participant.pk}", to=participant.person, about=participant)
    _send_everything_pending()


def actor_side(pair: Pair, actor: Participant) -> Role:
    return pair_queries.side_of(pair=pair, participant=actor)


def _participant_of(token: str) -> int:
    data = signing.loads(token, salt=SALT)
    claims = read_token(token, purpose=Purpose(data["u"]))  # genuine and unexpired
    return claims.participant_id


@pytest.fixture(autouse=True)
def frozen(time_machine) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.mark.parametrize("actor_role", [Role.MENTEE, Role.REVERSE_MENTOR])
def test_it_sends_each_person_only_their_own_links_and_no_calendar_carries_one(
    db: None, actor_role: Role
) -> None:
    pair = agreed_pair(mentee_zone="America/New_York", mentor_zone="Europe/London", agreed=False)
    pair.cohort.starts_on = NOW.date() - timedelta(days=60)
    pair.cohort.ends_on = NOW.date() + timedelta(days=30)
    pair.cohort.save()
    actor = pair.mentee if actor_role == Role.MENTEE else pair.reverse_mentor
    manager = UserFactory(email="manager@example.com", is_staff=True)

    received = _every_message(pair, actor, manager)

    owners = {p.person.email: p.pk for p in (pair.mentee, pair.reverse_mentor)}
    for email, got in received.items():
        tokens = [token for text in got.texts for token in TOKEN.findall(text)]
        expected = owners.get(email)
        assert {_participant_of(token) for token in tokens} <= ({expected} if expected else set())
        for calendar in got.calendars:
            unfolded = calendar.replace(b"\r\n ", b"").decode()
            assert not TOKEN.findall(unfolded), f"a signed link in a calendar file to {email}"
            assert "/pair/" not in unfolded
    # The sweep is only as good as its reach: every kind the outbox knows was sent.
    sent = set(Notification.objects.filter(status="sent").values_list("kind", flat=True))
    # (Digests, status mail and password resets go to users, who hold no participant link.)
    assert sent >= set(KINDS) - {"risk_digest", "sponsor_status", "password_reset"}
    # Each participant got their own links and calendar files, so the checks above had work.
    for email in owners:
        assert any(TOKEN.findall(text) for text in received[email].texts)
    assert sum(len(got.calendars) for got in received.values()) >= 4


def test_the_downloaded_calendar_file_carries_no_personal_link(client, db: None) -> None:
    pair = agreed_pair()
    booked = meeting_for(pair, starts_at=NOW + timedelta(days=2))
    for participant in (pair.mentee, pair.reverse_mentor):
        token = pair_token(participant)
        url = reverse("pairs:meeting_ics", args=[token, booked.pk])

        response = client.get(url)

        assert response.status_code == 200
        body = response.content.replace(b"\r\n ", b"").decode()
        assert not TOKEN.findall(body)
        assert "http://testserver/link/" in body


PAIR_LINK = re.compile(r"/pair/(eyJ[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+)/(?:(\d+)/)?")


def test_each_message_about_one_of_two_pairs_links_to_that_pair(client, db: None) -> None:
    """A reverse-mentor with two places: every message about their second pair opens the
    second pair's page (not just "their" pair page, which is the newest), and the links sent
    again open each of their pairs."""
    first = agreed_pair()
    first.cohort.starts_on = NOW.date() - timedelta(days=60)
    first.cohort.ends_on = NOW.date() + timedelta(days=30)
    first.cohort.save()
    mentor = first.reverse_mentor
    second_mentee = ParticipantFactory(
        cohort=first.cohort,
        person__full_name="Dana Ito",
        role=Role.MENTEE,
        status=Participant.Status.MATCHED,
    )
    second = Pair.objects.create(
        cohort=first.cohort, mentee=second_mentee, reverse_mentor=mentor, status="active"
    )
    manager = UserFactory(email="manager@example.com", is_staff=True)

    _every_message(second, second_mentee, manager)

    about_second, resent = [], []
    for message in mail.outbox:
        if message.to != [mentor.person.email]:
            continue
        found = PAIR_LINK.findall(message.body)
        if "You asked for your links again" in message.body:
            resent += found
        else:
            about_second += found
    assert about_second, "the sweep sent the reverse-mentor no pair link"
    assert {pair_id for _, pair_id in about_second} == {str(second.pk)}
    assert {pair_id for _, pair_id in resent} == {str(first.pk), str(second.pk)}
    for token, pair_id in about_second[:1] + resent:
        assert read_token(token, purpose=Purpose.PAIR).participant_id == mentor.pk
        page = client.get(reverse("pairs:pair", args=[token, int(pair_id)]))
        assert page.status_code == 200
        partner = "Margaret Hale" if pair_id == str(first.pk) else "Dana Ito"
        assert f"You and {partner}" in page.content.decode()
