"""The missed-meetings check-in: asked of both participants after two missed or cancelled
sessions in a row, once; answered in one tap from a page a mail scanner cannot trigger; each
answer changes the pair as chosen, once, and only managers hear of a re-match or a pause."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.sending import notification_send
from notifications.services import notify
from pairs.models import Meeting, Note, Pair
from programmes.links import Purpose, make_token, read_token
from programmes.models import Participant, Role
from risks import tasks
from risks.checkins import (
    PAUSE_LENGTH,
    checkin_answer,
    checkins_due,
    pair_pause,
    pairs_resume_due,
)
from risks.models import CheckIn
from surveys.models import PulseRequest
from tests.pairs.meeting_helpers import agreed_pair, meeting_for

pytestmark = pytest.mark.django_db

WORDING = (
    "We noticed two missed meetings; are you able to continue? If not, we can re-match you or "
    "pause for one month."
)
PRIVATE = "I felt talked down to and want out"


def session(pair: Pair, days: float, status: str = Meeting.Status.SCHEDULED, **fields) -> Meeting:
    if status == Meeting.Status.CANCELLED:
        fields.setdefault("cancelled_by", Role.MENTEE)
    return meeting_for(
        pair, starts_at=timezone.now() + timedelta(days=days), status=status, **fields
    )


def two_missed(pair: Pair) -> Meeting:
    """A held session, then one missed and one cancelled (with a private reason): the
    cancelled one is the trigger."""
    session(pair, -12, Meeting.Status.HELD)
    session(pair, -6, Meeting.Status.MISSED)
    return session(pair, -2, Meeting.Status.CANCELLED, cancel_reason=PRIVATE)


def checkin_of(participant: Participant) -> CheckIn:
    return CheckIn.objects.get(participant=participant)


def checkin_path(checkin: CheckIn, answer: str = "") -> str:
    token = make_token(
        participant_id=checkin.participant_id, purpose=Purpose.CHECKIN, scope=checkin.pk
    )
    path = reverse("risks:checkin", args=[token])
    return f"{path}?answer={answer}" if answer else path


def sent_to(address: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


# --- When it is asked -----------------------------------------------------------------------


def test_two_missed_or_cancelled_in_a_row_ask_each_participant_once(pair):
    trigger = two_missed(pair)

    first = checkins_due()
    second = checkins_due()

    assert (first, second) == (2, 0)
    rows = CheckIn.objects.order_by("participant_id")
    assert sorted((c.participant_id, c.trigger_id, c.pair_id, c.choice) for c in rows) == sorted(
        [
            (pair.mentee_id, trigger.pk, pair.pk, ""),
            (pair.reverse_mentor_id, trigger.pk, pair.pk, ""),
        ]
    )
    assert Notification.objects.filter(kind="checkin").count() == 2


def test_one_missed_session_asks_nobody(pair):
    session(pair, -6, Meeting.Status.HELD)
    session(pair, -2, Meeting.Status.MISSED)

    assert checkins_due() == 0
    assert not CheckIn.objects.exists()


def test_a_held_session_in_between_asks_nobody(pair):
    session(pair, -9, Meeting.Status.MISSED)
    session(pair, -5, Meeting.Status.HELD)
    session(pair, -2, Meeting.Status.CANCELLED)

    assert checkins_due() == 0


def test_a_past_session_nobody_logged_is_not_a_missed_one(pair):
    session(pair, -9, Meeting.Status.MISSED)
    session(pair, -5, Meeting.Status.MISSED)
    unlogged = session(pair, -1)

    assert checkins_due() == 0

    unlogged.status = Meeting.Status.MISSED
    unlogged.save()
    assert checkins_due() == 2
    assert set(CheckIn.objects.values_list("trigger_id", flat=True)) == {unlogged.pk}


def test_sessions_still_to_come_do_not_count(pair):
    session(pair, -5, Meeting.Status.HELD)
    session(pair, -2, Meeting.Status.MISSED)
    session(pair, 3, Meeting.Status.CANCELLED)  # counts once its time has come
    assert checkins_due() == 0

    session(pair, -1, Meeting.Status.CANCELLED)
    session(pair, 7)  # a session booked for next week does not hide the two missed ones
    assert checkins_due() == 2


def test_paused_pairs_and_old_runs_are_not_asked(programme, pair):
    paused = agreed_pair(programme=programme, status=Pair.Status.PAUSED)
    two_missed(paused)
    session(pair, -45, Meeting.Status.MISSED)
    session(pair, -40, Meeting.Status.MISSED)

    assert checkins_due() == 0


def test_two_new_missed_sessions_ask_again(pair):
    two_missed(pair)
    checkins_due()
    session(pair, -1.5, Meeting.Status.MISSED)  # a third in a row: one new is not a new run

    assert checkins_due() == 0

    session(pair, -1, Meeting.Status.CANCELLED)  # and a fourth: two new ones
    assert checkins_due() == 2
    assert CheckIn.objects.filter(participant=pair.mentee).count() == 2


def test_a_pair_back_from_a_pause_is_not_asked_again_about_the_same_run(pair):
    """The check-in led to a pause; a session cancelled during it, and the pair back, is one
    new session that did not happen after the run already asked about, not a new run."""
    trigger = two_missed(pair)
    checkins_due()
    CheckIn.objects.filter(trigger=trigger).update(
        choice=CheckIn.Choice.PAUSE, answered_at=timezone.now()
    )
    session(pair, -1, Meeting.Status.CANCELLED)  # during the pause, now over

    assert checkins_due() == 0


def test_the_beat_task_run_twice_asks_once(pair, django_capture_on_commit_callbacks):
    two_missed(pair)

    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.send_due_checkins()
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.send_due_checkins()

    assert first == {"resumed": 0, "asked": 2}
    assert second == {"resumed": 0, "asked": 0}
    assert len(mail.outbox) == 2


# --- The e-mail -----------------------------------------------------------------------------


def test_the_email_asks_in_neutral_words_with_one_link_per_answer(
    client: Client, pair, django_capture_on_commit_callbacks
):
    two_missed(pair)
    with django_capture_on_commit_callbacks(execute=True):
        checkins_due()

    (message,) = sent_to(pair.mentee.person.email)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [pair.mentee.person.email, pair.reverse_mentor.person.email]
    )
    assert WORDING in message.body
    assert "Ravi Patel" in message.subject  # the partner, by name
    assert PRIVATE not in message.body
    links = re.findall(r"http://testserver/\S+", message.body)
    assert [urlsplit(link).query for link in links] == [
        "answer=continue",
        "answer=rematch",
        "answer=pause",
    ]
    assert len({urlsplit(link).path for link in links}) == 1
    token = urlsplit(links[0]).path.rstrip("/").rsplit("/", 1)[-1]
    claims = read_token(token, purpose=Purpose.CHECKIN)
    assert claims.participant_id == pair.mentee_id
    assert claims.scope == str(checkin_of(pair.mentee).pk)
    assert abs(claims.expires_at - (time.time() + 30 * 24 * 3600)) < 60
    for link, answer in zip(links, ["continue", "rematch", "pause"], strict=True):
        page = client.get(f"{urlsplit(link).path}?{urlsplit(link).query}")
        assert page.status_code == 200
        assert re.search(rf'value="{answer}"[^>]*checked', page.content.decode())


# --- The page -------------------------------------------------------------------------------


def test_opening_a_link_changes_nothing(client: Client, pair, manager):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)
    outbox_rows = Notification.objects.count()

    response = client.get(checkin_path(checkin, "pause"))
    client.head(checkin_path(checkin, "rematch"))

    html = response.content.decode()
    assert response.status_code == 200
    assert WORDING in html
    assert html.count('type="submit"') == 1  # one tap confirms
    assert re.search(r'value="pause"[^>]*checked', html)
    checkin.refresh_from_db()
    pair.refresh_from_db()
    assert (checkin.choice, checkin.answered_at) == ("", None)
    assert pair.status == Pair.Status.ACTIVE
    assert Notification.objects.count() == outbox_rows


def test_an_unknown_answer_in_the_link_preselects_nothing(client: Client, pair):
    two_missed(pair)
    checkins_due()

    html = client.get(checkin_path(checkin_of(pair.mentee), "<script>")).content.decode()

    assert "checked" not in html
    assert "<script>" not in html


def test_a_post_without_an_answer_asks_for_one(client: Client, pair):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)

    response = client.post(checkin_path(checkin), {"answer": "leave"})

    assert response.status_code == 400
    assert "Choose one of the three answers." in response.content.decode()
    checkin.refresh_from_db()
    assert checkin.choice == ""


def test_a_link_for_another_participants_checkin_is_refused(client: Client, pair):
    two_missed(pair)
    checkins_due()
    theirs = checkin_of(pair.reverse_mentor)
    token = make_token(participant_id=pair.mentee_id, purpose=Purpose.CHECKIN, scope=theirs.pk)

    response = client.post(reverse("risks:checkin", args=[token]), {"answer": "pause"})
    missing = make_token(participant_id=pair.mentee_id, purpose=Purpose.CHECKIN, scope="99999")

    assert response.status_code == 404
    assert client.get(reverse("risks:checkin", args=[missing])).status_code == 404
    theirs.refresh_from_db()
    pair.refresh_from_db()
    assert theirs.choice == ""
    assert pair.status == Pair.Status.ACTIVE


def test_tampered_expired_and_other_purpose_links_get_the_standard_pages(client: Client, pair):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)
    token = make_token(participant_id=pair.mentee_id, purpose=Purpose.CHECKIN, scope=checkin.pk)
    expired = make_token(
        participant_id=pair.mentee_id,
        purpose=Purpose.CHECKIN,
        scope=checkin.pk,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    pulse = make_token(participant_id=pair.mentee_id, purpose=Purpose.PULSE, scope="1")

    tampered = client.post(reverse("risks:checkin", args=[token[:-2] + "xx"]), {"answer": "pause"})
    old = client.get(reverse("risks:checkin", args=[expired]))
    other = client.get(reverse("risks:checkin", args=[pulse]))

    assert tampered.status_code == 400
    assert old.status_code == 410
    assert "This link has expired" in old.content.decode()
    assert other.status_code == 400
    assert "not your check-in" in other.content.decode()
    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


# --- What each answer does ------------------------------------------------------------------


def test_continue_records_the_answer_and_nothing_else(
    client: Client, pair, manager, django_capture_on_commit_callbacks
):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(checkin_path(checkin), {"answer": "continue"})

    assert response.status_code == 302
    assert response["Location"].endswith("/done/")
    checkin.refresh_from_db()
    pair.refresh_from_db()
    assert checkin.choice == CheckIn.Choice.CONTINUE
    assert checkin.answered_at is not None
    assert pair.status == Pair.Status.ACTIVE
    assert sent_to(manager.email) == []
    assert "Nothing changes" in client.get(response["Location"]).content.decode()


def test_rematch_alerts_the_managers_and_never_the_partner(
    client: Client, pair, manager, django_capture_on_commit_callbacks
):
    two_missed(pair)
    Note.objects.create(pair=pair, author=pair.mentee, text=PRIVATE)
    checkins_due()  # the check-in e-mails stay in the outbox: this test reads the alert only
    checkin = checkin_of(pair.mentee)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(checkin_path(checkin), {"answer": "rematch"})

    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE
    assert [m.to for m in mail.outbox] == [[manager.email]]
    (alert,) = mail.outbox
    assert alert.subject == f"Re-match request: Margaret Hale ({pair.cohort.name})"
    assert "Margaret Hale asked to be re-matched" in alert.body
    assert "Margaret Hale (executive) with Ravi Patel (reverse-mentor)" in alert.body
    assert f"http://testserver/admin/pairs/pair/{pair.pk}/change/" in alert.body
    assert "Their partner has not been told" in alert.body
    assert PRIVATE not in alert.body
    done = client.get(response["Location"]).content.decode()
    assert "Ravi Patel has not been told" in done


def test_pause_pauses_the_pair_for_a_month_and_alerts_the_managers(
    client: Client, pair, manager, django_capture_on_commit_callbacks
):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.reverse_mentor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(checkin_path(checkin), {"answer": "pause"})

    until = timezone.localdate() + PAUSE_LENGTH
    pair.refresh_from_db()
    assert (pair.status, pair.paused_until) == (Pair.Status.PAUSED, until)
    (alert,) = mail.outbox
    assert alert.to == [manager.email]
    assert alert.subject == f"Pair paused: Ravi Patel ({pair.cohort.name})"
    assert f"paused until {until:%-d %B %Y}" in alert.body
    assert PRIVATE not in alert.body
    done = client.get(response["Location"]).content.decode()
    assert f"paused until {until:%-d %B %Y}" in done
    # The partner's check-in is moot now: its e-mail is cancelled, not sent.
    theirs = Notification.objects.get(kind="checkin", object_id=checkin_of(pair.mentee).pk)
    assert notification_send(theirs.pk) == Notification.Status.CANCELLED


def test_a_paused_pairs_pending_session_and_pulse_mail_is_cancelled(pair, manager):
    two_missed(pair)
    checkins_due()
    later = timezone.now() + timedelta(hours=3)  # held for a sensible hour: still pending
    within = session(pair, 5)
    after = session(pair, 40)
    for meeting in (within, after):
        notify(
            kind="meeting_scheduled",
            key=f"test-scheduled:{meeting.pk}",
            to=pair.mentee.person,
            about=meeting,
            data={"sequence": 0, "by": Role.REVERSE_MENTOR},
            not_before=later,
        )
    held = session(pair, -20, Meeting.Status.HELD)
    request = PulseRequest.objects.create(meeting=held, participant=pair.mentee)
    notify(kind="pulse_request", key="test-pulse", to=pair.mentee.person, about=request,
           not_before=later)  # fmt: skip

    checkin_answer(checkin=checkin_of(pair.mentee), choice=CheckIn.Choice.PAUSE)

    status = dict(Notification.objects.filter(key__startswith="test-").values_list("key", "status"))
    assert status == {
        f"test-scheduled:{within.pk}": Notification.Status.CANCELLED,
        f"test-scheduled:{after.pk}": Notification.Status.PENDING,  # after the pause
        "test-pulse": Notification.Status.CANCELLED,
    }


@pytest.mark.parametrize("sessions", [1, 12])
def test_a_pause_cancels_the_mail_of_any_number_of_sessions_in_two_updates(
    pair, sessions: int, django_assert_num_queries
) -> None:
    for days in range(sessions):
        meeting = session(pair, 1 + days)
        notify(kind="meeting_scheduled", key=f"test-{meeting.pk}", to=pair.mentee.person,
               about=meeting, data={"sequence": 0, "by": Role.REVERSE_MENTOR},
               not_before=timezone.now() + timedelta(hours=3))  # fmt: skip
    PulseRequest.objects.create(meeting=session(pair, -3), participant=pair.mentee)
    until = timezone.localdate() + timedelta(days=30)
    ContentType.objects.get_for_models(Meeting, PulseRequest)  # cached, as in a worker

    # The pair's save, then one UPDATE of the pending messages per kind of subject (sessions,
    # pulse requests).
    with django_assert_num_queries(3):
        pair_pause(pair=pair, until=until)

    pending = Notification.objects.filter(key__startswith="test-", status="pending")
    assert not pending.exists()
    assert Notification.objects.filter(key__startswith="test-", status="cancelled").count() == (
        sessions
    )


# --- Answering again ------------------------------------------------------------------------


def test_answering_twice_pauses_once_and_alerts_once(
    client: Client, pair, manager, django_capture_on_commit_callbacks
):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(checkin_path(checkin), {"answer": "pause"})
    checkin.refresh_from_db()
    first_answer = checkin.answered_at
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(checkin_path(checkin), {"answer": "pause"})
        checkin_answer(checkin=checkin, choice="pause", now=timezone.now() + timedelta(days=1))

    assert again.status_code == 302
    assert len(sent_to(manager.email)) == 1
    checkin.refresh_from_db()
    pair.refresh_from_db()
    assert checkin.answered_at == first_answer
    assert pair.paused_until == timezone.localdate() + PAUSE_LENGTH


def test_rematch_twice_alerts_once(pair, manager, django_capture_on_commit_callbacks):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)

    with django_capture_on_commit_callbacks(execute=True):
        checkin_answer(checkin=checkin, choice="rematch")
        checkin_answer(checkin=checkin, choice="continue")
        checkin_answer(checkin=checkin, choice="rematch")

    assert len(sent_to(manager.email)) == 1
    checkin.refresh_from_db()
    assert checkin.choice == CheckIn.Choice.REMATCH


def test_a_different_answer_replaces_the_first(client: Client, pair, manager):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)
    checkin_answer(checkin=checkin, choice="continue")

    page = client.get(checkin_path(checkin)).content.decode()
    client.post(checkin_path(checkin), {"answer": "rematch"})

    assert "You answered “I can continue”" in page
    checkin.refresh_from_db()
    assert checkin.choice == CheckIn.Choice.REMATCH
    assert Notification.objects.filter(kind="checkin_answer").count() == 1


def test_a_pause_stands_once_made(client: Client, pair):
    two_missed(pair)
    checkins_due()
    checkin = checkin_of(pair.mentee)
    checkin_answer(checkin=checkin, choice="pause")

    with pytest.raises(ValidationError) as raised:
        checkin_answer(checkin=checkin, choice="continue")
    page = client.get(checkin_path(checkin, "continue"))
    posted = client.post(checkin_path(checkin), {"answer": "continue"})

    assert raised.value.code == "paused"
    assert "ask your programme manager" in page.content.decode()
    assert 'type="submit"' not in page.content.decode()
    assert posted.status_code == 400
    checkin.refresh_from_db()
    pair.refresh_from_db()
    assert checkin.choice == CheckIn.Choice.PAUSE
    assert pair.status == Pair.Status.PAUSED


def test_a_pause_asked_of_a_pair_paused_already_changes_nothing(pair, manager):
    two_missed(pair)
    checkins_due()
    checkin_answer(checkin=checkin_of(pair.mentee), choice="pause")
    pair.refresh_from_db()
    until = pair.paused_until

    later = timezone.now() + timedelta(days=2)
    checkin_answer(checkin=checkin_of(pair.reverse_mentor), choice="pause", now=later)

    pair.refresh_from_db()
    assert pair.paused_until == until
    assert Notification.objects.filter(kind="checkin_answer").count() == 1


def test_an_ended_pair_takes_no_answer(client: Client, pair):
    two_missed(pair)
    checkins_due()
    Pair.objects.filter(pk=pair.pk).update(status=Pair.Status.ENDED)
    checkin = checkin_of(pair.mentee)

    page = client.get(checkin_path(checkin, "pause")).content.decode()
    posted = client.post(checkin_path(checkin), {"answer": "pause"})

    assert "Your pair has ended" in page
    assert posted.status_code == 400
    checkin.refresh_from_db()
    assert checkin.choice == ""


# --- Resuming -------------------------------------------------------------------------------


def test_a_pause_ends_by_itself_on_its_date(programme, pair):
    checkin_pause = agreed_pair(programme=programme, status=Pair.Status.PAUSED)
    Pair.objects.filter(pk=checkin_pause.pk).update(paused_until=timezone.localdate())
    not_yet = agreed_pair(
        programme=programme,
        status=Pair.Status.PAUSED,
        paused_until=timezone.localdate() + timedelta(days=1),
    )
    open_ended = agreed_pair(programme=programme, status=Pair.Status.PAUSED)

    assert (pairs_resume_due(), pairs_resume_due()) == (1, 0)

    states = dict(Pair.objects.values_list("pk", "status"))
    assert states[checkin_pause.pk] == Pair.Status.ACTIVE
    assert states[not_yet.pk] == Pair.Status.PAUSED
    assert states[open_ended.pk] == Pair.Status.PAUSED
    assert Pair.objects.get(pk=checkin_pause.pk).paused_until is None


def test_the_beat_task_resumes_a_pair_paused_by_its_checkin(pair):
    two_missed(pair)
    checkins_due()
    checkin_answer(checkin=checkin_of(pair.mentee), choice="pause")

    with time_machine.travel(timezone.now() + PAUSE_LENGTH - timedelta(days=1)):
        assert tasks.send_due_checkins() == {"resumed": 0, "asked": 0}
    with time_machine.travel(timezone.now() + PAUSE_LENGTH):
        assert tasks.send_due_checkins() == {"resumed": 1, "asked": 0}
        assert tasks.send_due_checkins() == {"resumed": 0, "asked": 0}

    pair.refresh_from_db()
    assert (pair.status, pair.paused_until) == (Pair.Status.ACTIVE, None)
    assert CheckIn.objects.count() == 2  # not asked again about the same sessions


# --- The admin ------------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [1, 5])
def test_managers_see_the_checkins_on_the_pair_page(
    client: Client, pair, manager, rounds: int, django_assert_num_queries
):
    for day in range(rounds):  # a run of two missed sessions a round, each asked about
        session(pair, -30 + 2 * day, Meeting.Status.MISSED)
        session(pair, -29.5 + 2 * day, Meeting.Status.MISSED)
        checkins_due(now=timezone.now() - timedelta(days=29 - 2 * day))
    checkin_answer(checkin=CheckIn.objects.filter(participant=pair.mentee)[0], choice="rematch")
    assert CheckIn.objects.count() == 2 * rounds
    client.force_login(manager)
    ContentType.objects.get_for_model(Pair)  # cached for the process: warm it, as in use

    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 the pair with its
    # cohort, programme, people and counts, 6 its agreements, 7 its sessions with topics
    # and note counts, 8 its check-ins with their people, however many
    with django_assert_num_queries(8):
        html = client.get(f"/admin/pairs/pair/{pair.pk}/change/").content.decode()

    assert "Check-ins" in html
    assert "Margaret Hale (Mentee (executive))" in html
    assert "Re-match me" in html
    assert PRIVATE not in html
