"""The at-risk queue in the admin: managers only; open flags, the most severe and oldest
first; a flag's page with the pair's history and never a participant's words; each action
posted through the page calls its service, says what happened and goes back to the queue,
and a refusal comes back into the page with what was typed."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pairs.models import Meeting, Pair
from programmes.models import Role
from risks.digests import risk_digests_due
from risks.models import CheckIn, PairAction, RiskFlag
from tests.factories import ProgrammeFactory, UserFactory
from tests.pairs.meeting_helpers import agreed_pair
from tests.risks.remediation_helpers import (
    assert_no_private_text,
    meeting,
    open_flag,
    private_history,
    pulse,
)

pytestmark = pytest.mark.django_db

QUEUE = "/admin/risks/riskflag/"


def detail(flag: RiskFlag) -> str:
    return f"/admin/risks/riskflag/{flag.pk}/change/"


def rematch(flag: RiskFlag, side: str = "") -> str:
    return f"/admin/risks/riskflag/{flag.pk}/rematch/" + (f"?side={side}" if side else "")


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def flag(pair) -> RiskFlag:
    return open_flag(pair, RiskFlag.Rule.MISSED)


@pytest.fixture
def alice(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


# --- Who may see it -------------------------------------------------------------------------


def test_the_managers_group_may_work_the_queue(manager):
    assert {
        "risks.view_riskflag",
        "risks.change_riskflag",
        "risks.view_pairaction",
        "pairs.add_pair",
    } <= manager.get_all_permissions()


def test_it_opens_the_queue_and_a_flags_pages_to_managers(alice: Client, flag):
    for url in (QUEUE, detail(flag), rematch(flag)):
        assert alice.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["sponsor", "outsider"])
def test_it_sends_sponsors_and_outsiders_to_the_admin_login(client: Client, flag, persona, request):
    client.force_login(request.getfixturevalue(persona))

    for url in (QUEUE, detail(flag), rematch(flag)):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/")
    posted = client.post(detail(flag), {"action": "resolve", "resolve-note": "Done."})

    assert posted.status_code == 302
    flag.refresh_from_db()
    assert flag.is_open


def test_it_refuses_staff_without_the_managers_permissions(client: Client, flag):
    dave = UserFactory(username="dave", is_staff=True)
    flag.pair.cohort.programme.managers.add(dave)  # their programme, without the permissions
    client.force_login(dave)

    assert client.get(QUEUE).status_code == 403
    assert client.get(detail(flag)).status_code == 403
    assert client.post(detail(flag), {"action": "pause"}).status_code == 403


def test_it_lets_a_read_only_viewer_see_a_flag_but_not_act(client: Client, flag, pair):
    viewer = UserFactory(username="erin", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_riskflag"))
    flag.pair.cohort.programme.managers.add(viewer)
    client.force_login(viewer)

    page = client.get(detail(flag)).content.decode()

    assert flag.reason in page
    assert 'name="action"' not in page
    assert client.post(detail(flag), {"action": "pause"}).status_code == 403
    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


def test_it_offers_no_adding_or_deleting_of_flags(alice: Client, flag):
    assert alice.get(QUEUE + "add/").status_code == 403
    assert alice.get(QUEUE + f"{flag.pk}/delete/").status_code == 403


def test_it_needs_the_csrf_token_to_act(manager, flag):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(detail(flag), {"action": "resolve", "resolve-note": "Done."})

    assert response.status_code == 403
    flag.refresh_from_db()
    assert flag.is_open


def test_an_unknown_flag_goes_back_to_the_admin_with_a_message(client: Client, admin_user):
    # To an organisation administrator, who sees every programme's flags.
    client.force_login(admin_user)
    for url in ("/admin/risks/riskflag/999999/change/", QUEUE + "abc/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == "/admin/"
        assert "doesn’t exist" in flash(response)[0]
    assert client.get("/admin/risks/riskflag/999999/rematch/").status_code == 404


def test_an_unknown_flag_is_not_found_for_a_manager_as_another_programme_s_is(alice: Client, flag):
    """A manager cannot tell a flag that does not exist from another programme's (#18)."""
    other = open_flag(agreed_pair(programme=ProgrammeFactory()), RiskFlag.Rule.MISSED)
    for pk in (999999, other.pk):
        assert alice.get(f"/admin/risks/riskflag/{pk}/change/").status_code == 404
        assert alice.get(f"/admin/risks/riskflag/{pk}/rematch/").status_code == 404
    assert alice.get(QUEUE + "abc/change/").status_code == 404
    assert alice.get(f"/admin/risks/riskflag/{flag.pk}/change/").status_code == 200


# --- The queue ------------------------------------------------------------------------------


def test_it_lists_open_flags_most_severe_then_oldest_first(alice: Client, programme):
    low = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.NO_PULSE, days_ago=20)
    medium_new = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.MISSED, days_ago=1)
    medium_old = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.REVERSION, days_ago=9)
    high = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.LOW_SAFETY, days_ago=2)
    resolved = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.NOT_A_GOOD_FIT)
    RiskFlag.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())

    page = alice.get(QUEUE).content.decode()
    listed = [int(pk) for pk in re.findall(r"/admin/risks/riskflag/(\d+)/change/", page)]

    assert list(dict.fromkeys(listed)) == [high.pk, medium_old.pk, medium_new.pk, low.pk]
    assert "At-risk queue" in page
    assert high.reason in page
    assert high.recommended_action in page
    assert 'class="field-age">9 days<' in page
    assert f"{timezone.localdate(medium_old.opened_at):%-d %b %Y}" in page
    assert "Margaret Hale &amp; Ravi Patel" in page


def test_it_shows_resolved_or_all_flags_when_asked(alice: Client, pair, programme):
    open_one = open_flag(pair, RiskFlag.Rule.NO_SESSION)
    resolved = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.MISSED)
    RiskFlag.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())

    def listed(query: str) -> set[int]:
        page = alice.get(QUEUE + query).content.decode()
        return {int(pk) for pk in re.findall(r"/admin/risks/riskflag/(\d+)/change/", page)}

    assert listed("") == {open_one.pk}
    assert listed("?status=open") == {open_one.pk}
    assert listed("?status=resolved") == {resolved.pk}
    assert listed("?status=all") == {open_one.pk, resolved.pk}


def test_it_filters_by_programme_cohort_rule_and_severity_and_searches_names(
    alice: Client, programme
):
    mine = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.LOW_SAFETY)
    other = agreed_pair(programme=programme)
    other.mentee.person.full_name = "Zoe Quill"
    other.mentee.person.save()
    theirs = open_flag(other, RiskFlag.Rule.NO_PULSE)

    def listed(query: str) -> set[int]:
        response = alice.get(QUEUE + query)
        assert response.status_code == 200, query
        return {
            int(pk)
            for pk in re.findall(r"/admin/risks/riskflag/(\d+)/change/", response.content.decode())
        }

    assert listed(f"?pair__cohort__id__exact={mine.pair.cohort_id}") == {mine.pk}
    assert listed(f"?pair__cohort__programme__id__exact={programme.pk}") == {mine.pk, theirs.pk}
    assert listed("?rule__exact=no_pulse") == {theirs.pk}
    assert listed(f"?severity__exact={RiskFlag.Severity.HIGH}") == {mine.pk}
    assert listed("?q=Zoe") == {theirs.pk}
    assert listed(f"?pair__id__exact={other.pk}") == {theirs.pk}


def test_it_links_the_cohorts_diagnosis_when_narrowed_to_one_cohort(alice: Client, flag):
    page = alice.get(f"{QUEUE}?pair__cohort__id__exact={flag.pair.cohort_id}").content.decode()

    assert f"/admin/programmes/cohort/{flag.pair.cohort_id}/diagnosis/" in page


@pytest.mark.parametrize("flags", [1, 5])
def test_the_queue_costs_the_same_queries_however_many_flags(
    alice: Client, programme, flags: int, django_assert_num_queries
):
    for _ in range(flags):
        pair = agreed_pair(programme=programme)
        private_history(pair)
        open_flag(pair, RiskFlag.Rule.MISSED)
        open_flag(pair, RiskFlag.Rule.LOW_SAFETY)

    # 1-2 the session and its user; 3-4 the user's permissions, direct and through the
    # managers group; 5 the programmes for their filter; 6 the cohorts, with their
    # programmes, for theirs; 7 the count of open flags (not of all flags:
    # show_full_result_count); 8 the flags with their pairs, people, cohorts, programmes and
    # risk scores (list_select_related); 9 the pairs to watch; 10 the programmes with their
    # learned models.
    with django_assert_num_queries(10):
        page = alice.get(QUEUE).content.decode()

    assert page.count("/change/") >= 2 * flags
    assert_no_private_text(page)


# --- A flag's page --------------------------------------------------------------------------


def test_it_shows_the_flag_and_the_pairs_history_and_never_a_participants_words(
    alice: Client, pair, flag, manager
):
    private_history(pair)
    open_flag(pair, RiskFlag.Rule.LOW_SAFETY)
    held = pair.meetings.get(status=Meeting.Status.HELD)
    PairAction.objects.create(
        pair=pair, flag=flag, kind=PairAction.Kind.CHECKIN, by=manager, note="Called Margaret."
    )
    CheckIn.objects.create(
        pair=pair, participant=pair.mentee, flag=flag, choice=CheckIn.Choice.REMATCH,
        answered_at=timezone.now(),
    )  # fmt: skip

    page = alice.get(detail(flag)).content.decode()

    assert flag.reason in page
    assert flag.recommended_action in page
    assert "Missed or cancelled in a row" in page  # the evidence, as counts and dates
    assert "by the executive" in page
    assert f"{held.starts_at:%a %-d %b %Y}" in page
    assert "1 of 2" in page  # pulses answered for the held session
    assert "Reverse-mentor" in page  # who led, who cancelled
    assert "Re-match me" in page  # the check-in's answer
    assert "Sent by a manager (missed or cancelled sessions)" in page
    assert "Called Margaret." in page  # the manager's own note
    assert "A low safety answer from the reverse-mentor" in page  # the pair's other flag
    assert_no_private_text(page)


@pytest.mark.parametrize("sessions", [1, 5])
def test_a_flags_page_costs_the_same_queries_however_long_the_history(
    alice: Client, pair, flag, manager, sessions: int, django_assert_num_queries
):
    for n in range(sessions):
        held = meeting(pair, days=-n - 1, status=Meeting.Status.HELD)
        pulse(held, pair.mentee)
        PairAction.objects.create(pair=pair, flag=flag, kind=PairAction.Kind.CHECKIN, by=manager)
        CheckIn.objects.create(pair=pair, participant=pair.mentee, trigger=held)

    # 1-2 the session and its user; 3 the flag with its pair, people, cohort and programme;
    # 4-5 the user's permissions, direct and through the managers group; 6 the sessions with
    # their topics and pulse counts; 7 the check-ins; 8 the actions; 9 the pair's flags.
    with django_assert_num_queries(9):
        alice.get(detail(flag))


def test_a_resolved_flag_shows_its_resolution_and_no_resolve_form(alice: Client, flag, manager):
    RiskFlag.objects.filter(pk=flag.pk).update(
        resolved_at=timezone.now(), resolved_by=manager, resolution_note="All sorted."
    )

    page = alice.get(detail(flag)).content.decode()

    assert "All sorted." in page
    assert 'value="resolve"' not in page


# --- Acting from the page -------------------------------------------------------------------


def test_it_sends_the_checkin_and_goes_back_to_the_queue(alice: Client, pair, flag, manager):
    response = alice.post(detail(flag), {"action": "checkin"})

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    assert flash(response) == [
        "Check-in sent to Margaret Hale and Ravi Patel. Their answers will show on this flag's "
        "page."
    ]
    assert CheckIn.objects.filter(pair=pair, flag=flag).count() == 2
    assert PairAction.objects.filter(
        pair=pair, flag=flag, kind=PairAction.Kind.CHECKIN, by=manager
    ).exists()


def test_it_keeps_the_queues_filters_when_going_back(alice: Client, flag):
    filters = f"pair__cohort__id__exact%3D{flag.pair.cohort_id}"

    response = alice.post(f"{detail(flag)}?_changelist_filters={filters}", {"action": "pause"})

    assert response["Location"] == f"{QUEUE}?pair__cohort__id__exact={flag.pair.cohort_id}"


def test_it_pauses_the_pair_from_the_page(alice: Client, pair, flag):
    response = alice.post(detail(flag), {"action": "pause"})

    pair.refresh_from_db()
    assert pair.status == Pair.Status.PAUSED
    assert f"paused until {pair.paused_until:%-d %B %Y}" in flash(response)[0]
    assert PairAction.objects.filter(pair=pair, kind=PairAction.Kind.PAUSE).exists()


def test_a_refused_action_says_why_in_the_page(alice: Client, pair, flag):
    Pair.objects.filter(pk=pair.pk).update(
        status=Pair.Status.PAUSED, paused_until=timezone.localdate() + timedelta(days=5)
    )

    response = alice.post(detail(flag), {"action": "checkin"})

    assert response.status_code == 400
    assert "This pair is paused until" in response.content.decode()
    assert not CheckIn.objects.exists()
    assert not PairAction.objects.exists()


def test_it_ends_the_pair_with_the_managers_note(alice: Client, pair, flag, manager):
    response = alice.post(
        detail(flag), {"action": "end", "end-note": "Margaret has left the company."}
    )

    assert response.status_code == 302
    pair.refresh_from_db()
    flag.refresh_from_db()
    assert (pair.status, pair.end_reason) == (Pair.Status.ENDED, "Margaret has left the company.")
    assert not flag.is_open
    assert PairAction.objects.get(pair=pair).note == "Margaret has left the company."
    assert "the pair has ended" in flash(response)[0]


def test_it_resolves_the_flag_with_the_managers_note(alice: Client, pair, flag, manager):
    response = alice.post(detail(flag), {"action": "resolve", "resolve-note": "Spoke to both."})

    assert response.status_code == 302
    assert flash(response) == [
        f"Flag resolved: {flag.get_rule_display()}, Margaret Hale & Ravi Patel."
    ]
    flag.refresh_from_db()
    assert (flag.resolved_by, flag.resolution_note) == (manager, "Spoke to both.")
    action = PairAction.objects.get(pair=pair)
    assert (action.kind, action.note, action.by) == (
        PairAction.Kind.RESOLVE,
        "Spoke to both.",
        manager,
    )


def test_an_empty_resolve_note_is_asked_for_in_the_page_and_nothing_is_saved(alice: Client, flag):
    response = alice.post(detail(flag), {"action": "resolve", "resolve-note": "   "})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Write a few words on what was done" in page
    flag.refresh_from_db()
    assert flag.is_open
    assert not PairAction.objects.exists()


def test_a_refusal_keeps_what_was_typed(alice: Client, flag, manager):
    typed = "Spoke to Ravi & Margaret on Tuesday"
    RiskFlag.objects.filter(pk=flag.pk).update(resolved_at=timezone.now(), resolved_by=manager)

    response = alice.post(detail(flag), {"action": "resolve", "resolve-note": typed})

    assert response.status_code == 400
    page = response.content.decode()
    assert "This flag was resolved already" in page
    assert "Spoke to Ravi &amp; Margaret on Tuesday</textarea>" in page
    assert not PairAction.objects.exists()


def test_an_overlong_note_is_refused_and_kept(alice: Client, pair, flag):
    typed = "x" * 1001

    response = alice.post(detail(flag), {"action": "end", "end-note": typed})

    assert response.status_code == 400
    assert typed in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


def test_an_unknown_action_changes_nothing(alice: Client, pair, flag):
    response = alice.post(detail(flag), {"action": "delete"})

    assert response.status_code == 400
    assert "Choose one of the actions" in response.content.decode()
    assert not PairAction.objects.exists()


# --- Links from the pairs and cohorts -------------------------------------------------------


def test_the_pair_and_cohort_lists_count_open_flags_and_link_the_queue(alice: Client, pair, flag):
    open_flag(pair, RiskFlag.Rule.LOW_SAFETY)
    resolved = open_flag(pair, RiskFlag.Rule.NO_PULSE)
    RiskFlag.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now())

    pairs = alice.get("/admin/pairs/pair/").content.decode()
    cohorts = alice.get("/admin/programmes/cohort/").content.decode()

    assert f'href="{QUEUE}?pair__id__exact={pair.pk}">2</a>' in pairs
    assert f'href="{QUEUE}?pair__cohort__id__exact={pair.cohort_id}">2</a>' in cohorts
    assert reverse("admin:programmes_cohort_diagnosis", args=[pair.cohort_id]) in cohorts


# --- A low safety flag never states a value ------------------------------------------------


def test_a_low_safety_flag_stored_with_its_threshold_never_shows_it(
    alice: Client, pair, manager, settings, django_capture_on_commit_callbacks
):
    """Flags stored before kept the threshold (``at_most``); with the threshold at 1 it was
    the answer itself. No page, file or e-mail that shows a flag's reason shows it."""
    settings.TIME_ZONE = "Europe/London"
    monday = datetime(2026, 6, 15, 8, 0, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(monday - timedelta(days=2), tick=False):
        low = open_flag(
            pair,
            RiskFlag.Rule.LOW_SAFETY,
            days_ago=1,
            evidence={"date": "2026-06-12", "side": Role.MENTEE, "at_most": 1},
        )
    cohort = pair.cohort_id
    diagnosis = reverse("admin:programmes_cohort_diagnosis", args=[cohort])
    with time_machine.travel(monday, tick=False):
        shown = {
            "page": alice.get(detail(low)).content.decode(),
            "queue": alice.get(QUEUE).content.decode(),
            "diagnosis": alice.get(diagnosis).content.decode(),
            "csv": alice.get(diagnosis, {"format": "csv"}).content.decode(),
        }
        with django_capture_on_commit_callbacks(execute=True):
            risk_digests_due()
    [message] = mail.outbox
    shown["digest"] = message.body

    assert low.reason == "A low safety answer from the executive, about the session of 12 Jun 2026."
    for where, text in shown.items():
        assert "A low safety answer from the executive" in text, where
        for telling in ("or less", "at or below", "Answer at", "answer of"):
            assert telling not in text, (where, telling)
