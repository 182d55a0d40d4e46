"""The seven-day diagnosis of a cohort: pair by pair, the last seven days' signals and what to
do; the cohort's checklist with its findings; printable and downloadable as CSV; for managers
only, with no participant's words, at a fixed number of queries."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from pairs.models import Agreement, Meeting, Pair
from programmes.models import Cohort, Role
from risks.admin_diagnosis import NO_ACTION, PAIR_COLUMNS, cohort_diagnosis
from risks.models import CheckIn, RiskFlag
from surveys.models import PulseRequest
from tests.factories import UserFactory
from tests.pairs.meeting_helpers import agreed_pair
from tests.risks.remediation_helpers import (
    assert_no_private_text,
    join,
    meeting,
    open_flag,
    private_history,
    pulse,
    with_intake,
)

pytestmark = pytest.mark.django_db


def url(cohort: Cohort, fmt: str = "") -> str:
    return f"/admin/programmes/cohort/{cohort.pk}/diagnosis/" + (f"?format={fmt}" if fmt else "")


@pytest.fixture
def cohort(pair) -> Cohort:
    return pair.cohort


def add_pair(cohort: Cohort, mentee: str, mentor: str, **fields) -> Pair:
    fields.setdefault("status", Pair.Status.ACTIVE)
    return Pair.objects.create(
        cohort=cohort,
        mentee=join(cohort, Role.MENTEE, mentee),
        reverse_mentor=join(cohort, Role.REVERSE_MENTOR, mentor),
        **fields,
    )


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- Who may see it -------------------------------------------------------------------------


def test_it_opens_to_managers(client: Client, manager, cohort):
    client.force_login(manager)

    assert client.get(url(cohort)).status_code == 200
    assert client.get(url(cohort, "csv")).status_code == 200


@pytest.mark.parametrize("persona", ["sponsor", "outsider"])
def test_it_sends_sponsors_and_outsiders_to_the_admin_login(
    client: Client, cohort, persona, request
):
    client.force_login(request.getfixturevalue(persona))

    for address in (url(cohort), url(cohort, "csv")):
        response = client.get(address)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_it_refuses_staff_who_may_not_see_the_at_risk_flags(client: Client, cohort):
    staff = UserFactory(username="dave", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_cohort"))
    cohort.programme.managers.add(staff)  # their programme: what is missing is the permission
    client.force_login(staff)

    assert client.get(url(cohort)).status_code == 403
    assert client.get(url(cohort, "csv")).status_code == 403


def test_an_unknown_cohort_is_not_found(client: Client, manager):
    client.force_login(manager)

    assert client.get("/admin/programmes/cohort/999999/diagnosis/").status_code == 404


# --- Pair by pair ---------------------------------------------------------------------------


def test_it_counts_each_pairs_last_seven_days(pair, cohort):
    meeting(pair, days=-10, status=Meeting.Status.MISSED)  # before the seven days
    held = meeting(pair, days=-6, status=Meeting.Status.HELD)
    meeting(pair, days=-5, status=Meeting.Status.CANCELLED, cancelled_by=Role.MENTEE)
    meeting(pair, days=-4, status=Meeting.Status.CANCELLED, cancelled_by=Role.REVERSE_MENTOR)
    meeting(pair, days=-3, status=Meeting.Status.CANCELLED, cancelled_by=Role.REVERSE_MENTOR)
    meeting(pair, days=-2, status=Meeting.Status.MISSED)
    meeting(pair, days=-1)  # nobody logged it
    meeting(pair, days=2)  # still to come
    pulse(held, pair.mentee)
    PulseRequest.objects.create(meeting=held, participant=pair.reverse_mentor)

    (signals,) = cohort_diagnosis(cohort).pairs

    assert (signals.held, signals.cancelled_by_mentee, signals.cancelled_by_mentor) == (1, 1, 2)
    assert (signals.missed, signals.not_logged) == (1, 1)
    assert (signals.pulses_requested, signals.pulses_answered) == (2, 1)
    assert signals.state == "Active"
    assert signals.suggested_action == NO_ACTION


def test_it_suggests_the_action_of_the_most_severe_open_flag(pair, cohort):
    open_flag(pair, RiskFlag.Rule.NO_PULSE, days_ago=20)
    safety = open_flag(pair, RiskFlag.Rule.LOW_SAFETY, days_ago=1)
    resolved = open_flag(pair, RiskFlag.Rule.NOT_A_GOOD_FIT, days_ago=30)
    RiskFlag.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())

    (signals,) = cohort_diagnosis(cohort).pairs

    assert [f.rule for f in signals.flags] == [RiskFlag.Rule.LOW_SAFETY, RiskFlag.Rule.NO_PULSE]
    assert signals.suggested_action == safety.recommended_action


def test_it_shows_the_weeks_checkin_answers_and_paused_or_ended_pairs(pair, cohort, programme):
    now = timezone.now()
    CheckIn.objects.create(
        pair=pair, participant=pair.mentee, asked_at=now - timedelta(days=2),
        choice=CheckIn.Choice.REMATCH, answered_at=now - timedelta(days=1),
    )  # fmt: skip
    CheckIn.objects.create(
        pair=pair, participant=pair.reverse_mentor, asked_at=now - timedelta(days=2)
    )
    old = meeting(pair, days=-30, status=Meeting.Status.MISSED)
    CheckIn.objects.create(  # too old to show
        pair=pair, participant=pair.reverse_mentor, asked_at=now - timedelta(days=30), trigger=old
    )
    until = timezone.localdate() + timedelta(days=20)
    paused = add_pair(cohort, "Ann Lee", "Bo Chan", status=Pair.Status.PAUSED, paused_until=until)
    ended = add_pair(cohort, "Cy Dunn", "Di Eto", status=Pair.Status.ENDED,
                     ended_on=timezone.localdate() - timedelta(days=2))  # fmt: skip
    add_pair(cohort, "Ed Fox", "Fi Gale", status=Pair.Status.ENDED,
             ended_on=timezone.localdate() - timedelta(days=40))  # fmt: skip

    signals = {s.pair.pk: s for s in cohort_diagnosis(cohort).pairs}

    assert set(signals) == {pair.pk, paused.pk, ended.pk}  # the long-ended pair is left out
    assert signals[pair.pk].checkins == [
        f"Executive: Re-match me ({timezone.localdate(now - timedelta(days=1)):%-d %b %Y})",
        "Reverse-mentor: no answer yet",
    ]
    assert signals[paused.pk].state == f"Paused until {until:%-d %b %Y}"
    assert signals[ended.pk].state.startswith("Ended ")


# --- The checklist --------------------------------------------------------------------------


def checklist(cohort: Cohort) -> dict[str, tuple[str, list[str]]]:
    return {c.name: (c.status, c.findings) for c in cohort_diagnosis(cohort).checklist}


def test_a_healthy_cohort_passes_every_check(pair, cohort, sponsor):
    with_intake(pair.mentee)
    with_intake(pair.reverse_mentor)
    Pair.objects.filter(pk=pair.pk).update(score=0.8)
    held = meeting(pair, days=-2, status=Meeting.Status.HELD)
    pulse(held, pair.mentee)
    pulse(held, pair.reverse_mentor)
    sponsor.last_login = timezone.now() - timedelta(days=3)
    sponsor.save()

    found = checklist(cohort)

    assert {name: status for name, (status, _) in found.items()} == {
        "Matching quality": "ok",
        "Goal clarity": "ok",
        "Sponsor engagement": "ok",
        "Measurement gaps": "ok",
        "Confidentiality incidents": "ok",
    }
    assert "Mean match score of the current pairs: 0.80." in found["Matching quality"][1]
    assert "2 of 2 participants set at least one goal at intake." in found["Goal clarity"][1]
    assert "The programme has 1 sponsor." in found["Sponsor engagement"][1]
    assert (
        "Pulse response rate over the 7 days: 100% (2 of 2 answered)."
        in (found["Measurement gaps"][1])
    )


def test_a_cohort_in_trouble_has_its_checks_to_make(pair, cohort, sponsor, programme):
    with_intake(pair.mentee, goal_1="")
    unhappy = add_pair(cohort, "Ann Lee", "Bo Chan")
    first = meeting(unhappy, days=-3, status=Meeting.Status.HELD)
    pulse(first, unhappy.mentee, good_fit=False)
    PulseRequest.objects.create(meeting=first, participant=unhappy.reverse_mentor)
    unanswered = meeting(unhappy, days=-1, status=Meeting.Status.HELD)
    PulseRequest.objects.create(meeting=unanswered, participant=unhappy.mentee)
    Agreement.objects.create(
        pair=unhappy, number=1, pledge=False, mentee_accepted_at=timezone.now(),
        mentor_accepted_at=timezone.now(),
    )  # fmt: skip
    open_flag(unhappy, RiskFlag.Rule.LOW_SAFETY)
    replaced = add_pair(cohort, "Ed Fox", "Fi Gale", status=Pair.Status.ENDED)
    add_pair(cohort, "Cy Dunn", "Di Eto", replaces=replaced)
    sponsor.last_login = timezone.now() - timedelta(days=45)
    sponsor.save()

    found = checklist(cohort)

    assert all(status == "check" for status, _ in found.values())
    assert (
        "1 current pair with a “not a good fit” answer or a re-match request."
        in (found["Matching quality"][1])
    )
    assert "1 re-match so far." in found["Matching quality"][1]
    assert "0 signed in within the last 30 days." in found["Sponsor engagement"][1]
    assert "1 held session with no pulse from either side." in found["Measurement gaps"][1]
    assert "33% (1 of 3 answered)" in found["Measurement gaps"][1][0]
    assert "1 open low-safety flag." in found["Confidentiality incidents"][1]
    assert (
        "1 current pair whose agreement leaves out the confidentiality pledge."
        in found["Confidentiality incidents"][1]
    )
    goals = found["Goal clarity"][1]
    assert "6 of 8 participants set at least one goal at intake." in goals  # 2 have none
    assert "2 of 3 current pairs agreed their kickoff agreement." in goals


def test_a_programme_without_sponsors_is_a_check(pair, cohort):
    status, findings = checklist(cohort)["Sponsor engagement"]

    assert status == "check"
    assert "The programme has no sponsor." in findings


# --- The page and the file ------------------------------------------------------------------


def test_the_page_lays_out_the_pairs_and_the_checklist_and_prints(
    client: Client, manager, pair, cohort
):
    flag = open_flag(pair, RiskFlag.Rule.MISSED)
    client.force_login(manager)

    page = client.get(url(cohort)).content.decode()

    assert f"Seven-day diagnosis: {cohort}" in page
    assert "Margaret Hale" in page
    assert "Ravi Patel" in page
    assert flag.reason in page
    assert flag.recommended_action in page
    assert "Cohort checklist" in page
    assert 'class="check-status check-status-check"' in page
    assert "data-print>Print</button>" in page
    assert "mentoring/print.js" in page
    assert "programmes/risks.css" in page
    assert f'href="{url(cohort, "csv")}"' in page


def test_the_csv_has_the_pairs_then_a_blank_row_then_the_checklist(
    client: Client, manager, pair, cohort
):
    flag = open_flag(pair, RiskFlag.Rule.NO_SESSION)
    meeting(pair, days=-2, status=Meeting.Status.CANCELLED, cancelled_by=Role.MENTEE)
    client.force_login(manager)

    response = client.get(url(cohort, "csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith('.csv"')
    rows = rows_of(response)
    assert rows[0] == PAIR_COLUMNS
    assert rows[1] == [
        "Margaret Hale",
        "Ravi Patel",
        "Active",
        "0",
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        f"Medium: {flag.reason}",
        "",
        flag.recommended_action,
    ]
    assert rows[2] == []
    assert rows[3] == ["Check", "Status", "Findings"]
    assert [row[0] for row in rows[4:]] == [
        "Matching quality",
        "Goal clarity",
        "Sponsor engagement",
        "Measurement gaps",
        "Confidentiality incidents",
    ]
    assert {row[1] for row in rows[4:]} <= {"ok", "check"}


def test_a_name_is_never_a_formula_in_the_csv(client: Client, manager, pair, cohort):
    pair.mentee.person.full_name = "=HYPERLINK(1)"
    pair.mentee.person.save()
    client.force_login(manager)

    rows = rows_of(client.get(url(cohort, "csv")))

    assert rows[1][0] == "'=HYPERLINK(1)"


def test_neither_the_page_nor_the_csv_shows_what_anyone_wrote(
    client: Client, manager, pair, cohort
):
    private_history(pair)
    open_flag(pair, RiskFlag.Rule.LOW_SAFETY)
    client.force_login(manager)

    page = client.get(url(cohort)).content.decode()
    rows = client.get(url(cohort, "csv")).content.decode()

    assert "Margaret Hale" in page
    assert "Margaret Hale" in rows
    assert_no_private_text(page)
    assert_no_private_text(rows)


@pytest.mark.parametrize("pairs", [1, 5])
def test_it_costs_the_same_queries_however_many_pairs(
    client: Client, manager, programme, pairs: int, django_assert_num_queries
):
    cohort = agreed_pair(programme=programme).cohort
    for n in range(pairs):
        extra = add_pair(cohort, f"Exec {n}", f"Mentor {n}")
        private_history(extra)
        open_flag(extra, RiskFlag.Rule.MISSED)
        CheckIn.objects.create(pair=extra, participant=extra.mentee)
    client.force_login(manager)

    # 1-2 the session and its user; 3 the cohort and its programme; 4-5 the user's
    # permissions, direct and through the managers group; then the diagnosis: 6 the pairs
    # with their people, agreement and answers; 7 the week's sessions counted per pair and
    # status; 8 the week's pulses asked and answered per pair; 9 the open flags; 10 the
    # week's check-ins; 11 the participants with goals; 12 the sponsors.
    with django_assert_num_queries(12):
        page = client.get(url(cohort))
    ContentType.objects.get_for_model(Cohort)  # cached once per process
    # The same, and the download's audit entry.
    with django_assert_num_queries(13):
        rows = client.get(url(cohort, "csv"))

    assert page.content.decode().count("Exec ") == pairs
    assert len(rows_of(rows)) == 1 + (pairs + 1) + 1 + 1 + 5
