"""Admin lists of private models accept only an allow-list of filters (issue 14, item 2).

Generated from ``admin.site._registry``: every registered admin of a private model is asked
for every field of its model with every common lookup, and must answer 400 unless the
parameter is one it declares; a newly registered model must either declare its filters or be
named below as reviewed, with the reason it holds nothing private.
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import User
from django.db import connection, models
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from lib.admin_filters import AllowListedFiltersMixin, ChoiceListFilter
from matching.models import MatchingRun, PairRule
from pairs.models import Meeting, Pair
from programmes.models import Participant, Programme, Role
from reporting.models import SponsorAsk, SuccessStory
from risks.models import RiskFlag
from surveys.models import LinkRequest, NpsResponse, Pulse
from tests.factories import CohortFactory, ParticipantFactory, ProgrammeFactory
from tests.pairs.meeting_helpers import meeting_for
from tests.pairs.pair_setup import PairSetup, make_pair

PROJECT_APPS = {"audit", "programmes", "surveys", "matching", "notifications", "health"}

# Models holding participants' answers or anything written about or by someone: their admin
# lists must declare their filters (lib/admin_filters.py).
PRIVATE_MODELS = {
    AuditEntry,
    Participant,
    Pair,
    Meeting,
    RiskFlag,
    SuccessStory,
    SponsorAsk,
    Pulse,
    NpsResponse,
    PairRule,
    MatchingRun,
    LinkRequest,
}
# Reviewed: registered models of the project that hold no answer and nothing a participant
# wrote, so Django's own filters are fine there. Add a model here only with its reason.
REVIEWED_NOT_PRIVATE = {
    "programmes.programme": "the programme's own settings, written by its managers",
    "programmes.organisationsettings": "the load cap and the minimum group, no people",
    "programmes.cohort": "names and dates; its answers are shown as counts only",
    "programmes.person": "the organisation's directory: names, titles, departments",
    "pairs.guide": "role cards and agenda templates for everyone",
    "matching.matchingpolicy": "weights, no people",
    "notifications.messagetemplate": "the managers' wording of each message",
    "notifications.notification": "the outbox keeps ids and choices, never a message's text",
}
# Parameter suffixes a curious manager would try on every field.
LOOKUPS = ["", "__exact", "__iexact", "__gte", "__lte", "__lt", "__isnull", "__icontains"]
LOOKUPS += ["__in", "__startswith", "__regex", "__range", "__contains"]
VALUES = {"__isnull": "True", "__in": "1,2", "__range": "1,5"}


def _private_admins() -> list[admin.ModelAdmin]:
    return [a for m, a in admin.site._registry.items() if m in PRIVATE_MODELS]


def _url(model_admin: admin.ModelAdmin) -> str:
    opts = model_admin.opts
    return f"/admin/{opts.app_label}/{opts.model_name}/"


def _probes(model: type[models.Model]) -> list[str]:
    """Every field of ``model`` with every lookup, and every field one relation away with a
    few (``participant__intake__boundaries_text__icontains`` is refused as a whole name)."""
    probes: list[str] = []
    for field in model._meta.get_fields():
        names = {field.name, getattr(field, "attname", field.name)}  # meeting, meeting_id
        probes += [f"{name}{lookup}" for name in names for lookup in LOOKUPS]
        if field.is_relation and field.related_model is not None:
            for far in field.related_model._meta.get_fields():
                if not far.is_relation:
                    probes += [f"{field.name}__{far.name}{x}" for x in ("", "__gte", "__icontains")]
    return probes


@pytest.fixture
def staff(manager, client: Client) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def answered(programme: Programme, manager) -> PairSetup:
    """One pair with a session of each kind and a pulse whose every answer is telling; and
    a second programme's pair, so the sidebar offers a choice of programmes and cohorts (the
    manager runs both: a manager sees only their programmes)."""
    second = ProgrammeFactory(name="Second programme")
    second.managers.add(manager)
    make_pair(second)
    setup = make_pair(programme)
    now = timezone.now()
    held = meeting_for(setup.pair, starts_at=now - timedelta(days=8), status=Meeting.Status.HELD)
    meeting_for(
        setup.pair,
        starts_at=now - timedelta(days=2),
        status=Meeting.Status.CANCELLED,
        cancelled_by=Role.MENTEE,
        cancel_reason="CANCEL-SECRET",
    )
    Pulse.objects.create(
        meeting=held,
        participant=setup.mentor,
        held=True,
        learning="LEARNING-SECRET",
        action="ACTION-SECRET",
        good_fit=False,
        safety=1,
        teaching=5,
        submitted_at=now,
        session_starts_at=held.starts_at,
    )
    NpsResponse.objects.create(
        participant=setup.mentee,
        moment=NpsResponse.Moment.MIDPOINT,
        score=2,
        why="WHY-SECRET",
        submitted_at=now,
    )
    return setup


# --- Every private list, every field, every lookup ------------------------------------------


@pytest.mark.parametrize("model", sorted(PRIVATE_MODELS, key=str), ids=lambda m: m.__name__)
def test_it_refuses_every_undeclared_filter_on_a_private_list(
    manager, answered: PairSetup, model: type[models.Model]
) -> None:
    # The view itself, without the middleware: thousands of requests (the examples below go
    # through the whole stack).
    model_admin = admin.site._registry[model]
    accepted = model_admin.accepted_parameters()
    probes = [p for p in _probes(model) if p not in accepted]
    assert probes
    answers = {}
    for probe in probes:
        value = next((v for suffix, v in VALUES.items() if probe.endswith(suffix)), "1")
        request = RequestFactory().get(_url(model_admin), {probe: value})
        request.user = manager
        answers[probe] = model_admin.changelist_view(request).status_code
    assert {p: s for p, s in answers.items() if s != 400} == {}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/surveys/pulse/?teaching__gte=4",
        "/admin/surveys/pulse/?good_fit=0",
        "/admin/surveys/pulse/?previous_action_done=no",
        "/admin/surveys/pulse/?safety=1",
        "/admin/surveys/pulse/?participant__intake__boundaries_text__icontains=family",
        "/admin/surveys/npsresponse/?score__lte=6",
        "/admin/pairs/meeting/?cancel_reason__icontains=SECRET",
        "/admin/pairs/pair/?end_reason__icontains=a",
        "/admin/programmes/participant/?intake__boundaries_text__icontains=family",
        "/admin/risks/riskflag/?evidence__at_most=1",
        "/admin/risks/riskflag/?resolution_note__icontains=a",
        "/admin/reporting/successstory/?body__icontains=a",
    ],
)
def test_it_refuses_the_issues_examples_with_a_page_that_says_why(
    staff: Client, answered: PairSetup, url: str
) -> None:
    response = staff.get(url)

    assert response.status_code == 400
    refused = url.split("?", 1)[1].split("=", 1)[0]
    assert f"<code>{refused}</code>" in response.content.decode()
    assert "Show the whole list" in response.content.decode()


def test_it_refuses_before_any_query_on_the_list(staff: Client, answered: PairSetup) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = staff.get("/admin/surveys/pulse/", {"safety__lte": "2"})

    assert response.status_code == 400
    assert not [q["sql"] for q in queries.captured_queries if "surveys_pulse" in q["sql"]]


@pytest.mark.parametrize(
    "query",
    [
        {"learning_logged": "maybe"},  # a choice filter's value outside its choices
        {"intake": "anything"},
        {"status": "every"},
        {"held__exact": "perhaps"},  # a field filter's value Django cannot read
        {"meeting__pair__cohort__id__exact": "abc"},
        {"q": "Hale\x00"},  # PostgreSQL refuses NUL in text
        {"e": "1"},  # Django's "bad filter" flag: nothing redirects there any more
        {"when": "yesterday"},  # the sessions' spans
        {"starts_at__year": "2026"},  # no date hierarchy any more (docs/performance.md)
    ],
    ids=lambda q: next(iter(q)),
)
def test_it_refuses_a_value_a_filter_does_not_offer(
    staff: Client, answered: PairSetup, query: dict[str, str]
) -> None:
    name = next(iter(query))
    url = {
        "intake": "/admin/programmes/participant/",
        "status": "/admin/risks/riskflag/",
        "when": "/admin/pairs/meeting/",
        "starts_at__year": "/admin/pairs/meeting/",
    }.get(name, "/admin/surveys/pulse/")
    assert staff.get(url, query).status_code == 400


def test_it_still_refuses_a_private_filter_to_a_superuser(
    client: Client, admin_user, answered: PairSetup
) -> None:
    client.force_login(admin_user)
    assert client.get("/admin/surveys/pulse/", {"teaching__gte": "4"}).status_code == 400


def test_it_answers_403_not_400_to_staff_who_may_not_see_the_list(
    client: Client, answered: PairSetup
) -> None:
    client.force_login(User.objects.create_user("dora", is_staff=True))
    assert client.get("/admin/surveys/pulse/", {"teaching__gte": "4"}).status_code == 403


# --- The allowed filters still work --------------------------------------------------------


def test_it_lists_the_right_rows_for_each_allowed_filter(
    staff: Client, answered: PairSetup, programme: Programme
) -> None:
    other = make_pair(programme)
    cohort = answered.cohort
    cases = {
        f"/admin/surveys/pulse/?meeting__pair__cohort__id__exact={cohort.pk}": 1,
        f"/admin/surveys/pulse/?meeting__pair__cohort__id__exact={other.cohort.pk}": 0,
        "/admin/surveys/pulse/?learning_logged=yes": 1,
        "/admin/surveys/pulse/?learning_logged=no": 0,
        "/admin/surveys/pulse/?held__exact=1&shared__exact=0": 1,
        f"/admin/surveys/npsresponse/?participant__cohort__id__exact={cohort.pk}": 1,
        "/admin/surveys/npsresponse/?moment__exact=end": 0,
        f"/admin/pairs/meeting/?pair__cohort__id__exact={cohort.pk}": 2,
        "/admin/pairs/meeting/?status__exact=cancelled&cancelled_by__exact=mentee": 1,
        "/admin/pairs/meeting/?when=past_30_days&o=2": 2,
        f"/admin/programmes/participant/?cohort__id__exact={cohort.pk}&intake=complete": 2,
        f"/admin/programmes/participant/?cohort__programme__id__exact={programme.pk}&q=Hale": 2,
        f"/admin/pairs/pair/?cohort__id__exact={cohort.pk}&rematch=yes&p=1": 1,
        f"/admin/pairs/pair/?cohort__id__exact={cohort.pk}&rematch=no": 0,
        f"/admin/risks/riskflag/?pair__id__exact={answered.pair.pk}&status=all": 0,
    }
    for url, rows in cases.items():
        response = staff.get(url)
        assert response.status_code == 200, url
        assert response.context["cl"].result_count == rows, url


def test_it_shows_every_declared_sidebar_filter(staff: Client, answered: PairSetup) -> None:
    for model_admin in _private_admins():
        response = staff.get(_url(model_admin), {"_facets": "True"})
        assert response.status_code == 200, _url(model_admin)


# --- Nobody forgets: rules on every registered admin ---------------------------------------


def test_it_knows_every_registered_model_of_the_project() -> None:
    """A newly registered model must declare its filters or be reviewed above."""
    unreviewed = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in PROJECT_APPS
        and not isinstance(model_admin, AllowListedFiltersMixin)
        and model._meta.label_lower not in REVIEWED_NOT_PRIVATE
    ]
    assert unreviewed == []


def test_it_declares_an_allow_list_on_every_private_list() -> None:
    for model in PRIVATE_MODELS:
        model_admin = admin.site._registry[model]
        assert isinstance(model_admin, AllowListedFiltersMixin), model
        assert model_admin.filter_parameters, model


def test_it_declares_exactly_the_parameters_of_each_sidebar_filter(
    manager, answered: PairSetup
) -> None:
    """So every sidebar filter works, and nothing is accepted that the sidebar does not
    offer (besides the links into the list that the admin itself makes)."""
    request = RequestFactory().get("/")
    request.user = manager
    extra = {RiskFlag: {"pair__id__exact"}}
    for model_admin in _private_admins():
        changelist: ChangeList = model_admin.get_changelist_instance(request)
        offered = {p for spec in changelist.filter_specs for p in spec.expected_parameters()}
        declared = set(model_admin.filter_parameters)
        assert declared == offered | extra.get(model_admin.model, set()), model_admin


def test_it_lets_custom_filters_accept_only_their_own_choices() -> None:
    for model_admin in _private_admins():
        for entry in model_admin.list_filter:
            if isinstance(entry, type) and issubclass(entry, admin.SimpleListFilter):
                assert issubclass(entry, ChoiceListFilter), (model_admin, entry)


# Searches reach names and addresses only, or text the list shows anyway (so a search
# reveals nothing the page does not).
SEARCHABLE = {"full_name", "email", "department", "name", "ip_address"}


def test_it_searches_private_lists_by_name_only() -> None:
    for model_admin in _private_admins():
        for path in model_admin.search_fields:
            last = path.lstrip("^=@").rsplit("__", 1)[-1]
            assert last in SEARCHABLE or last in model_admin.list_display, (model_admin, path)


def test_it_does_not_find_a_pulse_by_its_answer(staff: Client, answered: PairSetup) -> None:
    for query in ("LEARNING-SECRET", "ACTION-SECRET", "CANCEL-SECRET", "WHY-SECRET"):
        for url in ("/admin/surveys/pulse/", "/admin/surveys/npsresponse/"):
            response = staff.get(url, {"q": query})
            assert response.status_code == 200
            assert response.context["cl"].result_count == 0, (url, query)
        meetings = staff.get("/admin/pairs/meeting/", {"q": query})
        assert meetings.context["cl"].result_count == 0


def test_it_refuses_a_filter_on_a_second_cohorts_people_too(
    staff: Client, programme: Programme
) -> None:
    cohort = CohortFactory(programme=programme)
    ParticipantFactory(cohort=cohort)
    response = staff.get("/admin/programmes/participant/", {"person__full_name": "x"})
    assert response.status_code == 400
