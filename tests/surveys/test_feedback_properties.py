"""Whatever is posted, the programme questions never fail and never half-save: either one
whole answer (with every end rating) is stored, or nothing is. And many submissions at once
store one answer."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from programmes.models import KeySkill
from surveys.feedback import END, MIDPOINT, MOMENTS, feedback_submit
from surveys.models import ConfidenceRating, NpsResponse
from tests.pairs.pair_setup import PairSetup
from tests.surveys.feedback_helpers import end_answers, feedback_path, pair_around_today, skills

# Text as people (and scripts) type it, surrogates aside: a browser cannot send those.
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_NUMBERS = st.integers(min_value=-3, max_value=14).map(str)
# Around the 500-character limit, and on it, with line breaks and spaces to tidy away.
_LONG = (st.sampled_from([499, 500, 501]) | st.integers(min_value=480, max_value=520)).flatmap(
    lambda n: st.sampled_from(["é" * n, f"  {'x' * n}\r\n", "a \r\n" * (n // 2)])
)
# None leaves the field out of the post. Valid answers come up often enough for the other
# fields' rules to decide.
_VALUE = st.none() | _NUMBERS | _TEXT | st.sampled_from(["", " 5", "05", "1.0"])
_SCORE = st.sampled_from([str(n) for n in range(11)]) | _VALUE
_RATING = st.sampled_from(["1", "2", "3", "4", "5"]) | _VALUE
_WHY = st.none() | _TEXT | _LONG | _LONG | st.just("ok\x00")
_POST = st.fixed_dictionaries(
    {
        "score": _SCORE,
        "why": _WHY,
        "skill_0": _RATING,
        "skill_1": _RATING,
        "extra": st.none() | _TEXT,
    }
)


@pytest.fixture
def setup(programme) -> PairSetup:
    return pair_around_today(programme, timezone.now().date())


def _expected_valid(moment: str, fields: dict[str, str | None]) -> bool:
    """The rules, written out independently of the form."""
    if fields["score"] not in {str(n) for n in range(11)}:
        return False
    why = fields["why"] or ""
    if "\x00" in why or len(" ".join(why.split())) > 500:
        return False
    if moment == END:
        return all(fields[f"skill_{i}"] in {"1", "2", "3", "4", "5"} for i in range(2))
    return True


def _assert_whole_or_nothing(setup: PairSetup, moment: str, *, saved: bool) -> None:
    answers = list(NpsResponse.objects.all())
    ratings = list(ConfidenceRating.objects.filter(context=ConfidenceRating.Context.END))
    if not saved:
        assert answers == []
        assert ratings == []
        return
    (answer,) = answers
    assert (answer.participant_id, answer.moment) == (setup.mentee.pk, moment)
    assert 0 <= answer.score <= 10
    assert len(answer.why) <= 500
    if moment == END:
        assert sorted(r.key_skill_id for r in ratings) == [
            s.pk for s in skills(setup.cohort.programme)
        ]
        assert all(1 <= r.value <= 5 for r in ratings)
    else:
        assert ratings == []


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moment=st.sampled_from(MOMENTS), fields=_POST)
def test_any_post_saves_one_whole_answer_or_nothing(setup, moment, fields) -> None:
    skill_ids = [skill.pk for skill in skills(setup.cohort.programme)]
    names = {"skill_0": f"confidence_{skill_ids[0]}", "skill_1": f"confidence_{skill_ids[1]}"}
    data = {names.get(key, key): value for key, value in fields.items() if value is not None}
    client = Client()

    with transaction.atomic():
        response = client.post(feedback_path(setup.mentee, moment), data)

        # A NUL anywhere is refused before the page (mentoring/middleware.py).
        nul = any("\x00" in f"{key}{value}" for key, value in data.items())
        expected = _expected_valid(moment, fields) and not nul
        assert response.status_code == (302 if expected else 400)
        _assert_whole_or_nothing(setup, moment, saved=expected)
        if not expected:
            page = response.content.decode()
            assert ("could not be read" if nul else "There is a problem") in page
        transaction.set_rollback(True)


_ANY = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-20, max_value=20)
    | st.floats(allow_nan=True)
    | _TEXT
    | st.lists(st.integers(), max_size=2)
)


@hypothesis_settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moment=st.sampled_from([*MOMENTS, "start", ""]),
    score=_ANY,
    why=_ANY | _LONG,
    confidence=st.none()
    | _ANY
    | st.dictionaries(st.sampled_from(["skill_0", "skill_1", "elsewhere"]), _ANY, max_size=3),
)
def test_the_service_stores_a_whole_answer_or_raises_a_validation_error(
    setup, moment, score, why, confidence
) -> None:
    first, second = (skill.pk for skill in skills(setup.cohort.programme))
    by_key = {"skill_0": first, "skill_1": second, "elsewhere": 0}
    if isinstance(confidence, dict):
        confidence = {by_key[key]: value for key, value in confidence.items()}

    with transaction.atomic():
        messages: list[str] | None = None
        try:
            feedback_submit(
                participant=setup.mentee,
                moment=moment,
                score=score,
                why=why,
                confidence=confidence,
                now=timezone.now(),
            )
        except ValidationError as error:
            messages = error.messages
        _assert_whole_or_nothing(setup, moment, saved=messages is None)
        transaction.set_rollback(True)
    if messages is not None:
        assert messages
        assert all(isinstance(message, str) and message for message in messages)


def test_the_oracle_tells_valid_from_invalid(setup) -> None:
    """The property test's own rules accept a good answer and refuse a bad one."""
    good = {"score": "10", "why": "x", "skill_0": "5", "skill_1": "1", "extra": None}

    assert _expected_valid(END, good)
    assert not _expected_valid(END, good | {"skill_1": "6"})
    assert not _expected_valid(MIDPOINT, good | {"score": "11"})
    assert not _expected_valid(MIDPOINT, good | {"why": "x" * 501})
    assert _expected_valid(MIDPOINT, good | {"why": "x " * 250})


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_store_exactly_one_answer(programme) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; SQLite writes one transaction at a time")
    setup = pair_around_today(programme, timezone.now().date())
    path = feedback_path(setup.mentee, END)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    statuses: list[int] = []
    failures: list[Exception] = []

    def submit(score: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().post(path, end_answers(programme, score=str(score), rating="3"))
            statuses.append(response.status_code)
        except Exception as exc:  # reported below, in the test's own thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(score,)) for score in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert statuses == [302] * threads_count
    (answer,) = NpsResponse.objects.filter(participant=setup.mentee, moment=END)
    assert answer.score in range(threads_count)
    ratings = ConfidenceRating.objects.filter(
        participant=setup.mentee, context=ConfidenceRating.Context.END
    )
    assert sorted(ratings.values_list("key_skill_id", flat=True)) == sorted(
        KeySkill.objects.filter(programme=programme).values_list("pk", flat=True)
    )
    assert answer.submitted_at > timezone.now() - timedelta(minutes=5)
