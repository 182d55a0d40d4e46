"""The messages of the intake, agreement and session stages, built when the outbox sends them
(see notifications/kinds.py). Each returns the message's context, or None when it is no longer
wanted: the row is then cancelled rather than sent.

``ask_*`` functions are called by the services inside their transactions; they name each
message with a key, so asking twice sends once.
"""

from datetime import date, datetime

from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from programmes.meetings import ics_filename, local_time, meeting_ics
from programmes.models import (
    Agreement,
    CheckIn,
    Cohort,
    Intake,
    Meeting,
    Pair,
    Participant,
    Role,
    SuccessStory,
)
from surveys.links import Purpose, pair_link_expiry, participant_url

OPEN_FOR_INTAKE = tuple(Cohort.OPEN_FOR_INTAKE)
# The e-mails that ask for an intake: closing intake withdraws them (cohort_intake_close).
INTAKE_REQUESTS = ("intake_invitation", "intake_reminder")


def _participant_context(participant: Participant) -> dict:
    return {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
        "site_url": settings.SITE_URL,
    }


def pair_people(via: str = "") -> list[str]:
    """What a message to one side of a pair needs of the pair, for ``select_related``: from
    the pair itself, or through ``via`` ("pair__") from a row about it."""
    paths = ("cohort__programme", "mentee__person", "mentee__cohort")
    paths += ("reverse_mentor__person", "reverse_mentor__cohort")
    return [via + path for path in paths]


def sides_for(notification: Notification, pair: Pair) -> tuple[Participant, Participant]:
    """The participant of ``pair`` the message goes to, and their partner."""
    if notification.person_id == pair.mentee.person_id:
        return pair.mentee, pair.reverse_mentor
    return pair.reverse_mentor, pair.mentee


def pair_context(pair: Pair, me: Participant, partner: Participant) -> dict:
    """The placeholders every message to one side of a pair has (notifications.kinds._PAIR)."""
    return {
        "person": me.person,
        "partner": partner.person,
        "programme": pair.cohort.programme,
        "cohort": pair.cohort,
        "site_url": settings.SITE_URL,
        "pair_url": pair_url(me, pair),
    }


def pair_url(participant: Participant, pair: Pair) -> str:
    """The page of ``pair`` through ``participant``'s own pair link: a message about one
    pair opens that pair, even for a reverse-mentor who has two."""
    return participant_url(
        participant_id=participant.pk,
        purpose=Purpose.PAIR,
        expires_at=pair_link_expiry(participant.cohort.ends_on),
        pair_id=pair.pk,
    )


def _participant(notification: Notification) -> Participant | None:
    return (
        Participant.objects.select_related("person", "cohort__programme")
        .filter(pk=notification.object_id)
        .exclude(status=Participant.Status.WITHDRAWN)
        .first()
    )


# --- Intake ---------------------------------------------------------------------------------


def _round_suffix(participant: Participant) -> str:
    """Round 0 (intake never reopened with fresh invitations) keeps the keys it always had."""
    number = participant.cohort.intake_round
    return f":r{number}" if number else ""


def ask_intake_invitation(participant: Participant) -> None:
    """Once per participant and intake round (``Cohort.intake_round``): reopening intake with
    fresh invitations asks again under a new key."""
    notify(
        kind="intake_invitation",
        key=f"intake_invitation:{participant.pk}{_round_suffix(participant)}",
        to=participant.person,
        about=participant,
        data={"round": participant.cohort.intake_round},
    )


def ask_intake_confirmation(intake: Intake) -> None:
    """One confirmation per submission: an edit submitted later gets its own."""
    participant = intake.participant
    notify(
        kind="intake_confirmation",
        key=f"intake_confirmation:{participant.pk}:{intake.submitted_at.isoformat()}",
        to=participant.person,
        about=participant,
    )


def _intake_message(notification: Notification, *, only_while_open: bool) -> Message | None:
    """``only_while_open``: an e-mail asking for the intake, checked again at send time so
    that none goes out to a closed form, whatever raced with the closing, nor one of an
    earlier round once intake has reopened with fresh invitations."""
    participant = _participant(notification)
    if participant is None:
        return None
    if only_while_open and (
        not participant.cohort.intake_open
        or notification.data.get("round", 0) != participant.cohort.intake_round
    ):
        return None
    return Message(
        _participant_context(participant)
        | {"intake_url": participant_url(participant_id=participant.pk, purpose=Purpose.INTAKE)}
    )


def intake_invitation(notification: Notification) -> Message | None:
    return _intake_message(notification, only_while_open=True)


def intake_confirmation(notification: Notification) -> Message | None:
    return _intake_message(notification, only_while_open=False)


# --- The agreement ----------------------------------------------------------------------------


def ask_agreement_proposed(agreement: Agreement, *, not_before: datetime | None = None) -> None:
    pair = agreement.pair
    recipient = pair.reverse_mentor if agreement.proposed_by == Role.MENTEE else pair.mentee
    notify(
        kind="agreement_proposed",
        key=f"agreement_proposed:{agreement.pk}",
        to=recipient.person,
        about=agreement,
        not_before=not_before,
    )


def agreement_proposed(notification: Notification) -> Message | None:
    """To the partner of whoever proposed a version, unless it has since been agreed or
    replaced, or the pair has ended."""
    agreement = (
        Agreement.objects.select_related(
            "pair__cohort__programme", "pair__mentee__person", "pair__reverse_mentor__person"
        )
        .filter(pk=notification.object_id)
        .first()
    )
    if agreement is None or not agreement.proposed_by or agreement.agreed:
        return None
    pair = agreement.pair
    if pair.status == Pair.Status.ENDED or pair.agreements.filter(number__gt=agreement.number):
        return None
    proposer, recipient = (
        (pair.mentee, pair.reverse_mentor)
        if agreement.proposed_by == Role.MENTEE
        else (pair.reverse_mentor, pair.mentee)
    )
    return Message(
        {
            "person": recipient.person,
            "partner": proposer.person,
            "agreement": agreement,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
        }
    )


# --- Sessions -----------------------------------------------------------------------------------


def ask_meeting_update(meeting: Meeting, change: str, by: Role) -> None:
    """Tell the partner of ``by`` that a session was scheduled, rescheduled, cancelled or
    marked. A mark does not change the invitation's sequence, so its key carries the time of
    the change: a corrected mark is news of its own, and replaces an earlier one not yet
    sent."""
    pair = meeting.pair
    recipient = pair.reverse_mentor if by == Role.MENTEE else pair.mentee
    version = meeting.updated_at.isoformat() if change == "marked" else str(meeting.sequence)
    notify(
        kind=f"meeting_{change}",
        key=f"meeting_{change}:{meeting.pk}:{version}",
        to=recipient.person,
        about=meeting,
        data={"sequence": meeting.sequence, "by": str(by)}
        | ({"marked_at": version} if change == "marked" else {}),
    )


def _meeting(notification: Notification) -> Meeting | None:
    """The session a message is about, with the pair, people and zones its wording needs."""
    return (
        Meeting.objects.select_related("topic", *pair_people("pair__"))
        .filter(pk=notification.object_id)
        .first()
    )


def meeting_update(notification: Notification) -> Message | None:
    """The time in the recipient's own zone and, for a new, moved or cancelled session, the
    invitation attached. Nothing when the change has been overtaken (the meeting's sequence
    moved on) or no longer matches the meeting's state, so nobody gets stale news."""
    change = notification.kind.removeprefix("meeting_")
    sequence, by = notification.data.get("sequence"), notification.data.get("by")
    marked_at = notification.data.get("marked_at")
    meeting = _meeting(notification)
    if meeting is None or meeting.sequence != sequence or by not in Role.values:
        return None
    expected = {
        "scheduled": sequence == 0 and meeting.status == Meeting.Status.SCHEDULED,
        "rescheduled": sequence > 0 and meeting.status == Meeting.Status.SCHEDULED,
        "cancelled": meeting.status == Meeting.Status.CANCELLED,
        # A mark corrected since (its time moved on) is told by the correction's own message.
        "marked": meeting.status in (Meeting.Status.HELD, Meeting.Status.MISSED)
        and marked_at is not None
        and parse_datetime(marked_at) == meeting.updated_at,
    }
    if not expected.get(change, False):
        return None
    pair = meeting.pair
    actor, recipient = (
        (pair.mentee, pair.reverse_mentor)
        if by == Role.MENTEE
        else (pair.reverse_mentor, pair.mentee)
    )
    zone = recipient.person.time_zone
    attachments = []
    if change != "marked":
        invitation = meeting_ics(meeting, for_participant=recipient)
        attachments.append((ics_filename(meeting), invitation, "text/calendar"))
    return Message(
        {
            "person": recipient.person,
            "partner": actor.person,
            "meeting": meeting,
            "starts": local_time(meeting.starts_at, zone),
            "ends": local_time(meeting.ends_at, zone),
            "zone": zone,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
            "led_by": {
                Role.MENTEE: pair.mentee.person,
                Role.REVERSE_MENTOR: pair.reverse_mentor.person,
            }.get(meeting.led_by),
        },
        attachments=attachments,
    )


# --- A pair ends (programmes.pairs.pair_close) -----------------------------------------------


def ask_pair_ended(pair: Pair, participant: Participant) -> None:
    notify(
        kind="pair_ended",
        key=f"pair_ended:{pair.pk}:{participant.pk}",
        to=participant.person,
        about=pair,
    )


def pair_ended(notification: Notification) -> Message | None:
    """That the pair has ended, with the times of its withdrawn sessions in the recipient's
    zone and their calendar cancellations attached. Never the manager's reason: it may say
    more about one side than the other should read."""
    pair = (
        Pair.objects.select_related(*pair_people())
        .filter(pk=notification.object_id, status=Pair.Status.ENDED)
        .first()
    )
    if pair is None:
        return None
    me, partner = sides_for(notification, pair)
    zone = me.person.time_zone
    withdrawn = list(
        pair.meetings.filter(status=Meeting.Status.WITHDRAWN)
        .select_related("topic")
        .order_by("starts_at")
    )
    return Message(
        pair_context(pair, me, partner)
        | {
            "sessions": [local_time(meeting.starts_at, zone) for meeting in withdrawn],
            "zone": zone,
        },
        attachments=[
            (ics_filename(meeting), meeting_ics(meeting, for_participant=me), "text/calendar")
            for meeting in withdrawn
        ],
    )


# --- Success stories (programmes/stories.py) ---------------------------------------------


def ask_story_consent(story: SuccessStory, participant: Participant, version: str) -> None:
    """Once per participant and text: a changed text is a new question."""
    notify(
        kind="story_consent",
        key=f"story_consent:{story.pk}:{version}:{participant.pk}",
        to=participant.person,
        about=story,
        data={"version": version},
    )


def story_consent(notification: Notification) -> Message | None:
    """Nothing once the question is moot: the story gone, changed since (its new text asks
    again), no longer marked anonymised, or already agreed to by the recipient."""
    from programmes.stories import consent_waits_for, story_version

    story = (
        SuccessStory.objects.select_related(*pair_people("pair__"))
        .filter(pk=notification.object_id, anonymised=True)
        .first()
    )
    if story is None or story_version(story) != notification.data.get("version"):
        return None
    me, partner = sides_for(notification, story.pair)
    if me not in consent_waits_for(story):
        return None
    context = pair_context(story.pair, me, partner)
    context["pair_url"] += f"#story-{story.pk}"
    return Message(context | {"story": story})


# --- Reminders (asked by the scans in programmes/reminders.py) ------------------------------


def intake_reminder_key(participant: Participant, days: int) -> str:
    """Needs ``participant.cohort`` (its intake round)."""
    return f"intake_reminder:{participant.pk}:{days}{_round_suffix(participant)}"


def ask_intake_reminder(participant: Participant, days: int) -> None:
    notify(
        kind="intake_reminder",
        key=intake_reminder_key(participant, days),
        to=participant.person,
        about=participant,
        data={"days": days, "round": participant.cohort.intake_round},
    )


def intake_reminder(notification: Notification) -> Message | None:
    """Nothing once the intake is submitted, the participant has withdrawn, or the cohort's
    intake has closed (or reopened since, with fresh invitations)."""
    message = _intake_message(notification, only_while_open=True)
    if message is None:
        return None
    if Intake.objects.filter(
        participant_id=notification.object_id, submitted_at__isnull=False
    ).exists():
        return None
    message.context["days"] = notification.data.get("days")
    return message


def agreement_waits_for(pair: Pair) -> list[Participant]:
    """The sides the kickoff agreement waits for: nobody once a version is agreed; else
    whoever has not accepted the latest version, or both when there is none. Uses
    ``prefetch_related("agreements")`` when present."""
    from programmes.pairs import agreement_current, agreement_pending

    if agreement_current(pair) is not None:
        return []
    latest = agreement_pending(pair)
    sides = ((pair.mentee, "mentee_accepted_at"), (pair.reverse_mentor, "mentor_accepted_at"))
    return [who for who, field in sides if latest is None or getattr(latest, field) is None]


def agreement_reminder_key(pair: Pair, participant: Participant) -> str:
    return f"agreement_reminder:{pair.pk}:{participant.pk}"


def ask_agreement_reminder(pair: Pair, participant: Participant) -> None:
    notify(
        kind="agreement_reminder",
        key=agreement_reminder_key(pair, participant),
        to=participant.person,
        about=pair,
        data={"participant": participant.pk},
    )


def agreement_reminder(notification: Notification) -> Message | None:
    """Nothing if the pair is no longer active, or the agreement no longer waits for the
    recipient (agreed meanwhile, or they have accepted the latest version)."""
    from programmes.pairs import agreement_pending

    pair = (
        Pair.objects.select_related(
            "cohort__programme",
            "mentee__person",
            "mentee__cohort",
            "reverse_mentor__person",
            "reverse_mentor__cohort",
        )
        .prefetch_related("agreements")
        .filter(pk=notification.object_id, status=Pair.Status.ACTIVE)
        .first()
    )
    if pair is None:
        return None
    recipient = next(
        (
            who
            for who in agreement_waits_for(pair)
            if who.pk == notification.data.get("participant")
        ),
        None,
    )
    if recipient is None:
        return None
    partner = pair.reverse_mentor if recipient.pk == pair.mentee_id else pair.mentee
    return Message(
        {
            "person": recipient.person,
            "partner": partner.person,
            "agreement": agreement_pending(pair),
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
        }
    )


def session_reminder_key(meeting: Meeting, participant: Participant) -> str:
    """Per session time: a moved session (a higher sequence) is reminded of again."""
    return f"session_reminder:{meeting.pk}:{participant.pk}:{meeting.sequence}"


def ask_session_reminder(meeting: Meeting, participant: Participant) -> None:
    notify(
        kind="session_reminder",
        key=session_reminder_key(meeting, participant),
        to=participant.person,
        about=meeting,
        data={"participant": participant.pk, "sequence": meeting.sequence},
    )


def session_reminder(notification: Notification) -> Message | None:
    """The time in the recipient's own zone; no invitation attached (they have it already).
    Nothing if the session was moved since (its sequence moved on) or cancelled, has started,
    or the pair is not active (a paused pair gets no session mail)."""
    from django.utils import timezone

    meeting = _meeting(notification)
    if (
        meeting is None
        or meeting.sequence != notification.data.get("sequence")
        or meeting.status != Meeting.Status.SCHEDULED
        or meeting.starts_at <= timezone.now()
        or meeting.pair.status != Pair.Status.ACTIVE
    ):
        return None
    pair = meeting.pair
    sides = {pair.mentee_id: (pair.mentee, pair.reverse_mentor)}
    sides[pair.reverse_mentor_id] = (pair.reverse_mentor, pair.mentee)
    if notification.data.get("participant") not in sides:
        return None
    recipient, partner = sides[notification.data["participant"]]
    zone = recipient.person.time_zone
    return Message(
        {
            "person": recipient.person,
            "partner": partner.person,
            "meeting": meeting,
            "starts": local_time(meeting.starts_at, zone),
            "ends": local_time(meeting.ends_at, zone),
            "zone": zone,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
        }
    )


# --- The missed-meetings check-in (programmes/checkins.py) ------------------------------------


def ask_checkin(checkin: CheckIn) -> None:
    """After two missed sessions (the scan, with a trigger) or from a manager (no trigger):
    the same question and answers, each with its own wording."""
    notify(
        kind="checkin" if checkin.trigger_id else "checkin_manager",
        key=f"checkin:{checkin.pk}",
        to=checkin.participant.person,
        about=checkin,
    )


def checkin_urls(checkin: CheckIn) -> dict[str, str]:
    """One signed link per answer; the answer only preselects a choice on the page, where one
    tap confirms it (a mail scanner opening a link changes nothing)."""
    url = participant_url(
        participant_id=checkin.participant_id, purpose=Purpose.CHECKIN, scope=checkin.pk
    )
    return {f"{choice}_url": f"{url}?answer={choice}" for choice in CheckIn.Choice.values}


def _checkin_for(notification: Notification) -> CheckIn | None:
    return (
        CheckIn.objects.select_related(
            "participant__person",
            "pair__cohort__programme",
            "pair__mentee__person",
            "pair__reverse_mentor__person",
        )
        .filter(pk=notification.object_id)
        .first()
    )


def checkin(notification: Notification) -> Message | None:
    """Nothing once the question is answered, or the pair is no longer active (paused, by
    the partner's answer for one, or ended). Builds both kinds, ``checkin`` (the scan's,
    after two missed sessions) and ``checkin_manager`` (sent from an at-risk flag)."""
    found = _checkin_for(notification)
    if (
        found is None
        or found.choice
        or found.pair.status != Pair.Status.ACTIVE
        or found.participant.status == Participant.Status.WITHDRAWN
    ):
        return None
    pair, participant = found.pair, found.participant
    partner = pair.reverse_mentor if participant.pk == pair.mentee_id else pair.mentee
    return Message(
        {
            "person": participant.person,
            "partner": partner.person,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            **checkin_urls(found),
        }
    )


def ask_checkin_answer(checkin: CheckIn, choice: str, *, paused_until: date | None = None) -> None:
    """To each of the programme's managers with an address; never to the partner. Once per
    check-in and choice, however often the answer is given."""
    programme = checkin.pair.cohort.programme
    data = {"choice": choice, "paused_until": paused_until.isoformat() if paused_until else ""}
    for manager in programme.managers.filter(is_active=True).exclude(email=""):
        notify(
            kind="checkin_answer",
            key=f"checkin_answer:{checkin.pk}:{choice}:{manager.pk}",
            to=manager,
            about=checkin,
            data=data,
        )


def checkin_answer(notification: Notification) -> Message | None:
    """Names, the pair and the choice only: the check-in has no free text."""
    choice = notification.data.get("choice")
    found = _checkin_for(notification)
    if found is None or choice not in (CheckIn.Choice.REMATCH, CheckIn.Choice.PAUSE):
        return None
    until = notification.data.get("paused_until") or ""
    pair = found.pair
    return Message(
        {
            "person": found.participant.person,
            "pair": pair,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "choice": choice,
            "paused_until": date.fromisoformat(until) if until else None,
            "pair_admin_url": settings.SITE_URL
            + reverse("admin:programmes_pair_change", args=[pair.pk]),
            "site_url": settings.SITE_URL,
        },
        language=settings.LANGUAGE_CODE,
    )


# --- Digests to managers and sponsors (asked by the scans in programmes/digests.py) ----------


def user_name(user) -> str:
    return user.get_full_name() or user.get_username()


def risk_digest_key(user, year: int, week: int) -> str:
    return f"risk_digest:{user.pk}:{year}-W{week:02d}"


def ask_risk_digest(user, year: int, week: int, monday: date) -> None:
    notify(
        kind="risk_digest",
        key=risk_digest_key(user, year, week),
        to=user,
        data={"week_of": monday.isoformat()},
    )


def risk_digest(notification: Notification) -> Message | None:
    """The open at-risk flags of the pairs of each running programme the recipient still
    manages, grouped by pair, each with its reason, the playbook's recommended action, its
    age and its page in the admin: names, counts and dates, never what anyone wrote (the
    reasons come from the flags' evidence). Nothing is sent when no flag is open: a weekly
    "all is well" would teach managers to skip the digest. Two queries."""
    from django.utils import timezone

    from programmes.models import Programme, RiskFlag

    user = notification.user
    if user is None or not user.is_active:
        return None
    now = timezone.now()
    programmes = list(
        Programme.objects.filter(status=Programme.Status.RUNNING, managers=user).order_by("name")
    )
    flags = (
        RiskFlag.objects.filter(pair__cohort__programme__in=programmes, resolved_at__isnull=True)
        .select_related("pair__cohort", "pair__mentee__person", "pair__reverse_mentor__person")
        .order_by("severity", "opened_at", "pk")
    )
    # Per programme, pairs in the order of their most pressing flag (severity, then age).
    pairs: dict[int, dict[int, dict]] = {programme.pk: {} for programme in programmes}
    for flag in flags:
        pair = flag.pair
        entry = pairs[pair.cohort.programme_id].setdefault(
            pair.pk,
            {
                "pair": pair,
                "cohort": pair.cohort,
                "flags": [],
                # For wording saved before flags existed (it listed reasons and the pair).
                "reasons": [],
                "admin_url": settings.SITE_URL
                + reverse("admin:programmes_pair_change", args=[pair.pk]),
            },
        )
        entry["flags"].append(
            {
                "rule": flag.get_rule_display(),
                "severity": flag.get_severity_display(),
                "reason": flag.reason,
                "recommended_action": flag.recommended_action,
                "opened_on": timezone.localdate(flag.opened_at),
                "days_open": (now - flag.opened_at).days,
                "admin_url": settings.SITE_URL
                + reverse("admin:programmes_riskflag_change", args=[flag.pk]),
            }
        )
        entry["reasons"].append(flag.reason)
    listed = [
        {"programme": programme, "pairs": list(pairs[programme.pk].values())}
        for programme in programmes
        if pairs[programme.pk]
    ]
    if not listed:
        return None
    return Message(
        {
            "recipient_name": user_name(user),
            "week_of": date.fromisoformat(notification.data["week_of"]),
            "programmes": listed,
            "pair_count": sum(len(entry["pairs"]) for entry in listed),
            "flag_count": sum(len(item["flags"]) for entry in listed for item in entry["pairs"]),
            "site_url": settings.SITE_URL,
        },
        language=settings.LANGUAGE_CODE,
    )


def sponsor_status_key(user, programme, today: date) -> str:
    return f"sponsor_status:{user.pk}:{programme.pk}:{today:%Y-%m}"


def ask_sponsor_status(user, programme, today: date, reported: date) -> None:
    notify(
        kind="sponsor_status",
        key=sponsor_status_key(user, programme, today),
        to=user,
        about=programme,
        data={"month": reported.isoformat()},
    )


def sponsor_status(notification: Notification) -> Message | None:
    """The month's headline figures against their targets, the managers' ask and a link to
    the status page, all from the page's own selector (programmes.sponsor), so the e-mail
    says what the page says, small groups suppressed alike: aggregates only, never a name or
    what a participant wrote. A month with no figures yet (its KPIs not computed) lists none
    and links to the programme's latest month instead. Nothing if the programme is no longer
    running or the recipient no longer sponsors it."""
    from programmes.models import Programme
    from programmes.sponsor import sponsor_status as status_of
    from programmes.sponsor import sponsor_status_path

    user = notification.user
    programme = (
        Programme.objects.filter(
            pk=notification.object_id, status=Programme.Status.RUNNING, sponsors=user
        ).first()
        if user is not None and user.is_active
        else None
    )
    if programme is None:
        return None
    month = date.fromisoformat(notification.data["month"])
    status = status_of(programme=programme, month=month)
    if status.has_figures:
        status_url = settings.SITE_URL + sponsor_status_path(programme, month)
    else:
        status_url = settings.SITE_URL + reverse(
            "programmes:sponsor_programme", args=[programme.slug]
        )
    return Message(
        {
            "recipient_name": user_name(user),
            "programme": programme,
            "month": month,
            # Plain strings, so a manager's wording can show the figures and nothing else.
            "figures": [
                {
                    "label": figure.label,
                    "text": figure.text,
                    "mark": figure.mark_label,
                    "target": figure.target_text,
                    "suppressed": figure.suppressed,
                }
                for figure in status.headline
                if status.has_figures
            ],
            "ask": status.ask,
            "min_group": status.min_group,
            "status_url": status_url,
            # For wording saved before the status page existed (it linked to the sign-in).
            "sign_in_url": status_url,
        },
        language=settings.LANGUAGE_CODE,
    )
