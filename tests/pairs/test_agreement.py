from datetime import date, timedelta
from uuid import uuid4

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.sending import notification_send, notifications_due
from pairs import queries as pair_queries
from pairs import services as pair_services
from pairs.models import Agreement, Pair
from programmes.links import Purpose, read_token
from programmes.models import Cadence, Role
from tests.pairs.pair_setup import make_pair, page_url

TERMS = {
    "driver": Role.REVERSE_MENTOR,
    "cadence": Cadence.WEEKLY,
    "meeting_mode": "in_person",
    "cancellation": "A day ahead, by message.",
    "pledge": True,
}


@pytest.fixture
def setup(programme):
    return make_pair(programme)


def test_it_starts_version_one_with_defaults_that_both_must_accept(setup) -> None:
    first = pair_services.agreement_start(pair=setup.pair)

    assert first.number == 1
    assert first.driver == Role.REVERSE_MENTOR
    assert first.proposed_by == ""
    assert not first.agreed
    assert pair_queries.agreement_current(setup.pair) is None
    assert pair_queries.agreement_pending(setup.pair) == first
    assert pair_services.agreement_start(pair=setup.pair) == first
    assert Agreement.objects.count() == 1


def test_it_agrees_version_one_once_both_sides_accept(setup) -> None:
    first = pair_services.agreement_start(pair=setup.pair)

    pair_services.agreement_accept(pair=setup.pair, by=setup.mentee, agreement_id=first.pk)
    assert pair_queries.agreement_current(setup.pair) is None
    pair_services.agreement_accept(pair=setup.pair, by=setup.mentor, agreement_id=first.pk)

    assert pair_queries.agreement_current(setup.pair) == first
    assert pair_queries.agreement_pending(setup.pair) is None


def send_what_is_due(time_machine, *, after: timedelta) -> None:
    """Beat's sweep, ``after`` from now."""
    time_machine.move_to(timezone.now() + after)
    for notification_id in notifications_due():
        notification_send(notification_id)


def test_it_accepts_a_proposal_for_the_proposer_at_once_and_emails_the_partner(
    setup, django_capture_on_commit_callbacks, time_machine
) -> None:
    pair_services.agreement_start(pair=setup.pair)

    with django_capture_on_commit_callbacks(execute=True):
        proposal = pair_services.agreement_propose(pair=setup.pair, by=setup.mentee, **TERMS)
    # The e-mail waits a moment for a newer proposal that would replace it.
    assert mail.outbox == []
    send_what_is_due(time_machine, after=pair_services.PROPOSAL_HOLD)

    assert proposal.number == 2
    assert proposal.proposed_by == Role.MENTEE
    assert proposal.mentee_accepted_at is not None
    assert proposal.mentor_accepted_at is None
    (message,) = mail.outbox
    assert message.to == [setup.mentor.person.email]
    assert "Morgan Hale proposes" in message.subject
    token = message.body.split("/pair/")[1].split("/")[0]
    claims = read_token(token, purpose=Purpose.PAIR)
    assert claims.participant_id == setup.mentor.pk


def test_it_replaces_a_pending_proposal_and_keeps_the_history(setup) -> None:
    first = pair_services.agreement_propose(pair=setup.pair, by=setup.mentee, **TERMS)
    second = pair_services.agreement_propose(
        pair=setup.pair, by=setup.mentor, **(TERMS | {"cadence": Cadence.MONTHLY})
    )

    assert pair_queries.agreement_pending(setup.pair) == second
    assert list(setup.pair.agreements.values_list("number", flat=True)) == [2, 1]
    with pytest.raises(ValidationError, match="older version"):
        pair_services.agreement_accept(pair=setup.pair, by=setup.mentor, agreement_id=first.pk)

    pair_services.agreement_accept(pair=setup.pair, by=setup.mentee, agreement_id=second.pk)
    assert pair_queries.agreement_current(setup.pair) == second


def test_it_refuses_to_let_the_proposer_accept_their_own_proposal(setup) -> None:
    proposal = pair_services.agreement_propose(pair=setup.pair, by=setup.mentor, **TERMS)

    with pytest.raises(ValidationError, match="waiting for your partner"):
        pair_services.agreement_accept(pair=setup.pair, by=setup.mentor, agreement_id=proposal.pk)
    proposal.refresh_from_db()
    assert not proposal.agreed


def test_it_keeps_the_current_agreement_while_a_change_is_pending(setup) -> None:
    agreed = pair_services.agreement_propose(pair=setup.pair, by=setup.mentor, **TERMS)
    pair_services.agreement_accept(pair=setup.pair, by=setup.mentee, agreement_id=agreed.pk)

    change = pair_services.agreement_propose(
        pair=setup.pair, by=setup.mentee, **(TERMS | {"driver": Role.MENTEE})
    )

    assert pair_queries.agreement_current(setup.pair) == agreed
    assert pair_queries.agreement_pending(setup.pair) == change


def test_it_requires_the_confidentiality_pledge(setup) -> None:
    with pytest.raises(ValidationError) as error:
        pair_services.agreement_propose(
            pair=setup.pair, by=setup.mentee, **(TERMS | {"pledge": False})
        )

    assert error.value.message_dict == {
        "pledge": ["Both of you need to keep the confidentiality pledge"]
    }
    assert not Agreement.objects.exists()


def test_it_refuses_agreement_changes_on_an_ended_pair(programme) -> None:
    setup = make_pair(programme, status=Pair.Status.ENDED, ended_on=date(2026, 3, 3))
    pending = Agreement.objects.create(pair=setup.pair, number=1)

    with pytest.raises(ValidationError, match="ended on 3 March 2026"):
        pair_services.agreement_propose(pair=setup.pair, by=setup.mentee, **TERMS)
    with pytest.raises(ValidationError, match="ended"):
        pair_services.agreement_accept(pair=setup.pair, by=setup.mentee, agreement_id=pending.pk)

    assert Agreement.objects.count() == 1
    pending.refresh_from_db()
    assert pending.mentee_accepted_at is None


def test_it_lets_a_paused_pair_agree(programme) -> None:
    setup = make_pair(programme, status=Pair.Status.PAUSED, paused_until=date(2026, 2, 1))

    proposal = pair_services.agreement_propose(pair=setup.pair, by=setup.mentee, **TERMS)
    pair_services.agreement_accept(pair=setup.pair, by=setup.mentor, agreement_id=proposal.pk)

    assert pair_queries.agreement_current(setup.pair) == proposal


def test_it_proposes_from_the_page_and_shows_the_partner_the_accept_button(
    client, setup, django_capture_on_commit_callbacks, time_machine
) -> None:
    client.get(page_url(setup.mentee))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            page_url(setup.mentee, "pairs:pair_agreement"),
            {"action": "propose", "submission": str(uuid4()), **TERMS},
        )

    assert response.status_code == 302
    send_what_is_due(time_machine, after=pair_services.PROPOSAL_HOLD)
    assert len(mail.outbox) == 1
    page = client.get(page_url(setup.mentor)).content.decode()
    assert "Morgan Hale proposes" in page
    assert "Accept this agreement" in page
    own = client.get(page_url(setup.mentee)).content.decode()
    assert "Waiting for Eli Okafor" in own
    assert "Accept this agreement" not in own


def test_it_accepts_from_the_page_for_both_sides(client, setup) -> None:
    client.get(page_url(setup.mentee))
    first = Agreement.objects.get(pair=setup.pair)

    for participant in (setup.mentee, setup.mentor):
        response = client.post(
            page_url(participant, "pairs:pair_agreement"),
            {"action": "accept", "agreement_id": first.pk},
            follow=True,
        )
        assert "You accepted the agreement." in response.content.decode()

    assert pair_queries.agreement_current(setup.pair) == first
    page = client.get(page_url(setup.mentee)).content.decode()
    assert "Agreed by you both (version 1)" in page


def test_it_shows_the_pledge_error_beside_the_field_and_keeps_what_was_typed(client, setup) -> None:
    response = client.post(
        page_url(setup.mentee, "pairs:pair_agreement"),
        {"action": "propose", **TERMS, "pledge": "", "cancellation": "Text me the night before"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Both of you need to keep the confidentiality pledge" in page
    assert 'value="Text me the night before"' in page
    assert not Agreement.objects.filter(proposed_by=Role.MENTEE).exists()


def test_it_refuses_to_accept_its_own_proposal_from_the_page_with_a_message(client, setup) -> None:
    proposal = pair_services.agreement_propose(pair=setup.pair, by=setup.mentee, **TERMS)

    response = client.post(
        page_url(setup.mentee, "pairs:pair_agreement"),
        {"action": "accept", "agreement_id": proposal.pk},
        follow=True,
    )

    assert "waiting for your partner" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.mentor_accepted_at is None


def test_it_cannot_accept_another_pairs_agreement_by_changing_the_id(
    client, setup, programme
) -> None:
    other = make_pair(programme)
    theirs = pair_services.agreement_propose(pair=other.pair, by=other.mentee, **TERMS)

    response = client.post(
        page_url(setup.mentor, "pairs:pair_agreement"),
        {"action": "accept", "agreement_id": theirs.pk},
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.mentor_accepted_at is None


def test_it_refuses_an_agreement_change_on_an_ended_pair_from_the_page(client, programme) -> None:
    setup = make_pair(programme, status=Pair.Status.ENDED, ended_on=date(2026, 3, 3))

    response = client.post(
        page_url(setup.mentee, "pairs:pair_agreement"),
        {"action": "propose", "submission": str(uuid4()), **TERMS},
        follow=True,
    )

    assert response.redirect_chain[0][1] == 302
    assert "This pair ended on 3 March 2026" in response.content.decode()
    assert not Agreement.objects.exists()
