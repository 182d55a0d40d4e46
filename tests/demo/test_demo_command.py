import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import Exists, OuterRef
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from demo.logins import LOGINS
from demo.organisation import MANAGER, PROGRAMME_SLUG, SPONSOR
from demo.second_programme import SLUG as SECOND_SLUG
from pairs.models import Agreement, Meeting, Note, Pair
from programmes.links import Purpose, read_token
from programmes.models import Cohort, Participant, Person, Programme, Role
from programmes.scoping import is_org_admin
from surveys.feedback import END, MIDPOINT, feedback_window
from surveys.models import ConfidenceRating, NpsResponse, Pulse, PulseRequest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings) -> None:
    settings.DEBUG = True


def test_it_builds_one_realistic_organisation(capsys) -> None:
    call_command("demo")

    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
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
    assert "Intake links of participants who have not finished theirs:" in out
    assert programme.managers.get().username == MANAGER[0]
    assert programme.sponsors.get().username == SPONSOR[0]


def _printed_logins(out: str) -> list[tuple[str, str, str]]:
    """(role, username, password) of each login the command printed."""
    pattern = r"^  (.+?): .+?, username (\S+), password (\S+)$"
    return [match.groups() for match in re.finditer(pattern, out, flags=re.MULTILINE)]


def _sidebar_programmes(client: Client) -> set[str]:
    listed = client.get(reverse("admin:programmes_programme_changelist"))
    return {str(programme) for programme in listed.context["cl"].result_list}


def test_each_printed_login_signs_in_and_sees_what_it_says(capsys) -> None:
    call_command("demo")
    printed = _printed_logins(capsys.readouterr().out)
    assert [(role, user) for role, user, _ in printed] == [
        (login.role, login.username) for login in LOGINS
    ]
    roles = {"Organisation administrator", "Programme manager", "Sponsor"}
    assert {role for role, _, _ in printed} == roles

    names = {slug: str(Programme.objects.get(slug=slug)) for slug in (PROGRAMME_SLUG, SECOND_SLUG)}
    managers: dict[str, set[str]] = {}
    for role, username, password in printed:
        client = Client()
        signed_in = client.post(reverse("login"), {"username": username, "password": password})
        assert signed_in.status_code == 302, username
        user = User.objects.get(username=username)
        if role == "Sponsor":
            assert not user.is_staff
            assert client.get(reverse("admin:index")).status_code == 302
            sponsored = {str(p) for p in user.sponsored_programmes.all()}
            assert len(sponsored) == 1
            index = client.get(reverse("reporting:sponsor_index"), follow=True)
            assert sponsored.pop() in index.content.decode()
            continue
        seen = _sidebar_programmes(client)
        if role == "Programme manager":
            assert seen == {str(p) for p in user.managed_programmes.all()}
            assert len(seen) == 1
            managers[username] = seen
        else:
            assert is_org_admin(user)
            assert seen == set(names.values())
            settings_page = reverse("admin:programmes_organisationsettings_changelist")
            assert client.get(settings_page).status_code == 200
    # Each programme has its own manager, who sees only it.
    assert sorted(seen for seen in map(frozenset, managers.values())) == sorted(
        frozenset({name}) for name in names.values()
    )


def test_it_loads_once_and_rebuilds_on_reset(capsys) -> None:
    call_command("demo")
    first_programme = Programme.objects.get(slug=PROGRAMME_SLUG).pk

    call_command("demo")
    assert "already loaded" in capsys.readouterr().out
    assert Person.objects.count() == 40

    call_command("demo", "--reset")
    assert Person.objects.count() == 40
    assert Programme.objects.get(slug=PROGRAMME_SLUG).pk != first_programme


def test_it_refuses_to_run_with_debug_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo")
    assert not Programme.objects.exists()


def test_it_gives_the_running_cohort_complete_intakes_and_the_next_one_a_mix() -> None:
    call_command("demo")

    running = Cohort.objects.get(status=Cohort.Status.RUNNING)
    members = Participant.objects.filter(cohort=running)
    assert members.filter(role=Role.MENTEE).exists()
    assert members.filter(role=Role.REVERSE_MENTOR).exists()
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
            pk=read_token(url.split("/pair/")[1].split("/")[0], purpose=Purpose.PAIR).participant_id
        ).role
        for url in urls
    }
    assert sides == {Role.MENTEE, Role.REVERSE_MENTOR}


def test_it_prints_a_pulse_link_that_opens_an_unanswered_pulse(client, capsys) -> None:
    call_command("demo")

    out = capsys.readouterr().out
    [url] = [line.strip() for line in out.splitlines() if "/pulse/" in line]
    response = client.get(url.removeprefix("http://testserver"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Send my answers" in html
    assert 'value="yes" autocomplete="off" checked' in html


def test_it_leaves_nothing_stale_in_the_outbox() -> None:
    """Demo pairs were introduced months ago: starting the worker must not mail them again."""
    from notifications.models import Notification

    call_command("demo")

    rows = Notification.objects.filter(kind="match_introduction")
    assert rows.count() == 2 * Pair.objects.count()
    assert not rows.exclude(status=Notification.Status.SENT).exists()
    assert not Notification.objects.filter(status=Notification.Status.PENDING).exists()


def _demo_pulses():
    return Pulse.objects.filter(meeting__pair__cohort__programme__slug=PROGRAMME_SLUG)


def test_it_writes_pulses_for_past_sessions_with_realistic_gaps() -> None:
    call_command("demo")
    sessions = Meeting.objects.filter(pair__cohort__programme__slug=PROGRAMME_SLUG)
    pulses = _demo_pulses()

    # Every pulse counts: each has its request.
    requested = PulseRequest.objects.filter(meeting__in=sessions)
    rate = pulses.count() / requested.count()
    assert 0.6 <= rate <= 0.95, rate
    assert (
        pulses.count()
        == requested.filter(
            Exists(
                Pulse.objects.filter(
                    meeting=OuterRef("meeting"), participant=OuterRef("participant")
                )
            )
        ).count()
    )
    # Asked only after sessions that were held or missed.
    assert set(requested.values_list("meeting__status", flat=True)) == {
        Meeting.Status.HELD,
        Meeting.Status.MISSED,
    }
    assert not requested.filter(meeting__starts_at__gt=timezone.now()).exists()
    assert pulses.filter(held=False, not_held=Pulse.NotHeld.MISSED).exists()
    assert pulses.filter(good_fit=False).count() == 1
    assert pulses.filter(good_fit=True).count() >= 5
    assert pulses.filter(safety__lte=2).count() == 1
    assert pulses.filter(safety__gte=4).count() > pulses.filter(safety=3).count()
    held = pulses.filter(held=True)
    assert 0.3 <= held.filter(shared=True).count() / held.count() <= 0.7
    assert held.values("learning").distinct().count() >= 20
    assert held.exclude(action="").values("action").distinct().count() >= 10
    assert pulses.exclude(previous_action_done="").exists()
    assert ConfidenceRating.objects.filter(
        context=ConfidenceRating.Context.PULSE, pulse__in=pulses
    ).exists()


def _last_held(pair: Pair, n: int) -> list[Meeting]:
    return list(pair.meetings.filter(status=Meeting.Status.HELD).order_by("-starts_at")[:n])


def test_it_gives_the_running_wave_pulses_that_raise_each_flag_once() -> None:
    call_command("demo")
    running = Pair.objects.filter(
        cohort__status=Cohort.Status.RUNNING, status=Pair.Status.ACTIVE
    ).select_related("mentee", "reverse_mentor")

    stopped, reverting = [], []
    for pair in running:
        last_two, last_three = _last_held(pair, 2), _last_held(pair, 3)
        for participant in (pair.mentee, pair.reverse_mentor):
            if (
                len(last_two) == 2
                and not Pulse.objects.filter(participant=participant, meeting__in=last_two).exists()
            ):
                stopped.append(participant)
        reverted = {
            pulse.meeting_id
            for pulse in Pulse.objects.filter(meeting__in=last_three, teaching__gte=4)
        }
        if len(reverted) >= 2:
            reverting.append(pair)
    # Both sides of one pair stopped answering; one pair's executive does the teaching.
    assert len(stopped) == 2
    assert stopped[0].pk != stopped[1].pk
    assert len(reverting) == 1
    assert not Pulse.objects.filter(teaching__gte=4).exclude(meeting__pair__in=reverting).exists()


def test_its_pulses_keep_the_rules_the_pulse_form_enforces() -> None:
    call_command("demo")
    now = timezone.now()
    skills = list(Programme.objects.get(slug=PROGRAMME_SLUG).key_skills.all())

    for pulse in _demo_pulses().select_related("meeting", "previous"):
        meeting, participant = pulse.meeting, pulse.participant
        pulse.full_clean()
        assert pulse.session_starts_at == meeting.starts_at
        assert meeting.ends_at < pulse.submitted_at < now
        assert PulseRequest.objects.filter(meeting=meeting, participant=participant).exists()
        assert pulse.held == (meeting.status == Meeting.Status.HELD)
        if pulse.held:
            assert pulse.learning
            assert not pulse.not_held
        else:
            assert (pulse.learning, pulse.action, pulse.shared) == ("", "", False)
            assert (pulse.good_fit, pulse.safety, pulse.teaching) == (None, None, None)
            assert not pulse.confidence.exists()
        # "Is this a good fit?" only after the pair's first held session.
        first = not Meeting.objects.filter(
            pair=meeting.pair, status=Meeting.Status.HELD, starts_at__lt=meeting.starts_at
        ).exists()
        assert (pulse.good_fit is not None) == (pulse.held and first)
        # The follow-up: the participant's latest earlier held pulse, if it had an action
        # that no pulse between the two followed up already.
        latest = (
            Pulse.objects.filter(
                participant=participant,
                meeting__pair=meeting.pair,
                meeting__starts_at__lt=meeting.starts_at,
                held=True,
            )
            .order_by("-meeting__starts_at")
            .first()
        )
        followed_between = (
            latest is not None
            and Pulse.objects.filter(
                previous=latest, meeting__starts_at__lt=meeting.starts_at
            ).exists()
        )
        expected = latest if latest is not None and latest.action and not followed_between else None
        assert pulse.previous == expected
        assert bool(pulse.previous_action_done) == (expected is not None)
        # Confidence on the skills whose turn it is.
        earlier = Pulse.objects.filter(
            participant=participant, meeting__starts_at__lt=meeting.starts_at
        ).count()
        turn = {skills[(earlier * 2 + i) % len(skills)].pk for i in range(2)}
        rated = set(pulse.confidence.values_list("key_skill_id", flat=True))
        assert rated <= turn
    for request in PulseRequest.objects.filter(
        meeting__pair__cohort__programme__slug=PROGRAMME_SLUG
    ):
        # Asked an hour after the session, or when answered first (then never e-mailed).
        if request.sent_at is None:
            assert Pulse.objects.filter(
                meeting=request.meeting_id,
                participant=request.participant_id,
                submitted_at=request.requested_at,
            ).exists()
        else:
            assert request.requested_at >= request.meeting.ends_at + timedelta(hours=1)


def test_it_asks_the_programme_questions_once_a_cohort_is_past_its_midpoint() -> None:
    call_command("demo")
    answers = NpsResponse.objects.filter(participant__cohort__programme__slug=PROGRAMME_SLUG)
    running = Cohort.objects.get(status=Cohort.Status.RUNNING)
    finished = Cohort.objects.get(status=Cohort.Status.FINISHED)
    # The demo's running wave is past its mid-point, and its end is still to come.
    assert feedback_window(running, MIDPOINT).opens_on < timezone.localdate()

    assert answers.filter(participant__cohort=running, moment=MIDPOINT).exists()
    assert answers.filter(participant__cohort=finished, moment=MIDPOINT).exists()
    assert answers.filter(participant__cohort=finished, moment=END).exists()
    assert not answers.filter(participant__cohort=running, moment=END).exists()
    for answer in answers.select_related("participant__cohort"):
        window = feedback_window(answer.participant.cohort, answer.moment)
        assert window.opens_on <= answer.submitted_at.date() <= window.closes_on
    # Only people who had a partner were asked.
    paired = Pair.objects.filter(cohort__programme__slug=PROGRAMME_SLUG)
    partners = set(paired.values_list("mentee", flat=True)) | set(
        paired.values_list("reverse_mentor", flat=True)
    )
    assert set(answers.values_list("participant", flat=True)) <= partners
    # An end answer comes with the end's confidence in every key skill.
    skills = finished.programme.key_skills.count()
    for answer in answers.filter(moment=END):
        assert (
            ConfidenceRating.objects.filter(
                participant=answer.participant, context=ConfidenceRating.Context.END
            ).count()
            == skills
        )


def _pulse_rows() -> tuple[int, int, int, int]:
    return (
        Pulse.objects.count(),
        PulseRequest.objects.count(),
        NpsResponse.objects.count(),
        ConfidenceRating.objects.count(),
    )


def test_it_never_duplicates_pulses_when_run_again_or_reset() -> None:
    call_command("demo")
    first = _pulse_rows()
    assert first[0] > 50

    call_command("demo")
    assert _pulse_rows() == first

    call_command("demo", "--reset")
    assert _pulse_rows() == first
