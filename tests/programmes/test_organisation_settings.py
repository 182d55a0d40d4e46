"""The organisation's settings (issue #18): one row holding the load cap and the minimum group,
which only organisation administrators see and change; every reader of either goes through
programmes/organisation.py, and a programme may ask for a bigger group, never a smaller one."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from matching.late import participant_match_preview
from pairs.models import Pair
from programmes.models import OrganisationSettings, Programme, Role
from programmes.roles import MANAGERS_GROUP
from programmes.scoping import ORG_ADMINS_GROUP
from reporting.models import KpiSnapshot
from reporting.sponsor import min_group, sponsor_status, sponsor_status_path
from tests.factories import CohortFactory, ParticipantFactory, UserFactory
from tests.matching.test_services import mentee, mentor, reasons_of, run
from tests.programmes.test_migration_withdrawn import _migrate
from tests.reporting.test_sponsor import NOVEMBER, snap
from tests.security.test_programme_scope import _form_data

pytestmark = pytest.mark.django_db

# --- Who reads the two values -----------------------------------------------------------------
# The settings they began as, and the fields that hold them now.
SETTINGS_NAMES = {"MAX_MENTORING_LOAD", "SPONSOR_MIN_GROUP"}
FIELD_NAMES = {"max_mentoring_load", "min_group_size"}
# The only modules that may read them: the row itself and the functions that give the value
# in force (the larger of the organisation's and the programme's minimum).
READERS = {"programmes/models/organisation.py", "programmes/organisation.py"}
SKIPPED = {".venv", "node_modules", "tests", "migrations", "settings", "bench", "static"}


def _reads(tree: ast.AST) -> list[str]:
    """Attribute reads of the values: ``settings.MAX_MENTORING_LOAD``, ``x.min_group_size``."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load)
            and node.attr in FIELD_NAMES | SETTINGS_NAMES
        ):
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_only_the_organisation_module_reads_the_load_cap_or_the_minimum_group() -> None:
    root = Path(settings.BASE_DIR)
    readers: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED & set(relative.parts):
            continue
        reads = _reads(ast.parse(path.read_text()))
        if reads:
            readers[str(relative)] = reads
    # The scan finds what it looks for: the allowed modules do read them.
    assert set(readers) >= READERS
    assert {name: reads for name, reads in readers.items() if name not in READERS} == {}, (
        "read the value in force through programmes/organisation.py"
    )


# --- The row ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_the_row_from_the_settings(settings) -> None:
    settings.MAX_MENTORING_LOAD, settings.SPONSOR_MIN_GROUP = 3, 7
    try:
        _migrate([("programmes", "0016_move_pairs_risks_reporting_out")])
        apps = _migrate([("programmes", "0017_organisation_settings")])
        row = apps.get_model("programmes", "OrganisationSettings").objects.get()
        assert (row.pk, row.max_mentoring_load, row.min_group_size) == (1, 3, 7)
    finally:
        _migrate()


def test_there_is_only_ever_one_row(organisation: OrganisationSettings) -> None:
    assert OrganisationSettings.load().pk == organisation.pk == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationSettings.objects.create(pk=2, max_mentoring_load=2, min_group_size=5)
    assert OrganisationSettings.objects.count() == 1


def test_a_flushed_row_is_made_again_from_the_settings(settings) -> None:
    settings.MAX_MENTORING_LOAD, settings.SPONSOR_MIN_GROUP = 4, 9
    OrganisationSettings.objects.all().delete()
    row = OrganisationSettings.load()
    assert (row.max_mentoring_load, row.min_group_size) == (4, 9)


# --- Every reader follows the organisation's values -------------------------------------------


def test_the_sponsors_status_hides_groups_below_the_organisation_s_minimum(
    programme: Programme, organisation: OrganisationSettings, sponsor: User, client: Client
) -> None:
    organisation.min_group_size = 8
    organisation.save()
    programme.min_group_size = 5  # asks for less: the organisation's floor holds
    programme.save()
    snap(programme, NOVEMBER, KpiSnapshot.Kpi.NOTES_LOGGED, 0.9, people=7)
    snap(programme, NOVEMBER, KpiSnapshot.Kpi.ACTION_COMMITMENT, 0.9, people=8)

    status = sponsor_status(programme=programme, month=NOVEMBER)
    assert status.min_group == 8
    client.force_login(sponsor)
    page = client.get(sponsor_status_path(programme, NOVEMBER)).content.decode()
    assert "fewer than 8 responses" in page
    assert "90%" in page  # the figure from eight people

    programme.min_group_size = 10  # a programme asking for more gets more
    programme.save()
    assert min_group(programme) == 10


@pytest.fixture
def cohort():
    return CohortFactory()


def _pair_elsewhere(person) -> None:
    other = CohortFactory()
    Pair.objects.create(
        cohort=other,
        mentee=ParticipantFactory(cohort=other),
        reverse_mentor=ParticipantFactory(cohort=other, person=person, role=Role.REVERSE_MENTOR),
    )


def test_matching_caps_anyone_s_load_at_the_organisation_s_value(
    cohort, organisation: OrganisationSettings, settings
) -> None:
    settings.MAX_MENTORING_LOAD = 5  # the initial default only: the row decides
    organisation.max_mentoring_load = 1
    organisation.save()
    waiting = mentee(cohort)
    popular = mentor(cohort, capacity=2)
    _pair_elsewhere(popular.person)

    result = run(cohort)
    assert not result.proposals.exists()
    assert reasons_of(result)[popular.pk] == "Already mentoring 1 elsewhere: at the cap of 1."
    with pytest.raises(ValidationError, match="no place left"):
        participant_match_preview(participant=popular)

    organisation.max_mentoring_load = 2
    organisation.save()
    assert set(run(cohort).proposals.values_list("mentee", "reverse_mentor")) == {
        (waiting.pk, popular.pk)
    }


# --- A programme's minimum --------------------------------------------------------------------


def _programme_form(client: Client, programme: Programme, **changes) -> dict:
    url = reverse("admin:programmes_programme_change", args=[programme.pk])
    return _form_data(client.get(url)) | changes


def test_a_manager_may_ask_for_a_bigger_group_never_a_smaller(
    programme: Programme, manager: User, organisation: OrganisationSettings, client: Client
) -> None:
    organisation.min_group_size = 6
    organisation.save()
    programme.min_group_size = 6
    programme.save()
    client.force_login(manager)
    url = reverse("admin:programmes_programme_change", args=[programme.pk])

    page = client.get(url)
    assert "minimum is 6: this programme may ask for more" in page.content.decode()
    response = client.post(url, _programme_form(client, programme, min_group_size="2"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["min_group_size"]
    assert errors == [
        "The organisation's minimum group is 6: a programme may ask for more, never fewer. "
        "An organisation administrator sets the organisation's minimum."
    ]
    programme.refresh_from_db()
    assert programme.min_group_size == 6

    response = client.post(url, _programme_form(client, programme, min_group_size="9"))
    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.min_group_size == 9


def test_raising_the_floor_does_not_block_a_programme_s_other_changes(
    programme: Programme, manager: User, organisation: OrganisationSettings, client: Client
) -> None:
    programme.min_group_size = 5
    programme.save()
    organisation.min_group_size = 8
    organisation.save()
    client.force_login(manager)
    url = reverse("admin:programmes_programme_change", args=[programme.pk])

    response = client.post(url, _programme_form(client, programme, purpose="Still ours."))

    assert response.status_code == 302
    programme.refresh_from_db()
    assert (programme.purpose, min_group(programme)) == ("Still ours.", 8)


# --- Organisation administrators only ---------------------------------------------------------


@pytest.fixture
def org_admin(db: None) -> User:
    user = UserFactory(username="olga", is_staff=True)
    user.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    return user


def _urls(row: OrganisationSettings) -> dict[str, str]:
    name = "admin:programmes_organisationsettings"
    return {
        "changelist": reverse(f"{name}_changelist"),
        "change": reverse(f"{name}_change", args=[row.pk]),
        "history": reverse(f"{name}_history", args=[row.pk]),
        "add": reverse(f"{name}_add"),
        "delete": reverse(f"{name}_delete", args=[row.pk]),
    }


def _sidebar(client: Client) -> set[str]:
    apps = client.get(reverse("admin:index")).context["app_list"]
    return {model["object_name"] for app in apps for model in app["models"]}


def test_a_manager_neither_sees_nor_changes_the_settings(
    manager: User, organisation: OrganisationSettings, client: Client
) -> None:
    client.force_login(manager)
    assert "OrganisationSettings" not in _sidebar(client)
    assert "Programme" in _sidebar(client)  # the check means something
    for view, url in _urls(organisation).items():
        assert client.get(url).status_code == 403, view
    response = client.post(
        _urls(organisation)["change"], {"max_mentoring_load": "9", "min_group_size": "2"}
    )
    assert response.status_code == 403
    assert client.post(_urls(organisation)["delete"], {"post": "yes"}).status_code == 403
    organisation.refresh_from_db()
    assert (organisation.max_mentoring_load, organisation.min_group_size) != (9, 2)
    assert OrganisationSettings.objects.count() == 1


@pytest.mark.parametrize("who", ["org_admin", "superuser"])
def test_an_organisation_administrator_changes_them_but_never_adds_or_deletes_the_row(
    who: str, org_admin: User, organisation: OrganisationSettings, client: Client
) -> None:
    user = org_admin if who == "org_admin" else UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    urls = _urls(organisation)
    assert "OrganisationSettings" in _sidebar(client)
    assert client.get(urls["changelist"]).status_code == 200
    assert client.get(urls["change"]).status_code == 200

    response = client.post(urls["change"], {"max_mentoring_load": "3", "min_group_size": "7"})

    assert response.status_code == 302
    organisation.refresh_from_db()
    assert (organisation.max_mentoring_load, organisation.min_group_size) == (3, 7)
    assert client.get(urls["add"]).status_code == 403
    assert (
        client.post(urls["add"], {"max_mentoring_load": "2", "min_group_size": "5"}).status_code
        == 403
    )
    assert client.post(urls["delete"], {"post": "yes"}).status_code == 403
    assert OrganisationSettings.objects.count() == 1


def test_the_smallest_group_cannot_be_set_below_two(
    org_admin: User, organisation: OrganisationSettings, client: Client
) -> None:
    client.force_login(org_admin)
    response = client.post(
        _urls(organisation)["change"], {"max_mentoring_load": "2", "min_group_size": "1"}
    )
    assert response.status_code == 200
    assert "min_group_size" in response.context["adminform"].form.errors


def test_only_the_organisation_administrators_group_holds_its_permissions(db: None) -> None:
    def codenames(group: str) -> set[str]:
        permissions = Group.objects.get(name=group).permissions
        return set(
            permissions.filter(content_type__model="organisationsettings").values_list(
                "codename", flat=True
            )
        )

    assert codenames(MANAGERS_GROUP) == set()
    assert codenames(ORG_ADMINS_GROUP) == {
        "view_organisationsettings",
        "change_organisationsettings",
    }
