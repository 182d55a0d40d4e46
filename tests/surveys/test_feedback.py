"""The programme questions (NPS at the mid-point and end, confidence at the end): windows,
every validation, the edit window, links, and the why kept private to its author."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib import admin
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from notifications.models import Notification
from notifications.sending import notification_send
from pairs.models import Pair
from programmes.links import Purpose, make_token, read_token
from programmes.models import Participant
from surveys import feedback
from surveys import pair_page as pair_page_part
from surveys.feedback import (
    END,
    MIDPOINT,
    feedback_due,
    feedback_links_due,
    feedback_submit,
    feedback_url,
    feedback_window,
)
from surveys.models import ConfidenceRating, NpsResponse
from surveys.notices import ask_feedback_request
from tests.factories import ParticipantFactory
from tests.pairs.pair_setup import page_url
from tests.surveys.feedback_helpers import (
    END_CLOSES,
    END_OPENS,
    ENDS_ON,
    MIDPOINT_OPENS,
    SKILLS,
    end_answers,
    feedback_pair,
    feedback_path,
    skills,
)

MID_DAY = datetime(2026, 2, 20, 10, 0, tzinfo=UTC)  # mid-point questions open
LAST_WEEK = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)  # both open
WHY = "WHY-SECRET the sessions drifted into small talk"


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(MID_DAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def setup(programme, clock):
    return feedback_pair(programme)


def _answers(participant: Participant) -> list[NpsResponse]:
    return list(NpsResponse.objects.filter(participant=participant))


def _end_ratings(participant: Participant) -> dict[str, int]:
    return dict(
        ConfidenceRating.objects.filter(
            participant=participant, context=ConfidenceRating.Context.END
        ).values_list("key_skill__name", "value")
    )


def _submit(participant: Participant, moment: str = MIDPOINT, **overrides) -> NpsResponse:
    fields = {"score": 8, "why": "", "confidence": None, "now": MID_DAY} | overrides
    if moment == END and fields["confidence"] is None:
        fields["confidence"] = {skill.pk: 3 for skill in skills(participant.cohort.programme)}
    return feedback_submit(participant=participant, moment=moment, **fields)


# Windows


def test_the_midpoint_window_opens_halfway_and_closes_on_the_last_day(setup) -> None:
    window = feedback_window(setup.cohort, MIDPOINT)

    assert (window.opens_on, window.closes_on) == (MIDPOINT_OPENS, ENDS_ON)
    assert window.expires_at == datetime(2026, 4, 6, 0, 0, tzinfo=UTC)


def test_the_midpoint_of_an_odd_length_cohort_rounds_down(setup) -> None:
    setup.cohort.ends_on = setup.cohort.starts_on + timedelta(days=91)

    assert feedback_window(setup.cohort, MIDPOINT).opens_on == date(2026, 2, 19)


def test_the_end_window_opens_a_week_before_and_closes_thirty_days_after(setup) -> None:
    window = feedback_window(setup.cohort, END)

    assert (window.opens_on, window.closes_on) == (END_OPENS, END_CLOSES)


def test_it_refuses_to_make_a_window_for_an_unknown_moment(setup) -> None:
    with pytest.raises(ValueError, match="Unknown moment"):
        feedback_window(setup.cohort, "start")


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (MIDPOINT_OPENS - timedelta(days=1), []),
        (MIDPOINT_OPENS, [MIDPOINT]),
        (END_OPENS - timedelta(days=1), [MIDPOINT]),
        (END_OPENS, [MIDPOINT, END]),
        (ENDS_ON, [MIDPOINT, END]),
        (ENDS_ON + timedelta(days=1), [END]),
        (END_CLOSES, [END]),
        (END_CLOSES + timedelta(days=1), []),
    ],
)
def test_it_asks_each_set_of_questions_on_the_days_of_its_window(setup, today, due) -> None:
    for participant in (setup.mentee, setup.mentor):
        assert feedback_due(participant, today=today) == due


def test_it_stops_asking_once_answered(setup) -> None:
    _submit(setup.mentee)

    assert feedback_due(setup.mentee, today=ENDS_ON) == [END]
    assert feedback_due(setup.mentor, today=ENDS_ON) == [MIDPOINT, END]


def test_it_still_asks_someone_whose_pair_has_ended(programme, clock) -> None:
    setup = feedback_pair(programme, status=Pair.Status.ENDED)

    assert feedback_due(setup.mentee, today=ENDS_ON) == [MIDPOINT, END]


def test_it_never_asks_someone_never_paired(setup) -> None:
    loner = ParticipantFactory(cohort=setup.cohort, status=Participant.Status.INTAKE_COMPLETE)

    assert feedback_due(loner, today=ENDS_ON) == []


def test_it_never_asks_a_withdrawn_participant(setup) -> None:
    Participant.objects.filter(pk=setup.mentor.pk).update(status=Participant.Status.WITHDRAWN)
    setup.mentor.refresh_from_db()

    assert feedback_due(setup.mentor, today=ENDS_ON) == []


def test_it_asks_without_a_query_outside_the_windows_and_with_one_inside(
    setup, django_assert_num_queries
) -> None:
    participant = Participant.objects.select_related("cohort").get(pk=setup.mentee.pk)

    with django_assert_num_queries(0):
        assert feedback_due(participant, today=MIDPOINT_OPENS - timedelta(days=1)) == []
    # 1 whether they were paired and which open moments they answered, in one row
    with django_assert_num_queries(1):
        assert feedback_due(participant, today=ENDS_ON) == [MIDPOINT, END]


def test_its_links_last_until_the_window_closes(client, setup) -> None:
    link = feedback_url(setup.mentee, END)
    token = urlsplit(link).path.split("/")[2]

    claims = read_token(token, purpose=Purpose.FEEDBACK)
    assert link.startswith("http://testserver/feedback/")
    assert (claims.participant_id, claims.scope) == (setup.mentee.pk, END)
    assert claims.expires_at == int(at(END_CLOSES + timedelta(days=1), 0).timestamp())
    path = urlsplit(link).path
    with time_machine.travel(at(END_CLOSES, 23, 59), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(at(END_CLOSES + timedelta(days=1), 0, 1), tick=False):
        assert client.get(path).status_code == 410


# The page


def test_it_asks_the_midpoint_question_with_eleven_buttons(client, setup) -> None:
    response = client.get(feedback_path(setup.mentee, MIDPOINT))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Mid-point questions" in html
    assert "How likely are you to recommend this programme to a colleague?" in html
    assert html.count('name="score"') == 11
    assert 'value="0"' in html
    assert 'value="10"' in html
    assert 'name="why"' in html
    assert "confidence_" not in html
    assert SKILLS[0] not in html


def test_it_asks_confidence_in_every_key_skill_at_the_end(client, setup, clock) -> None:
    clock.move_to(LAST_WEEK)

    html = client.get(feedback_path(setup.mentor, END)).content.decode()

    for skill in skills(setup.cohort.programme):
        assert skill.name in html
        assert html.count(f'name="confidence_{skill.pk}"') == 5


def test_it_saves_the_midpoint_answer_and_says_thank_you(client, setup) -> None:
    path = feedback_path(setup.mentee, MIDPOINT)

    response = client.post(path, {"score": "9", "why": WHY})

    thanks = path + "thanks/"
    assert response.status_code == 302
    assert response["Location"] == thanks
    (answer,) = _answers(setup.mentee)
    assert (answer.moment, answer.score, answer.why, answer.submitted_at) == (
        MIDPOINT,
        9,
        WHY,
        MID_DAY,
    )
    assert _end_ratings(setup.mentee) == {}
    page = client.get(thanks)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Thank you, your answers are saved" in html
    main = html.split('id="main"')[1].split("</main>")[0]
    assert "href=" not in main  # links nowhere, least of all to anything private
    assert "WHY-SECRET" not in html


def test_the_thanks_page_sends_someone_who_has_not_answered_to_the_questions(client, setup) -> None:
    response = client.get(feedback_path(setup.mentee, MIDPOINT, "surveys:feedback_thanks"))

    assert response.status_code == 302
    assert response["Location"] == feedback_path(setup.mentee, MIDPOINT)


def test_it_saves_the_end_answer_with_a_rating_for_every_skill(client, setup, clock) -> None:
    clock.move_to(LAST_WEEK)
    digital, inclusive = skills(setup.cohort.programme)
    data = end_answers(setup.cohort.programme, score="6") | {f"confidence_{digital.pk}": "5"}

    response = client.post(feedback_path(setup.mentor, END), data)

    assert response.status_code == 302
    (answer,) = _answers(setup.mentor)
    assert (answer.moment, answer.score, answer.why) == (END, 6, "")
    ratings = ConfidenceRating.objects.filter(participant=setup.mentor)
    assert {(r.key_skill_id, r.value, r.context, r.recorded_at, r.pulse_id) for r in ratings} == {
        (digital.pk, 5, "end", LAST_WEEK, None),
        (inclusive.pk, 4, "end", LAST_WEEK, None),
    }


def test_it_tidies_the_whitespace_of_the_why(client, setup) -> None:
    client.post(
        feedback_path(setup.mentee, MIDPOINT), {"score": "7", "why": "  Good\r\n\r\n  pace\t "}
    )

    assert _answers(setup.mentee)[0].why == "Good pace"


def test_it_accepts_a_why_that_fits_once_its_line_breaks_are_tidied(client, setup) -> None:
    why = "\r\n".join(["x" * 99] * 4 + ["x" * 100]) + "\r\n\r\n"  # 496 + 6 line breaks

    response = client.post(feedback_path(setup.mentee, MIDPOINT), {"score": "7", "why": why})

    assert response.status_code == 302
    assert len(_answers(setup.mentee)[0].why) == 500


def _assert_refused(response, message: str, participant: Participant) -> str:
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert message in html
    assert not NpsResponse.objects.exists()
    assert not ConfidenceRating.objects.filter(participant=participant).exists()
    return html


@pytest.mark.parametrize(
    "score",
    [None, "", "11", "-1", "abc", "5.5", "1e1", " 5", "٥"],
    ids=["missing", "empty", "11", "-1", "word", "fraction", "exponent", "space", "arabic"],
)
def test_it_refuses_a_score_outside_zero_to_ten(client, setup, score) -> None:
    data = {"why": "It was worth it"} | ({} if score is None else {"score": score})

    response = client.post(feedback_path(setup.mentee, MIDPOINT), data)

    html = _assert_refused(response, "Choose a number from 0 to 10.", setup.mentee)
    assert "It was worth it</textarea>" in html  # what was typed is kept


def test_it_refuses_a_why_over_five_hundred_characters(client, setup) -> None:
    why = "word " * 100 + "x"  # 501 characters

    response = client.post(feedback_path(setup.mentee, MIDPOINT), {"score": "3", "why": why})

    html = _assert_refused(response, "Keep it to 500 characters (it has 501).", setup.mentee)
    assert f"{why}</textarea>" in html
    assert 'value="3" autocomplete="off" checked' in html


def test_it_refuses_a_why_with_control_characters(client, setup) -> None:
    response = client.post(
        feedback_path(setup.mentee, MIDPOINT), {"score": "3", "why": "fine\x00 really"}
    )

    # A NUL is refused before any page (mentoring/middleware.py, issue 14 item 6).
    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert not NpsResponse.objects.exists()


@pytest.mark.parametrize("rating", [None, "", "0", "6", "x"])
def test_it_refuses_an_end_answer_missing_a_skill_rating(client, setup, clock, rating) -> None:
    clock.move_to(LAST_WEEK)
    _, inclusive = skills(setup.cohort.programme)
    data = end_answers(setup.cohort.programme, why="Kept what I typed")
    if rating is None:
        del data[f"confidence_{inclusive.pk}"]
    else:
        data[f"confidence_{inclusive.pk}"] = rating

    response = client.post(feedback_path(setup.mentee, END), data)

    html = _assert_refused(
        response, "Rate your confidence in “Inclusive 100% leadership” from 1 to 5.", setup.mentee
    )
    assert "Digital fluency” from 1 to 5" not in html
    assert "Kept what I typed</textarea>" in html


def test_it_refuses_everything_at_once_and_says_so_for_each(client, setup, clock) -> None:
    clock.move_to(LAST_WEEK)

    response = client.post(feedback_path(setup.mentee, END), {"why": "y" * 600})

    html = _assert_refused(response, "Choose a number from 0 to 10.", setup.mentee)
    assert "Keep it to 500 characters (it has 600)." in html
    assert "Rate your confidence in “Digital fluency” from 1 to 5." in html
    assert "Rate your confidence in “Inclusive 100% leadership” from 1 to 5." in html


def test_it_answers_other_methods_with_405(client, setup) -> None:
    assert client.put(feedback_path(setup.mentee, MIDPOINT)).status_code == 405
    assert (
        client.post(feedback_path(setup.mentee, MIDPOINT, "surveys:feedback_thanks")).status_code
        == 405
    )


# The edit window


def test_it_lets_an_answer_be_changed_within_48_hours(client, setup, clock) -> None:
    clock.move_to(LAST_WEEK)
    path = feedback_path(setup.mentee, END)
    client.post(path, end_answers(setup.cohort.programme, score="5", why="First go"))

    clock.move_to(LAST_WEEK + timedelta(hours=47))
    form = client.get(path).content.decode()
    assert "You answered already" in form
    assert "First go</textarea>" in form
    assert 'value="5" autocomplete="off" checked' in form
    assert form.count('value="4" autocomplete="off" checked') == 2
    response = client.post(path, end_answers(setup.cohort.programme, score="8", rating="2"))

    assert response.status_code == 302
    (answer,) = _answers(setup.mentee)
    assert (answer.score, answer.why, answer.submitted_at) == (8, "", LAST_WEEK)
    assert _end_ratings(setup.mentee) == {SKILLS[0]: 2, SKILLS[1]: 2}
    assert ConfidenceRating.objects.filter(participant=setup.mentee).count() == 2
    assert set(
        ConfidenceRating.objects.filter(participant=setup.mentee).values_list(
            "recorded_at", flat=True
        )
    ) == {LAST_WEEK + timedelta(hours=47)}


def test_it_shows_the_answers_read_only_after_48_hours(client, setup, clock) -> None:
    path = feedback_path(setup.mentee, MIDPOINT)
    client.post(path, {"score": "4", "why": WHY})

    clock.move_to(MID_DAY + timedelta(hours=48, seconds=1))
    page = client.get(path)
    refused = client.post(path, {"score": "10", "why": "Changed my mind"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "<form" not in html.split('id="main"')[1]
    assert "4 out of 10" in html
    assert WHY in html  # the author may read their own why
    assert "these are now final" in html
    assert refused.status_code == 409
    assert "Nothing was changed" in refused.content.decode()
    (answer,) = _answers(setup.mentee)
    assert (answer.score, answer.why) == (4, WHY)


def test_the_service_refuses_a_change_after_48_hours(setup) -> None:
    _submit(setup.mentee, score=4)

    with pytest.raises(ValidationError) as error:
        _submit(setup.mentee, score=9, now=MID_DAY + timedelta(hours=49))

    assert "can no longer be changed" in error.value.message_dict[NON_FIELD_ERRORS][0]
    assert _answers(setup.mentee)[0].score == 4


def test_the_service_allows_a_change_at_exactly_48_hours(setup) -> None:
    _submit(setup.mentee, score=4)

    _submit(setup.mentee, score=9, now=MID_DAY + timedelta(hours=48))

    assert [(a.score, a.submitted_at) for a in _answers(setup.mentee)] == [(9, MID_DAY)]


def _lasting_path(participant: Participant, moment: str) -> str:
    """A link that outlives its window, as one sent before the cohort's dates were moved
    earlier would."""
    token = make_token(
        participant_id=participant.pk,
        purpose=Purpose.FEEDBACK,
        scope=moment,
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    return reverse("surveys:feedback", args=[token])


def test_it_shows_the_answers_read_only_once_the_window_has_closed(client, setup, clock) -> None:
    clock.move_to(at(ENDS_ON, 23, 0))
    path = _lasting_path(setup.mentee, MIDPOINT)
    client.post(path, {"score": "6"})

    clock.move_to(at(ENDS_ON + timedelta(days=1), 1, 0))  # 2 hours later, the day after
    html = client.get(path).content.decode()

    assert "These questions closed on 5 April 2026" in html
    assert "6 out of 10" in html
    assert client.post(path, {"score": "9"}).status_code == 409
    assert _answers(setup.mentee)[0].score == 6


# Outside the window


def test_it_says_when_the_questions_open(client, setup, clock) -> None:
    clock.move_to(at(MIDPOINT_OPENS - timedelta(days=1), 23, 59))
    path = feedback_path(setup.mentee, MIDPOINT)

    page = client.get(path)
    post = client.post(path, {"score": "9"})

    assert page.status_code == 200
    assert "They open on <strong>19 February 2026</strong>" in page.content.decode()
    assert "<form" not in page.content.decode().split('id="main"')[1]
    assert post.status_code == 409
    assert "Nothing was saved" in post.content.decode()
    assert not NpsResponse.objects.exists()


def test_it_says_when_the_questions_closed(client, setup, clock) -> None:
    path = _lasting_path(setup.mentee, MIDPOINT)
    clock.move_to(at(ENDS_ON + timedelta(days=1), 0, 1))

    page = client.get(path)
    post = client.post(path, {"score": "9"})

    assert page.status_code == 200
    assert "They closed on <strong>5 April 2026</strong>" in page.content.decode()
    assert post.status_code == 409
    assert not NpsResponse.objects.exists()


def test_the_service_refuses_an_answer_outside_the_window(setup) -> None:
    with pytest.raises(ValidationError) as error:
        _submit(setup.mentee, END)

    assert error.value.message_dict == {
        NON_FIELD_ERRORS: ["These questions open on 29 March 2026."]
    }
    assert not NpsResponse.objects.exists()


# Links


def _token(participant: Participant, moment: str = MIDPOINT, purpose=Purpose.FEEDBACK) -> str:
    return make_token(participant_id=participant.pk, purpose=purpose, scope=moment)


def _assert_link_problem(response, status: int, heading: str) -> None:
    html = response.content.decode()
    assert response.status_code == status
    assert heading in html
    assert "Send me a new link" in html
    assert "<form" not in html.split('id="main"')[1]


@pytest.mark.parametrize("name", ["surveys:feedback", "surveys:feedback_thanks"])
def test_it_refuses_a_tampered_link(client, setup, name) -> None:
    token = _token(setup.mentee)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    _assert_link_problem(
        client.get(reverse(name, args=[tampered])), 400, "This link is not complete"
    )
    response = client.post(reverse("surveys:feedback", args=[tampered]), {"score": "9"})
    _assert_link_problem(response, 400, "This link is not complete")
    assert not NpsResponse.objects.exists()


def test_it_refuses_a_link_forged_for_another_participant(client, setup) -> None:
    genuine = _token(setup.mentee)
    forged_payload = _token(setup.mentor).split(":")[0]
    forged = ":".join([forged_payload, *genuine.split(":")[1:]])

    response = client.post(reverse("surveys:feedback", args=[forged]), {"score": "9"})

    _assert_link_problem(response, 400, "This link is not complete")
    assert not NpsResponse.objects.exists()


def test_it_refuses_an_expired_link(client, setup, clock) -> None:
    token = make_token(
        participant_id=setup.mentee.pk,
        purpose=Purpose.FEEDBACK,
        scope=MIDPOINT,
        expires_at=MID_DAY + timedelta(hours=1),
    )
    clock.move_to(MID_DAY + timedelta(hours=1, seconds=1))

    response = client.post(reverse("surveys:feedback", args=[token]), {"score": "9"})

    _assert_link_problem(response, 410, "This link has expired")
    assert "programme questions" in response.content.decode()
    assert not NpsResponse.objects.exists()


def test_it_refuses_a_link_made_for_another_purpose(client, setup) -> None:
    token = make_token(participant_id=setup.mentee.pk, purpose=Purpose.PAIR)

    response = client.post(reverse("surveys:feedback", args=[token]), {"score": "9"})

    _assert_link_problem(response, 400, "This link is for something else")
    assert "This link opens your pair page, not your programme questions." in (
        response.content.decode()
    )
    assert not NpsResponse.objects.exists()


@pytest.mark.parametrize("name", ["surveys:feedback", "surveys:feedback_thanks"])
@pytest.mark.parametrize("scope", ["start", "MIDPOINT", "end ", "0"])
def test_it_refuses_a_link_for_an_unknown_moment(client, setup, name, scope) -> None:
    token = _token(setup.mentee, scope)

    response = client.post(reverse("surveys:feedback", args=[token]), {"score": "9"})

    _assert_link_problem(response, 400, "This link is not complete")
    _assert_link_problem(client.get(reverse(name, args=[token])), 400, "This link is not complete")
    assert not NpsResponse.objects.exists()


def test_it_refuses_the_link_of_a_withdrawn_participant(client, setup) -> None:
    path = feedback_path(setup.mentee, MIDPOINT)
    Participant.objects.filter(pk=setup.mentee.pk).update(status=Participant.Status.WITHDRAWN)

    response = client.post(path, {"score": "9"})

    _assert_link_problem(response, 404, "This link no longer works")
    assert not NpsResponse.objects.exists()


def test_it_tells_someone_never_paired_that_the_questions_are_not_for_them(client, setup) -> None:
    loner = ParticipantFactory(cohort=setup.cohort, status=Participant.Status.INTAKE_COMPLETE)
    path = feedback_path(loner, MIDPOINT)

    page = client.get(path)
    post = client.post(path, {"score": "9"})

    assert page.status_code == 200
    assert "These questions are not for you" in page.content.decode()
    assert "<form" not in page.content.decode().split('id="main"')[1]
    assert post.status_code == 409
    assert not NpsResponse.objects.exists()
    with pytest.raises(ValidationError, match="people who have had a partner"):
        _submit(loner)
    assert not NpsResponse.objects.exists()


# The service's own checks


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"score": 11}, "score"),
        ({"score": -1}, "score"),
        ({"score": None}, "score"),
        ({"score": "7"}, "score"),
        ({"score": True}, "score"),
        ({"score": 7.0}, "score"),
        ({"why": "x" * 501}, "why"),
        ({"why": 12}, "why"),
        ({"confidence": {1: 3}}, NON_FIELD_ERRORS),
    ],
)
def test_the_service_checks_every_answer(setup, overrides, field) -> None:
    with pytest.raises(ValidationError) as error:
        _submit(setup.mentee, **overrides)

    assert field in error.value.message_dict
    assert not NpsResponse.objects.exists()


@pytest.mark.parametrize(
    "confidence",
    [{}, {"first": 3}, {"first": 3, "second": 0}, {"first": 3, "second": "4"}],
    ids=["none", "one-missing", "zero", "text"],
)
def test_the_service_wants_every_skill_rated_at_the_end(setup, confidence) -> None:
    ids = {
        "first": skills(setup.cohort.programme)[0].pk,
        "second": skills(setup.cohort.programme)[1].pk,
    }

    with pytest.raises(ValidationError) as error:
        _submit(
            setup.mentee,
            END,
            now=LAST_WEEK,
            confidence={ids[key]: value for key, value in confidence.items()},
        )

    assert f"confidence_{ids['second']}" in error.value.message_dict
    assert not NpsResponse.objects.exists()
    assert not ConfidenceRating.objects.exists()


def test_the_service_refuses_a_rating_of_a_skill_from_elsewhere(setup) -> None:
    confidence = {skill.pk: 3 for skill in skills(setup.cohort.programme)} | {987654: 3}

    with pytest.raises(ValidationError, match="only the skills of this programme"):
        _submit(setup.mentee, END, now=LAST_WEEK, confidence=confidence)


def test_the_service_refuses_an_unknown_moment(setup) -> None:
    with pytest.raises(ValidationError):
        _submit(setup.mentee, "start")


def test_a_clash_on_the_unique_answer_is_a_friendly_error_not_a_crash(setup, monkeypatch) -> None:
    first = _submit(setup.mentee, score=2)
    # As if another submission had inserted its row unseen, on a database without row locks.
    monkeypatch.setattr(feedback, "_existing_answer", lambda participant_id, moment: None)

    with pytest.raises(ValidationError) as error:
        _submit(setup.mentee, score=9)

    assert error.value.message_dict == {NON_FIELD_ERRORS: [feedback.TWICE_MESSAGE]}
    assert [(a.pk, a.score) for a in _answers(setup.mentee)] == [(first.pk, 2)]


def test_a_clash_on_the_page_is_a_400_with_the_answers_kept(client, setup, monkeypatch) -> None:
    _submit(setup.mentee, score=2)
    monkeypatch.setattr(feedback, "_existing_answer", lambda participant_id, moment: None)

    response = client.post(feedback_path(setup.mentee, MIDPOINT), {"score": "9", "why": "Again"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "arrived twice at the same moment" in html
    assert "Again</textarea>" in html
    assert [a.score for a in _answers(setup.mentee)] == [2]


# The pair page's card


def test_the_pair_page_offers_the_open_questions_until_answered(client, setup, clock) -> None:
    clock.move_to(LAST_WEEK)

    html = client.get(page_url(setup.mentee)).content.decode()

    card = html[
        html.index('id="feedback-due"') : html.index("</section>", html.index('id="feedback-due"'))
    ]
    assert "Mid-point questions" in card
    assert "End-of-programme questions" in card
    assert html.index('id="feedback-due"') < html.index('id="partner"')
    link = card.split('href="')[2].split('"')[0]
    assert client.get(urlsplit(link).path).status_code == 200
    assert "End-of-programme questions" in client.get(urlsplit(link).path).content.decode()

    _submit(setup.mentee, END, now=LAST_WEEK)
    html = client.get(page_url(setup.mentee)).content.decode()
    assert "Mid-point questions" in html
    assert "End-of-programme questions" not in html


def test_the_pair_page_has_no_card_outside_the_windows(client, setup, clock) -> None:
    clock.move_to(at(MIDPOINT_OPENS - timedelta(days=1)))

    html = client.get(page_url(setup.mentee)).content.decode()

    assert 'id="feedback-due"' not in html
    assert "/feedback/" not in html


def test_the_pair_page_card_costs_no_query_of_its_own(client, setup, clock) -> None:
    """Whether the open questions were answered is loaded with the pair."""

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(page_url(setup.mentee)).status_code == 200
        return len(context.captured_queries)

    client.get(page_url(setup.mentee))  # the first view starts the agreement
    clock.move_to(at(MIDPOINT_OPENS - timedelta(days=1)))
    without_card = queries()
    clock.move_to(at(MIDPOINT_OPENS))

    assert queries() == without_card
    assert 'id="feedback-due"' in client.get(page_url(setup.mentee)).content.decode()


def test_the_pair_page_card_asks_when_a_window_opened_after_the_pair_was_loaded(
    setup, clock
) -> None:
    """The pair was loaded just before midnight (no window open, nothing annotated); the
    card, worked out just after, asks the database rather than show nothing."""
    clock.move_to(at(MIDPOINT_OPENS))
    pair = Pair.objects.get(pk=setup.pair.pk)  # without the answers' annotation

    context = pair_page_part._context(pair, setup.mentee, at(MIDPOINT_OPENS))

    assert [label for label, _ in context["feedback_due"]] == ["Mid-point questions"]


def test_feedback_links_due_names_each_open_moment(setup) -> None:
    links = feedback_links_due(setup.mentee, now=LAST_WEEK)

    assert [label for label, _ in links] == ["Mid-point questions", "End-of-programme questions"]
    assert [
        read_token(urlsplit(url).path.split("/")[2], purpose=Purpose.FEEDBACK).scope
        for _, url in links
    ] == [MIDPOINT, END]


# Privacy of the why


def test_the_why_never_reaches_the_partners_pages(client, setup, clock) -> None:
    clock.move_to(LAST_WEEK)
    client.post(feedback_path(setup.mentee, MIDPOINT), {"score": "3", "why": WHY})
    client.post(feedback_path(setup.mentee, END), end_answers(setup.cohort.programme, why=WHY))
    assert NpsResponse.objects.filter(why=WHY).count() == 2

    pages = [
        client.get(page_url(setup.mentor)),
        client.get(feedback_path(setup.mentor, MIDPOINT)),
        client.get(feedback_path(setup.mentor, END)),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200]
    for page in pages:
        assert "WHY-SECRET" not in page.content.decode()
    assert "WHY-SECRET" not in client.get(page_url(setup.mentee)).content.decode()


def _admin_pages(client) -> dict[str, str]:
    """Every admin list the manager can open, and every row's change page."""
    pages = {"/admin/": client.get("/admin/").content.decode()}
    for model in admin.site._registry:
        opts = model._meta
        try:
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        response = client.get(changelist)
        if response.status_code != 200:
            continue
        pages[changelist] = response.content.decode()
        for pk in model._default_manager.values_list("pk", flat=True)[:50]:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            response = client.get(change)
            if response.status_code == 200:
                pages[change] = response.content.decode()
    return pages


def test_the_why_never_appears_in_the_admin(client, manager, setup, clock) -> None:
    clock.move_to(LAST_WEEK)
    _submit(setup.mentee, MIDPOINT, why=WHY, now=LAST_WEEK)
    _submit(setup.mentor, END, why=WHY, now=LAST_WEEK)
    client.force_login(manager)

    pages = _admin_pages(client)

    participant_page = f"/admin/programmes/participant/{setup.mentee.pk}/change/"
    assert participant_page in pages
    assert f"/admin/pairs/pair/{setup.pair.pk}/change/" in pages
    assert "Morgan Hale" in pages[participant_page]
    for url, html in pages.items():
        assert "WHY-SECRET" not in html, url


# The e-mail


@pytest.mark.parametrize(
    ("moment", "subject", "line"),
    [
        (MIDPOINT, "halfway there", "You are halfway through"),
        (END, "now it is ending", "how confident you now feel"),
    ],
)
def test_it_e_mails_a_personal_link_to_the_questions(
    client, setup, clock, moment, subject, line, django_capture_on_commit_callbacks
) -> None:
    clock.move_to(LAST_WEEK)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ask_feedback_request(setup.mentor, moment)

    (message,) = mail.outbox
    assert message.to == [setup.mentor.person.email]
    assert message.subject.startswith(f"{setup.cohort.programme.name}: ")
    assert subject in message.subject
    assert "\n" not in message.subject
    assert line in message.body
    assert "Dear Eli Okafor" in message.body
    link = next(word for word in message.body.split() if "/feedback/" in word)
    assert link.startswith("http://testserver/feedback/")
    assert link == feedback_url(setup.mentor, moment)
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "How likely are you to recommend this programme" in page.content.decode()


def test_it_e_mails_each_moment_once_however_often_asked(setup, clock) -> None:
    clock.move_to(LAST_WEEK)
    mail.outbox.clear()
    for moment in (MIDPOINT, END, MIDPOINT):
        ask_feedback_request(setup.mentor, moment)

    results = [notification_send(n.pk) for n in Notification.objects.all() for _ in range(2)]

    assert sorted(results) == ["not claimed", "not claimed", "sent", "sent"]
    assert len(mail.outbox) == 2


def test_it_e_mails_nothing_once_answered_or_after_the_window(setup, clock) -> None:
    clock.move_to(LAST_WEEK)
    mail.outbox.clear()
    ask_feedback_request(setup.mentee, MIDPOINT)
    ask_feedback_request(setup.mentor, END)
    _submit(setup.mentee, MIDPOINT, now=LAST_WEEK)  # answered from the pair page first
    answered = Notification.objects.get(person=setup.mentee.person)
    late = Notification.objects.get(person=setup.mentor.person)

    assert notification_send(answered.pk) == Notification.Status.CANCELLED
    clock.move_to(at(END_CLOSES + timedelta(days=1)))
    assert notification_send(late.pk) == Notification.Status.CANCELLED
    assert mail.outbox == []


def test_it_e_mails_no_link_for_an_unknown_moment(setup) -> None:
    mail.outbox.clear()
    ask_feedback_request(setup.mentor, "start")

    (notification,) = Notification.objects.all()

    assert notification_send(notification.pk) == Notification.Status.CANCELLED
    assert mail.outbox == []
