"""The outbox, the messages' wording and the guides, between two programmes and the
organisation (issue #18). Alice manages programme A, Omar programme B, Olga is an
organisation administrator who manages neither.

- The outbox: each manager sees their programme's messages only (list, filter, object page:
  404 outside), and messages about no one programme (a password reset) are Olga's alone.
- Wording and guides: rows without a programme are the organisation's defaults, which
  managers read and Olga alone changes; a manager adds and changes their own programme's
  only. Every attempt to write another programme's, or a default, through the forms is
  refused and saves nothing."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from notifications.models import MessageTemplate, Notification
from notifications.services import notify
from pairs.models import Guide
from programmes.admin_defaults import ONLY_YOUR_PROGRAMMES
from programmes.models import Programme
from programmes.roles import MANAGERS_GROUP
from programmes.scoping import ORG_ADMINS_GROUP
from tests.factories import ParticipantFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

OUTBOX = "admin:notifications_notification"
WORDING = "admin:notifications_messagetemplate"
GUIDES = "admin:pairs_guide"


@dataclass
class Organisation:
    a: Programme
    b: Programme
    alice: User  # manages A
    omar: User  # manages B
    olga: User  # an organisation administrator, managing neither
    a_message: Notification
    b_message: Notification
    reset: Notification  # about no one programme
    a_wording: MessageTemplate
    b_wording: MessageTemplate
    default_wording: MessageTemplate
    a_guide: Guide
    b_guide: Guide
    default_guide: Guide


def _staff(username: str, group: str) -> User:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _message(programme: Programme, key: str) -> Notification:
    participant = ParticipantFactory(cohort__programme=programme)
    notify(kind="intake_invitation", key=key, to=participant.person, about=participant)
    return Notification.objects.get(key=key)


def _wording(programme: Programme | None, subject: str) -> MessageTemplate:
    return MessageTemplate.objects.create(
        kind="pulse_request", programme=programme, subject=subject, body_text="{{ held_url }}"
    )


@pytest.fixture
def org() -> Organisation:
    a = ProgrammeFactory(name="Programme A")
    b = ProgrammeFactory(name="Programme B")
    alice, omar = _staff("alice", MANAGERS_GROUP), _staff("omar", MANAGERS_GROUP)
    a.managers.add(alice)
    b.managers.add(omar)
    notify(kind="password_reset", key="reset", to="someone@example.org")
    return Organisation(
        a=a,
        b=b,
        alice=alice,
        omar=omar,
        olga=_staff("olga", ORG_ADMINS_GROUP),
        a_message=_message(a, "a"),
        b_message=_message(b, "b"),
        reset=Notification.objects.get(key="reset"),
        a_wording=_wording(a, "A's own"),
        b_wording=_wording(b, "B's own"),
        default_wording=MessageTemplate.objects.get(
            kind="pulse_request", language="", programme=None
        ),
        a_guide=Guide.objects.create(programme=a, kind="role_card", title="A's", body="A"),
        b_guide=Guide.objects.create(programme=b, kind="role_card", title="B's", body="B"),
        default_guide=Guide.objects.filter(programme=None).earliest("pk"),
    )


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(name: str, view: str, *args: Any) -> str:
    return reverse(f"{name}_{view}", args=args)


def _listed(client: Client, name: str, **query: Any) -> set:
    response = client.get(_url(name, "changelist"), query)
    assert response.status_code == 200
    return set(response.context["cl"].queryset)


def _programme_filter_choices(client: Client, name: str) -> set[str]:
    response = client.get(_url(name, "changelist"))
    [spec] = [s for s in response.context["cl"].filter_specs if s.title == "programme"]
    return {label for _, label in spec.lookup_choices}


# --- The outbox ---------------------------------------------------------------------------------


def test_each_manager_sees_their_programme_s_messages_and_the_organisation_all(
    org: Organisation,
) -> None:
    omar, alice, olga = _client(org.omar), _client(org.alice), _client(org.olga)

    assert _listed(omar, OUTBOX) == {org.b_message}
    assert _listed(alice, OUTBOX) == {org.a_message}
    assert _listed(olga, OUTBOX) == {org.a_message, org.b_message, org.reset}
    # Naming A in the filter shows Omar nothing; the filter offers him B only.
    assert _listed(omar, OUTBOX, programme__id__exact=org.a.pk) == set()
    assert _programme_filter_choices(omar, OUTBOX) == {"Programme B"}
    assert _programme_filter_choices(olga, OUTBOX) >= {"Programme A", "Programme B"}


@pytest.mark.parametrize("view", ["change", "history"])
def test_another_programme_s_message_or_one_of_no_programme_is_a_404(
    org: Organisation, view: str
) -> None:
    omar, alice, olga = _client(org.omar), _client(org.alice), _client(org.olga)

    for row in (org.a_message, org.reset):
        assert omar.get(_url(OUTBOX, view, row.pk)).status_code == 404
    assert alice.get(_url(OUTBOX, view, org.reset.pk)).status_code == 404
    assert omar.get(_url(OUTBOX, view, org.b_message.pk)).status_code == 200
    assert olga.get(_url(OUTBOX, view, org.reset.pk)).status_code == 200
    # Deleting from the outbox is a superuser's repair: a manager's 403 is the same for
    # every id, theirs or not, so it tells nothing.
    for row in (org.a_message, org.b_message, org.reset):
        assert omar.get(_url(OUTBOX, "delete", row.pk)).status_code == 403


def test_no_manager_deletes_from_the_outbox_through_its_action(org: Organisation) -> None:
    ids = [str(row.pk) for row in Notification.objects.all()]
    for user in (org.omar, org.alice, org.olga):
        _client(user).post(
            _url(OUTBOX, "changelist"),
            {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
        )
    assert Notification.objects.count() == len(ids)


# --- Wording --------------------------------------------------------------------------------


def test_a_manager_reads_the_defaults_and_sees_only_their_programme_s_own_wording(
    org: Organisation,
) -> None:
    omar = _client(org.omar)

    listed = _listed(omar, WORDING)
    assert org.default_wording in listed
    assert org.b_wording in listed
    assert org.a_wording not in listed
    assert not any(row.programme_id == org.a.pk for row in listed)
    assert _programme_filter_choices(omar, WORDING) == {"Programme B"}
    form = omar.get(_url(WORDING, "add")).context["adminform"].form
    assert set(form.fields["programme"].queryset) == {org.b}
    assert form.fields["programme"].required

    for view in ("change", "history", "delete", "preview"):
        assert omar.get(_url(WORDING, view, org.a_wording.pk)).status_code == 404, view

    # The default: read, not changed nor deleted.
    page = omar.get(_url(WORDING, "change", org.default_wording.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert "subject" not in page.context["adminform"].form.fields
    assert omar.get(_url(WORDING, "preview", org.default_wording.pk)).status_code == 200
    posted = _wording_data(org.b.pk) | {"programme": "", "subject": "Taken over"}
    assert omar.post(_url(WORDING, "change", org.default_wording.pk), posted).status_code == 403
    delete = _url(WORDING, "delete", org.default_wording.pk)
    assert omar.post(delete, {"post": "yes"}).status_code == 403
    org.default_wording.refresh_from_db()
    assert org.default_wording.subject != "Taken over"


def _wording_data(programme: object, **fields: str) -> dict[str, Any]:
    return {
        "kind": "pulse_request",
        "language": "fr",
        "programme": str(programme),
        "subject": "Alors ?",
        "body_text": "{{ held_url }}",
        "body_html": "",
    } | fields


def _refused(response, field: str = "programme") -> None:
    assert response.status_code == 200, "saved"
    assert response.context["adminform"].form.errors[field] == [ONLY_YOUR_PROGRAMMES]


@pytest.mark.parametrize("whose", ["another programme", "the organisation"])
def test_a_manager_cannot_word_another_programme_s_messages_or_the_defaults(
    org: Organisation, whose: str
) -> None:
    omar = _client(org.omar)
    programme = org.a.pk if whose == "another programme" else ""
    before = set(MessageTemplate.objects.values_list("pk", "programme", "subject"))

    _refused(omar.post(_url(WORDING, "add"), _wording_data(programme)))
    _refused(omar.post(_url(WORDING, "change", org.b_wording.pk), _wording_data(programme)))
    preview = omar.post(_url(WORDING, "preview_unsaved"), _wording_data(programme))
    assert preview.context["form"].errors["programme"] == [ONLY_YOUR_PROGRAMMES]

    assert set(MessageTemplate.objects.values_list("pk", "programme", "subject")) == before
    # Their own programme's, the same form otherwise, is saved.
    assert omar.post(_url(WORDING, "add"), _wording_data(org.b.pk)).status_code == 302
    assert MessageTemplate.objects.filter(programme=org.b, language="fr").exists()


def test_a_manager_starts_their_own_wording_from_one_they_can_read(org: Organisation) -> None:
    omar = _client(org.omar)
    page = omar.get(_url(WORDING, "change", org.default_wording.pk))
    assert f"?from={org.default_wording.pk}" in page.content.decode()

    started = omar.get(_url(WORDING, "add"), {"from": org.default_wording.pk})
    assert started.context["adminform"].form.initial["subject"] == org.default_wording.subject
    # Another programme's is not theirs to read, even to copy.
    elsewhere = omar.get(_url(WORDING, "add"), {"from": org.a_wording.pk})
    assert "subject" not in elsewhere.context["adminform"].form.initial


def test_an_organisation_administrator_words_the_defaults_and_every_programme(
    org: Organisation,
) -> None:
    olga = _client(org.olga)
    assert {org.a_wording, org.b_wording, org.default_wording} <= _listed(olga, WORDING)

    assert olga.post(_url(WORDING, "add"), _wording_data("")).status_code == 302
    assert MessageTemplate.objects.filter(programme=None, language="fr").exists()
    change = _url(WORDING, "change", org.default_wording.pk)
    response = olga.post(change, _wording_data("", language="", subject="Ours"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    org.default_wording.refresh_from_db()
    assert org.default_wording.subject == "Ours"
    assert olga.post(_url(WORDING, "add"), _wording_data(org.a.pk)).status_code == 302
    delete = _url(WORDING, "delete", org.a_wording.pk)
    assert olga.post(delete, {"post": "yes"}).status_code == 302
    assert not MessageTemplate.objects.filter(pk=org.a_wording.pk).exists()


# --- Guides ---------------------------------------------------------------------------------


def _guide_data(programme: object, **fields: str) -> dict[str, Any]:
    return {
        "programme": str(programme),
        "kind": Guide.Kind.FIRST_MEETING,
        "role": "",
        "topic": "",
        "topic_title": "",
        "title": "Changed",
        "body": "Introduce yourselves.",
        "position": 1,
    } | fields


def test_default_guides_are_read_only_to_a_manager_and_another_programme_s_a_404(
    org: Organisation,
) -> None:
    omar = _client(org.omar)
    assert {org.default_guide, org.b_guide} <= _listed(omar, GUIDES)
    assert org.a_guide not in _listed(omar, GUIDES)

    page = omar.get(_url(GUIDES, "change", org.default_guide.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    default = _url(GUIDES, "change", org.default_guide.pk)
    assert omar.post(default, _guide_data("")).status_code == 403
    assert omar.post(default, _guide_data(org.b.pk)).status_code == 403
    delete = _url(GUIDES, "delete", org.default_guide.pk)
    assert omar.post(delete, {"post": "yes"}).status_code == 403
    for view in ("change", "history", "delete"):
        assert omar.get(_url(GUIDES, view, org.a_guide.pk)).status_code == 404, view

    org.default_guide.refresh_from_db()
    assert org.default_guide.title != "Changed"
    assert org.default_guide.programme is None


@pytest.mark.parametrize("whose", ["another programme", "the organisation"])
def test_a_manager_cannot_write_a_guide_for_another_programme_or_a_default(
    org: Organisation, whose: str
) -> None:
    omar = _client(org.omar)
    programme = org.a.pk if whose == "another programme" else ""
    before = set(Guide.objects.values_list("pk", "programme", "title"))

    _refused(omar.post(_url(GUIDES, "add"), _guide_data(programme)))
    _refused(omar.post(_url(GUIDES, "change", org.b_guide.pk), _guide_data(programme)))

    assert set(Guide.objects.values_list("pk", "programme", "title")) == before
    response = omar.post(_url(GUIDES, "change", org.b_guide.pk), _guide_data(org.b.pk))
    assert response.status_code == 302
    org.b_guide.refresh_from_db()
    assert org.b_guide.title == "Changed"


def test_an_organisation_administrator_changes_and_adds_default_guides(
    org: Organisation,
) -> None:
    olga = _client(org.olga)
    default = _url(GUIDES, "change", org.default_guide.pk)

    assert olga.post(default, _guide_data("", title="Ours")).status_code == 302
    assert olga.post(_url(GUIDES, "add"), _guide_data("", title="New default")).status_code == 302

    org.default_guide.refresh_from_db()
    assert org.default_guide.title == "Ours"
    assert Guide.objects.filter(programme=None, title="New default").exists()


def test_a_manager_cannot_delete_a_default_through_the_bulk_action(org: Organisation) -> None:
    omar = _client(org.omar)
    for name, default, own in (
        (WORDING, org.default_wording, org.b_wording),
        (GUIDES, org.default_guide, org.b_guide),
    ):
        response = omar.post(
            _url(name, "changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [str(default.pk), str(own.pk)],
                "post": "yes",
            },
        )
        assert response.status_code == 403, name
        assert type(default).objects.filter(pk__in=[default.pk, own.pk]).count() == 2, name
    # Their own programme's alone, they may.
    response = omar.post(
        _url(GUIDES, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(org.b_guide.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Guide.objects.filter(pk=org.b_guide.pk).exists()


@pytest.mark.parametrize("rows", [1, 15])
def test_the_outbox_list_takes_a_fixed_number_of_queries(
    org: Organisation, rows: int, django_assert_num_queries
) -> None:
    for n in range(rows):
        _message(org.b, f"more-{n}")
    omar = _client(org.omar)

    # session, user, the user's permissions and their group's, the programmes to filter by,
    # the count (none with no filter: show_full_result_count), the page of rows (with their
    # person, user and programme). No date hierarchy (its first and last dates and its days
    # were two queries over every message) and the kinds to filter by come from the
    # registry, not from a DISTINCT over every message.
    with django_assert_num_queries(7):
        response = omar.get(_url(OUTBOX, "changelist"))

    assert response.context["cl"].result_count == rows + 1
