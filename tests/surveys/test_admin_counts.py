"""Managers see response counts and rates per cohort and pair in the admin, never the text of
an answer nor a safety answer (issue #6)."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pairs.models import Meeting, Pair
from programmes.models import Cohort, Participant, Role
from reporting.cohort_figures import annotate_pulse_totals
from reporting.kpis import kpis_compute
from surveys import counts
from surveys.models import NpsResponse, Pulse, PulseRequest
from tests.factories import CohortFactory, ParticipantFactory

# Unique markers for every private answer: none may appear on any admin page.
SECRETS = [
    "LEARNING-SECRET-1",
    "ACTION-SECRET-1",
    "LEARNING-SECRET-2",
    "LEARNING-SECRET-3",
    "ACTION-SECRET-3",
    "WHY-SECRET-1",
]
# How the pulse form words a safety answer of 2, and the question itself.
SAFETY_WORDS = ["A little", "I could say what was on my mind", "safety"]


def _pair(cohort: Cohort) -> Pair:
    return Pair.objects.create(
        cohort=cohort,
        mentee=ParticipantFactory(cohort=cohort, role=Role.MENTEE),
        reverse_mentor=ParticipantFactory(cohort=cohort, role=Role.REVERSE_MENTOR),
        started_on=cohort.starts_on,
    )


def _session(pair: Pair, days_ago: int, status: str = Meeting.Status.HELD) -> Meeting:
    return Meeting.objects.create(
        pair=pair,
        starts_at=timezone.now() - timedelta(days=days_ago),
        status=status,
        uid=uuid.uuid4(),
    )


def _request(meeting: Meeting, participant: Participant) -> PulseRequest:
    return PulseRequest.objects.create(meeting=meeting, participant=participant)


def _pulse(meeting: Meeting, participant: Participant, **answers) -> Pulse:
    answers.setdefault("held", True)
    return Pulse.objects.create(
        meeting=meeting,
        participant=participant,
        submitted_at=meeting.starts_at + timedelta(hours=3),
        session_starts_at=meeting.starts_at,
        **answers,
    )


def _nps(participant: Participant, moment: str, **fields) -> NpsResponse:
    return NpsResponse.objects.create(
        participant=participant, moment=moment, submitted_at=timezone.now(), **fields
    )


@dataclass
class Fixture:
    cohort: Cohort
    quiet: Cohort
    pair_1: Pair
    pair_2: Pair


@pytest.fixture
def fixture(programme) -> Fixture:
    """Worked out by hand:

    Cohort "Wave 2":
      pair 1, session a (held): requested of both; both answered (the mentee with a learning,
        an action and a safety answer of 2; the reverse-mentor "not a good fit").
      pair 1, session b (held): requested of both; only the mentee answered.
      => pair 1: 4 requested, 3 submitted, 75%; 1 "not a good fit".
      pair 2, session c (held): requested of both; only the reverse-mentor answered.
      pair 2, session d (missed): no request, yet the mentee's not-held pulse exists. A pulse
        counts only against its request, so it is left out of both numbers.
      => pair 2: 2 requested, 1 submitted, 50%; no "not a good fit".
      => cohort: 6 requested, 4 submitted, 4/6 = 66.7% shown as 67%.
      NPS: two mid-point answers (pair 1's mentee, with a why; pair 2's reverse-mentor), one
      end answer (pair 2's mentee) => 2 mid-point, 1 end.
    Cohort "Wave 3": nothing requested => "no data", never 0%.
    """
    cohort = CohortFactory(programme=programme, name="Wave 2")
    quiet = CohortFactory(programme=programme, name="Wave 3")
    pair_1, pair_2 = _pair(cohort), _pair(cohort)
    a, b = _session(pair_1, 20), _session(pair_1, 6)
    c, d = _session(pair_2, 15), _session(pair_2, 3, Meeting.Status.MISSED)
    for meeting in (a, b):
        _request(meeting, pair_1.mentee)
        _request(meeting, pair_1.reverse_mentor)
    _request(c, pair_2.mentee)
    _request(c, pair_2.reverse_mentor)
    _pulse(
        a,
        pair_1.mentee,
        learning="LEARNING-SECRET-1",
        action="ACTION-SECRET-1",
        safety=2,
        good_fit=True,
        teaching=2,
    )
    _pulse(a, pair_1.reverse_mentor, learning="LEARNING-SECRET-2", good_fit=False, shared=True)
    _pulse(b, pair_1.mentee, learning="LEARNING-SECRET-3", action="ACTION-SECRET-3", safety=5)
    _pulse(c, pair_2.reverse_mentor, learning="Shared drafts early", safety=4)
    _pulse(d, pair_2.mentee, held=False, not_held=Pulse.NotHeld.MISSED)
    _nps(pair_1.mentee, NpsResponse.Moment.MIDPOINT, score=3, why="WHY-SECRET-1")
    _nps(pair_2.reverse_mentor, NpsResponse.Moment.MIDPOINT, score=9)
    _nps(pair_2.mentee, NpsResponse.Moment.END, score=10)
    return Fixture(cohort=cohort, quiet=quiet, pair_1=pair_1, pair_2=pair_2)


def test_it_counts_requests_answers_and_nps_per_cohort(fixture: Fixture) -> None:
    rows = {c.pk: c for c in counts.annotate_cohort_counts(Cohort.objects.all())}

    wave_2, wave_3 = rows[fixture.cohort.pk], rows[fixture.quiet.pk]
    assert (wave_2.pulses_requested, wave_2.pulses_submitted) == (6, 4)
    assert counts.rate_of(wave_2) == pytest.approx(4 / 6)
    assert (wave_2.nps_midpoint, wave_2.nps_end) == (2, 1)
    assert (wave_3.pulses_requested, wave_3.pulses_submitted) == (0, 0)
    assert counts.rate_of(wave_3) is None
    assert (wave_3.nps_midpoint, wave_3.nps_end) == (0, 0)


def test_it_counts_requests_answers_and_rematch_requests_per_pair(fixture: Fixture) -> None:
    rows = {p.pk: p for p in counts.annotate_pair_counts(Pair.objects.all())}

    pair_1, pair_2 = rows[fixture.pair_1.pk], rows[fixture.pair_2.pk]
    assert (pair_1.pulses_requested, pair_1.pulses_submitted) == (4, 3)
    assert counts.rate_of(pair_1) == pytest.approx(0.75)
    assert pair_1.not_a_good_fit == 1
    assert (pair_2.pulses_requested, pair_2.pulses_submitted) == (2, 1)
    assert counts.rate_of(pair_2) == pytest.approx(0.5)
    assert pair_2.not_a_good_fit == 0
    rematch = Pair.objects.filter(counts.rematch_requested())
    assert list(rematch) == [fixture.pair_1]


def test_it_says_no_data_rather_than_zero_when_nothing_was_requested() -> None:
    assert counts.format_rate(None) == "no data"
    assert counts.format_rate(0.0) == "0%"
    assert counts.format_rate(2 / 3) == "67%"
    assert counts.response_rate(submitted=0, requested=0) is None


def test_the_cohort_pages_pulse_figures_are_the_nightly_snapshots(
    client: Client, manager, fixture: Fixture, programme
) -> None:
    """Before the KPI task first runs there is nothing to show; once it has, the cohort's
    pulse figures are its snapshots' totals, equal to counting the requests live."""
    client.force_login(manager)
    before = client.get("/admin/programmes/cohort/").content.decode()
    assert 'class="field-pulses_answered">0 of 0<' in before
    assert 'class="field-response_rate">67%<' not in before

    kpis_compute(programme=programme)

    live = {c.pk: c for c in counts.annotate_cohort_counts(Cohort.objects.all())}
    nightly = {c.pk: c for c in annotate_pulse_totals(Cohort.objects.all())}
    for cohort in (fixture.cohort, fixture.quiet):
        assert (nightly[cohort.pk].pulses_requested, nightly[cohort.pk].pulses_submitted) == (
            live[cohort.pk].pulses_requested,
            live[cohort.pk].pulses_submitted,
        )
    assert nightly[fixture.cohort.pk].pulses_counted_at is not None
    # What the task counts is what it counted: an answer since shows the next night.
    _pulse(
        Meeting.objects.get(pair=fixture.pair_2, status=Meeting.Status.HELD), fixture.pair_2.mentee
    )
    again = annotate_pulse_totals(Cohort.objects.filter(pk=fixture.cohort.pk)).get()
    assert again.pulses_submitted == 4


def test_it_shows_the_counts_on_the_cohort_pages(
    client: Client, manager, fixture: Fixture, programme
) -> None:
    kpis_compute(programme=programme)
    client.force_login(manager)

    cohorts = client.get("/admin/programmes/cohort/").content.decode()
    change = client.get(f"/admin/programmes/cohort/{fixture.cohort.pk}/change/").content.decode()
    quiet = client.get(f"/admin/programmes/cohort/{fixture.quiet.pk}/change/").content.decode()

    assert 'class="field-pulses_answered">4 of 6<' in cohorts
    assert 'class="field-response_rate">67%<' in cohorts
    assert 'class="field-nps_midpoint">2<' in cohorts
    assert 'class="field-nps_end">1<' in cohorts
    assert 'class="field-response_rate">no data<' in cohorts  # Wave 3
    assert 'class="field-response_rate">0%<' not in cohorts
    assert "Responses (counts only)" in change
    assert "Pulse figures computed" in change
    for value in ("6", "4", "67%", "2", "1"):
        assert f'<div class="readonly">{value}</div>' in change, value
    assert '<div class="readonly">no data</div>' in quiet


def test_it_offers_no_counts_on_the_add_page(client: Client, manager) -> None:
    client.force_login(manager)
    html = client.get("/admin/programmes/cohort/add/").content.decode()
    assert 'name="name"' in html
    assert "Responses (counts only)" not in html


def test_it_shows_the_counts_on_the_pair_pages(client: Client, manager, fixture: Fixture) -> None:
    client.force_login(manager)

    pairs = client.get("/admin/pairs/pair/").content.decode()
    change = client.get(f"/admin/pairs/pair/{fixture.pair_1.pk}/change/").content.decode()

    assert 'class="field-pulses_answered">3 of 4<' in pairs
    assert 'class="field-response_rate">75%<' in pairs
    assert 'class="field-pulses_answered">1 of 2<' in pairs
    assert 'class="field-response_rate">50%<' in pairs
    assert "<strong>1 (re-match requested)</strong>" in pairs
    assert 'class="field-not_a_good_fit">0<' in pairs
    assert "<strong>1 (re-match requested)</strong>" in change
    assert '<div class="readonly">75%</div>' in change


def test_it_filters_pairs_with_a_rematch_request(client: Client, manager, fixture: Fixture) -> None:
    client.force_login(manager)
    name_1 = fixture.pair_1.mentee.person.full_name
    name_2 = fixture.pair_2.mentee.person.full_name

    requested = client.get("/admin/pairs/pair/?rematch=yes").content.decode()
    others = client.get("/admin/pairs/pair/?rematch=no").content.decode()

    assert "Re-match requested" in requested  # the filter's choice
    assert name_1 in requested
    assert name_2 not in requested
    assert name_2 in others
    assert name_1 not in others


def _admin_pages(client: Client, fixture: Fixture) -> dict[str, str]:
    pulse = Pulse.objects.get(learning="LEARNING-SECRET-1")
    answer = NpsResponse.objects.get(why="WHY-SECRET-1")
    urls = [
        "/admin/programmes/cohort/",
        f"/admin/programmes/cohort/{fixture.cohort.pk}/change/",
        "/admin/pairs/pair/",
        f"/admin/pairs/pair/{fixture.pair_1.pk}/change/",
        "/admin/pairs/pair/?rematch=yes",
        "/admin/surveys/pulse/",
        f"/admin/surveys/pulse/{pulse.pk}/change/",
        "/admin/surveys/pulse/?learning_logged=yes",
        "/admin/surveys/npsresponse/",
        f"/admin/surveys/npsresponse/{answer.pk}/change/",
    ]
    pages = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.content.decode()
    return pages


def test_it_never_shows_a_free_text_answer_or_a_safety_answer(
    client: Client, manager, fixture: Fixture
) -> None:
    client.force_login(manager)

    pages = _admin_pages(client, fixture)

    pulses = pages["/admin/surveys/pulse/"]
    assert fixture.pair_1.mentee.person.full_name in pulses  # who answered is shown
    assert 'class="field-learning_logged"><img src="/static/admin/img/icon-yes.svg"' in pulses
    assert 'class="field-action_committed"><img src="/static/admin/img/icon-no.svg"' in pulses
    nps = pages["/admin/surveys/npsresponse/"]
    assert 'class="field-why_given"><img src="/static/admin/img/icon-yes.svg"' in nps
    for url, html in pages.items():
        for secret in SECRETS:
            assert secret not in html, (url, secret)
        for words in SAFETY_WORDS:
            assert words.lower() not in html.lower(), (url, words)
        if "/npsresponse/" in url:
            assert "score" not in html.lower(), url  # nor an NPS score


@pytest.mark.parametrize(
    "url",
    [
        "/admin/surveys/pulse/?safety__lte=2",
        "/admin/surveys/pulse/?safety=2",
        "/admin/surveys/pulse/?learning__contains=SECRET",
        "/admin/surveys/pulse/?action__startswith=A",
        "/admin/surveys/npsresponse/?why__contains=SECRET",
        "/admin/surveys/npsresponse/?score__lte=6",
    ],
)
def test_it_refuses_to_filter_on_a_private_answer(
    client: Client, manager, fixture: Fixture, url: str
) -> None:
    # A row count per filter value would give the answers away.
    client.force_login(manager)
    assert client.get(url).status_code == 400


def test_it_still_filters_on_what_managers_may_see(
    client: Client, manager, fixture: Fixture
) -> None:
    client.force_login(manager)
    response = client.get(
        f"/admin/surveys/pulse/?held__exact=0&meeting__pair__cohort__id__exact={fixture.cohort.pk}"
    )
    assert response.status_code == 200
    assert "1 pulse" in response.content.decode()


def test_it_makes_pulses_and_nps_answers_view_only(
    client: Client, manager, fixture: Fixture
) -> None:
    pulse = Pulse.objects.get(learning="LEARNING-SECRET-1")
    answer = NpsResponse.objects.get(why="WHY-SECRET-1")
    client.force_login(manager)

    assert client.get("/admin/surveys/pulse/add/").status_code == 403
    assert client.get("/admin/surveys/npsresponse/add/").status_code == 403
    assert client.post(f"/admin/surveys/pulse/{pulse.pk}/change/", {"held": ""}).status_code == 403
    assert (
        client.post(f"/admin/surveys/pulse/{pulse.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    response = client.post(f"/admin/surveys/npsresponse/{answer.pk}/change/", {"score": "10"})
    assert response.status_code == 403
    pulse.refresh_from_db()
    answer.refresh_from_db()
    assert pulse.held is True
    assert answer.score == 3


def test_it_keeps_sponsors_out(client: Client, sponsor, fixture: Fixture) -> None:
    client.force_login(sponsor)
    for url in ("/admin/surveys/pulse/", "/admin/surveys/npsresponse/"):
        assert client.get(url).status_code == 302, url


# --- Query counts: fixed, however many rows ---------------------------------------------------


def _fill(cohort: Cohort, pairs: int) -> None:
    """``pairs`` pairs, each with two held sessions, four requests, three pulses (one "not a
    good fit") and one NPS answer."""
    for _ in range(pairs):
        pair = _pair(cohort)
        first, second = _session(pair, 20), _session(pair, 6)
        for meeting in (first, second):
            _request(meeting, pair.mentee)
            _request(meeting, pair.reverse_mentor)
        _pulse(first, pair.mentee, learning="Drafts early", good_fit=True)
        _pulse(first, pair.reverse_mentor, learning="Ask first", good_fit=False)
        _pulse(second, pair.mentee, learning="Reply in the channel", action="Try it")
        _nps(pair.mentee, NpsResponse.Moment.MIDPOINT, score=8)


@pytest.fixture
def cohort(programme) -> Cohort:
    return CohortFactory(programme=programme, name="Wave 2")


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_cohorts_with_response_counts_in_a_fixed_number_of_queries(
    client: Client, manager, programme, rows: int, django_assert_num_queries
) -> None:
    for i in range(rows):
        _fill(CohortFactory(programme=programme, name=f"Wave {i}"), 2)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 the filtered count (no count of all cohorts: show_full_result_count), 7 the
    # page of cohorts with their programme and (as subqueries) participant, pulse and NPS
    # counts
    with django_assert_num_queries(7) as captured:
        response = client.get("/admin/programmes/cohort/")
    assert response.status_code == 200
    # Counting the cohorts reads cohorts (and how to reach their programme), none of the
    # rows the columns count: with those joined, it once took over ten minutes.
    (count,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    for model in (Participant, PulseRequest, Pulse, NpsResponse):
        assert model._meta.db_table not in count, model


@pytest.mark.parametrize("rows", [3, 30])
def test_it_shows_a_cohort_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    url = f"/admin/programmes/cohort/{cohort.pk}/change/"
    client.get(url)  # loads the content types, cached for the rest of the process
    # 1 session, 2 user, 3 the cohort with its programme and counts, 4-5 the user's own and
    # group permissions, 6 the programme choices
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_pairs_with_response_counts_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 cohort filter choices (with programmes), 7 the filtered count (not of all
    # pairs: show_full_result_count), 8 the page of pairs with their session, note and pulse
    # counts
    with django_assert_num_queries(8):
        response = client.get("/admin/pairs/pair/?rematch=yes")
    assert response.status_code == 200
    assert response.content.decode().count("(re-match requested)</strong>") == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_pulses_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 cohort filter choices
    # (with programmes), 6 the filtered count (not of all pulses: show_full_result_count),
    # 7 the page of pulses with their participant, person and session
    with django_assert_num_queries(7):
        response = client.get("/admin/surveys/pulse/")
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_nps_answers_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 cohort filter choices
    # (with programmes), 6 the filtered count (not of all answers: show_full_result_count),
    # 7 the page of answers with their participant, person and cohort
    with django_assert_num_queries(7):
        response = client.get("/admin/surveys/npsresponse/")
    assert response.status_code == 200


def test_the_pulses_list_shows_the_newest_sessions_first(
    client: Client, manager, fixture: Fixture
) -> None:
    client.force_login(manager)

    listed = client.get("/admin/surveys/pulse/").context["cl"].result_list

    starts = [pulse.session_starts_at for pulse in listed]
    assert len(starts) >= 3
    assert starts == sorted(starts, reverse=True)
    # Each row's session date is the one its answer was about.
    assert all(pulse.session_starts_at == pulse.meeting.starts_at for pulse in listed)
