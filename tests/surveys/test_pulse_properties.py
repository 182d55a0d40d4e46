"""The pulse against anything a request can carry, and against itself: arbitrary text and
numbers in every field never cause a server error and never leave half an answer behind; many
submissions of one pulse at the same moment store exactly one."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pairs.models import Meeting
from surveys.models import ConfidenceRating, Pulse, PulseRequest
from tests.factories import KeySkillFactory
from tests.surveys.pulse_helpers import held_answers, past_session, pulse_url, running_pair

SOON = (date.today() + timedelta(days=20)).isoformat()
# Text a browser could send: anything but lone surrogates, which cannot be encoded at all.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=320)


def field(*valid: str):
    """Mostly a valid value (so whole answers get saved too), sometimes any text."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), TEXT)


def answers(skill_ids: list[int]):
    fields = {
        "held": field("yes", "no"),
        "not_held": field("missed", "rescheduled", ""),
        "new_date": field(SOON, "2020-01-01", "", "2099-02-30", "9999-12-31"),
        "new_time": field("10:00", "23:59", "", "24:00"),
        "learning": st.one_of(st.just("Drafts early"), TEXT),
        "action": TEXT,
        "shared": field("on", ""),
        "good_fit": field("yes", "no", ""),
        "safety": field("1", "3", "5", "", "0", "-1", "1e9"),
        "teaching": field("1", "5", "", "6", "2.5"),
        **{f"confidence_{pk}": field("1", "4", "", "7", "٣") for pk in skill_ids},
    }
    return st.fixed_dictionaries({}, optional=fields)


def assert_whole_or_nothing(session: Meeting, before: str) -> None:
    session.refresh_from_db()
    pulses = list(Pulse.objects.all())
    if not pulses:
        assert session.status == before
        assert not ConfidenceRating.objects.exists()
        assert not PulseRequest.objects.exists()
        return
    [pulse] = pulses
    assert PulseRequest.objects.filter(meeting=session, participant=pulse.participant).exists()
    if pulse.held:
        assert pulse.learning.strip()
        assert pulse.good_fit is not None  # the first session asks it
        assert session.status == Meeting.Status.HELD
        assert pulse.safety in (None, 1, 2, 3, 4, 5)
        assert pulse.teaching in (None, 1, 2, 3, 4, 5)
        assert all(1 <= r.value <= 5 for r in ConfidenceRating.objects.all())
    else:
        assert (pulse.learning, pulse.action, pulse.safety, pulse.good_fit) == ("", "", None, None)
        assert not ConfidenceRating.objects.exists()
        expected = {
            "missed": Meeting.Status.MISSED,
            "rescheduled": Meeting.Status.SCHEDULED,
        }[pulse.not_held]
        assert session.status == expected


@pytest.mark.django_db
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_input_gets_an_answer_and_leaves_a_whole_pulse_or_none(programme, data) -> None:
    pair = running_pair(programme=programme)
    skills = KeySkillFactory.create_batch(2, programme=programme)
    session = past_session(pair)
    posted = data.draw(answers([skill.pk for skill in skills]))

    response = Client().post(pulse_url(pair.mentee, session), posted)

    assert response.status_code in (302, 400), response.content[:2000]
    assert_whole_or_nothing(session, before=Meeting.Status.SCHEDULED)
    if response.status_code == 400:
        # A NUL anywhere is refused before the page (mentoring/middleware.py); anything else
        # the page answers itself, saying what to change.
        nul = any("\x00" in f"{key}{value}" for key, value in posted.items())
        page = response.content.decode()
        assert ("could not be read" if nul else "There is a problem") in page
    # A fresh pair per example: remove this one so the next starts clean.
    Pulse.objects.all().delete()
    PulseRequest.objects.all().delete()
    Meeting.objects.filter(pair=pair).delete()


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_submissions_store_exactly_one_pulse(programme) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Row locks need PostgreSQL; SQLite runs one writer at a time anyway.")
    pair = running_pair(programme=programme)
    session = past_session(pair)
    url = pulse_url(pair.mentee, session)
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def submit(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().post(url, held_answers(good_fit="yes", learning=f"Answer {n}"))
            statuses.append(response.status_code)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    # Each waited for the one before and then edited its row: all succeed, one row remains.
    assert statuses == [302] * 8
    pulse = Pulse.objects.get()
    assert pulse.learning.startswith("Answer ")
    assert PulseRequest.objects.count() == 1
    session.refresh_from_db()
    assert session.status == Meeting.Status.HELD
    assert pulse.submitted_at <= pulse.updated_at <= pulse.submitted_at + timedelta(minutes=1)
