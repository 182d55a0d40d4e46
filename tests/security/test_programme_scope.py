"""A manager of programme B in the admin (issue #18): none of programme A's rows in any list,
a 404 on A's object pages (tests/security/test_permission_matrix.py opens every one of them),
only B's programmes, cohorts, pairs and participants to choose from, no way to make
themselves A's manager or anyone a sponsor, and a revocation that takes effect on the next
request of a session already signed in. Organisation administrators see everything."""

from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from matching.models import PairRule
from notifications.models import MessageTemplate
from programmes.models import Cohort, Programme
from programmes.roles import MANAGERS_GROUP
from programmes.scoping import ORG_ADMINS_GROUP, ProgrammeScopedAdmin, is_org_admin
from tests.factories import CohortFactory, UserFactory
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

SCOPED = [
    model for model, admin in site._registry.items() if isinstance(admin, ProgrammeScopedAdmin)
]


@pytest.fixture
def world() -> World:
    world = build_world()
    CohortFactory(programme=world.other_programme, name="B's cohort")
    MessageTemplate.objects.create(
        kind="pulse_request",
        programme=world.programme,
        subject="A's own wording",
        body_text="{{ held_url }}",
    )
    return world


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _in(model, programme: Programme) -> dict[str, Any]:
    path = site._registry[model].programme_path
    return {path or "pk": programme.pk}


def test_every_programme_model_s_admin_is_scoped() -> None:
    """The models of the programme apps that belong to one programme, and the outbox and
    wording (tests/security/test_outbox_scope.py); the directory of people and the link
    requests (people, shared by every programme) are not."""
    labels = {model._meta.label_lower for model in SCOPED}
    assert labels == {
        "audit.auditentry",
        "programmes.programme",
        "programmes.cohort",
        "programmes.participant",
        "pairs.pair",
        "pairs.meeting",
        "pairs.guide",
        "matching.matchingpolicy",
        "matching.pairrule",
        "matching.matchingrun",
        "risks.riskflag",
        "reporting.successstory",
        "reporting.sponsorask",
        "surveys.pulse",
        "surveys.npsresponse",
        "notifications.notification",
        "notifications.messagetemplate",
    }


def test_a_manager_of_b_sees_none_of_a_s_rows_in_any_list(world: World) -> None:
    other, manager = _client(world.users["other_manager"]), _client(world.users["manager"])
    seen_by_a_s_manager = 0
    for model in SCOPED:
        response = other.get(_changelist(model))
        assert response.status_code == 200, model
        shown = response.context["cl"].queryset
        assert not shown.filter(**_in(model, world.programme)).exists(), model
        # Sidebar filters name no programme but B.
        for spec in response.context["cl"].filter_specs:
            for choice in getattr(spec, "lookup_choices", []):
                assert choice[1] != str(world.programme), (model, spec)
        mine = manager.get(_changelist(model)).context["cl"].queryset
        seen_by_a_s_manager += mine.filter(**_in(model, world.programme)).exists()
    # The check means something: A's manager sees A's rows in (almost) every list.
    assert seen_by_a_s_manager >= len(SCOPED) - 2
    # The block for good between two of A's people is not B's either.
    rule = PairRule.objects.get(cohort__isnull=True, mentee=world.a.person)
    shown = other.get(_changelist(PairRule)).context["cl"].queryset
    assert rule not in shown
    assert rule in manager.get(_changelist(PairRule)).context["cl"].queryset


def test_a_s_object_pages_answer_404_even_to_a_post(world: World) -> None:
    other = _client(world.users["other_manager"])
    url = reverse("admin:programmes_programme_change", args=[world.programme.pk])
    response = other.post(url, {"name": "Taken over"})
    assert response.status_code == 404
    assert other.get(reverse("admin:pairs_pair_change", args=[world.pair.pk])).status_code == 404
    world.programme.refresh_from_db()
    assert world.programme.name != "Taken over"


def test_foreign_key_choices_are_b_s_only(world: World) -> None:
    other = _client(world.users["other_manager"])
    b_cohorts = set(Cohort.objects.filter(programme=world.other_programme))

    form = other.get(reverse("admin:programmes_participant_add")).context["adminform"].form
    assert set(form.fields["cohort"].queryset) == b_cohorts
    for name in ("pairs_guide", "reporting_sponsorask", "matching_matchingpolicy"):
        form = other.get(reverse(f"admin:{name}_add")).context["adminform"].form
        assert set(form.fields["programme"].queryset) == {world.other_programme}, name
    form = other.get(reverse("admin:pairs_guide_add")).context["adminform"].form
    assert not form.fields["topic"].queryset.filter(programme=world.programme).exists()
    form = other.get(reverse("admin:programmes_cohort_add")).context["adminform"].form
    assert set(form.fields["programme"].queryset) == {world.other_programme}

    # A raw id typed in by hand is refused like a missing one.
    response = other.post(
        reverse("admin:matching_pairrule_add"),
        {
            "kind": PairRule.Kind.EXCLUDED,
            "cohort": world.pair.cohort_id,
            "mentee": world.a.person_id,
            "reverse_mentor": world.b.person_id,
        },
    )
    assert response.status_code == 200
    assert "cohort" in response.context["adminform"].form.errors
    assert not PairRule.objects.filter(kind=PairRule.Kind.EXCLUDED, mentee=world.a.person).exists()

    # Autocompletes (the stories' pair, the policy's programme) offer B's only.
    def autocomplete(app: str, model: str, field: str) -> set[str]:
        query = {"app_label": app, "model_name": model, "field_name": field, "term": ""}
        response = other.get(reverse("admin:autocomplete"), query)
        assert response.status_code == 200
        return {result["id"] for result in response.json()["results"]}

    assert autocomplete("reporting", "successstory", "pair") == set()
    assert autocomplete("matching", "matchingpolicy", "programme") == {
        str(world.other_programme.pk)
    }

    # The custom pages' choices: starting a matching run, importing people.
    start = other.get(reverse("admin:matching_matchingrun_start"))
    assert (
        not start.context["form"]
        .fields["cohort"]
        .queryset.filter(programme=world.programme)
        .exists()
    )
    upload = other.get(reverse("admin:programmes_participant_import")).context["upload"]
    assert set(upload.fields["cohort"].queryset) == b_cohorts


def _form_data(response) -> dict[str, Any]:
    """What the change page's form would post as shown: the form's and every inline's."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for name in form.fields:
            bound = form[name]
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[bound.html_name] = value
    return data


def test_a_manager_cannot_grant_a_role_through_the_programme_form(world: World) -> None:
    other = world.users["other_manager"]
    stranger = UserFactory(username="stranger")
    client = _client(other)
    b = world.other_programme
    url = reverse("admin:programmes_programme_change", args=[b.pk])

    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "managers" not in form.fields
    assert "sponsors" not in form.fields
    data = _form_data(page) | {
        "managers": [str(other.pk), str(stranger.pk)],
        "sponsors": [str(stranger.pk)],
        "purpose": "Changed by B's manager",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    b.refresh_from_db()
    assert b.purpose == "Changed by B's manager"  # the rest of the form is theirs to change
    assert set(b.managers.all()) == {other}
    assert not b.sponsors.filter(pk=stranger.pk).exists()

    # Nor through A's form, which is not there for them, nor by adding a programme.
    a_url = reverse("admin:programmes_programme_change", args=[world.programme.pk])
    assert client.post(a_url, data).status_code == 404
    assert not world.programme.managers.filter(pk=other.pk).exists()
    assert not world.programme.sponsors.filter(pk=stranger.pk).exists()
    assert client.get(reverse("admin:programmes_programme_add")).status_code == 403
    delete = reverse("admin:programmes_programme_delete", args=[b.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Programme.objects.filter(pk=b.pk).exists()


def test_an_organisation_administrator_grants_roles_and_sees_every_programme(
    world: World,
) -> None:
    admin_user = UserFactory(username="olga", is_staff=True)
    admin_user.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    assert is_org_admin(admin_user)
    assert admin_user.has_perms(["programmes.add_programme", "programmes.delete_programme"])
    client = _client(admin_user)
    shown = client.get(_changelist(Programme)).context["cl"].queryset
    assert {world.programme, world.other_programme} <= set(shown)
    assert client.get(reverse("admin:programmes_programme_add")).status_code == 200

    stranger = UserFactory(username="stranger")
    url = reverse("admin:programmes_programme_change", args=[world.other_programme.pk])
    page = client.get(url)
    data = _form_data(page) | {"sponsors": [str(stranger.pk)]}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert world.other_programme.sponsors.filter(pk=stranger.pk).exists()


def test_the_managers_group_neither_adds_nor_deletes_programmes(db: None) -> None:
    group = Group.objects.get(name=MANAGERS_GROUP)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert "change_programme" in codenames
    assert not {"add_programme", "delete_programme"} & codenames


def test_a_revocation_or_a_grant_takes_effect_on_the_next_request(world: World) -> None:
    other = world.users["other_manager"]
    client = _client(other)
    b_url = reverse("admin:programmes_programme_change", args=[world.other_programme.pk])
    a_url = reverse("admin:programmes_programme_change", args=[world.programme.pk])
    assert client.get(b_url).status_code == 200
    assert client.get(a_url).status_code == 404

    world.programme.managers.add(other)
    assert client.get(a_url).status_code == 200
    assert client.get(reverse("admin:pairs_pair_change", args=[world.pair.pk])).status_code == 200

    world.programme.managers.remove(other)
    world.other_programme.managers.remove(other)
    assert client.get(a_url).status_code == 404
    assert client.get(b_url).status_code == 404
    assert client.get(_changelist(Programme)).context["cl"].result_count == 0
