"""The pulse page through its signed link: the questions each session calls for, every
validation (a clear message, what was typed kept, nothing saved), the 48-hour edit window,
and links that cannot be used."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from pairs.models import Meeting, Pair
from programmes.links import Purpose, make_token
from surveys.models import ConfidenceRating, Pulse, PulseRequest
from tests.factories import KeySkillFactory
from tests.surveys.pulse_helpers import (
    held_answers,
    past_session,
    pulse_token,
    pulse_url,
    running_pair,
)

pytestmark = pytest.mark.django_db

SOON = (timezone.localdate() + timedelta(days=10)).isoformat()


@pytest.fixture
def session(pair) -> Meeting:
    return past_session(pair)


def html_of(response) -> str:
    return response.content.decode()


def assert_nothing_saved(session: Meeting, status: str = Meeting.Status.SCHEDULED) -> None:
    assert not Pulse.objects.exists()
    assert not ConfidenceRating.objects.exists()
    assert not PulseRequest.objects.exists()
    session.refresh_from_db()
    assert session.status == status


# --- Reaching the page ------------------------------------------------------------------------


def test_the_link_opens_the_questions_with_held_preset_from_the_email(client, pair, session):
    response = client.get(pulse_url(pair.mentee, session) + "?held=yes")

    html = html_of(response)
    assert response.status_code == 200
    assert "Your session with Ravi Patel" in html
    assert 'name="held" id="id_held_0" value="yes" autocomplete="off" checked' in html
    assert "One thing you learned" in html


def test_an_unknown_held_preset_preselects_nothing(client, pair, session):
    html = html_of(client.get(pulse_url(pair.mentee, session) + "?held=<script>"))

    assert " checked" not in html.split('id="pulse-form"')[1].split("learning")[0]
    assert "<script>" not in html.split('id="main"')[1].split("</main>")[0]


def test_a_tampered_link_says_how_to_get_a_new_one(client, pair, session):
    token = pulse_token(pair.mentee, session)

    response = client.get(reverse("surveys:pulse", args=[token[:-2] + "xx"]))

    assert response.status_code == 400
    assert "This link is not complete" in html_of(response)
    assert reverse("surveys:resend_link") in html_of(response)
    assert "answer the questions for any of your sessions from your pair page" in html_of(response)


def test_an_expired_link_says_how_to_get_a_new_one(client, pair, session):
    url = pulse_url(pair.mentee, session)

    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.get(url)

    assert response.status_code == 410
    assert "This link has expired" in html_of(response)
    assert "your session questions" in html_of(response)


def test_a_pair_page_link_does_not_open_a_pulse(client, pair, session):
    token = make_token(participant_id=pair.mentee.pk, purpose=Purpose.PAIR)

    response = client.get(reverse("surveys:pulse", args=[token]))

    assert response.status_code == 400
    assert "This link opens your pair page, not your session questions." in html_of(response)


def test_a_link_naming_another_pairs_session_reaches_nothing(client, programme, pair, session):
    other = running_pair(programme=programme)
    foreign = past_session(other)
    token = make_token(participant_id=pair.mentee.pk, purpose=Purpose.PULSE, scope=foreign.pk)

    get = client.get(reverse("surveys:pulse", args=[token]))
    post = client.post(reverse("surveys:pulse", args=[token]), held_answers())

    assert get.status_code == post.status_code == 404
    assert "This link is not for one of your sessions" in html_of(get)
    assert not Pulse.objects.exists()
    foreign.refresh_from_db()
    assert foreign.status == Meeting.Status.SCHEDULED


def test_a_link_for_a_withdrawn_participant_no_longer_works(client, pair, session):
    url = pulse_url(pair.mentee, session)
    pair.mentee.status = pair.mentee.Status.WITHDRAWN
    pair.mentee.save()

    response = client.post(url, held_answers())

    assert response.status_code == 404
    assert not Pulse.objects.exists()


# --- Answering --------------------------------------------------------------------------------


def test_a_held_session_answer_is_saved_and_logs_the_session(client, pair, session):
    token = pulse_token(pair.mentee, session)
    response = client.post(
        reverse("surveys:pulse", args=[token]),
        held_answers(
            action="Try the team's chat channel for a week",
            shared="on",
            good_fit="yes",
            safety="4",
            teaching="2",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("surveys:pulse_thanks", args=[token])
    pulse = Pulse.objects.get()
    assert (pulse.participant, pulse.meeting, pulse.held) == (pair.mentee, session, True)
    assert pulse.learning == "Graduates share drafts early"
    assert pulse.action == "Try the team's chat channel for a week"
    assert (pulse.shared, pulse.good_fit, pulse.safety, pulse.teaching) == (True, True, 4, 2)
    assert pulse.session_starts_at == session.starts_at
    session.refresh_from_db()
    assert session.status == Meeting.Status.HELD
    assert PulseRequest.objects.filter(meeting=session, participant=pair.mentee).count() == 1
    thanks = client.get(response["Location"])
    assert "Thank you, your answers are saved" in html_of(thanks)
    assert "Ravi Patel can read what you learned" in html_of(thanks)


def test_whitespace_in_a_line_is_collapsed(client, pair, session):
    client.post(
        pulse_url(pair.mentee, session),
        held_answers(learning="  two\n\nlines\tof   text ", good_fit="yes"),
    )

    assert Pulse.objects.get().learning == "two lines of text"


def test_a_missed_session_is_logged_as_missed_and_asks_nothing_else(client, pair, session):
    response = client.post(
        pulse_url(pair.reverse_mentor, session),
        {"held": "no", "not_held": "missed", "learning": "typed before changing my mind"},
    )

    assert response.status_code == 302
    pulse = Pulse.objects.get()
    assert (pulse.held, pulse.not_held, pulse.learning) == (False, "missed", "")
    session.refresh_from_db()
    assert session.status == Meeting.Status.MISSED


def test_a_moved_session_takes_its_new_time_and_tells_the_partner(
    client, pair, session, django_capture_on_commit_callbacks
):
    new_day = timezone.localdate() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            pulse_url(pair.mentee, session),
            {
                "held": "no",
                "not_held": "rescheduled",
                "new_date": new_day.isoformat(),
                "new_time": "10:30",
            },
        )

    assert response.status_code == 302, html_of(response)
    session.refresh_from_db()
    assert session.status == Meeting.Status.SCHEDULED
    assert session.sequence == 1
    local = timezone.localtime(session.starts_at, ZoneInfo(pair.mentee.person.time_zone))
    assert (local.date(), local.hour, local.minute) == (new_day, 10, 30)
    assert [message.to for message in mail.outbox] == [[pair.reverse_mentor.person.email]]
    pulse = Pulse.objects.get()
    assert pulse.not_held == Pulse.NotHeld.RESCHEDULED

    # Once the moved session has happened, the pulse asks about it again, and the new
    # answer replaces the "moved" one: still one row.
    with time_machine.travel(session.ends_at + timedelta(hours=2)):
        page = client.get(pulse_url(pair.mentee, session))
        assert "You answered already" not in html_of(page)
        again = client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes"))
    assert again.status_code == 302, html_of(again)
    pulse = Pulse.objects.get()
    assert (pulse.held, pulse.not_held, pulse.session_starts_at) == (True, "", session.starts_at)


def test_the_second_session_follows_up_the_first_sessions_action(client, pair, session):
    client.post(
        pulse_url(pair.mentee, session),
        held_answers(action="Ask my team about their tools", good_fit="yes"),
    )
    second = past_session(pair, hours_ago=1)

    page = client.get(pulse_url(pair.mentee, second))
    missing = client.post(pulse_url(pair.mentee, second), held_answers())
    done = client.post(pulse_url(pair.mentee, second), held_answers(previous_action_done="partly"))

    assert "“Ask my team about their tools”" in html_of(page)
    assert "Is this a good fit?" not in html_of(page)
    assert missing.status_code == 400
    assert "Say whether you did last session&#x27;s action." in html_of(missing)
    assert done.status_code == 302
    pulse = Pulse.objects.get(meeting=second)
    assert pulse.previous == Pulse.objects.get(meeting=session)
    assert pulse.previous_action_done == "partly"


def test_an_action_is_followed_up_once_even_across_a_session_that_did_not_happen(
    client, pair, session
):
    client.post(
        pulse_url(pair.mentee, session), held_answers(action="Read the intranet", good_fit="yes")
    )
    missed = past_session(pair, hours_ago=1.5)
    client.post(
        pulse_url(pair.mentee, missed),
        {"held": "no", "not_held": "missed", "previous_action_done": "no"},
    )
    third = past_session(pair, hours_ago=1)

    page = html_of(client.get(pulse_url(pair.mentee, third)))

    assert Pulse.objects.get(meeting=missed).previous == Pulse.objects.get(meeting=session)
    assert "Read the intranet" not in page
    assert 'name="previous_action_done"' not in page


def test_no_follow_up_when_the_last_pulse_committed_to_nothing(client, pair, session):
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes"))
    second = past_session(pair, hours_ago=1)

    response = client.post(pulse_url(pair.mentee, second), held_answers())

    assert response.status_code == 302
    assert Pulse.objects.get(meeting=second).previous is None


def test_the_teaching_question_is_worded_for_each_side(client, pair, session):
    executive = html_of(client.get(pulse_url(pair.mentee, session)))
    mentor = html_of(client.get(pulse_url(pair.reverse_mentor, session)))

    def labels(html: str) -> list[str]:
        part = html.split('id="q-teaching"')[1].split("</fieldset>")[0]
        return [chunk.split("</label>")[0].split(">")[-1] for chunk in part.split("<label")[1:]]

    assert labels(executive) == [
        "Mostly Ravi Patel",
        "Ravi Patel, a bit more",
        "About even",
        "me, a bit more",
        "Mostly me",
    ]
    assert labels(mentor)[0] == "Mostly me"
    assert labels(mentor)[-1] == "Mostly Margaret Hale"


def test_key_skills_rotate_from_one_pulse_to_the_next(client, programme, pair, session):
    skills = [KeySkillFactory(programme=programme, name=name) for name in ("AI", "TikTok", "Pay")]
    first = {f"confidence_{skills[0].pk}": "3", f"confidence_{skills[1].pk}": "4"}
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes", **first))
    second = past_session(pair, hours_ago=1)

    page = html_of(client.get(pulse_url(pair.mentee, second)))

    assert f'name="confidence_{skills[2].pk}"' in page
    assert f'name="confidence_{skills[0].pk}"' in page
    assert f'name="confidence_{skills[1].pk}"' not in page
    ratings = ConfidenceRating.objects.filter(participant=pair.mentee)
    assert sorted((r.key_skill.name, r.value, r.context) for r in ratings) == [
        ("AI", 3, "pulse"),
        ("TikTok", 4, "pulse"),
    ]


# --- Every validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"learning": "typed-text-kept"}, "held", "Say whether the session was held."),
        ({"held": "maybe", "learning": "typed-text-kept"}, "held", "Say whether the session"),
        (
            {"held": "yes", "action": "typed-text-kept", "good_fit": "yes"},
            "learning",
            "Write one thing you learned, in a line.",
        ),
        (
            {"held": "yes", "learning": "typed-text-kept" + "x" * 270, "good_fit": "yes"},
            "learning",
            "Keep it to 280 characters (it has 285).",
        ),
        (
            {"held": "yes", "learning": "ok", "action": "typed-text-kept" + "y" * 300},
            "action",
            "Keep it to 280 characters (it has 315).",
        ),
        (
            {"held": "yes", "learning": "typed-text-kept"},
            "good_fit",
            "Say whether this feels like a good fit.",
        ),
        (
            {"held": "yes", "learning": "typed-text-kept", "good_fit": "perhaps"},
            "good_fit",
            "Say whether this feels like a good fit.",
        ),
        (
            {"held": "yes", "learning": "typed-text-kept", "good_fit": "yes", "safety": "9"},
            "safety",
            "Choose one of the five answers, or leave it empty.",
        ),
        (
            {"held": "yes", "learning": "typed-text-kept", "good_fit": "yes", "teaching": "0"},
            "teaching",
            "Choose one of the five answers, or leave it empty.",
        ),
        ({"held": "no", "learning": "typed-text-kept"}, "not_held", "Say what happened"),
        (
            {"held": "no", "not_held": "rescheduled", "learning": "typed-text-kept"},
            "new_date",
            "Give the new date and time of the session.",
        ),
        (
            {
                "held": "no",
                "not_held": "rescheduled",
                "new_date": "2020-01-01",
                "new_time": "10:00",
                "learning": "typed-text-kept",
            },
            "new_date",
            "Give a date and time in the future.",
        ),
        (
            {
                "held": "no",
                "not_held": "rescheduled",
                "new_date": "31/02/2027",
                "new_time": "10:00",
                "learning": "typed-text-kept",
            },
            "new_date",
            "Enter the date as shown, for example 2026-12-03.",
        ),
        (
            {
                "held": "no",
                "not_held": "rescheduled",
                "new_date": "2099-01-01",
                "new_time": "25:99",
                "learning": "typed-text-kept",
            },
            "new_time",
            "Enter the time as hours and minutes, for example 14:30.",
        ),
        (
            {
                "held": "no",
                "not_held": "rescheduled",
                "new_date": "9999-12-31",
                "new_time": "23:59",
                "learning": "typed-text-kept",
            },
            "new_date",
            "Give a date within the next year.",
        ),
    ],
)
def test_bad_answers_get_a_message_keep_what_was_typed_and_change_nothing(
    client, pair, session, data, field, message
):
    response = client.post(pulse_url(pair.mentee, session), data)

    html = html_of(response)
    assert response.status_code == 400
    assert message in html.replace("&#x27;", "'")
    assert f'id="q-{field}"' in html or f'id="id_{field}"' in html
    assert "typed-text-kept" in html
    assert_nothing_saved(session)


def test_a_confidence_rating_outside_the_scale_names_the_skill(client, programme, pair, session):
    skill = KeySkillFactory(programme=programme, name="Using AI at work")

    response = client.post(
        pulse_url(pair.mentee, session),
        held_answers(good_fit="yes", **{f"confidence_{skill.pk}": "6"}),
    )

    assert response.status_code == 400
    assert "Rate “Using AI at work” from 1 to 5, or leave it empty." in html_of(response)
    assert_nothing_saved(session)


def test_a_session_that_has_not_happened_yet_cannot_be_answered(client, pair):
    upcoming = past_session(pair, hours_ago=-24)

    page = client.get(pulse_url(pair.mentee, upcoming))
    post = client.post(pulse_url(pair.mentee, upcoming), held_answers(good_fit="yes"))

    assert page.status_code == 200
    assert "This session has not happened yet" in html_of(page)
    assert "<form" not in html_of(page).split('id="main"')[1]
    assert post.status_code == 400
    assert_nothing_saved(upcoming)


def test_a_cancelled_session_cannot_be_answered(client, pair):
    cancelled = past_session(pair, status=Meeting.Status.CANCELLED, cancelled_by="mentee")

    post = client.post(pulse_url(pair.mentee, cancelled), held_answers(good_fit="yes"))

    assert post.status_code == 400
    assert "This session was cancelled" in html_of(post)
    assert_nothing_saved(cancelled, status=Meeting.Status.CANCELLED)


def test_moving_a_session_fails_cleanly_when_the_pair_is_paused(client, pair, session):
    Pair.objects.filter(pk=pair.pk).update(status=Pair.Status.PAUSED)
    response = client.post(
        pulse_url(pair.mentee, session),
        {
            "held": "no",
            "not_held": "rescheduled",
            "new_date": SOON,
            "new_time": "10:00",
        },
    )

    assert response.status_code == 400
    assert "paused" in html_of(response)
    assert f'value="{SOON}"' in html_of(response)
    assert_nothing_saved(session)


# --- The 48-hour edit window -----------------------------------------------------------------


def test_a_second_submission_within_48_hours_edits_the_first(client, pair, session):
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes", safety="5"))
    first = Pulse.objects.get()

    with time_machine.travel(first.submitted_at + timedelta(hours=47)):
        page = client.get(pulse_url(pair.mentee, session))
        response = client.post(
            pulse_url(pair.mentee, session),
            held_answers(learning="Changed my mind", good_fit="no"),
        )

    assert "You answered already" in html_of(page)
    assert 'value="Graduates share drafts early"' in html_of(page)
    assert response.status_code == 302
    pulse = Pulse.objects.get()
    assert pulse.pk == first.pk
    assert pulse.submitted_at == first.submitted_at
    assert (pulse.learning, pulse.good_fit, pulse.safety) == ("Changed my mind", False, None)


def test_after_48_hours_the_answers_are_read_only(client, pair, session):
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes"))
    first = Pulse.objects.get()

    with time_machine.travel(first.submitted_at + timedelta(hours=48, minutes=1)):
        page = client.get(pulse_url(pair.mentee, session))
        response = client.post(
            pulse_url(pair.mentee, session), held_answers(learning="Too late", good_fit="no")
        )

    assert page.status_code == 200
    assert "these are now final" in html_of(page)
    assert "Graduates share drafts early" in html_of(page)
    assert "<form" not in html_of(page).split('id="main"')[1]
    assert response.status_code == 400
    pulse = Pulse.objects.get()
    assert (pulse.learning, pulse.good_fit) == ("Graduates share drafts early", True)


# --- "Not a good fit" -------------------------------------------------------------------------


def test_not_a_good_fit_goes_to_the_managers_once_and_never_to_the_partner(
    client, manager, pair, session, django_capture_on_commit_callbacks
):
    manager.email = "alice@example.org"
    manager.save()

    url = pulse_url(pair.mentee, session)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, held_answers(good_fit="no"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, held_answers(good_fit="no", learning="edit"))

    assert [message.to for message in mail.outbox] == [["alice@example.org"]]
    body = mail.outbox[0].body
    assert 'Margaret Hale answered "not a good fit"' in body
    assert "Graduates share drafts early" not in body
    assert "edit" not in body
    assert f"/admin/pairs/pair/{pair.pk}/change/" in body
    partner_page = client.get(
        reverse(
            "pairs:pair",
            args=[make_token(participant_id=pair.reverse_mentor.pk, purpose=Purpose.PAIR)],
        )
    )
    assert "good fit" not in html_of(partner_page).lower()


# --- From the pair page -----------------------------------------------------------------------


def test_the_pair_page_leads_to_each_sessions_questions(client, programme, pair, session):
    pair_token = make_token(participant_id=pair.mentee.pk, purpose=Purpose.PAIR)
    page = html_of(client.get(reverse("pairs:pair", args=[pair_token])))
    start = reverse("pairs:pulse_start", args=[pair_token, pair.pk, session.pk])

    response = client.get(start)
    other = past_session(running_pair(programme=programme))
    foreign = client.get(reverse("pairs:pulse_start", args=[pair_token, pair.pk, other.pk]))

    assert f'href="{start}"' in page
    assert "Answer 3 questions" in page
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert foreign.status_code == 404


def test_the_pair_page_stops_offering_questions_after_two_weeks(client, pair):
    old = past_session(pair, hours_ago=24 * 15)
    recent = past_session(pair, hours_ago=24 * 13)
    pair_token = make_token(participant_id=pair.mentee.pk, purpose=Purpose.PAIR)

    page = html_of(client.get(reverse("pairs:pair", args=[pair_token])))

    assert reverse("pairs:pulse_start", args=[pair_token, pair.pk, recent.pk]) in page
    assert reverse("pairs:pulse_start", args=[pair_token, pair.pk, old.pk]) not in page


def test_the_pulse_page_takes_a_fixed_number_of_queries(
    client, programme, pair, session, django_assert_num_queries
):
    KeySkillFactory.create_batch(3, programme=programme)
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes"))
    second = past_session(pair, hours_ago=1)
    url = pulse_url(pair.mentee, second)

    # 1 the participant, 2 the situation: the session with its pair and people, this pulse,
    # the previous one, whether an earlier session was held, the count of earlier pulses
    # (the rotation) and one row per key skill (surveys.pulses._situation_rows).
    with django_assert_num_queries(2):
        assert client.get(url).status_code == 200


def test_a_nul_in_an_answer_is_refused_before_the_page_and_saves_nothing(client, pair, session):
    # mentoring/middleware.py answers 400 to a NUL in any form field (issue 14, item 6).
    response = client.post(
        pulse_url(pair.mentee, session),
        {"held": "yes", "learning": "typed\x00", "good_fit": "yes"},
    )

    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert not Pulse.objects.exists()
