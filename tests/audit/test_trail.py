"""The audit trail (issue #18): each audited action of a manager or an administrator writes
exactly one entry, with who, the event and the programme; every event has its scenario here,
so a new one fails until it is tried. The trail is append-only."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from matching import services as matching
from matching.late import participant_match_now
from matching.models import MatchingRun
from notifications.models import MessageTemplate
from pairs.models import Pair
from programmes.admin_import import EXAMPLE_CSV
from programmes.models import Cohort, Programme, Role
from programmes.scoping import ORG_ADMINS_GROUP
from programmes.services import cohort_intake_close, cohort_intake_reopen
from reporting.sponsor import HEADLINE
from risks import remediation
from risks.models import RiskFlag
from tests.factories import CohortFactory, ParticipantFactory, RiskFlagFactory, UserFactory
from tests.matching.test_admin_review import _participant, _wave
from tests.reporting.test_sponsor import NOVEMBER, snap
from tests.risks.remediation_helpers import rematchable_pair, spare
from tests.security.test_programme_scope import _form_data

pytestmark = pytest.mark.django_db

Event = AuditEntry.Event


@dataclass
class Scene:
    programme: Programme
    manager: User
    org_admin: User
    capture: Callable

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


# A scenario sets the scene up and returns the action to audit, who does it and the
# programme its entry belongs to (None: the organisation's).
Act = tuple[Callable[[], object], User, Programme | None]


def _roles_form(scene: Scene, **roles: list[User]) -> Act:
    client = scene.client(scene.org_admin)
    url = reverse("admin:programmes_programme_change", args=[scene.programme.pk])
    data = _form_data(client.get(url))
    for field, users in roles.items():
        data.pop(field, None)
        if users:
            data[field] = [str(user.pk) for user in users]

    def act() -> None:
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors

    return act, scene.org_admin, scene.programme


def role_granted(scene: Scene) -> Act:
    return _roles_form(scene, sponsors=[UserFactory(username="newsponsor")])


def role_revoked(scene: Scene) -> Act:
    scene.programme.sponsors.add(UserFactory(username="oldsponsor"))
    return _roles_form(scene, sponsors=[])


def people_imported(scene: Scene) -> Act:
    client = scene.client(scene.manager)
    cohort = CohortFactory(programme=scene.programme, status=Cohort.Status.INTAKE)
    url = reverse("admin:programmes_participant_import")
    upload = SimpleUploadedFile("people.csv", EXAMPLE_CSV.encode(), content_type="text/csv")
    preview = client.post(url, {"file": upload, "cohort": cohort.pk}).context["preview"]
    assert preview

    def act() -> None:
        assert client.post(url, {"preview": preview}).status_code == 302

    return act, scene.manager, scene.programme


def invitations_sent(scene: Scene) -> Act:
    client = scene.client(scene.manager)
    cohort = CohortFactory(programme=scene.programme, status=Cohort.Status.INTAKE)
    participant = ParticipantFactory(cohort=cohort)
    data = {"action": "send_intake_invitations", ACTION_CHECKBOX_NAME: [participant.pk]}
    url = reverse("admin:programmes_participant_changelist")
    return lambda: client.post(url, data), scene.manager, scene.programme


def intake_closed(scene: Scene) -> Act:
    cohort = CohortFactory(programme=scene.programme, status=Cohort.Status.INTAKE)
    return (
        lambda: cohort_intake_close(cohort=cohort, by=scene.manager),
        scene.manager,
        scene.programme,
    )


def intake_reopened(scene: Scene) -> Act:
    cohort = CohortFactory(programme=scene.programme, status=Cohort.Status.INTAKE)
    cohort_intake_close(cohort=cohort, by=scene.manager)

    def act() -> None:
        cohort_intake_reopen(cohort=cohort, by=scene.manager, invite_again=True)

    return act, scene.manager, scene.programme


def _closed_wave(scene: Scene):
    wave = _wave(scene.programme)
    cohort_intake_close(cohort=wave.cohort, by=scene.manager)
    return wave


def matching_started(scene: Scene) -> Act:
    wave = _closed_wave(scene)

    def act() -> None:
        matching.matching_run_start(cohort=wave.cohort, user=scene.manager)

    return act, scene.manager, scene.programme


def matching_approved(scene: Scene) -> Act:
    wave = _closed_wave(scene)
    with scene.capture(execute=True):
        run = matching.matching_run_start(cohort=wave.cohort, user=scene.manager)

    def act() -> None:
        matching.matching_run_approve(run=MatchingRun.objects.get(pk=run.pk), user=scene.manager)

    return act, scene.manager, scene.programme


def pair_matched(scene: Scene) -> Act:
    wave = _closed_wave(scene)
    with scene.capture(execute=True):
        run = matching.matching_run_start(cohort=wave.cohort, user=scene.manager)
    matching.matching_run_approve(run=MatchingRun.objects.get(pk=run.pk), user=scene.manager)
    cohort_intake_reopen(cohort=wave.cohort, by=scene.manager, invite_again=False)
    wave.cohort.refresh_from_db()
    cleo = _participant(wave.cohort, "Cleo Late", Role.MENTEE)

    def act() -> None:
        participant_match_now(participant=cleo, by=scene.manager, expected_partner=wave.zoe)

    return act, scene.manager, scene.programme


def _pair(scene: Scene) -> Pair:
    return rematchable_pair(programme=scene.programme)


def pair_paused(scene: Scene) -> Act:
    pair = _pair(scene)
    return (
        lambda: remediation.pair_pause_for_month(pair=pair, by=scene.manager),
        scene.manager,
        scene.programme,
    )


def pair_rematched(scene: Scene) -> Act:
    pair = _pair(scene)
    spare(pair, "Ola One", [9])
    flag = RiskFlagFactory(pair=pair, rule=RiskFlag.Rule.NOT_A_GOOD_FIT)

    def act() -> None:
        remediation.pair_rematch(pair=pair, by=scene.manager, flag=flag, note="A new start.")

    return act, scene.manager, scene.programme


def pair_ended(scene: Scene) -> Act:
    pair = _pair(scene)
    RiskFlagFactory(pair=pair)  # resolved by the ending, in the same entry

    def act() -> None:
        remediation.pair_end(pair=pair, by=scene.manager, note="Both moved on.")

    return act, scene.manager, scene.programme


def flag_resolved(scene: Scene) -> Act:
    flag = RiskFlagFactory(pair=_pair(scene))

    def act() -> None:
        remediation.flag_resolve(flag=flag, by=scene.manager, note="Talked to both.")

    return act, scene.manager, scene.programme


def wording_changed(scene: Scene) -> Act:
    """A manager writes their programme's own wording of a message."""
    client = scene.client(scene.manager)
    default = MessageTemplate.objects.filter(programme=None).order_by("pk").first()
    assert default is not None  # every kind has its default wording (notifications/defaults.py)
    url = reverse("admin:notifications_messagetemplate_add")
    data = {
        "programme": scene.programme.pk,
        "kind": default.kind,
        "language": "",
        "subject": "Our own subject",
        "body_text": default.body_text,
        "body_html": default.body_html,
    }

    def act() -> None:
        response = client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors

    return act, scene.manager, scene.programme


def export_downloaded(scene: Scene) -> Act:
    client = scene.client(scene.manager)
    cohort = CohortFactory(programme=scene.programme)
    url = reverse("admin:programmes_cohort_diagnosis", args=[cohort.pk])

    def act() -> None:
        response = client.get(url, {"format": "csv"})
        assert response["Content-Type"].startswith("text/csv")

    return act, scene.manager, scene.programme


SCENARIOS: dict[str, Callable[[Scene], Act]] = {
    Event.ROLE_GRANTED: role_granted,
    Event.ROLE_REVOKED: role_revoked,
    Event.PEOPLE_IMPORTED: people_imported,
    Event.INVITATIONS_SENT: invitations_sent,
    Event.INTAKE_CLOSED: intake_closed,
    Event.INTAKE_REOPENED: intake_reopened,
    Event.MATCHING_STARTED: matching_started,
    Event.MATCHING_APPROVED: matching_approved,
    Event.PAIR_MATCHED: pair_matched,
    Event.PAIR_PAUSED: pair_paused,
    Event.PAIR_REMATCHED: pair_rematched,
    Event.PAIR_ENDED: pair_ended,
    Event.FLAG_RESOLVED: flag_resolved,
    Event.WORDING_CHANGED: wording_changed,
    Event.EXPORT_DOWNLOADED: export_downloaded,
}


@pytest.fixture
def org_admin(db: None) -> User:
    user = UserFactory(username="olga", first_name="Olga", is_staff=True)
    user.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    return user


@pytest.fixture
def scene(programme, manager, org_admin, django_capture_on_commit_callbacks) -> Scene:
    return Scene(programme, manager, org_admin, django_capture_on_commit_callbacks)


def test_every_event_has_its_scenario() -> None:
    assert set(SCENARIOS) == set(Event)


def _new_entries(act: Callable[[], object]) -> list[AuditEntry]:
    before = list(AuditEntry.objects.values_list("pk", flat=True))
    act()
    return list(AuditEntry.objects.exclude(pk__in=before).select_related("actor"))


@pytest.mark.parametrize("event", list(Event), ids=str)
def test_each_audited_action_writes_exactly_one_entry(event: str, scene: Scene) -> None:
    act, actor, programme = SCENARIOS[event](scene)

    entries = _new_entries(act)

    assert [(e.event, e.actor, e.programme_id) for e in entries] == [
        (event, actor, None if programme is None else programme.pk)
    ]
    entry = entries[0]
    assert entry.actor_email == actor.email
    assert entry.programme_name == ("" if programme is None else programme.name)
    assert entry.object_repr


@pytest.mark.parametrize("export", ["diagnosis", "sponsor", "audit"])
def test_each_export_download_writes_one_entry(export: str, scene: Scene) -> None:
    sponsor = UserFactory(username="sam")
    scene.programme.sponsors.add(sponsor)
    cohort = CohortFactory(programme=scene.programme)
    for measure in HEADLINE:
        snap(scene.programme, NOVEMBER, measure.kpi, 0.5)
    who, url, query = {
        "diagnosis": (
            scene.manager,
            reverse("admin:programmes_cohort_diagnosis", args=[cohort.pk]),
            {"format": "csv"},
        ),
        "sponsor": (
            sponsor,
            reverse("reporting:sponsor_figures_csv", args=[scene.programme.slug, NOVEMBER]),
            {},
        ),
        "audit": (
            scene.manager,
            reverse("admin:audit_auditentry_export"),
            {"programme": scene.programme.pk, "since": "2026-01-01", "until": "2026-12-31"},
        ),
    }[export]
    client = scene.client(who)

    entries = _new_entries(lambda: client.get(url, query))

    assert [(e.event, e.actor, e.programme_id) for e in entries] == [
        (Event.EXPORT_DOWNLOADED, who, scene.programme.pk)
    ]


def test_refused_actions_write_nothing(scene: Scene) -> None:
    """An action refused (a pair paused twice, a flag resolved twice) leaves no entry."""
    pair = _pair(scene)
    flag = RiskFlagFactory(pair=pair)
    remediation.pair_pause_for_month(pair=pair, by=scene.manager)
    remediation.flag_resolve(flag=flag, by=scene.manager, note="Done.")
    count = AuditEntry.objects.count()
    for again in (
        lambda: remediation.pair_pause_for_month(pair=pair, by=scene.manager),
        lambda: remediation.flag_resolve(flag=flag, by=scene.manager, note="Again."),
    ):
        with pytest.raises(Exception):  # noqa: B017, PT011 (each says why in its own words)
            again()
    assert AuditEntry.objects.count() == count


# --- Append-only ----------------------------------------------------------------------------


def test_an_entry_is_never_changed_nor_deleted_through_the_model(scene: Scene) -> None:
    act, _, _ = flag_resolved(scene)
    entry = _new_entries(act)[0]
    entry.object_repr = "rewritten"
    with pytest.raises(TypeError, match="never changed"):
        entry.save()
    with pytest.raises(TypeError, match="never deleted"):
        entry.delete()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's (CI runs there)"
)
def test_the_database_refuses_to_change_or_delete_an_entry(scene: Scene) -> None:
    act, _, _ = flag_resolved(scene)
    entry = _new_entries(act)[0]
    for attempt in (
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(object_repr="rewritten"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).update(actor=None, event="role_granted"),
        lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert (entry.object_repr, entry.event) != ("rewritten", "role_granted")


def test_deleting_an_actor_keeps_their_entries_and_who_they_were(scene: Scene) -> None:
    act, actor, _ = flag_resolved(scene)
    entry = _new_entries(act)[0]
    email = actor.email
    actor.delete()
    entry.refresh_from_db()
    assert (entry.actor, entry.actor_email, entry.event) == (None, email, Event.FLAG_RESOLVED)
