from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from demo.organisation import MANAGER, PROGRAMME_SLUG, SPONSOR
from programmes.models import (
    Agreement,
    Cohort,
    Meeting,
    Note,
    Pair,
    Participant,
    Person,
    Programme,
    Role,
)
from surveys.links import Purpose, read_token
from surveys.models import ConfidenceRating

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings) -> None:
    settings.DEBUG = True


def test_it_builds_one_realistic_organisation(capsys) -> None:
    call_command("demo")

    programme = Programme.objects.get()
    assert programme.purpose
    assert programme.key_skills.count() == 3
    assert programme.topics.count() == 8
    statuses = set(programme.cohorts.values_list("status", flat=True))
    assert statuses == {Cohort.Status.FINISHED, Cohort.Status.RUNNING, Cohort.Status.INTAKE}

    people = Person.objects.all()
    assert people.count() == 40
    # One chief executive at the top; everyone else reports to someone.
    assert list(people.filter(manager=None).values_list("job_title", flat=True)) == [
        "Chief Executive Officer"
    ]
    assert people.values("department").distinct().count() == 6

    out = capsys.readouterr().out
    for username, password, _ in (MANAGER, SPONSOR):
        assert f"username {username}" in out
        assert f"password {password}" in out
        assert authenticate(username=username, password=password) is not None
    assert "Intake links of participants who have not finished theirs:" in out
    assert programme.managers.get().username == MANAGER[0]
    assert programme.sponsors.get().username == SPONSOR[0]


def test_it_loads_once_and_rebuilds_on_reset(capsys) -> None:
    call_command("demo")
    first_programme = Programme.objects.get().pk

    call_command("demo")
    assert "already loaded" in capsys.readouterr().out
    assert Person.objects.count() == 40

    call_command("demo", "--reset")
    assert Person.objects.count() == 40
    assert Programme.objects.get().pk != first_programme


def test_it_refuses_to_run_with_debug_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo")
    assert not Programme.objects.exists()


def test_it_gives_the_running_cohort_complete_intakes_and_the_next_one_a_mix() -> None:
    call_command("demo")

    running = Cohort.objects.get(status=Cohort.Status.RUNNING)
    members = Participant.objects.filter(cohort=running)
    assert members.filter(role=Participant.Role.MENTEE).exists()
    assert members.filter(role=Participant.Role.REVERSE_MENTOR).exists()
    assert not members.filter(intake__submitted_at=None).exists()
    skills = running.programme.key_skills.count()
    baselines = ConfidenceRating.objects.filter(participant__cohort=running, context="intake")
    assert baselines.count() == members.count() * skills

    taking_intakes = Participant.objects.filter(cohort__status=Cohort.Status.INTAKE)
    states = {
        "complete": taking_intakes.filter(intake__submitted_at__isnull=False).count(),
        "started": taking_intakes.filter(
            intake__submitted_at=None, intake__draft_saved_at__isnull=False
        ).count(),
        "not started": taking_intakes.filter(intake=None).count(),
    }
    assert all(states.values()), states


def test_it_prints_intake_links_that_open_the_intake(capsys) -> None:
    call_command("demo")

    out = capsys.readouterr().out
    urls = [line.strip() for line in out.splitlines() if "/intake/" in line]
    assert urls
    token = urls[0].rstrip("/").rsplit("/", 1)[1]
    participant = Participant.objects.get(
        pk=read_token(token, purpose=Purpose.INTAKE).participant_id
    )
    assert participant.cohort.status == Cohort.Status.INTAKE
    assert participant.person.full_name in out


def test_it_gives_pairs_three_months_of_sessions_some_of_them_drifting() -> None:
    call_command("demo")
    now = timezone.now()
    meetings = Meeting.objects.filter(pair__cohort__programme__slug=PROGRAMME_SLUG)

    assert meetings.filter(status=Meeting.Status.HELD).count() > 30
    assert meetings.filter(cancelled_by=Role.MENTEE).exists()
    assert meetings.filter(status=Meeting.Status.SCHEDULED, starts_at__gt=now).exists()
    assert not meetings.filter(status=Meeting.Status.SCHEDULED, starts_at__lt=now).exists()
    # Every pair agreed its kickoff agreement.
    pairs = Pair.objects.filter(cohort__programme__slug=PROGRAMME_SLUG)
    assert all(a.agreed for a in Agreement.objects.filter(pair__in=pairs)), "every agreement agreed"
    assert Agreement.objects.filter(pair__in=pairs).count() == pairs.count()

    running = pairs.filter(status=Pair.Status.ACTIVE)
    last_two = {
        pair.pk: list(
            pair.meetings.filter(starts_at__lt=now)
            .order_by("-starts_at")[:2]
            .values_list("status", "cancelled_by")
        )
        for pair in running
    }
    cancelled = (Meeting.Status.CANCELLED, Role.MENTEE)
    assert [cancelled, cancelled] in last_two.values()
    held_lately = Meeting.objects.filter(
        status=Meeting.Status.HELD, starts_at__gte=now - timedelta(days=30)
    )
    quiet = running.exclude(pk__in=held_lately.values("pair"))
    assert quiet.count() >= 2  # the pair gone quiet, and the one whose executive cancels
    paused = pairs.get(status=Pair.Status.PAUSED)
    assert paused.paused_until > timezone.localdate()
    notes = Note.objects.filter(pair__in=pairs)
    assert notes.filter(shared=True).exists()
    assert notes.filter(shared=False).exists()


def test_it_prints_pair_page_links_for_both_sides_of_a_running_pair(capsys) -> None:
    call_command("demo")

    out = capsys.readouterr().out
    urls = [line.strip() for line in out.splitlines() if "/pair/" in line]
    assert len(urls) == 2
    sides = {
        Participant.objects.get(
            pk=read_token(url.rstrip("/").rsplit("/", 1)[1], purpose=Purpose.PAIR).participant_id
        ).role
        for url in urls
    }
    assert sides == {Participant.Role.MENTEE, Participant.Role.REVERSE_MENTOR}
