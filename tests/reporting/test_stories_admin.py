"""Managers write success stories in the admin and follow the participants' consents there;
sponsors and outsiders cannot reach it. Saving goes through reporting.stories.story_save."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from pairs.models import Pair
from reporting import stories
from reporting.models import SuccessStory
from tests.factories import UserFactory
from tests.pairs.meeting_helpers import agreed_pair

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LIST = reverse("admin:reporting_successstory_changelist")
ADD = reverse("admin:reporting_successstory_add")
TITLE = "From a shared inbox to a customer-first rota"
BODY = "A director sat in on two early shifts.\r\n\r\nComplaints fell within a month."


@pytest.fixture
def admin_client(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


def _story(pair: Pair, **fields) -> SuccessStory:
    fields.setdefault("title", TITLE)
    fields.setdefault("body", BODY)
    fields.setdefault("anonymised", True)
    return SuccessStory.objects.create(pair=pair, **fields)


def _form(pair: Pair, **fields) -> dict:
    data = {"pair": pair.pk, "title": TITLE, "body": BODY, "anonymised": "on"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def _change_url(story: SuccessStory) -> str:
    return reverse("admin:reporting_successstory_change", args=[story.pk])


def test_it_is_for_managers_only(client, sponsor, outsider, pair) -> None:
    story = _story(pair)
    for user in (None, sponsor, outsider):
        if user is not None:
            client.force_login(user)
        for url in (LIST, ADD, _change_url(story)):
            response = client.get(url)
            assert response.status_code == 302, (user, url)
            assert response["Location"].startswith("/admin/login/")
    # Staff without the managers' permissions are refused too.
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(LIST).status_code == 403
    assert client.post(ADD, _form(pair)).status_code == 403
    assert SuccessStory.objects.count() == 1


def test_a_manager_writes_a_story_through_the_service(admin_client, manager, pair) -> None:
    assert admin_client.get(ADD).status_code == 200
    with mock.patch.object(stories, "story_save", wraps=stories.story_save) as story_save:
        response = admin_client.post(ADD, _form(pair, mentee_consent_at="2026-03-02 09:00"))

    assert response.status_code == 302
    story_save.assert_called_once()
    assert story_save.call_args.kwargs["by"] == manager
    story = SuccessStory.objects.get()
    assert (story.title, story.written_by, story.anonymised) == (TITLE, manager, True)
    # The consent timestamps cannot be typed in.
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)


def test_editing_the_text_clears_the_consents_and_tells_the_manager(admin_client, pair) -> None:
    story = _story(pair, mentee_consent_at=MONDAY, reverse_mentor_consent_at=MONDAY)

    response = admin_client.post(
        _change_url(story), _form(pair, body="A rewritten text."), follow=True
    )

    assert "consents were cleared" in response.content.decode()
    story.refresh_from_db()
    assert story.body == "A rewritten text."
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)


def test_unticking_anonymised_in_the_admin_clears_the_consents(admin_client, pair) -> None:
    story = _story(pair, mentee_consent_at=MONDAY, reverse_mentor_consent_at=MONDAY)

    admin_client.post(_change_url(story), _form(pair, anonymised=None))

    story.refresh_from_db()
    assert not story.anonymised
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)


def test_saving_an_unchanged_story_keeps_the_consents(admin_client, pair) -> None:
    story = _story(pair, mentee_consent_at=MONDAY, reverse_mentor_consent_at=MONDAY)

    response = admin_client.post(_change_url(story), _form(pair), follow=True)

    assert "consents were cleared" not in response.content.decode()
    story.refresh_from_db()
    assert story.publishable


def test_it_refuses_a_proposed_pair_in_the_form(admin_client, programme) -> None:
    proposed = agreed_pair(programme=programme, status=Pair.Status.PROPOSED)

    response = admin_client.post(ADD, _form(proposed))

    assert response.status_code == 200
    assert "This pair is only proposed" in response.content.decode()
    assert not SuccessStory.objects.exists()


def test_the_form_explains_how_consent_works(admin_client, pair) -> None:
    story = _story(pair, mentee_consent_at=MONDAY)

    page = admin_client.get(_change_url(story)).content.decode()

    assert "asked on their pair page" in page
    assert "clears both consents" in page
    assert BODY.split("\r\n")[0] in page  # the manager's own anonymised text
    assert 'name="mentee_consent_at"' not in page
    assert "not yet" in page  # the reverse-mentor's consent


def test_the_pair_is_chosen_by_typing_a_name(admin_client, pair) -> None:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "reporting",
            "model_name": "successstory",
            "field_name": "pair",
            "term": "Patel",
        },
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(pair.pk)]


def test_the_list_shows_consents_and_filters_by_what_sponsors_see(admin_client, pair) -> None:
    _story(pair, title="SHOWN-STORY", mentee_consent_at=MONDAY, reverse_mentor_consent_at=MONDAY)
    _story(pair, title="WAITING-STORY", mentee_consent_at=MONDAY)
    _story(pair, title="DRAFT-STORY", anonymised=False)

    page = admin_client.get(LIST).content.decode()
    assert all(title in page for title in ("SHOWN-STORY", "WAITING-STORY", "DRAFT-STORY"))
    assert "shown to sponsors" in page.lower()

    titles = ("SHOWN-STORY", "WAITING-STORY", "DRAFT-STORY")
    for value, title in zip(("yes", "waiting", "draft"), titles, strict=True):
        page = admin_client.get(LIST, {"shown": value}).content.decode()
        assert [shown for shown in titles if shown in page] == [title]

    page = admin_client.get(LIST, {"q": "waiting"}).content.decode()
    assert "WAITING-STORY" in page
    assert "SHOWN-STORY" not in page


def test_it_lists_stories_in_a_fixed_number_of_queries(
    admin_client, programme, django_assert_num_queries
) -> None:
    for _ in range(2):
        _story(agreed_pair(programme=programme))
    # 1 the session, 2 the user, 3 and 4 the user's and their groups' permissions, 5 the
    # programmes and 6 the cohorts (with their programmes) the filters offer, 7 the stories
    # counted, 8 all stories counted, 9 the page of stories with their pair and cohort.
    with django_assert_num_queries(9):
        assert admin_client.get(LIST).status_code == 200

    for _ in range(3):
        _story(agreed_pair(programme=programme))
    with django_assert_num_queries(9):
        assert admin_client.get(LIST).status_code == 200
