from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from notifications.models import Notification
from notifications.tasks import send_notification
from programmes.forms import IntakeForm
from programmes.models import Cohort, Intake, IntakeObjective, KeySkill, Participant, Role, Topic
from programmes.services import IntakeLocked, intake_save_draft, intake_submit
from surveys.models import ConfidenceRating
from tests.factories import (
    CohortFactory,
    IntakeFactory,
    KeySkillFactory,
    ParticipantFactory,
    PersonFactory,
    TopicFactory,
)


@pytest.fixture
def cohort(programme) -> Cohort:
    return CohortFactory(programme=programme, name="Spring", status=Cohort.Status.INTAKE)


@pytest.fixture
def topics(programme) -> list[Topic]:
    titles = ("Digital habits", "Our culture", "What customers see", "Hybrid work")
    return [TopicFactory(programme=programme, title=title) for title in titles]


@pytest.fixture
def skills(programme) -> list[KeySkill]:
    return [
        KeySkillFactory(programme=programme, name="Giving feedback"),
        KeySkillFactory(programme=programme, name="Using AI tools"),
    ]


@pytest.fixture
def mentee(cohort) -> Participant:
    return ParticipantFactory(
        cohort=cohort, role=Role.MENTEE, person=PersonFactory(full_name="Dana Reyes")
    )


def answers(topics: list[Topic], skills: list[KeySkill], **changes: Any) -> dict[str, Any]:
    data = {
        "objective_1": str(topics[0].pk),
        "objective_2": str(topics[1].pk),
        "objectives_text": "How new joiners find their way around.",
        "can_share": [str(topics[2].pk)],
        "communication_style": "direct",
        "feedback_style": "candid",
        "availability": ["9", "10", "33"],
        "cadence": "fortnightly",
        "meeting_mode": "video",
        "goal_1": "Use our collaboration tools the way my team does",
        "off_limits": [str(topics[3].pk)],
        "boundaries_text": "Nothing about my family, please.",
        "consent_pledge": "on",
        "consent_data": "on",
    } | {f"confidence_{skill.pk}": "3" for skill in skills}
    data |= changes
    return {name: value for name, value in data.items() if value is not None}


def cleaned(participant: Participant, topics, skills, **changes: Any) -> dict[str, Any]:
    form = IntakeForm(
        answers(topics, skills, **changes),
        participant=participant,
        topics=topics,
        key_skills=skills,
    )
    assert form.is_valid(), form.errors
    return form.cleaned_data


def test_it_writes_every_answer_with_objectives_in_rank_order(mentee, topics, skills) -> None:
    data = cleaned(
        mentee,
        topics,
        skills,
        objective_1=str(topics[1].pk),
        objective_2=str(topics[0].pk),
        **{f"confidence_{skills[1].pk}": "5"},
    )

    intake = intake_submit(participant=mentee, data=data)

    intake.refresh_from_db()
    assert intake.submitted_at is not None
    assert intake.goal_1 == "Use our collaboration tools the way my team does"
    assert intake.availability == [9, 10, 33]
    assert intake.consent_pledge
    assert intake.consent_data
    assert [(o.rank, o.topic) for o in intake.ranked_objectives.all()] == [
        (1, topics[1]),
        (2, topics[0]),
    ]
    assert list(intake.can_share.all()) == [topics[2]]
    assert list(intake.off_limits.all()) == [topics[3]]
    baselines = ConfidenceRating.objects.filter(participant=mentee, context="intake")
    assert sorted(baselines.values_list("key_skill__name", "value")) == [
        ("Giving feedback", 3),
        ("Using AI tools", 5),
    ]
    mentee.refresh_from_db()
    assert mentee.status == Participant.Status.INTAKE_COMPLETE


def test_it_replaces_earlier_answers_rather_than_adding_to_them(mentee, topics, skills) -> None:
    intake_submit(participant=mentee, data=cleaned(mentee, topics, skills))

    intake_submit(
        participant=mentee,
        data=cleaned(
            mentee,
            topics,
            skills,
            objective_1=str(topics[2].pk),
            objective_2="",
            can_share=[str(topics[0].pk), str(topics[1].pk)],
            off_limits=[],
            **{f"confidence_{skills[0].pk}": "1"},
        ),
    )

    assert Intake.objects.count() == 1
    intake = Intake.objects.get()
    assert list(intake.ranked_objectives.values_list("rank", "topic")) == [(1, topics[2].pk)]
    assert IntakeObjective.objects.count() == 1
    assert set(intake.can_share.all()) == {topics[0], topics[1]}
    assert not intake.off_limits.exists()
    assert ConfidenceRating.objects.filter(participant=mentee).count() == 2
    assert ConfidenceRating.objects.get(key_skill=skills[0]).value == 1


def test_it_leaves_a_matched_participant_matched(mentee, topics, skills) -> None:
    mentee.status = Participant.Status.MATCHED
    mentee.save()

    intake_submit(participant=mentee, data=cleaned(mentee, topics, skills))

    mentee.refresh_from_db()
    assert mentee.status == Participant.Status.MATCHED


def test_it_sends_one_confirmation_after_commit(
    mentee, topics, skills, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        intake_submit(participant=mentee, data=cleaned(mentee, topics, skills))
        assert mail.outbox == []  # nothing leaves before the answers are committed

    assert len(callbacks) == 1
    callbacks[0]()
    callbacks[0]()  # a callback run twice queues nothing more
    send_notification.delay(Notification.objects.get().pk)  # nor does a redelivered task

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [mentee.person.email]
    assert "/intake/" in mail.outbox[0].body


def test_it_clears_the_draft_when_the_answers_are_submitted(mentee, topics, skills) -> None:
    intake_save_draft(participant=mentee, data={"goal_1": "half a thought"})

    intake_submit(participant=mentee, data=cleaned(mentee, topics, skills))

    intake = Intake.objects.get()
    assert intake.draft == {}
    assert intake.draft_saved_at is None


def test_it_writes_nothing_once_matching_has_started(
    mentee, topics, skills, django_capture_on_commit_callbacks
) -> None:
    data = cleaned(mentee, topics, skills)
    Cohort.objects.filter(pk=mentee.cohort_id).update(status=Cohort.Status.MATCHING)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(IntakeLocked),
    ):
        intake_submit(participant=mentee, data=data)

    assert callbacks == []
    assert not Intake.objects.exists()
    assert not ConfidenceRating.objects.exists()


def test_it_refuses_topics_of_another_programme(mentee, topics, skills) -> None:
    elsewhere = TopicFactory(title="Someone else's topic")
    data = cleaned(mentee, topics, skills) | {"can_share": [elsewhere.pk]}

    with pytest.raises(ValidationError):
        intake_submit(participant=mentee, data=data)

    assert not Intake.objects.exists()


def test_it_refuses_ratings_that_leave_out_a_key_skill(mentee, topics, skills) -> None:
    data = cleaned(mentee, topics, skills)
    data["confidence"] = {skills[0].pk: 4}

    with pytest.raises(ValidationError):
        intake_submit(participant=mentee, data=data)

    assert not ConfidenceRating.objects.exists()


def test_it_keeps_only_the_form_fields_in_a_draft(mentee) -> None:
    saved_at = intake_save_draft(
        participant=mentee,
        data={
            "goal_1": "Learn",
            "availability": ["9", "10"],
            "confidence_12": "4",
            "participant": "999",
            "csrfmiddlewaretoken": "secret",
            "submitted_at": "2020-01-01",
        },
    )

    intake = Intake.objects.get(participant=mentee)
    assert intake.draft == {"goal_1": "Learn", "availability": ["9", "10"], "confidence_12": "4"}
    assert intake.draft_saved_at == saved_at
    assert intake.submitted_at is None


def test_it_cuts_long_values_and_drops_what_the_database_cannot_store(mentee) -> None:
    intake_save_draft(
        participant=mentee,
        data={
            "goal_1": "x" * 10_000,
            "boundaries_text": "before\x00after",
            "objectives_text": "lone \ud800 surrogate",
            "availability": [str(n) for n in range(1000)],
        },
    )

    draft = Intake.objects.get(participant=mentee).draft
    assert len(draft["goal_1"]) == 5000
    assert draft["boundaries_text"] == "beforeafter"
    assert draft["objectives_text"] == "lone ? surrogate"
    assert len(draft["availability"]) == 200


def test_it_never_raises_on_odd_draft_input(mentee) -> None:
    intake_save_draft(
        participant=mentee,
        data={
            "goal_1": {"nested": "dict"},
            "goal_2": None,
            "goal_3": ["a", "b"],
            "cadence": 7,
            "consent_data": True,
            "availability": "9",
            "can_share": [{"x": 1}, "3"],
            5: "not a name",
        },
    )

    draft = Intake.objects.get(participant=mentee).draft
    assert draft == {"goal_3": "b", "cadence": "7", "availability": ["9"], "can_share": ["3"]}


def test_it_leaves_the_submitted_answers_alone_when_saving_a_draft(mentee) -> None:
    intake = IntakeFactory(participant=mentee)
    submitted_at = intake.submitted_at

    intake_save_draft(participant=mentee, data={"goal_1": ""})

    intake.refresh_from_db()
    assert intake.goal_1 == "Use our collaboration tools the way my team does"
    assert intake.submitted_at == submitted_at
    assert intake.draft == {"goal_1": ""}


def test_it_keeps_no_draft_once_matching_has_started(mentee) -> None:
    mentee.cohort.status = Cohort.Status.MATCHING
    mentee.cohort.save()

    assert intake_save_draft(participant=mentee, data={"goal_1": "late"}) is None
    assert not Intake.objects.exists()
