"""What the pulse lets each person read: the author everything they wrote; the partner only
the learning and action the author shared, never the safety answer, "good fit" or teaching
answer; nobody else anything, since every page comes from the reader's own signed link."""

import pytest
from django.urls import reverse

from programmes.links import Purpose, make_token
from surveys.models import Pulse
from tests.surveys.pulse_helpers import held_answers, past_session, pulse_url, running_pair

pytestmark = pytest.mark.django_db

SECRET_LEARNING = "LEARNING-NOT-SHARED-7731"
SECRET_ACTION = "ACTION-NOT-SHARED-7731"


def pair_page(client, participant) -> str:
    token = make_token(participant_id=participant.pk, purpose=Purpose.PAIR)
    return client.get(reverse("pairs:pair", args=[token])).content.decode()


@pytest.fixture
def answered(client, programme):
    pair = running_pair(programme=programme)
    session = past_session(pair)
    client.post(
        pulse_url(pair.mentee, session),
        held_answers(
            learning=SECRET_LEARNING,
            action=SECRET_ACTION,
            good_fit="no",
            safety="1",
            teaching="5",
        ),
    )
    assert Pulse.objects.get().safety == 1
    return pair, session


def test_the_author_reads_their_own_answers_on_their_pair_page(client, answered):
    pair, _ = answered

    html = pair_page(client, pair.mentee)

    assert SECRET_LEARNING in html
    assert SECRET_ACTION in html
    assert "Only you can see this" in html


def test_the_partner_never_sees_unshared_text_or_the_private_answers(client, answered):
    pair, session = answered

    pages = [
        pair_page(client, pair.reverse_mentor),
        client.get(pulse_url(pair.reverse_mentor, session)).content.decode(),
    ]

    for html in pages:
        assert SECRET_LEARNING not in html
        assert SECRET_ACTION not in html
        assert "Not at all" not in html.split('id="q-safety"')[0]  # the safety answer's label
        assert "good fit" not in html.split("<form")[0].lower()


def test_shared_text_reaches_the_partner_but_the_private_answers_never_do(client, answered):
    pair, session = answered
    client.post(
        pulse_url(pair.mentee, session),
        held_answers(
            learning=SECRET_LEARNING, action=SECRET_ACTION, shared="on", good_fit="no", safety="1"
        ),
    )

    html = pair_page(client, pair.reverse_mentor)

    assert f"Margaret Hale learned:</span> {SECRET_LEARNING}" in html
    assert SECRET_ACTION in html
    assert "without fear" not in html
    assert "Not at all" not in html
    assert "good fit" not in html.lower()
    assert "Mostly" not in html  # the teaching answer's labels


def test_a_participant_link_reaches_only_their_own_pulse(client, answered, programme):
    _, session = answered
    stranger = running_pair(programme=programme).mentee
    token = make_token(participant_id=stranger.pk, purpose=Purpose.PULSE, scope=session.pk)

    response = client.get(reverse("surveys:pulse", args=[token]))

    assert response.status_code == 404
    assert SECRET_LEARNING not in response.content.decode()
