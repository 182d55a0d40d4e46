"""Closing a cohort's intake is a decision (programmes.services.cohort_intake_close): it
withdraws the e-mails still asking for an intake, and their builders refuse a closed cohort
at send time, so none reaches a closed form; intake can reopen, with fresh invitations whose
reminders follow; the closed form names the programme's managers and what happens next."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from matching import services as matching_services
from notifications.models import Notification
from notifications.sending import notification_send
from programmes import notices as programme_notices
from programmes.links import Purpose, make_token
from programmes.models import Cohort, Participant, Role
from programmes.reminders import intake_reminders_due
from programmes.services import (
    IntakeCannotReopen,
    cohort_intake_close,
    cohort_intake_reopen,
    cohort_intake_unfinished,
    participants_send_intake_invitations,
)
from tests.factories import (
    CohortFactory,
    IntakeFactory,
    ParticipantFactory,
    PersonFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def send_everything_due() -> None:
    """What the outbox's sweep and send tasks do with every row they can claim."""
    for pk in Notification.objects.order_by("pk").values_list("pk", flat=True):
        notification_send(pk)


def sent_to() -> list[str]:
    return sorted(message.to[0] for message in mail.outbox)


@pytest.fixture
def cohort(programme) -> Cohort:
    return CohortFactory(programme=programme, name="Spring", status=Cohort.Status.INTAKE)


def person(name: str):
    return PersonFactory(full_name=name, email=f"{name.split()[0].lower()}@example.org")


@pytest.fixture
def wave(cohort) -> dict[str, Participant]:
    """Fourteen invited, nine of them with answers in, as in the issue: two unfinished
    mentees (one half-way) and three unfinished reverse-mentors (one never invited)."""
    mentee, mentor = Role.MENTEE, Role.REVERSE_MENTOR
    people = {}
    for n in range(9):
        done = ParticipantFactory(cohort=cohort, role=(mentee, mentor)[n % 2])
        IntakeFactory(participant=done)
        people[f"done{n}"] = done
    people["ada"] = ParticipantFactory(cohort=cohort, role=mentee, person=person("Ada Brook"))
    people["ben"] = ParticipantFactory(cohort=cohort, role=mentee, person=person("Ben Cole"))
    IntakeFactory(participant=people["ben"], submitted_at=None, draft_saved_at=MONDAY)
    people["cy"] = ParticipantFactory(cohort=cohort, role=mentor, person=person("Cy Dane"))
    people["di"] = ParticipantFactory(cohort=cohort, role=mentor, person=person("Di Eng"))
    people["ed"] = ParticipantFactory(cohort=cohort, role=mentor, person=person("Ed Fox"))
    ParticipantFactory(
        cohort=cohort, status=Participant.Status.WITHDRAWN, person=person("Flo Gray")
    )
    return people


def invite(participants, django_capture_on_commit_callbacks) -> None:
    """Invitations queued in the outbox, not sent yet: the manager closes a minute later."""
    with django_capture_on_commit_callbacks(execute=False):
        participants_send_intake_invitations(participants=participants)


UNFINISHED = ["ada", "ben", "cy", "di", "ed"]


# --- Who has not finished ---------------------------------------------------------------------


def test_it_lists_exactly_the_unfinished_by_role_with_how_far_each_got(wave, cohort) -> None:
    Participant.objects.filter(pk__in=[wave[k].pk for k in ("ada", "ben", "cy", "di")]).update(
        invitation_sent_at=MONDAY
    )

    gaps = cohort_intake_unfinished(cohort=cohort)

    assert [p.person.full_name for p in gaps.mentees] == ["Ada Brook", "Ben Cole"]
    assert [p.person.full_name for p in gaps.reverse_mentors] == ["Cy Dane", "Di Eng", "Ed Fox"]
    assert [p.intake_progress for p in gaps.people] == [
        "invited",
        "started",
        "invited",
        "invited",
        "not invited",
    ]
    assert (gaps.finished, gaps.total) == (9, 14)  # the withdrawn one is nobody's gap


# --- Closing withdraws what asks for an intake ------------------------------------------------


def test_closing_withdraws_queued_invitations_so_none_is_ever_sent(
    wave, cohort, manager, django_capture_on_commit_callbacks
) -> None:
    with at(MONDAY):
        invite([wave[k] for k in UNFINISHED], django_capture_on_commit_callbacks)
        assert Notification.objects.filter(status="pending").count() == 5

        result = cohort_intake_close(cohort=cohort, by=manager)
        send_everything_due()

    assert (result.closed, result.withdrawn) == (True, 5)
    assert set(Notification.objects.values_list("status", flat=True)) == {"cancelled"}
    assert mail.outbox == []
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.MATCHING
    assert (cohort.intake_closed_at, cohort.intake_closed_by) == (MONDAY, manager)


def test_closing_withdraws_reminders_and_no_later_reminder_is_asked(
    wave, cohort, manager, django_capture_on_commit_callbacks
) -> None:
    with at(MONDAY):
        invite([wave["ada"]], django_capture_on_commit_callbacks)
        send_everything_due()
    assert sent_to() == ["ada@example.org"]
    with at(MONDAY + 3 * DAY), django_capture_on_commit_callbacks(execute=False):
        assert intake_reminders_due() == 1

    with at(MONDAY + 3 * DAY + timedelta(minutes=5)):
        assert cohort_intake_close(cohort=cohort, by=manager).withdrawn == 1
        send_everything_due()
    with at(MONDAY + 7 * DAY):
        assert intake_reminders_due() == 0
        send_everything_due()

    assert sent_to() == ["ada@example.org"]  # the invitation only
    reminder = Notification.objects.get(kind="intake_reminder")
    assert reminder.status == "cancelled"


def test_closing_leaves_other_cohorts_and_other_messages_alone(
    wave, cohort, programme, manager, django_capture_on_commit_callbacks
) -> None:
    other = ParticipantFactory(
        cohort=CohortFactory(programme=programme, status=Cohort.Status.INTAKE),
        person=person("Gus Hale"),
    )
    done = wave["done0"]
    with at(MONDAY):
        invite([wave["ada"], other], django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False):
            programme_notices.ask_intake_confirmation(done.intake)  # answers received: still true
        cohort_intake_close(cohort=cohort, by=manager)
        send_everything_due()

    assert sent_to() == sorted([done.person.email, "gus@example.org"])


def test_a_send_that_claimed_an_invitation_before_the_closing_sends_nothing(
    wave, cohort, manager, django_capture_on_commit_callbacks
) -> None:
    """The race: a worker claimed the row, then died before building it; the closing cannot
    cancel a row being sent, so the builder refuses the closed cohort when the sweep retries."""
    with at(MONDAY):
        invite([wave["ada"]], django_capture_on_commit_callbacks)
        Notification.objects.update(status="sending", lease_until=MONDAY - DAY, attempts=1)
        assert cohort_intake_close(cohort=cohort, by=manager).withdrawn == 0
        send_everything_due()

    assert mail.outbox == []
    assert Notification.objects.get().status == "cancelled"


def test_a_run_started_elsewhere_closes_intake_and_the_builders_still_refuse(
    wave, cohort, manager, django_capture_on_commit_callbacks
) -> None:
    with at(MONDAY):
        invite([wave["ada"], wave["ben"]], django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False):
            matching_services.matching_run_start(cohort=cohort, user=manager)
        send_everything_due()

    assert mail.outbox == []


def test_closing_twice_changes_nothing_more(wave, cohort, manager) -> None:
    first = cohort_intake_close(cohort=cohort, by=manager)
    again = cohort_intake_close(cohort=cohort, by=UserFactory(username="other"))

    assert (first.closed, again.closed) == (True, False)
    cohort.refresh_from_db()
    assert cohort.intake_closed_by == manager


# --- Reopening ----------------------------------------------------------------------------------


def test_reopening_with_fresh_invitations_sends_them_and_their_reminders_follow(
    wave, cohort, manager, django_capture_on_commit_callbacks
) -> None:
    with at(MONDAY):
        invite([wave[k] for k in ("ada", "ben", "cy", "di")], django_capture_on_commit_callbacks)
        cohort_intake_close(cohort=cohort, by=manager)
        send_everything_due()
    reopened_at = MONDAY + 10 * DAY

    with at(reopened_at), django_capture_on_commit_callbacks(execute=True):
        result = cohort_intake_reopen(cohort=cohort, by=manager, invite_again=True)

    assert (result.reopened, result.invited) == (True, 4)  # not Ed: never invited
    assert sent_to() == ["ada@example.org", "ben@example.org", "cy@example.org", "di@example.org"]
    assert "/intake/" in mail.outbox[0].body
    cohort.refresh_from_db()
    assert (cohort.status, cohort.intake_round, cohort.intake_closed_at) == ("intake", 1, None)
    assert Notification.objects.filter(key=f"intake_invitation:{wave['ada'].pk}:r1").exists()

    with at(reopened_at + 3 * DAY), django_capture_on_commit_callbacks(execute=True):
        assert intake_reminders_due() == 4
    assert len(mail.outbox) == 8
    assert Notification.objects.get(key=f"intake_reminder:{wave['ada'].pk}:3:r1").status == "sent"


def test_reopening_without_invitations_emails_nobody_and_keeps_withdrawn_reminders_withdrawn(
    wave, cohort, manager, django_capture_on_commit_callbacks
) -> None:
    with at(MONDAY):
        invite([wave["ada"]], django_capture_on_commit_callbacks)
        send_everything_due()
    with at(MONDAY + 3 * DAY), django_capture_on_commit_callbacks(execute=False):
        intake_reminders_due()
        cohort_intake_close(cohort=cohort, by=manager)

    with at(MONDAY + 4 * DAY), django_capture_on_commit_callbacks(execute=True):
        result = cohort_intake_reopen(cohort=cohort, by=manager, invite_again=False)
        assert intake_reminders_due() == 0  # the day-3 one was withdrawn: not asked again
        send_everything_due()
    assert (result.reopened, result.invited) == (True, 0)
    assert len(mail.outbox) == 1  # the first invitation

    with at(MONDAY + 7 * DAY), django_capture_on_commit_callbacks(execute=True):
        assert intake_reminders_due() == 1  # the day-7 one comes when due
    assert len(mail.outbox) == 2


def test_an_old_rounds_invitation_still_queued_is_not_sent_beside_the_fresh_one(
    wave, cohort, manager, django_capture_on_commit_callbacks
) -> None:
    with at(MONDAY):
        invite([wave["ada"]], django_capture_on_commit_callbacks)
        # Closed by a run, which withdraws nothing: the old invitation is still queued.
        Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.MATCHING)
        with django_capture_on_commit_callbacks(execute=False):
            cohort_intake_reopen(cohort=cohort, by=manager, invite_again=True)
        send_everything_due()

    assert sent_to() == ["ada@example.org"]
    assert dict(Notification.objects.values_list("key", "status")) == {
        f"intake_invitation:{wave['ada'].pk}": "cancelled",
        f"intake_invitation:{wave['ada'].pk}:r1": "sent",
    }


def test_a_running_cohorts_intake_cannot_reopen(cohort, manager) -> None:
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.RUNNING)
    cohort.refresh_from_db()

    with pytest.raises(IntakeCannotReopen, match="is running: its intake cannot reopen"):
        cohort_intake_reopen(cohort=cohort, by=manager, invite_again=True)

    assert Cohort.objects.get(pk=cohort.pk).status == Cohort.Status.RUNNING


def test_after_reopening_a_late_intake_can_be_submitted(wave, cohort, manager) -> None:
    cohort_intake_close(cohort=cohort, by=manager)
    link = reverse(
        "programmes:intake",
        args=[make_token(participant_id=wave["ada"].pk, purpose=Purpose.INTAKE)],
    )
    assert "The intake for your cohort has closed" in Client().get(link).content.decode()

    cohort_intake_reopen(cohort=cohort, by=manager, invite_again=False)

    html = Client().get(link).content.decode()
    assert "has closed" not in html
    assert "What would you most like to learn?" in html


# --- The closed form ----------------------------------------------------------------------------


def test_the_closed_form_names_the_programmes_managers_and_what_happens_next(
    wave, cohort, manager, programme
) -> None:
    manager.last_name, manager.email = "Moreau", "alice.moreau@example.org"
    manager.save()
    second = UserFactory(username="sam", first_name="Sam", last_name="Otieno", is_staff=True)
    programme.managers.add(second)
    programme.managers.add(UserFactory(username="gone", first_name="Gwen", is_active=False))
    cohort_intake_close(cohort=cohort, by=manager)
    token = make_token(participant_id=wave["ada"].pk, purpose=Purpose.INTAKE)

    html = Client().get(reverse("programmes:intake", args=[token])).content.decode()

    assert "We did not receive your answers before the intake closed" in html
    assert "you can still take part" in html
    assert 'Alice Moreau (<a href="mailto:alice.moreau@example.org">' in html
    assert f'Sam Otieno (<a href="mailto:{second.email}">' in html
    assert "people who finish later are matched after the others" in html
    assert "Gwen" not in html  # an account switched off reads no mail


def test_the_closed_form_of_a_submitted_intake_says_the_introduction_comes_next(
    wave, cohort, manager
) -> None:
    cohort_intake_close(cohort=cohort, by=manager)
    token = make_token(participant_id=wave["done0"].pk, purpose=Purpose.INTAKE)

    html = Client().get(reverse("programmes:intake", args=[token])).content.decode()

    assert "an e-mail introduces you to your partner" in html
    assert "alice@example.org" in html


def test_without_managers_the_closed_form_points_to_the_programme_team(wave, cohort) -> None:
    cohort_intake_close(cohort=cohort, by=None)
    token = make_token(participant_id=wave["ada"].pk, purpose=Purpose.INTAKE)

    html = Client().get(reverse("programmes:intake", args=[token])).content.decode()

    assert "Write to the programme team that invited you" in html
