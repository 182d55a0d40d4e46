"""Who reaches what: every URL the project serves, from every role, on the demo organisation
with a second programme beside it.

The table below has one row per URL, read from the URL conf: a URL added without its row
fails ``test_it_has_a_row_for_every_url``, and a row left after its URL went fails too. Each
row builds the request a role would make (a participant with their own signed link, aimed at
pair A–B's records; a signed-in user with their session; anyone else with a tampered link) and
says what must happen. Every response of every role but A is also searched for the words only
A wrote (tests/security/world.py): no page, whoever opens it, shows them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import uuid4

import pytest
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from matching.models import MatchingRun
from notifications.models import MessageTemplate
from programmes.links import Purpose
from programmes.models import Cohort, Participant, Person, Programme
from programmes.scoping import ProgrammeScopedAdmin
from risks.models import RiskFlag
from surveys.feedback import MIDPOINT
from tests.security.urlconf import routes
from tests.security.world import SECRETS, World, build_world

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "participant_a",
    "participant_b",  # A's partner
    "participant_c",  # in another pair of the same programme
    "sponsor",
    "other_sponsor",  # sponsors another programme only
    "manager",
    "other_manager",  # manages another programme only
    "superuser",
)
PARTICIPANTS = {"participant_a": "a", "participant_b": "b", "participant_c": "c"}
SIGNED_IN = ("sponsor", "other_sponsor", "manager", "other_manager", "superuser")

# What a response may be.
OK = "ok"  # 200
REDIRECT = "redirect"  # 302 elsewhere than a sign-in page (a form done, a shortcut)
LOGIN = "login"  # 302 to a sign-in page
DENIED = "denied"  # 403 or 404 without saying more
NOT_FOUND = "404"  # 404 only: as if the record did not exist (another programme's)
LINK = "link"  # the signed-link page: what happened and how to get a new link
NOT_ALLOWED = "405"  # a method the URL does not take


def outcome_of(response) -> str:
    status = response.status_code
    if status == 405:
        return NOT_ALLOWED
    if status in (301, 302):
        location = response["Location"]
        return LOGIN if "/login/" in location else REDIRECT
    if status == 200:
        return OK
    if b"Send me a new link" in response.content:
        return LINK
    if status == 404:
        return NOT_FOUND
    if status == 403:
        return DENIED
    return str(status)


def matches(got: str, expected: str) -> bool:
    """DENIED is a 403 or a 404; NOT_FOUND is a 404 and nothing else."""
    return got == expected or (expected == DENIED and got == NOT_FOUND)


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    data: dict = field(default_factory=dict)


Build = Callable[[World, str], Call]


def _participant(world: World, role: str):
    return getattr(world, PARTICIPANTS[role]) if role in PARTICIPANTS else None


def link(name: str, purpose: Purpose, *, method: str = "GET", data=None, scope=None, **ids):
    """A URL of a signed link: a participant uses their own link (with ``scope``, a function
    of the world, for a scoped one) and the ids of A and B's records; anyone else a tampered
    copy of A's."""

    def build(world: World, role: str) -> Call:
        who = _participant(world, role)
        scope_value = scope(world) if scope else ""
        if who is None:
            token = world.token(world.a, purpose, scope_value)[:-3] + "xyz"
        else:
            token = world.token(who, purpose, scope_value)
        kwargs = {key: value(world) for key, value in ids.items()}
        values = data(world) if callable(data) else data or {}
        return Call(method, reverse(name, kwargs={"token": token, **kwargs}), values)

    return build


def page(name: str, *, method: str = "GET", data=None, **ids) -> Build:
    def build(world: World, role: str) -> Call:
        kwargs = {key: value(world) for key, value in ids.items()}
        return Call(method, reverse(name, kwargs=kwargs or None), data or {})

    return build


def expect(default: str, **by_role: str) -> dict[str, str]:
    return {role: by_role.get(role, default) for role in ROLES}


# Signed-link pages: A's own link works, B's and C's own links open their own pages but never
# A's records, and a tampered link says how to get a new one, whoever is signed in.
PARTICIPANT_PAGE = expect(LINK, participant_a=OK, participant_b=OK, participant_c=OK)
A_ONLY = expect(LINK, participant_a=OK, participant_b=LINK, participant_c=LINK)
# A page of pair A–B, under its id: C's own link naming it gets the signed-link page.
A_AND_B_PAIR = expect(LINK, participant_a=OK, participant_b=OK)
# Pages for signed-in sponsors: the programme's sponsors, its managers and superusers.
SPONSOR_PAGE = expect(LOGIN, sponsor=OK, other_sponsor=DENIED, manager=OK)
SPONSOR_PAGE |= {"other_manager": DENIED, "superuser": OK}
SPONSOR_REDIRECT = {role: REDIRECT if seen == OK else seen for role, seen in SPONSOR_PAGE.items()}
PUBLIC = expect(OK)
SIGNED_IN_ONLY = expect(LOGIN, **dict.fromkeys(SIGNED_IN, OK))

note_id = {"note_id": lambda w: w.note.pk}
pair_id = {"pair_id": lambda w: w.pair.pk}
meeting_id = {"meeting_id": lambda w: w.meeting.pk}

ROWS: dict[str, tuple[Build, dict[str, str]]] = {
    "home": (page("home"), PUBLIC),
    "healthz": (page("healthz"), PUBLIC),
    # The intake: A's link opens A's form; B and C have intake links of their own.
    "programmes:intake": (link("programmes:intake", Purpose.INTAKE), PARTICIPANT_PAGE),
    # Their intakes are submitted: a draft of one is refused as a conflict.
    "programmes:intake_draft": (
        link("programmes:intake_draft", Purpose.INTAKE, method="POST"),
        expect(LINK, participant_a="409", participant_b="409", participant_c="409"),
    ),
    "programmes:intake_done": (link("programmes:intake_done", Purpose.INTAKE), PARTICIPANT_PAGE),
    # Each pair's pages are under its id (/pair/<token>/<pair_id>/…, the first path of each
    # name; the older paths without it are in tests/pairs/test_pair_chooser.py): A and B
    # reach their pair A–B, C is in another pair and gets the page saying the link is not
    # theirs, with how to get their own.
    "pairs:pair": (link("pairs:pair", Purpose.PAIR, **pair_id), A_AND_B_PAIR),
    # Accepting A and B's agreement.
    "pairs:pair_agreement": (
        link(
            "pairs:pair_agreement",
            Purpose.PAIR,
            method="POST",
            data=lambda w: {"action": "accept", "agreement_id": w.pair.agreements.last().pk},
            **pair_id,
        ),
        expect(LINK, participant_a=REDIRECT, participant_b=REDIRECT),
    ),
    "pairs:pair_note_create": (
        link(
            "pairs:pair_note_create",
            Purpose.PAIR,
            method="POST",
            data=lambda w: {"text": "A note", "submission": str(uuid4())},
            **pair_id,
        ),
        expect(LINK, participant_a=REDIRECT, participant_b=REDIRECT),
    ),
    # Only A may share A's note.
    "pairs:pair_note_share": (
        link(
            "pairs:pair_note_share",
            Purpose.PAIR,
            method="POST",
            data={"shared": "on"},
            **pair_id,
            **note_id,
        ),
        expect(LINK, participant_a=REDIRECT, participant_b=DENIED),
    ),
    "pairs:pair_story_consent": (
        link(
            "pairs:pair_story_consent",
            Purpose.PAIR,
            method="POST",
            data={"consent": "no"},
            story_id=lambda w: w.story.pk,
            **pair_id,
        ),
        expect(LINK, participant_a=REDIRECT, participant_b=REDIRECT),
    ),
    "pairs:pulse_start": (
        link("pairs:pulse_start", Purpose.PAIR, **pair_id, **meeting_id),
        expect(LINK, participant_a=REDIRECT, participant_b=REDIRECT),
    ),
    "pairs:meeting_schedule": (
        link("pairs:meeting_schedule", Purpose.PAIR, **pair_id),
        A_AND_B_PAIR,
    ),
    "pairs:meeting_edit": (
        link("pairs:meeting_edit", Purpose.PAIR, **pair_id, **meeting_id),
        A_AND_B_PAIR,
    ),
    "pairs:meeting_ics": (
        link("pairs:meeting_ics", Purpose.PAIR, **pair_id, **meeting_id),
        A_AND_B_PAIR,
    ),
    # Scoped links name one record: a link of B or C naming A's check-in is not theirs.
    "risks:checkin": (
        link("risks:checkin", Purpose.CHECKIN, scope=lambda w: w.checkin.pk),
        A_ONLY,
    ),
    "risks:checkin_done": (
        link("risks:checkin_done", Purpose.CHECKIN, scope=lambda w: w.checkin.pk),
        A_ONLY | {"participant_a": REDIRECT},  # to the question, not answered yet
    ),
    "surveys:pulse": (
        link("surveys:pulse", Purpose.PULSE, scope=lambda w: w.meeting.pk),
        expect(LINK, participant_a=OK, participant_b=OK),
    ),
    "surveys:pulse_thanks": (
        link("surveys:pulse_thanks", Purpose.PULSE, scope=lambda w: w.meeting.pk),
        expect(LINK, participant_a=OK, participant_b=OK),
    ),
    "surveys:feedback": (
        link("surveys:feedback", Purpose.FEEDBACK, scope=lambda w: MIDPOINT),
        PARTICIPANT_PAGE,
    ),
    "surveys:feedback_thanks": (
        link("surveys:feedback_thanks", Purpose.FEEDBACK, scope=lambda w: MIDPOINT),
        PARTICIPANT_PAGE,
    ),
    "surveys:resend_link": (page("surveys:resend_link"), PUBLIC),
    # Sponsors' pages.
    "reporting:sponsor_index": (page("reporting:sponsor_index"), SIGNED_IN_ONLY),
    "reporting:sponsor_programme": (
        page("reporting:sponsor_programme", slug=lambda w: w.programme.slug),
        SPONSOR_REDIRECT,  # to the latest month
    ),
    "reporting:sponsor_status": (
        page(
            "reporting:sponsor_status",
            slug=lambda w: w.programme.slug,
            month=lambda w: w.meeting.starts_at.strftime("%Y-%m"),
        ),
        SPONSOR_PAGE,
    ),
    "reporting:sponsor_figures_csv": (
        page(
            "reporting:sponsor_figures_csv",
            slug=lambda w: w.programme.slug,
            month=lambda w: w.meeting.starts_at.strftime("%Y-%m"),
        ),
        SPONSOR_PAGE,
    ),
    "reporting:sponsor_chart": (
        page(
            "reporting:sponsor_chart",
            slug=lambda w: w.programme.slug,
            kpi=lambda w: "session_frequency",
        ),
        SPONSOR_PAGE,
    ),
    # Signing in and out.
    "after_login": (page("after_login"), expect(LOGIN, **dict.fromkeys(SIGNED_IN, REDIRECT))),
    "password_reset": (page("password_reset"), PUBLIC),
    "password_reset_confirm": (
        page("password_reset_confirm", uidb64=lambda w: "MQ", token=lambda w: "set-password"),
        PUBLIC,
    ),
    "login": (page("login"), PUBLIC),
    "logout": (page("logout", method="POST"), expect(REDIRECT)),
    "password_change": (page("password_change"), SIGNED_IN_ONLY),
    "password_change_done": (page("password_change_done"), SIGNED_IN_ONLY),
    "password_reset_done": (page("password_reset_done"), PUBLIC),
    "password_reset_complete": (page("password_reset_complete"), PUBLIC),
}

# --- The admin ------------------------------------------------------------------------------
# What a programme manager may do with each model in the admin; a superuser may do all that
# the model's admin offers anyone (SUPERUSER_MAY lists the exceptions).
VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL = frozenset({VIEW, ADD, CHANGE, DELETE})
READ_ONLY = frozenset({VIEW})
MANAGER_MAY: dict[str, frozenset[str]] = {
    "auth.user": READ_ONLY,
    "auth.group": frozenset(),
    # Only an organisation administrator adds or deletes a programme (#18).
    "programmes.programme": frozenset({VIEW, CHANGE}),
    # The organisation's settings: organisation administrators only (#18).
    "programmes.organisationsettings": frozenset(),
    "programmes.cohort": ALL,
    "programmes.person": ALL,
    "programmes.participant": ALL,
    "pairs.pair": READ_ONLY,
    "pairs.meeting": READ_ONLY,
    # The guide and the wording opened are the organisation's defaults, which managers read
    # (their own programmes' they change: tests/security/test_outbox_scope.py).
    "pairs.guide": frozenset({VIEW, ADD}),
    "risks.riskflag": frozenset({VIEW, CHANGE}),
    "reporting.successstory": ALL,
    "reporting.sponsorask": ALL,
    "matching.matchingpolicy": ALL,
    "matching.pairrule": ALL,
    "matching.matchingrun": frozenset({VIEW, CHANGE, DELETE}),
    "surveys.linkrequest": frozenset({VIEW, DELETE}),
    "surveys.pulse": READ_ONLY,
    "surveys.npsresponse": READ_ONLY,
    "notifications.notification": READ_ONLY,
    "notifications.messagetemplate": frozenset({VIEW, ADD}),
    # The audit trail: read, never written, through the admin (audit/models.py).
    "audit.auditentry": READ_ONLY,
}
SUPERUSER_MAY: dict[str, frozenset[str]] = {
    label: MANAGER_MAY[label]
    for label in (
        "pairs.pair",
        "pairs.meeting",
        "risks.riskflag",
        "matching.matchingrun",
        "surveys.linkrequest",
        "surveys.pulse",
        "surveys.npsresponse",
    )
} | {
    "notifications.notification": frozenset({VIEW, DELETE}),
    # Its one row is changed, never added nor deleted.
    "programmes.organisationsettings": frozenset({VIEW, CHANGE}),
    "audit.auditentry": READ_ONLY,
}
NEEDS = {"changelist": VIEW, "add": ADD, "change": VIEW, "delete": DELETE, "history": VIEW}
STAFF = ("manager", "other_manager", "superuser")


def _admin_expect(
    may_manager: frozenset[str], may_superuser: frozenset[str], needs: str, *, a_s_record: bool
):
    """``a_s_record``: the page is about one record of programme A, which another
    programme's manager must not even know exists (#18); on a list they see their own rows
    only (tests/security/test_programme_scope.py)."""

    def can(may: frozenset[str]) -> str:
        allowed = needs in may or (needs == VIEW and CHANGE in may)
        return OK if allowed else DENIED

    other = can(may_manager)
    if a_s_record and other == OK:
        other = NOT_FOUND
    return expect(
        LOGIN,
        manager=can(may_manager),
        other_manager=other,
        superuser=can(may_superuser),
    )


def _scoped(model) -> bool:
    """Whether the model's admin shows each manager only their programmes' records (the
    directory of people, the link requests and the outbox are shared)."""
    return isinstance(site._registry[model], ProgrammeScopedAdmin) and (
        model._meta.label_lower not in SHARED_RECORDS
    )


# Scoped models whose record opened here is shared by every programme: the world's first
# guide and wording are the organisation's defaults (no programme), which every manager reads.
SHARED_RECORDS = {"pairs.guide", "notifications.messagetemplate"}


def _any_of(model) -> Callable[[World], str]:
    def first(world: World) -> str:
        instance = model._default_manager.order_by("pk").first()
        assert instance is not None, f"the world has no {model._meta.label}: add one"
        return str(instance.pk)

    return first


# Where a model holds A's words, its admin pages are opened on A's own record.
A_RECORDS: dict[str, Callable[[World], object]] = {
    "programmes.participant": lambda w: w.a,
    "programmes.person": lambda w: w.a.person,
    "pairs.pair": lambda w: w.pair,
    "pairs.meeting": lambda w: w.meeting,
    "reporting.successstory": lambda w: w.story,
    "surveys.pulse": lambda w: w.meeting.pulses.get(participant=w.a),
    "surveys.npsresponse": lambda w: w.a.nps.get(),
    "audit.auditentry": lambda w: AuditEntry.objects.filter(programme=w.programme).earliest("pk"),
}


def _record_of(model) -> Callable[[World], str]:
    label = model._meta.label_lower
    if label in A_RECORDS:
        return lambda world: str(A_RECORDS[label](world).pk)
    return _any_of(model)


def _admin_rows() -> dict[str, tuple[Build, dict[str, str]]]:
    rows = {}
    for model in site._registry:
        label = model._meta.label_lower
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        manager, superuser = MANAGER_MAY[label], SUPERUSER_MAY.get(label, ALL)
        for view, needs in NEEDS.items():
            ids = (
                {"object_id": _record_of(model)} if view in ("change", "delete", "history") else {}
            )
            rows[f"admin:{info}_{view}"] = (
                page(f"admin:{info}_{view}", **ids),
                _admin_expect(manager, superuser, needs, a_s_record=bool(ids) and _scoped(model)),
            )
        # Django's own redirect from <id>/ to <id>/change/, which then asks to sign in.
        app, name = model._meta.app_label, model._meta.model_name
        if label == "matching.matchingrun":  # a run's page is its review
            rows[f"admin:{info}_change"] = (
                rows[f"admin:{info}_change"][0],
                expect(LOGIN, **dict.fromkeys(STAFF, REDIRECT)) | {"other_manager": NOT_FOUND},
            )
        rows[f"admin/{app}/{name}/<path:object_id>/"] = (
            lambda world, role, model=model, app=app, name=name: Call(
                "GET", f"/admin/{app}/{name}/{_any_of(model)(world)}/"
            ),
            expect(LOGIN, **dict.fromkeys(STAFF, REDIRECT)),
        )
    return rows


def _person_of_a_only(world: World) -> str:
    elsewhere = Participant.objects.exclude(cohort__programme=world.programme)
    person = (
        Person.objects.filter(participations__cohort__programme=world.programme)
        .exclude(participations__in=elsewhere)
        .order_by("pk")
        .first()
    )
    assert person is not None, "the world has nobody taking part in A only"
    return str(person.pk)


STAFF_ONLY = expect(LOGIN, manager=OK, other_manager=OK, superuser=OK)
# A custom page about one of programme A's records: another programme's manager gets the 404
# of a record that does not exist.
A_S_PAGE = STAFF_ONLY | {"other_manager": NOT_FOUND}
run_id = {"run_id": _any_of(MatchingRun)}
ADMIN_ROWS: dict[str, tuple[Build, dict[str, str]]] = {
    "admin:index": (page("admin:index"), STAFF_ONLY),
    "admin:login": (page("admin:login"), expect(OK, **dict.fromkeys(STAFF, REDIRECT))),
    "admin:logout": (page("admin:logout", method="POST"), expect(REDIRECT)),
    "admin:password_change": (page("admin:password_change"), STAFF_ONLY),
    "admin:password_change_done": (page("admin:password_change_done"), STAFF_ONLY),
    "admin:autocomplete": (
        page("admin:autocomplete"),
        expect(LOGIN, **dict.fromkeys(STAFF, DENIED)),
    ),
    "admin:jsi18n": (page("admin:jsi18n"), STAFF_ONLY),
    "admin:view_on_site": (
        page(
            "admin:view_on_site",
            content_type_id=lambda w: ContentType.objects.get_for_model(Programme).pk,
            object_id=lambda w: w.programme.pk,
        ),
        expect(LOGIN, **dict.fromkeys(STAFF, DENIED)),
    ),
    # Setting someone's password: only an organisation administrator (a superuser).
    "admin:auth_user_password_change": (
        page("admin:auth_user_password_change", id=lambda w: w.users["sponsor"].pk),
        expect(LOGIN, manager=DENIED, other_manager=DENIED, superuser=OK),
    ),
    "admin:app_list": (page("admin:app_list", app_label=lambda w: "surveys"), STAFF_ONLY),
    "admin/(?P<url>.*)$": (
        lambda world, role: Call("GET", "/admin/no-such-page/"),
        expect(LOGIN, **dict.fromkeys(STAFF, DENIED)),
    ),
    "admin:programmes_programme_kpis": (
        page("admin:programmes_programme_kpis", object_id=lambda w: w.programme.pk),
        A_S_PAGE,
    ),
    "admin:programmes_cohort_diagnosis": (
        page("admin:programmes_cohort_diagnosis", cohort_id=_any_of(Cohort)),
        A_S_PAGE,
    ),
    "admin:programmes_cohort_backtest": (
        page("admin:programmes_cohort_backtest", cohort_id=_any_of(Cohort)),
        A_S_PAGE,
    ),
    "admin:programmes_participant_import": (
        page("admin:programmes_participant_import"),
        STAFF_ONLY,
    ),
    "admin:risks_riskflag_rematch": (
        page("admin:risks_riskflag_rematch", flag_id=_any_of(RiskFlag)),
        A_S_PAGE,
    ),
    "admin:matching_matchingrun_start": (page("admin:matching_matchingrun_start"), STAFF_ONLY),
    # "Match this participant now", opened on A (already paired: the page says so).
    "admin:matching_matchingrun_match_one": (
        page("admin:matching_matchingrun_match_one", participant_id=lambda w: w.a.pk),
        A_S_PAGE,
    ),
    "admin:matching_matchingrun_review": (
        page("admin:matching_matchingrun_review", **run_id),
        A_S_PAGE,
    ),
    "admin:matching_matchingrun_progress": (
        page("admin:matching_matchingrun_progress", **run_id),
        A_S_PAGE,
    ),
    **{
        f"admin:matching_matchingrun_{action}": (
            page(f"admin:matching_matchingrun_{action}", method="POST", **run_id),
            expect(LOGIN, **dict.fromkeys(STAFF, REDIRECT)) | {"other_manager": NOT_FOUND},
        )
        for action in ("rule", "partner", "swap", "rerun", "approve")
    },
    # A preview of unsaved wording is posted from the form; a plain visit goes back to it.
    # The shared directory: a person taking part in A only, whom only A's manager (and an
    # administrator) may delete; the page would list A's participations (#18).
    "admin:programmes_person_delete": (
        page("admin:programmes_person_delete", object_id=_person_of_a_only),
        expect(LOGIN, manager=OK, other_manager=DENIED, superuser=OK),
    ),
    # The form to download the trail: each reader chooses among their own programmes.
    "admin:audit_auditentry_export": (page("admin:audit_auditentry_export"), STAFF_ONLY),
    "admin:notifications_messagetemplate_preview_unsaved": (
        page("admin:notifications_messagetemplate_preview_unsaved"),
        expect(LOGIN, **dict.fromkeys(STAFF, REDIRECT)),
    ),
    "admin:notifications_messagetemplate_preview": (
        page("admin:notifications_messagetemplate_preview", object_id=_any_of(MessageTemplate)),
        STAFF_ONLY,
    ),
}
MATRIX = ROWS | _admin_rows() | ADMIN_ROWS


def test_it_has_a_row_for_every_url() -> None:
    served = {route.key for route in routes()}
    assert sorted(served - MATRIX.keys()) == [], "URLs without a row in the permission matrix"
    assert sorted(MATRIX.keys() - served) == [], "rows for URLs the project no longer serves"


def _client_for(world: World, role: str) -> Client:
    client = Client()
    if role in SIGNED_IN:
        client.force_login(world.users[role])
    return client


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_only_what_its_row_allows(world: World, role: str) -> None:
    client = _client_for(world, role)
    wrong, leaks = [], []
    for key, (build, expected) in MATRIX.items():
        call = build(world, role)
        response = getattr(client, call.method.lower())(call.url, call.data)
        got = outcome_of(response)
        if not matches(got, expected[role]):
            status = response.status_code
            wrong.append(
                f"{key}: {call.method} {call.url} -> {got} ({status}), not {expected[role]}"
            )
        if role != "participant_a":
            body = b"".join(response) if response.streaming else response.content
            leaks += [
                f"{key}: shows A's {what}"
                for what, secret in SECRETS.items()
                if secret.encode() in body
            ]
        if role in SIGNED_IN and call.url.endswith("logout/"):
            client = _client_for(world, role)
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)


def test_the_planted_words_are_on_a_s_own_pages(world: World) -> None:
    """The search for leaks means something only if A's words are on the pages A opens."""
    pair_page = Client().get(reverse("pairs:pair", args=[world.token(world.a, Purpose.PAIR)]))
    assert SECRETS["note"] in pair_page.content.decode()
    assert SECRETS["learning"] in pair_page.content.decode()
    intake = Client().get(reverse("programmes:intake", args=[world.token(world.a, Purpose.INTAKE)]))
    assert SECRETS["objectives"] in intake.content.decode()
