"""Consent to a success story on the pair page: each participant, through their own signed
link, agrees or withdraws for themselves and sees whether their partner has agreed."""

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pairs.models import Meeting, Pair
from programmes.links import Purpose, make_token
from programmes.models import Role
from reporting import stories
from reporting.consent import story_version
from reporting.models import SuccessStory
from tests.factories import ParticipantFactory, PersonFactory
from tests.pairs.pair_setup import make_pair, meeting, page_url

MONDAY = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
TITLE = "Budgets, explained by a graduate"
BODY = "An executive learned how new joiners use AI tools.\n\nShe now runs meetings without slides."
AGREE = "I agree this story can be shown to the programme"
WITHDRAW = "Withdraw my consent"


@pytest.fixture
def setup(programme):
    return make_pair(programme)


def _story(pair: Pair, **fields) -> SuccessStory:
    fields.setdefault("title", TITLE)
    fields.setdefault("body", BODY)
    fields.setdefault("anonymised", True)
    return SuccessStory.objects.create(pair=pair, **fields)


def _section(page: str) -> str:
    start = page.index('id="stories"')
    return page[start : page.index("</section>", start)]


def _consent(client, participant, story: SuccessStory, answer: str, **data):
    if answer == "yes":
        data.setdefault("version", story_version(story))
    return client.post(
        page_url(participant, "pairs:pair_story_consent", story.pk),
        {"consent": answer, **data},
        follow=True,
    )


def _page(client, participant) -> str:
    return html.unescape(client.get(page_url(participant)).content.decode())


def test_it_shows_anonymised_stories_only(client, setup) -> None:
    _story(setup.pair)
    _story(
        setup.pair, title="DRAFT-WITH-NAMES", body="Morgan Hale and Eli Okafor", anonymised=False
    )

    page = _page(client, setup.mentee)

    stories_section = _section(page)
    assert TITLE in stories_section
    assert "<p>An executive learned how new joiners use AI tools.</p>" in stories_section
    assert AGREE in stories_section
    assert "Neither of you has agreed yet" in stories_section
    assert "DRAFT-WITH-NAMES" not in page


def test_it_shows_no_story_section_when_there_is_none(client, setup) -> None:
    _story(setup.pair, anonymised=False)

    assert 'id="stories"' not in client.get(page_url(setup.mentee)).content.decode()


def test_it_escapes_the_story_text(client, setup) -> None:
    _story(setup.pair, title="<b>bold</b>", body="<script>alert(1)</script>")

    page = client.get(page_url(setup.mentor)).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_each_side_consents_from_their_own_page(client, setup) -> None:
    story = _story(setup.pair)

    response = _consent(client, setup.mentee, story, "yes")

    assert response.redirect_chain[-1][0].endswith("#stories")
    page = html.unescape(response.content.decode())
    assert "once Eli Okafor agrees too" in page
    assert "Waiting for your partner" in _section(page)
    assert WITHDRAW in _section(page)
    story.refresh_from_db()
    assert story.mentee_consent_at is not None
    assert story.reverse_mentor_consent_at is None
    assert "Morgan Hale has agreed" in _section(_page(client, setup.mentor))

    response = _consent(client, setup.mentor, story, "yes")

    page = html.unescape(response.content.decode())
    assert "You have both agreed: the programme's sponsors can now read it." in page
    assert "Both agreed: sponsors can see it" in _section(page)
    story.refresh_from_db()
    assert story.publishable
    assert "Both agreed: sponsors can see it" in _section(_page(client, setup.mentee))


def test_it_withdraws_consent_from_the_page(client, setup, programme) -> None:
    story = _story(setup.pair, mentee_consent_at=MONDAY, reverse_mentor_consent_at=MONDAY)
    assert stories.stories_for_sponsors(programme=programme).exists()

    response = _consent(client, setup.mentor, story, "no")

    page = html.unescape(response.content.decode())
    assert "You withdrew your consent" in page
    assert AGREE in _section(page)
    story.refresh_from_db()
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (MONDAY, None)
    assert not stories.stories_for_sponsors(programme=programme).exists()


def test_it_says_why_a_story_cannot_be_agreed_to_yet(client, setup) -> None:
    # The manager unticked "anonymised" after the page was opened.
    story = _story(setup.pair)
    version = story_version(story)
    SuccessStory.objects.filter(pk=story.pk).update(anonymised=False)

    response = _consent(client, setup.mentee, story, "yes", version=version)

    assert response.status_code == 200
    assert "This story is still being prepared" in response.content.decode()
    story.refresh_from_db()
    assert story.mentee_consent_at is None


def test_it_asks_to_read_again_a_story_changed_since_the_page_was_opened(client, setup) -> None:
    story = _story(setup.pair)
    version = story_version(story)
    SuccessStory.objects.filter(pk=story.pk).update(body="A rewritten story.")

    response = _consent(client, setup.mentee, story, "yes", version=version)

    page = html.unescape(response.content.decode())
    assert "This story has changed since you opened the page" in page
    assert "A rewritten story." in _section(page)
    story.refresh_from_db()
    assert story.mentee_consent_at is None


@pytest.mark.parametrize("data", [{}, {"consent": "maybe"}, {"consent": ["yes", "no"]}])
def test_it_answers_a_bad_post_with_a_message_and_changes_nothing(client, setup, data) -> None:
    story = _story(setup.pair)

    response = client.post(
        page_url(setup.mentee, "pairs:pair_story_consent", story.pk), data, follow=True
    )

    assert response.status_code == 200
    story.refresh_from_db()
    assert story.mentee_consent_at is None


def test_it_refuses_a_consent_without_the_version_read(client, setup) -> None:
    story = _story(setup.pair)

    response = _consent(client, setup.mentee, story, "yes", version="")

    assert "changed since you opened the page" in html.unescape(response.content.decode())
    story.refresh_from_db()
    assert story.mentee_consent_at is None


def test_another_pair_cannot_see_or_consent_to_this_pairs_story(client, setup, programme) -> None:
    story = _story(setup.pair)
    other = make_pair(programme)

    for outsider in (other.mentee, other.mentor):
        assert TITLE not in client.get(page_url(outsider)).content.decode()
        response = client.post(
            page_url(outsider, "pairs:pair_story_consent", story.pk),
            {"consent": "yes", "version": story_version(story)},
        )
        assert response.status_code == 404

    story.refresh_from_db()
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)


def test_it_refuses_a_tampered_expired_or_wrong_purpose_link(client, setup) -> None:
    story = _story(setup.pair)
    data = {"consent": "yes", "version": story_version(story)}
    good = make_token(participant_id=setup.mentee.pk, purpose=Purpose.PAIR)
    expired = make_token(
        participant_id=setup.mentee.pk,
        purpose=Purpose.PAIR,
        expires_at=timezone.now() - timedelta(days=1),
    )
    intake = make_token(participant_id=setup.mentee.pk, purpose=Purpose.INTAKE)

    for token, status in ((good[:-2] + "xx", 400), (expired, 410), (intake, 400)):
        url = reverse("pairs:pair_story_consent", args=[token, story.pk])
        response = client.post(url, data)
        assert response.status_code == status
        assert "link" in response.content.decode().lower()

    story.refresh_from_db()
    assert story.mentee_consent_at is None


def test_it_takes_consent_by_post_only(client, setup) -> None:
    story = _story(setup.pair)

    response = client.get(page_url(setup.mentee, "pairs:pair_story_consent", story.pk))

    assert response.status_code == 405


def test_an_ended_pair_still_consents_from_its_read_only_page(client, programme) -> None:
    setup = make_pair(programme, status=Pair.Status.ENDED, ended_on=date(2026, 1, 3))
    story = _story(setup.pair)

    page = _page(client, setup.mentee)
    assert "except your consent to the success story below" in page
    assert AGREE in _section(page)

    _consent(client, setup.mentee, story, "yes")
    _consent(client, setup.mentor, story, "yes")

    story.refresh_from_db()
    assert story.publishable


def test_it_loads_the_page_with_stories_in_a_fixed_number_of_queries(
    client, setup, django_assert_num_queries
) -> None:
    meeting(setup.pair, timezone.now() - timedelta(days=2), status=Meeting.Status.HELD)
    _story(setup.pair, mentee_consent_at=MONDAY)
    url = page_url(setup.mentee)
    client.get(url)  # the first view starts the agreement
    # The eight of the pair page (tests/pairs/test_pair_page.py), whose pair query also
    # says whether the pair has anonymised stories (a pair with none costs no more), and
    # 9 the stories themselves, with both consents.
    with django_assert_num_queries(9):
        assert client.get(url).status_code == 200

    for number in range(3):
        _story(setup.pair, title=f"Story {number}", reverse_mentor_consent_at=MONDAY)
    with django_assert_num_queries(9):
        page = client.get(url).content.decode()
    assert page.count(f"{AGREE}") == 3
    assert page.count(WITHDRAW) == 1


def test_someone_re_matched_since_still_answers_a_story_about_their_earlier_pair(
    client, setup
) -> None:
    old = setup.pair
    Pair.objects.filter(pk=old.pk).update(status=Pair.Status.ENDED, ended_on=date(2026, 1, 3))
    newcomer = ParticipantFactory(
        cohort=old.cohort,
        role=Role.REVERSE_MENTOR,
        person=PersonFactory(full_name="Ada Byron"),
    )
    Pair.objects.create(
        cohort=old.cohort,
        mentee=setup.mentee,
        reverse_mentor=newcomer,
        status=Pair.Status.ACTIVE,
        replaces=old,
    )
    story = _story(old, reverse_mentor_consent_at=MONDAY)

    section = _section(_page(client, setup.mentee))  # the page shows the new pair
    assert TITLE in section
    assert "About your earlier pairing with Eli Okafor." in section
    assert "Eli Okafor has agreed" in section
    assert "Ada Byron" not in section
    done = _consent(client, setup.mentee, story, "yes")

    assert "You have both agreed" in done.content.decode()
    story.refresh_from_db()
    assert story.publishable
    # The newcomer was never in the story's pair: it is not theirs to see or answer.
    assert TITLE not in _page(client, newcomer)
    refused = client.post(
        page_url(newcomer, "pairs:pair_story_consent", story.pk), {"consent": "no"}
    )
    assert refused.status_code == 404
