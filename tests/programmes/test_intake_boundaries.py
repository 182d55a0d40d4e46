"""The intake's boundaries: people one would rather not be paired with (chosen from the
directory), and the note for the programme team. Bad input gets a clear message beside the
field, keeps what was typed, and saves nothing."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils.html import escape

from programmes import services
from programmes.forms import AVOID_SELF, NOT_IN_DIRECTORY
from programmes.models import Cohort, Intake, KeySkill, Participant, Person, Role, Topic
from tests.factories import (
    CohortFactory,
    KeySkillFactory,
    ParticipantFactory,
    PersonFactory,
    TopicFactory,
)
from tests.programmes.test_intake_view import answers, submitted, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics(programme) -> list[Topic]:
    titles = ("Digital habits", "Our culture", "What customers see", "Hybrid work")
    return [TopicFactory(programme=programme, title=title) for title in titles]


@pytest.fixture
def skills(programme) -> list[KeySkill]:
    return [KeySkillFactory(programme=programme, name="Giving feedback")]


@pytest.fixture
def mentee(programme, topics, skills) -> Participant:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    person = PersonFactory(full_name="Dana Reyes")
    return ParticipantFactory(cohort=cohort, role=Role.MENTEE, person=person)


@pytest.fixture
def former_manager(db) -> Person:
    return PersonFactory(full_name="Rowan Vale", department="Finance")


@pytest.fixture
def colleague(db) -> Person:
    return PersonFactory(full_name="Sasha Imre", department="Legal")


def selected(html: str) -> set[str]:
    field = re.search(r'<select name="avoid".*?</select>', html, re.S).group(0)
    return set(re.findall(r'<option value="(\d+)"[^>]*selected', field))


def test_it_offers_everyone_in_the_directory_but_oneself(
    client: Client, mentee, former_manager
) -> None:
    html = client.get(url(mentee)).content.decode()
    field = re.search(r'<select name="avoid".*?</select>', html, re.S).group(0)

    assert f'value="{former_manager.pk}"' in field
    assert "Rowan Vale (Finance)" in field
    assert f'value="{mentee.person_id}"' not in field


def test_it_records_whom_one_would_rather_not_be_paired_with_and_shows_it_back(
    client: Client, mentee, topics, skills, former_manager, colleague
) -> None:
    intake = submitted(mentee, topics, skills, avoid=[str(former_manager.pk), str(colleague.pk)])

    assert set(intake.avoid.all()) == {former_manager, colleague}
    assert intake.boundaries_text_for_manager
    html = client.get(url(mentee)).content.decode()
    assert selected(html) == {str(former_manager.pk), str(colleague.pk)}

    Cohort.objects.filter(pk=mentee.cohort_id).update(status=Cohort.Status.MATCHING)
    html = client.get(url(mentee)).content.decode()
    assert "Rowan Vale, Sasha Imre" in html
    assert "Only the programme manager reads this" in html


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        pytest.param(lambda mentee: str(mentee.person_id), AVOID_SELF, id="oneself"),
        pytest.param(lambda mentee: "987654321", NOT_IN_DIRECTORY, id="not in the directory"),
        pytest.param(lambda mentee: "12 OR 1=1", NOT_IN_DIRECTORY, id="tampered id"),
        pytest.param(lambda mentee: "٣", NOT_IN_DIRECTORY, id="a digit that is not ASCII"),
        pytest.param(lambda mentee: "9" * 40, NOT_IN_DIRECTORY, id="an id too long"),
    ],
)
def test_it_refuses_a_bad_choice_with_a_message_and_keeps_what_was_typed(
    client: Client, mentee, topics, skills, former_manager, chosen, message
) -> None:
    data = answers(
        topics, skills, avoid=[str(former_manager.pk), chosen(mentee)], goal_2="Kept as typed"
    )

    response = client.post(url(mentee), data)

    assert response.status_code == 200
    assert response.context["form"].errors["avoid"] == [message]
    html = response.content.decode()
    assert html.count(escape(message)) >= 2  # in the summary and beside the field
    assert "Kept as typed" in html
    assert str(former_manager.pk) in selected(html)
    intake = Intake.objects.get(participant=mentee)  # the draft keeps it, nothing submitted
    assert intake.submitted_at is None
    assert not intake.avoid.exists()
    assert intake.draft["goal_2"] == "Kept as typed"


def test_it_refuses_more_than_five_people(client: Client, mentee, topics, skills) -> None:
    people = [str(PersonFactory().pk) for _ in range(6)]

    response = client.post(url(mentee), answers(topics, skills, avoid=people))

    assert response.context["form"].errors["avoid"] == ["Choose at most 5 people (you chose 6)."]
    assert selected(response.content.decode()) == set(people)


def test_the_service_refuses_oneself_or_someone_unknown_whatever_the_caller(
    mentee, topics, skills
) -> None:
    base = {
        "objectives": [topics[0].pk],
        "can_share": [],
        "off_limits": [],
        "availability": [9, 10],
        "confidence": {skill.pk: 3 for skill in skills},
        **{name: "" for name in Intake.ANSWER_FIELDS},
        "consent_pledge": True,
        "consent_data": True,
        "communication_style": "direct",
        "feedback_style": "candid",
        "cadence": "weekly",
        "meeting_mode": "video",
        "goal_1": "A goal",
    }
    for avoid in ([mentee.person_id], [987654321]):
        with pytest.raises(ValidationError):
            services.intake_submit(participant=mentee, data=base | {"avoid": avoid})
    assert not Intake.objects.filter(participant=mentee, submitted_at__isnull=False).exists()


def test_a_note_written_under_the_old_promise_stays_private_until_sent_again(
    client: Client, mentee, topics, skills
) -> None:
    intake = submitted(mentee, topics, skills, boundaries_text="Old words")
    Intake.objects.filter(pk=intake.pk).update(boundaries_text_for_manager=False)

    html = client.get(url(mentee)).content.decode()
    assert "You wrote the text below when this form said nobody else would read it" in html

    intake = submitted(mentee, topics, skills, boundaries_text="Old words")
    assert intake.boundaries_text_for_manager
