"""Signed participant links, through the intake page: only a genuine, unexpired link for the
intake, held by someone still in the programme, opens it; every other link gets a page that
says what happened and how to get a new one."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from programmes.links import Purpose, make_token, participant_url
from programmes.models import Cohort, Intake, Participant
from tests.factories import CohortFactory, ParticipantFactory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def participant(programme) -> Participant:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    return ParticipantFactory(cohort=cohort)


def intake_url(token: str) -> str:
    return reverse("programmes:intake", args=[token])


def assert_link_problem(response, status: int, heading: str) -> None:
    assert response.status_code == status
    html = response.content.decode()
    assert heading in html
    assert f'href="{reverse("surveys:resend_link")}"' in html
    assert "Send me a new link" in html
    assert "<form" not in html.split('id="main"')[1]


def test_it_opens_the_intake_with_a_genuine_link(client: Client, participant) -> None:
    token = make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)

    response = client.get(intake_url(token))

    assert response.status_code == 200
    assert "Your intake for Inclusive Leadership" in response.content.decode()


def test_it_builds_links_from_the_site_url(participant) -> None:
    link = participant_url(participant_id=participant.pk, purpose=Purpose.INTAKE)

    assert link.startswith("http://testserver/intake/")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), id="last"),
        pytest.param(lambda token: token[:20], id="cut short"),
        pytest.param(lambda token: "x" + token, id="prefixed"),
        pytest.param(lambda token: "not-a-token", id="garbage"),
    ],
)
def test_it_refuses_a_tampered_link(client: Client, participant, change) -> None:
    token = make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)

    response = client.get(intake_url(change(token)))

    assert_link_problem(response, 400, "This link is not complete")


def test_it_refuses_a_link_naming_another_participant(client: Client, participant) -> None:
    other = ParticipantFactory(cohort=participant.cohort)
    genuine = make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)
    forged_payload = make_token(participant_id=other.pk, purpose=Purpose.INTAKE).split(":")[0]
    forged = ":".join([forged_payload, *genuine.split(":")[1:]])

    response = client.get(intake_url(forged))

    assert_link_problem(response, 400, "This link is not complete")


def test_it_refuses_an_expired_link(client: Client, participant) -> None:
    with time_machine.travel(START, tick=False):
        token = make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)

    with time_machine.travel(START + timedelta(days=29, hours=23), tick=False):
        assert client.get(intake_url(token)).status_code == 200

    with time_machine.travel(START + timedelta(days=30, seconds=1), tick=False):
        response = client.get(intake_url(token))

    assert_link_problem(response, 410, "This link has expired")
    assert "intake form" in response.content.decode()


def test_it_refuses_a_link_made_for_another_purpose(client: Client, participant) -> None:
    token = make_token(participant_id=participant.pk, purpose=Purpose.PULSE, scope=7)

    response = client.get(intake_url(token))

    assert_link_problem(response, 400, "This link is for something else")
    assert "This link opens your session questions, not your intake form." in (
        response.content.decode()
    )


def test_it_refuses_the_link_of_a_withdrawn_participant(client: Client, participant) -> None:
    token = make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)
    participant.status = Participant.Status.WITHDRAWN
    participant.save()

    response = client.get(intake_url(token))

    assert_link_problem(response, 404, "This link no longer works")


def test_it_refuses_the_link_of_a_participant_who_is_gone(client: Client, participant) -> None:
    token = make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)
    participant.delete()

    response = client.get(intake_url(token))

    assert_link_problem(response, 404, "This link no longer works")


@pytest.mark.parametrize("name", ["programmes:intake", "programmes:intake_done"])
def test_every_intake_page_checks_the_link(client: Client, participant, name: str) -> None:
    token = make_token(participant_id=participant.pk, purpose=Purpose.PAIR)

    response = client.get(reverse(name, args=[token]))

    assert_link_problem(response, 400, "This link is for something else")


def test_the_autosave_refuses_a_bad_link_and_saves_nothing(client: Client, participant) -> None:
    token = make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)

    response = client.post(reverse("programmes:intake_draft", args=[token[:-2]]), {"goal_1": "x"})

    assert response.status_code == 400
    assert not Intake.objects.exists()
