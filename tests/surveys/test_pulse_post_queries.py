"""The pulse POST costs a fixed number of queries (issue 20): the same for a programme with
two key skills or seven, and for a pair with no earlier sessions or many, whether the
participant answers first or after their partner, answers for the first time or edits.

What one submission reads and writes, in order (each test's comment says which apply):
    SAVEPOINT (BEGIN outside tests)
    the participant, loaded and locked in one query (the link's check)
    the situation: session, pair, people, the stored answer, the action to follow up, the
        earlier sessions and pulses, the request, one row per key skill with its rating
    UPDATE the session's status (first answer to a scheduled session only)
    INSERT or UPDATE the pulse
    DELETE the ratings an edit replaces (edits only)
    INSERT the ratings (one INSERT, however many)
    INSERT the request (only when answered before it was asked for)
    RELEASE SAVEPOINT (COMMIT outside tests)
The risk scan is queued on commit (no query here)."""

import re

import pytest
from django.test import Client

from pairs.models import Meeting, Pair
from programmes.models import Programme
from surveys.models import ConfidenceRating, Pulse, PulseRequest
from surveys.pulses import Answers, pulse_situation, pulse_submit
from tests.factories import KeySkillFactory, PulseRequestFactory
from tests.surveys.pulse_helpers import held_answers, past_session, pulse_url, running_pair

pytestmark = pytest.mark.django_db

SIZES = [(2, 0), (2, 5), (7, 0), (7, 5)]  # (key skills, earlier held sessions of the pair)


def _setup(programme: Programme, skills: int, earlier: int) -> tuple[Pair, Meeting]:
    KeySkillFactory.create_batch(skills, programme=programme)
    pair = running_pair(programme=programme)
    for n in range(earlier):
        # Earlier sessions, each answered by both sides with an action and ratings.
        meeting = past_session(pair, hours_ago=24 * 14 * (earlier - n))
        for participant in (pair.mentee, pair.reverse_mentor):
            situation = pulse_situation(meeting=meeting, participant=participant)
            pulse_submit(
                situation=situation,
                answers=Answers(
                    held=True,
                    learning=f"Learning {n}",
                    action=f"Action {n}",
                    good_fit=True if situation.asks_good_fit else None,
                    previous_action_done="yes" if situation.previous else "",
                    confidence={skill.pk: 3 for skill in situation.skills},
                ),
            )
    return pair, past_session(pair)


def _posted(client: Client, url: str, **overrides: str) -> dict[str, str]:
    """Answers to every question the page asks (read from the page, outside the count)."""
    page = client.get(url).content.decode()
    data = held_answers(safety="4", teaching="3", **overrides)
    for name in set(re.findall(r'name="(confidence_\d+)"', page)):
        data[name] = "4"
    if 'name="good_fit"' in page:
        data["good_fit"] = "yes"
    if 'name="previous_action_done"' in page:
        data["previous_action_done"] = "partly"
    return data


def _post(client, url, data, django_assert_num_queries, queries, capture) -> None:
    with capture() as callbacks, django_assert_num_queries(queries):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert len(callbacks) == 1  # the pair's risk scan, queued on commit


@pytest.mark.parametrize(("skills", "earlier"), SIZES)
@pytest.mark.parametrize("requested", [True, False])
def test_a_held_session_with_ratings_costs_a_fixed_number_of_queries(
    client,
    programme,
    skills,
    earlier,
    requested,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    pair, session = _setup(programme, skills, earlier)
    if requested:
        PulseRequestFactory(meeting=session, participant=pair.mentee)
    url = pulse_url(pair.mentee, session)
    data = _posted(client, url)

    # SAVEPOINT, participant, situation, UPDATE session, INSERT pulse, INSERT ratings,
    # [INSERT request], RELEASE
    queries = 7 if requested else 8
    _post(client, url, data, django_assert_num_queries, queries, django_capture_on_commit_callbacks)

    pulse = Pulse.objects.get(meeting=session, participant=pair.mentee)
    assert pulse.held
    assert pulse.safety == 4
    assert pulse.confidence.count() == 2
    assert (pulse.previous_id is not None) == (earlier > 0)
    assert PulseRequest.objects.filter(meeting=session, participant=pair.mentee).count() == 1
    session.refresh_from_db()
    assert session.status == Meeting.Status.HELD


@pytest.mark.parametrize(("skills", "earlier"), SIZES)
def test_a_session_not_held_costs_a_fixed_number_of_queries(
    client,
    programme,
    skills,
    earlier,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    pair, session = _setup(programme, skills, earlier)
    PulseRequestFactory(meeting=session, participant=pair.reverse_mentor)
    url = pulse_url(pair.reverse_mentor, session)
    data = _posted(client, url, held="no", not_held=Pulse.NotHeld.MISSED, learning="")

    # SAVEPOINT, participant, situation, UPDATE session, INSERT pulse, RELEASE
    _post(client, url, data, django_assert_num_queries, 6, django_capture_on_commit_callbacks)

    session.refresh_from_db()
    assert session.status == Meeting.Status.MISSED
    assert not ConfidenceRating.objects.filter(pulse__meeting=session).exists()


@pytest.mark.parametrize(("skills", "earlier"), SIZES)
def test_an_answer_after_the_partners_costs_a_fixed_number_of_queries(
    client,
    programme,
    skills,
    earlier,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    pair, session = _setup(programme, skills, earlier)
    client.post(
        pulse_url(pair.reverse_mentor, session),
        _posted(client, pulse_url(pair.reverse_mentor, session)),
    )
    url = pulse_url(pair.mentee, session)
    data = _posted(client, url)

    # SAVEPOINT, participant, situation, INSERT pulse, INSERT ratings, INSERT request, RELEASE:
    # the session is logged already.
    _post(client, url, data, django_assert_num_queries, 7, django_capture_on_commit_callbacks)

    assert Pulse.objects.filter(meeting=session).count() == 2


@pytest.mark.parametrize(("skills", "earlier"), SIZES)
@pytest.mark.parametrize("held", ["yes", "no"])
def test_an_edit_costs_a_fixed_number_of_queries(
    client,
    programme,
    skills,
    earlier,
    held,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
) -> None:
    pair, session = _setup(programme, skills, earlier)
    url = pulse_url(pair.mentee, session)
    first = _posted(client, url)
    assert client.post(url, first).status_code == 302
    changed = _posted(client, url, learning="Changed my mind")
    if held == "no":
        changed |= {"held": "no", "not_held": Pulse.NotHeld.MISSED}

    # SAVEPOINT, participant, situation, UPDATE pulse, DELETE ratings, [INSERT ratings],
    # RELEASE: the session is logged already, and the request written by the first answer.
    queries = 7 if held == "yes" else 6
    _post(
        client, url, changed, django_assert_num_queries, queries, django_capture_on_commit_callbacks
    )

    pulse = Pulse.objects.get(meeting=session, participant=pair.mentee)
    assert pulse.held == (held == "yes")
    assert pulse.confidence.count() == (2 if held == "yes" else 0)
    assert PulseRequest.objects.filter(meeting=session, participant=pair.mentee).count() == 1
