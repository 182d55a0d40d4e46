from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError

from pairs import services as pair_services
from pairs.models import Meeting, Note, Pair
from tests.pairs.pair_setup import make_pair, meeting, page_url


@pytest.fixture
def setup(programme):
    return make_pair(programme)


def test_it_keeps_a_note_private_to_its_author(setup) -> None:
    note = pair_services.note_add(
        pair=setup.pair, author=setup.mentor, text="  Slack threads > e-mail  "
    )

    assert note.text == "Slack threads > e-mail"
    assert not note.shared
    assert list(pair_services.notes_for(pair=setup.pair, viewer=setup.mentor)) == [note]
    assert list(pair_services.notes_for(pair=setup.pair, viewer=setup.mentee)) == []


def test_it_shows_a_shared_note_to_the_partner(setup) -> None:
    note = pair_services.note_add(pair=setup.pair, author=setup.mentor, text="Try the team channel")

    pair_services.note_share(note=note, by=setup.mentor, shared=True)

    assert list(pair_services.notes_for(pair=setup.pair, viewer=setup.mentee)) == [note]
    pair_services.note_share(note=note, by=setup.mentor, shared=False)
    assert list(pair_services.notes_for(pair=setup.pair, viewer=setup.mentee)) == []


def test_it_lets_only_the_author_share_a_note(setup) -> None:
    note = pair_services.note_add(pair=setup.pair, author=setup.mentor, text="Mine")

    with pytest.raises(ValidationError, match="Only the person who wrote"):
        pair_services.note_share(note=note, by=setup.mentee, shared=True)
    note.refresh_from_db()
    assert not note.shared


@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "Write your note first."), ("x" * 281, "280 characters at most")],
)
def test_it_refuses_an_empty_or_too_long_note(setup, text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        pair_services.note_add(pair=setup.pair, author=setup.mentee, text=text)

    assert not Note.objects.exists()


def test_it_makes_a_note_one_line(setup) -> None:
    note = pair_services.note_add(
        pair=setup.pair, author=setup.mentee, text="first\nsecond\r\n third"
    )

    assert note.text == "first second third"


def test_it_refuses_a_note_about_another_pairs_session(setup, programme) -> None:
    other = make_pair(programme)
    theirs = meeting(other.pair, datetime(2026, 1, 5, 10, tzinfo=UTC))

    with pytest.raises(ValidationError, match="your own sessions"):
        pair_services.note_add(pair=setup.pair, author=setup.mentee, text="Hi", meeting=theirs)


def test_it_refuses_notes_on_an_ended_pair_and_changes_nothing(programme) -> None:
    setup = make_pair(programme, status=Pair.Status.ENDED, ended_on=date(2026, 3, 3))
    note = Note.objects.create(pair=setup.pair, author=setup.mentee, text="Old")

    with pytest.raises(ValidationError, match="ended on 3 March 2026"):
        pair_services.note_add(pair=setup.pair, author=setup.mentee, text="New")
    with pytest.raises(ValidationError, match="ended"):
        pair_services.note_share(note=note, by=setup.mentee, shared=True)

    assert Note.objects.get().shared is False


def test_it_takes_notes_on_a_paused_pair(programme) -> None:
    setup = make_pair(programme, status=Pair.Status.PAUSED, paused_until=date(2026, 2, 1))

    note = pair_services.note_add(pair=setup.pair, author=setup.mentee, text="Still learning")

    assert note.pk


def test_it_adds_a_note_from_the_page_about_a_held_session(client, setup) -> None:
    held = meeting(setup.pair, datetime(2026, 1, 5, 10, tzinfo=UTC), status=Meeting.Status.HELD)

    response = client.post(
        page_url(setup.mentee, "pairs:pair_note_create"),
        {"text": "Ask before assuming", "meeting": held.pk, "submission": str(uuid4())},
        follow=True,
    )

    assert "Your note is saved. Only you can see it." in response.content.decode()
    note = Note.objects.get()
    assert (note.author, note.meeting, note.shared) == (setup.mentee, held, False)


def test_it_shows_a_note_error_beside_the_field_and_keeps_what_was_typed(client, setup) -> None:
    response = client.post(page_url(setup.mentee, "pairs:pair_note_create"), {"text": "y" * 281})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Keep your note to one line of 280 characters at most (it has 281)" in page
    assert "y" * 281 in page
    assert not Note.objects.exists()


def test_it_never_shows_the_partner_an_unshared_note(client, setup) -> None:
    client.post(
        page_url(setup.mentor, "pairs:pair_note_create"),
        {"text": "PRIVATE-THOUGHT-123", "submission": str(uuid4())},
    )

    partner_page = client.get(page_url(setup.mentee)).content.decode()
    assert "PRIVATE-THOUGHT-123" not in partner_page
    assert "PRIVATE-THOUGHT-123" in client.get(page_url(setup.mentor)).content.decode()


def test_it_shows_the_partner_a_note_once_shared_and_hides_it_again(client, setup) -> None:
    note = pair_services.note_add(pair=setup.pair, author=setup.mentor, text="SHARED-LATER-456")
    share_url = page_url(setup.mentor, "pairs:pair_note_share", note.pk)

    client.post(share_url, {"shared": "true"})
    assert "SHARED-LATER-456" in client.get(page_url(setup.mentee)).content.decode()

    client.post(share_url, {"shared": "false"})
    assert "SHARED-LATER-456" not in client.get(page_url(setup.mentee)).content.decode()


def test_it_cannot_share_the_partners_note_by_changing_the_id(client, setup) -> None:
    theirs = pair_services.note_add(pair=setup.pair, author=setup.mentee, text="Not yours")

    response = client.post(
        page_url(setup.mentor, "pairs:pair_note_share", theirs.pk), {"shared": "true"}
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.shared


def test_it_cannot_reach_another_pairs_note_by_changing_the_id(client, setup, programme) -> None:
    other = make_pair(programme)
    theirs = pair_services.note_add(pair=other.pair, author=other.mentor, text="OTHER-PAIR-789")

    response = client.post(
        page_url(setup.mentor, "pairs:pair_note_share", theirs.pk), {"shared": "true"}
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.shared


def test_a_link_for_one_participant_cannot_act_on_another_pair(client, setup, programme) -> None:
    other = make_pair(programme)

    client.post(
        page_url(setup.mentee, "pairs:pair_note_create"),
        {"text": "From A", "submission": str(uuid4())},
    )

    note = Note.objects.get()
    assert note.pair == setup.pair
    assert "From A" not in client.get(page_url(other.mentee)).content.decode()
    assert "From A" not in client.get(page_url(other.mentor)).content.decode()


def test_it_refuses_an_intake_link_on_the_pair_pages(client, setup) -> None:
    from django.urls import reverse

    from programmes.links import Purpose, make_token

    token = make_token(participant_id=setup.mentee.pk, purpose=Purpose.INTAKE)

    response = client.post(reverse("pairs:pair_note_create", args=[token]), {"text": "Sneaky"})

    assert response.status_code == 400
    assert "This link is for something else" in response.content.decode()
    assert not Note.objects.exists()


def test_it_refuses_a_note_on_an_ended_pair_from_the_page(client, programme) -> None:
    setup = make_pair(programme, status=Pair.Status.ENDED, ended_on=date(2026, 3, 3))

    response = client.post(
        page_url(setup.mentee, "pairs:pair_note_create"), {"text": "Late"}, follow=True
    )

    assert "This pair ended on 3 March 2026" in response.content.decode()
    assert not Note.objects.exists()
