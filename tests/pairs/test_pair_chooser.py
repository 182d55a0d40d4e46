"""A reverse-mentor with two places has two pairs, and a pair link names a person, not a pair:
each pair has its own pages under /pair/<token>/<pair_id>/, /pair/<token>/ chooses between
them, and no id reaches a pair the link holder is not in (pairs/access.py)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import time_machine
from django.urls import reverse

from pairs.models import Meeting, Note, Pair
from programmes.models import Participant, Role
from reporting.models import SuccessStory
from tests.factories import IntakeFactory, ParticipantFactory
from tests.pairs.pair_setup import make_pair, meeting, token_for

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)  # a Monday
TERMS = {
    "driver": "reverse_mentor",
    "cadence": "fortnightly",
    "meeting_mode": "video",
    "cancellation": "A day ahead",
    "pledge": "on",
}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def two(programme, clock):
    """Eli Okafor, a reverse-mentor with two places, paired with Morgan Hale (first) and Sam
    Reyes (second, newer)."""
    setup = make_pair(programme)
    second_mentee = ParticipantFactory(
        cohort=setup.cohort,
        role=Role.MENTEE,
        status=Participant.Status.MATCHED,
        person__full_name="Sam Reyes",
    )
    IntakeFactory(participant=second_mentee)
    second = Pair.objects.create(
        cohort=setup.cohort, mentee=second_mentee, reverse_mentor=setup.mentor
    )
    return setup, setup.pair, second


def _url(participant: Participant, name: str, *args) -> str:
    return reverse(name, args=[token_for(participant), *args])


def test_it_offers_a_chooser_when_a_reverse_mentor_has_two_open_pairs(
    client, two, django_assert_num_queries
) -> None:
    setup, first, second = two
    url = _url(setup.mentor, "pairs:pair")

    # The participant of the link; their pairs in order (is another one open?); the list of
    # pairs with both sides' people.
    with django_assert_num_queries(3):
        response = client.get(url)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Your pairs" in page
    assert _url(setup.mentor, "pairs:pair", first.pk) in page
    assert _url(setup.mentor, "pairs:pair", second.pk) in page
    assert "You and Morgan Hale" in page
    assert "You and Sam Reyes" in page


def test_the_chooser_costs_the_same_queries_for_more_pairs(
    client, two, django_assert_num_queries
) -> None:
    setup, first, _ = two
    for name in ("Ana Silva", "Bo Chen"):
        mentee = ParticipantFactory(cohort=setup.cohort, role=Role.MENTEE, person__full_name=name)
        Pair.objects.create(cohort=setup.cohort, mentee=mentee, reverse_mentor=setup.mentor)
    Pair.objects.filter(pk=first.pk).update(status=Pair.Status.ENDED)

    with django_assert_num_queries(3):
        page = client.get(_url(setup.mentor, "pairs:pair")).content.decode()

    assert page.count("You and ") == 4
    assert 'id="ended-pairs"' in page  # the ended pair is listed apart, as history


def test_each_pair_opens_from_the_chooser_with_its_own_partner(client, two) -> None:
    setup, first, second = two

    for pair, partner, other in (
        (first, "Morgan Hale", "Sam Reyes"),
        (second, "Sam Reyes", "Morgan Hale"),
    ):
        page = client.get(_url(setup.mentor, "pairs:pair", pair.pk)).content.decode()

        assert f"You and {partner}" in page
        start = page.index('id="other-pairs"')
        nav = page[start : page.index("</nav>", start)]
        assert other in nav


def test_a_mentee_with_one_pair_goes_straight_to_it(client, two) -> None:
    setup, _first, _ = two

    page = client.get(_url(setup.mentee, "pairs:pair")).content.decode()

    assert "You and Eli Okafor" in page
    assert 'id="other-pairs"' not in page


def test_every_sub_page_works_for_each_pair(
    client, two, django_capture_on_commit_callbacks
) -> None:
    setup, first, second = two
    mentor = setup.mentor
    for pair in (first, second):
        held = meeting(pair, NOW - timedelta(days=2), status=Meeting.Status.HELD)
        story = SuccessStory.objects.create(pair=pair, title="T", body="B", anonymised=True)
        assert client.get(_url(mentor, "pairs:pair", pair.pk)).status_code == 200

        proposed = client.post(
            _url(mentor, "pairs:pair_agreement", pair.pk),
            {"action": "propose", "submission": str(uuid4()), **TERMS},
        )
        pending = pair.agreements.get(proposed_by="reverse_mentor")
        accepted = client.post(
            _url(pair.mentee, "pairs:pair_agreement", pair.pk),
            {"action": "accept", "agreement_id": pending.pk},
        )
        noted = client.post(
            _url(mentor, "pairs:pair_note_create", pair.pk),
            {"text": f"Note {pair.pk}", "meeting": held.pk, "submission": str(uuid4())},
        )
        note = Note.objects.get(text=f"Note {pair.pk}")
        shared = client.post(
            _url(mentor, "pairs:pair_note_share", pair.pk, note.pk), {"shared": "on"}
        )
        consent = client.post(
            _url(mentor, "pairs:pair_story_consent", pair.pk, story.pk), {"consent": "no"}
        )
        form = client.get(_url(mentor, "pairs:meeting_schedule", pair.pk))
        with django_capture_on_commit_callbacks(execute=True):
            booked = client.post(
                _url(mentor, "pairs:meeting_schedule", pair.pk),
                {
                    "submission": str(uuid4()),
                    "date": "2026-01-20",
                    "time": "10:00",
                    "duration_minutes": "45",
                    "topic": "",
                },
            )
        new = Meeting.objects.filter(pair=pair, status=Meeting.Status.SCHEDULED).get()
        edit = client.get(_url(mentor, "pairs:meeting_edit", pair.pk, new.pk))
        ics = client.get(_url(mentor, "pairs:meeting_ics", pair.pk, new.pk))
        pulse = client.get(_url(mentor, "pairs:pulse_start", pair.pk, held.pk))

        page = _url(mentor, "pairs:pair", pair.pk)
        for response in (proposed, noted, shared, consent, booked):
            assert response.status_code == 302
            assert response["Location"].startswith(page)
        assert accepted["Location"] == _url(pair.mentee, "pairs:pair", pair.pk)
        assert pair.agreements.get(pk=pending.pk).agreed
        assert (form.status_code, edit.status_code, ics.status_code) == (200, 200, 200)
        assert "BEGIN:VCALENDAR" in ics.content.decode()
        assert client.get(pulse["Location"]).status_code == 200
        assert note.pair_id == pair.pk
        assert Note.objects.get(pk=note.pk).shared
    # Nothing crossed over: each pair holds its own note and session.
    assert set(Note.objects.values_list("pair_id", "text")) == {
        (first.pk, f"Note {first.pk}"),
        (second.pk, f"Note {second.pk}"),
    }


def test_no_pair_id_reaches_a_pair_the_link_holder_is_not_in(client, two, programme) -> None:
    setup, _first, _second = two
    # Another reverse-mentor's two pairs, in another cohort.
    stranger = make_pair(programme)
    theirs = [stranger.pair]
    other_mentee = ParticipantFactory(cohort=stranger.cohort, role=Role.MENTEE)
    theirs.append(
        Pair.objects.create(
            cohort=stranger.cohort, mentee=other_mentee, reverse_mentor=stranger.mentor
        )
    )
    their_meeting = meeting(theirs[0], NOW - timedelta(days=1))
    their_note = Note.objects.create(pair=theirs[0], author=stranger.mentor, text="THEIR-NOTE")
    their_story = SuccessStory.objects.create(pair=theirs[0], title="T", body="B", anonymised=True)

    for pair in theirs:
        calls = [
            ("get", ("pairs:pair",)),
            ("post", ("pairs:pair_agreement",)),
            ("post", ("pairs:pair_note_create",)),
            ("post", ("pairs:pair_note_share", their_note.pk)),
            ("post", ("pairs:pair_story_consent", their_story.pk)),
            ("get", ("pairs:meeting_schedule",)),
            ("post", ("pairs:meeting_schedule",)),
            ("get", ("pairs:meeting_edit", their_meeting.pk)),
            ("get", ("pairs:meeting_ics", their_meeting.pk)),
            ("get", ("pairs:pulse_start", their_meeting.pk)),
        ]
        for method, (name, *ids) in calls:
            url = _url(setup.mentor, name, pair.pk, *ids)
            response = getattr(client, method)(url, {"consent": "no", "shared": "on"})

            body = response.content.decode()
            assert response.status_code == 404, url
            assert "This link is not for one of your pairs" in body
            assert reverse("surveys:resend_link") in body
            assert "THEIR-NOTE" not in body
    # A huge id is just another id that is not theirs.
    huge = client.get(f"/pair/{token_for(setup.mentor)}/99999999999999999999/")
    assert huge.status_code == 404
    assert Note.objects.filter(author=setup.mentor).count() == 0
    assert not Note.objects.get(pk=their_note.pk).shared


def test_an_ended_pair_stays_reachable_read_only(client, two) -> None:
    setup, first, _second = two
    Pair.objects.filter(pk=first.pk).update(status=Pair.Status.ENDED, ended_on=NOW.date())
    held = meeting(first, NOW - timedelta(days=3), status=Meeting.Status.HELD)

    page = client.get(_url(setup.mentor, "pairs:pair", first.pk)).content.decode()
    refused = client.post(
        _url(setup.mentor, "pairs:pair_note_create", first.pk),
        {"text": "Too late", "meeting": held.pk, "submission": str(uuid4())},
        follow=True,
    )
    entry = client.get(_url(setup.mentor, "pairs:pair")).content.decode()

    assert "This pair has ended" in page
    assert "You and Morgan Hale" in page
    assert "Schedule a session" not in page
    assert "has ended" in refused.content.decode()
    assert not Note.objects.exists()
    # With one open pair left, the link goes straight to it, and lists the ended one.
    assert "You and Sam Reyes" in entry
    assert _url(setup.mentor, "pairs:pair", first.pk) in entry


def test_an_older_path_without_a_pair_id_never_guesses_between_two_open_pairs(client, two) -> None:
    setup, first, second = two
    held = meeting(second, NOW - timedelta(days=2), status=Meeting.Status.HELD)

    note = client.post(
        _url(setup.mentor, "pairs:pair_note_create"),
        {"text": "Which pair?", "meeting": held.pk, "submission": str(uuid4())},
    )
    agreement = client.post(
        _url(setup.mentor, "pairs:pair_agreement"),
        {"action": "propose", "submission": str(uuid4()), **TERMS},
    )
    schedule = client.get(_url(setup.mentor, "pairs:meeting_schedule"))
    # A session names its pair: its older path still opens it.
    edit = client.get(_url(setup.mentor, "pairs:meeting_edit", held.pk))

    assert (note.status_code, agreement.status_code) == (409, 409)
    assert "nothing was saved" in note.content.decode()
    assert not Note.objects.exists()
    assert not first.agreements.exists()
    assert not second.agreements.exists()
    assert schedule.status_code == 200
    assert "Your pairs" in schedule.content.decode()
    assert edit.status_code == 200
    assert "Sam Reyes" in edit.content.decode()
    assert _url(setup.mentor, "pairs:pair", second.pk) in edit.content.decode()
