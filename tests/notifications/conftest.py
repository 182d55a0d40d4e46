"""Fixtures of the notifications tests: an organisation administrator, and every kind of
message asked the way the product asks it."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from matching import notices as matching_notices
from notifications.kinds import KINDS, Message
from notifications.models import Notification
from notifications.services import notify
from pairs import notices as pair_notices
from pairs.models import Meeting, Pair
from programmes import notices as programme_notices
from programmes.models import Cohort, Programme, Role
from programmes.password_resets import password_reset_request_create
from programmes.scoping import ORG_ADMINS_GROUP
from reporting import digests as reporting_digests
from reporting import notices as reporting_notices
from reporting.consent import story_version
from reporting.models import SponsorAsk, SuccessStory
from risks import notices as risk_notices
from risks.models import CheckIn, RiskFlag
from surveys import notices as survey_notices
from surveys.models import LinkRequest, Pulse, PulseRequest
from tests.factories import CohortFactory, ParticipantFactory, UserFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for


@pytest.fixture
def org_admin(db: None) -> User:
    """Olga, an organisation administrator: she words the organisation's default messages."""
    user = UserFactory(username="olga", first_name="Olga", is_staff=True)
    user.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    return user


@pytest.fixture
def built(programme: Programme, manager: User, sponsor: User) -> dict[str, Message | None]:
    """Every kind built by its own builder from factory data, as a send builds it."""
    pair = agreed_pair(programme=programme, agreed=False)
    pair.mentee.person.email = "margaret@example.org"
    pair.mentee.person.save()
    pair.end_reason = "END-REASON-SECRET"
    pair.save()
    mentee, mentor = pair.mentee, pair.reverse_mentor
    now = timezone.now()
    built: dict[str, Message | None] = {}

    def build(kind: str, key: str | None = None) -> None:
        rows = Notification.objects.filter(kind=kind)
        row = rows.get(key=key) if key else rows.latest("pk")
        built[kind] = KINDS[kind].build(row)

    # Intake: a participant of a cohort still taking intakes.
    intake_cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    newcomer = ParticipantFactory(cohort=intake_cohort)
    programme_notices.ask_intake_invitation(newcomer)
    build("intake_invitation")
    notify(kind="intake_confirmation", key="ic", to=newcomer.person, about=newcomer)
    build("intake_confirmation")
    programme_notices.ask_intake_reminder(newcomer, 3)
    build("intake_reminder")

    # The agreement the mentee proposed, waiting for the reverse-mentor.
    agreement = pair.agreements.get()
    agreement.cancellation = "CANCELLATION-TEXT-SECRET"
    agreement.save()
    pair_notices.ask_agreement_proposed(agreement)
    build("agreement_proposed")
    pair_notices.ask_agreement_reminder(pair, mentor)
    build("agreement_reminder")

    # Sessions.
    topic_meeting = meeting_for(pair, starts_at=now + timedelta(days=2))
    pair_notices.ask_meeting_update(topic_meeting, "scheduled", Role.MENTEE)
    build("meeting_scheduled")
    moved = meeting_for(pair, starts_at=now + timedelta(days=3), sequence=1)
    pair_notices.ask_meeting_update(moved, "rescheduled", Role.MENTEE)
    build("meeting_rescheduled")
    cancelled = meeting_for(
        pair,
        starts_at=now + timedelta(days=4),
        status=Meeting.Status.CANCELLED,
        cancelled_by=Role.MENTEE,
        cancel_reason="CANCEL-REASON-SECRET",
        sequence=1,
    )
    pair_notices.ask_meeting_update(cancelled, "cancelled", Role.MENTEE)
    build("meeting_cancelled")
    held = meeting_for(
        pair, starts_at=now - timedelta(days=1), status=Meeting.Status.HELD, led_by=Role.MENTEE
    )
    pair_notices.ask_meeting_update(held, "marked", Role.MENTEE)
    build("meeting_marked")
    pair_notices.ask_session_reminder(topic_meeting, mentor)
    build("session_reminder")

    # Pulses: the reverse-mentor's request about the held session, and the mentee's
    # "not a good fit" about it.
    request = PulseRequest.objects.create(meeting=held, participant=mentor)
    survey_notices.ask_pulse_request(request)
    build("pulse_request")
    survey_notices.ask_pulse_nudge(request)
    build("pulse_nudge")
    pulse = Pulse.objects.create(
        meeting=held,
        participant=mentee,
        held=True,
        learning="LEARNING-SECRET",
        good_fit=False,
        safety=1,
        teaching=5,
        submitted_at=now,
        session_starts_at=held.starts_at,
    )
    survey_notices.ask_rematch_alert(pulse)
    build("rematch_alert")
    survey_notices.ask_feedback_request(mentor, "midpoint")
    build("feedback_request")
    link_request = LinkRequest.objects.create(email=mentor.person.email, person=mentor.person)
    survey_notices.ask_participant_links(link_request)
    build("participant_links")

    # Check-ins, and a manager's answer.
    checkin = CheckIn.objects.create(pair=pair, participant=mentor, trigger=cancelled)
    risk_notices.ask_checkin(checkin)
    build("checkin")
    flag = RiskFlag.objects.create(
        pair=pair,
        rule=RiskFlag.Rule.LOW_SAFETY,
        severity=RiskFlag.Severity.HIGH,
        condition="x",
        evidence={"date": "2026-06-01", "side": "mentee", "at_most": 2},
        opened_at=now,
        updated_at=now,
        resolution_note="RESOLUTION-SECRET",
    )
    from_flag = CheckIn.objects.create(pair=pair, participant=mentee, flag=flag)
    risk_notices.ask_checkin(from_flag)
    build("checkin_manager")
    risk_notices.ask_checkin_answer(
        checkin, "pause", paused_until=date.today() + timedelta(days=30)
    )
    build("checkin_answer")

    # The story, waiting for the reverse-mentor's consent.
    story = SuccessStory.objects.create(
        pair=pair, title="A story", body="STORY-BODY", anonymised=True, written_by=manager
    )
    reporting_notices.ask_story_consent(story, mentor, story_version(story))
    build("story_consent")

    # Digests to users.
    today = timezone.localdate()
    risk_notices.ask_risk_digest(manager, 2026, 1, today)
    build("risk_digest")
    SponsorAsk.objects.create(
        programme=programme, month=today.replace(day=1), text="Come.", written_by=manager
    )
    reporting_digests.ask_sponsor_status(sponsor, programme, today, today.replace(day=1))
    build("sponsor_status")

    # The introduction of a new pair, and the end of an old one.
    matching_notices.ask_match_introduction(pair)
    build("match_introduction", key=f"match_introduction:{pair.pk}:{mentor.pk}")
    ended = agreed_pair(programme=programme, status=Pair.Status.ENDED)
    ended.end_reason = "END-REASON-SECRET"
    ended.save()
    meeting_for(ended, starts_at=now + timedelta(days=5), status=Meeting.Status.WITHDRAWN)
    pair_notices.ask_pair_ended(ended, ended.mentee)
    build("pair_ended")

    # A manager who forgot their password.
    password_reset_request_create(email=manager.email, ip_address="192.0.2.1")
    build("password_reset")
    return built
