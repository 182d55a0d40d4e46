"""The programme questions: "How likely are you to recommend this programme to a colleague?"
(0 to 10, with an optional why) at the cohort's mid-point and end, and at the end a confidence
rating for every key skill, so the change from the intake baseline is known.

Windows are whole days, compared as UTC dates (a participant far from UTC may see a window
open or close a few hours before or after their own midnight; the page says the date, and a
day's difference either way does not change what the answers mean):

- mid-point: from the cohort's mid-point, ``starts_on + (ends_on - starts_on) // 2``, through
  ``ends_on``;
- end: from seven days before ``ends_on`` through thirty days after it.

Both days are included. The two overlap in the cohort's last week, so someone who missed the
mid-point questions can still answer them alongside the end ones. A link to a moment expires
when its window closes (at the end of the closing day, UTC).

Only participants who have or had a pair in their cohort are asked, and not withdrawn ones.
An answer can be changed, by submitting again, for ``EDIT_WINDOW`` after the first submission
and while the window is open; after that it is read-only. The why is private to its author:
nothing here or in the pages built on it shows it to anyone else.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from pairs.models import Pair
from programmes.forms import CONFIDENCE_PREFIX
from programmes.links import Purpose, participant_url
from programmes.models import Cohort, KeySkill, Participant
from surveys.models import EDIT_WINDOW, ConfidenceRating, NpsResponse

MIDPOINT = NpsResponse.Moment.MIDPOINT.value
END = NpsResponse.Moment.END.value
MOMENTS = (MIDPOINT, END)
# What the pair page's card and the e-mail call each set of questions.
MOMENT_LABELS = {
    MIDPOINT: "Mid-point questions",
    END: "End-of-programme questions",
}
END_OPENS_BEFORE = timedelta(days=7)
END_CLOSES_AFTER = timedelta(days=30)
WHY_MAX_LENGTH = 500

SCORE_MESSAGE = "Choose a number from 0 to 10."
WHY_TOO_LONG = "Keep it to %(limit)d characters (it has %(count)d)."
CONTROL_CHARACTERS = "Remove the invisible control characters from your text."
LOCKED_MESSAGE = "You have already answered these questions; your answers can no longer be changed."
TWICE_MESSAGE = (
    "Your answers arrived twice at the same moment and could not be saved. Check them below "
    "and send them again."
)


@dataclass(frozen=True)
class Window:
    """The days, both included, on which one moment's questions can be answered."""

    moment: str
    opens_on: date
    closes_on: date

    def is_open(self, today: date) -> bool:
        return self.opens_on <= today <= self.closes_on

    @property
    def expires_at(self) -> datetime:
        """The end of the closing day, UTC: when links to these questions stop working."""
        return datetime.combine(self.closes_on + timedelta(days=1), clock_time.min, tzinfo=UTC)


def feedback_today(now: datetime) -> date:
    """The day the windows are compared with: the UTC date of ``now``."""
    return now.astimezone(UTC).date()


def feedback_window(cohort: Cohort, moment: str) -> Window:
    if moment == MIDPOINT:
        midpoint = cohort.starts_on + (cohort.ends_on - cohort.starts_on) // 2
        return Window(moment=moment, opens_on=midpoint, closes_on=cohort.ends_on)
    if moment == END:
        return Window(
            moment=moment,
            opens_on=cohort.ends_on - END_OPENS_BEFORE,
            closes_on=cohort.ends_on + END_CLOSES_AFTER,
        )
    raise ValueError(f"Unknown moment {moment!r}")


def _paired(participant_id: int) -> Q:
    return Q(mentee_id=participant_id) | Q(reverse_mentor_id=participant_id)


def participant_was_paired(participant: Participant) -> bool:
    """Whether the participant has, or had, a pair in their cohort (any status)."""
    return Pair.objects.filter(_paired(participant.pk), cohort_id=participant.cohort_id).exists()


def feedback_open(participant: Participant, *, today: date) -> list[str]:
    """The moments whose window is open on ``today``, answered or not; none for a withdrawn
    participant. No query (``participant.cohort`` loaded)."""
    if participant.status == Participant.Status.WITHDRAWN:
        return []
    return [m for m in MOMENTS if feedback_window(participant.cohort, m).is_open(today)]


def feedback_due(participant: Participant, *, today: date) -> list[str]:
    """The moments whose window is open on ``today`` and that the participant has not answered
    yet: none for a withdrawn participant or one never paired. No query at all when no window
    is open (most days); one otherwise. ``participant.cohort`` should be loaded already."""
    open_moments = feedback_open(participant, today=today)
    if not open_moments:
        return []
    answers = NpsResponse.objects.filter(participant=OuterRef("pk"))
    row = (
        Participant.objects.filter(pk=participant.pk)
        .exclude(status=Participant.Status.WITHDRAWN)
        .annotate(
            paired=Exists(
                Pair.objects.filter(
                    Q(mentee=OuterRef("pk")) | Q(reverse_mentor=OuterRef("pk")),
                    cohort_id=OuterRef("cohort_id"),
                )
            ),
            **{
                f"answered_{moment}": Exists(answers.filter(moment=moment))
                for moment in open_moments
            },
        )
        .values("paired", *(f"answered_{moment}" for moment in open_moments))
        .first()
    )
    if row is None or not row["paired"]:
        return []
    return [moment for moment in open_moments if not row[f"answered_{moment}"]]


def feedback_url(participant: Participant, moment: str) -> str:
    """The participant's own link to one moment's questions, valid until its window closes."""
    window = feedback_window(participant.cohort, moment)
    return participant_url(
        participant_id=participant.pk,
        purpose=Purpose.FEEDBACK,
        scope=moment,
        expires_at=window.expires_at,
    )


def feedback_links_due(participant: Participant, *, now: datetime) -> list[tuple[str, str]]:
    """(label, link) for each moment ``feedback_due`` on ``now``'s UTC date: the pair page's
    card."""
    return feedback_links(participant, feedback_due(participant, today=feedback_today(now)))


def feedback_links(participant: Participant, moments: list[str]) -> list[tuple[str, str]]:
    """(label, link) for each of ``moments``."""
    return [(MOMENT_LABELS[moment], feedback_url(participant, moment)) for moment in moments]


def feedback_answer(participant: Participant, moment: str) -> NpsResponse | None:
    return NpsResponse.objects.filter(participant=participant, moment=moment).first()


def feedback_editable(answer: NpsResponse, *, now: datetime) -> bool:
    return now - answer.submitted_at <= EDIT_WINDOW


def feedback_end_ratings(participant: Participant) -> dict[int, int]:
    """{key skill id: value} of the participant's end-of-cohort confidence ratings."""
    return dict(
        ConfidenceRating.objects.filter(
            participant=participant, context=ConfidenceRating.Context.END
        ).values_list("key_skill_id", "value")
    )


def normalise_why(why: str) -> str:
    """Surrounding whitespace stripped and every run inside collapsed to one space, so that a
    browser's line breaks (sent as two characters) never push a text over the limit."""
    return " ".join(why.split())


def _check_answers(
    *,
    moment: str,
    score: object,
    why: object,
    confidence: object,
    key_skills: list[KeySkill],
) -> tuple[int, str, dict[int, int]]:
    """The answers, normalised, or a ValidationError naming every field with a problem."""
    errors: dict[str, list[str]] = {}
    valid_score = 0
    if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 10:
        valid_score = score
    else:
        errors["score"] = [SCORE_MESSAGE]
    text = _read_why(why, errors)
    ratings: dict[int, int] = {}
    if moment == END:
        ratings = _read_ratings(confidence, key_skills, errors)
    elif confidence:
        errors.setdefault(NON_FIELD_ERRORS, []).append(
            "Confidence is asked only at the end of the programme."
        )
    if errors:
        raise ValidationError(errors)
    return valid_score, text, ratings


def _read_why(why: object, errors: dict[str, list[str]]) -> str:
    """The "why" as stored (normalised), adding to ``errors`` what is wrong with it."""
    if why is None:
        return ""
    if not isinstance(why, str):
        errors["why"] = ["Write your answer as text."]
        return ""
    text = normalise_why(why)
    if "\x00" in text:
        errors["why"] = [CONTROL_CHARACTERS]
    elif len(text) > WHY_MAX_LENGTH:
        errors["why"] = [WHY_TOO_LONG % {"limit": WHY_MAX_LENGTH, "count": len(text)}]
    return text


def _read_ratings(
    confidence: object, key_skills: list[KeySkill], errors: dict[str, list[str]]
) -> dict[int, int]:
    """The end-of-programme rating of every key skill, adding to ``errors`` each one missing
    or out of range, and any skill that is not the programme's."""
    given = confidence if isinstance(confidence, dict) else {}
    if confidence is not None and not isinstance(confidence, dict):
        errors[NON_FIELD_ERRORS] = ["Rate your confidence in each skill from 1 to 5."]
    known = {skill.pk for skill in key_skills}
    if any(skill_id not in known for skill_id in given):
        errors.setdefault(NON_FIELD_ERRORS, []).append("Rate only the skills of this programme.")
    ratings: dict[int, int] = {}
    for skill in key_skills:
        value = given.get(skill.pk)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            errors[f"{CONFIDENCE_PREFIX}{skill.pk}"] = [
                f"Rate your confidence in “{skill.name}” from 1 to 5."
            ]
        else:
            ratings[skill.pk] = value
    return ratings


def window_message(window: Window, today: date) -> str:
    """Why the questions cannot be answered today, or "" if they can."""
    if today < window.opens_on:
        return f"These questions open on {window.opens_on:%-d %B %Y}."
    if today > window.closes_on:
        return f"These questions closed on {window.closes_on:%-d %B %Y}."
    return ""


def feedback_submit(
    *,
    participant: Participant,
    moment: str,
    score: int,
    why: str | None,
    confidence: dict[int, int] | None,
    now: datetime,
) -> NpsResponse:
    """Record one participant's answers to one moment's questions, or change them within the
    edit window. All or nothing: the answer and, at the end, one confidence rating per key
    skill (every skill required) are written in one transaction.

    Raises ValidationError, keyed by field ("score", "why", "confidence_<skill id>", or
    NON_FIELD_ERRORS), with messages for the participant: bad answers; a window not open on
    ``now``'s UTC date; a participant withdrawn or never paired; an answer past its edit
    window. Two submissions at once store one answer: the participant's row is locked first,
    so the second waits and then changes the first's answer (on PostgreSQL; SQLite writes one
    at a time anyway). Should the unique constraint still fire, the caller gets a
    ValidationError, never an IntegrityError.
    """
    if moment not in MOMENTS:
        raise ValidationError({NON_FIELD_ERRORS: ["These questions do not exist."]})
    cohort = participant.cohort
    window = feedback_window(cohort, moment)
    closed = window_message(window, feedback_today(now))
    if closed:
        raise ValidationError({NON_FIELD_ERRORS: [closed]})
    key_skills = list(KeySkill.objects.filter(programme_id=cohort.programme_id))
    score, text, ratings = _check_answers(
        moment=moment, score=score, why=why, confidence=confidence, key_skills=key_skills
    )
    try:
        with transaction.atomic():
            return _write(
                participant=participant,
                moment=moment,
                score=score,
                why=text,
                ratings=ratings,
                now=now,
            )
    except IntegrityError as exc:
        # Only reachable if the lock did not serialise two submissions (a database without
        # row locks): the other one's answer stands.
        raise ValidationError({NON_FIELD_ERRORS: [TWICE_MESSAGE]}) from exc


def _existing_answer(participant_id: int, moment: str) -> NpsResponse | None:
    return NpsResponse.objects.filter(participant_id=participant_id, moment=moment).first()


def _write(
    *,
    participant: Participant,
    moment: str,
    score: int,
    why: str,
    ratings: dict[int, int],
    now: datetime,
) -> NpsResponse:
    # The lock serialises one participant's submissions: a double tap, or two tabs, wait for
    # each other instead of both finding no answer and both inserting one.
    locked = (
        Participant.objects.select_for_update()
        .filter(pk=participant.pk)
        .exclude(status=Participant.Status.WITHDRAWN)
        .values_list("pk", flat=True)
        .first()
    )
    if locked is None:
        raise ValidationError(
            {NON_FIELD_ERRORS: ["Your place in the programme has ended: nothing was saved."]}
        )
    if not Pair.objects.filter(_paired(participant.pk), cohort_id=participant.cohort_id).exists():
        raise ValidationError(
            {NON_FIELD_ERRORS: ["These questions are for people who have had a partner."]}
        )
    answer = _existing_answer(participant.pk, moment)
    if answer is None:
        answer = NpsResponse.objects.create(
            participant_id=participant.pk, moment=moment, score=score, why=why, submitted_at=now
        )
    elif feedback_editable(answer, now=now):
        answer.score, answer.why = score, why
        answer.save(update_fields=["score", "why"])
    else:
        raise ValidationError({NON_FIELD_ERRORS: [LOCKED_MESSAGE]})
    if moment == END:
        existing = {
            rating.key_skill_id: rating
            for rating in ConfidenceRating.objects.filter(
                participant_id=participant.pk, context=ConfidenceRating.Context.END
            )
        }
        for skill_id, value in ratings.items():
            rating = existing.get(skill_id)
            if rating is None:
                ConfidenceRating.objects.create(
                    participant_id=participant.pk,
                    key_skill_id=skill_id,
                    value=value,
                    context=ConfidenceRating.Context.END,
                    recorded_at=now,
                )
            else:
                rating.value, rating.recorded_at = value, now
                rating.save(update_fields=["value", "recorded_at"])
    return answer
