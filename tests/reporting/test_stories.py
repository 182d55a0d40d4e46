"""Success stories: a manager's anonymised text, shown to sponsors only once both participants
of the pair have consented to that very text (reporting/stories.py)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from notifications.models import Notification
from notifications.tasks import send_notification
from pairs.models import Pair
from programmes.models import Participant
from reporting import stories
from reporting.consent import story_version
from reporting.models import SuccessStory
from tests.factories import ParticipantFactory, ProgrammeFactory
from tests.pairs.meeting_helpers import agreed_pair

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TITLE = "From a shared inbox to a customer-first rota"
BODY = "An operations director sat in on two early shifts and changed the weekend rota."


def _story(pair: Pair, *, anonymised: bool = True, **fields) -> SuccessStory:
    fields.setdefault("title", TITLE)
    fields.setdefault("body", BODY)
    return SuccessStory.objects.create(pair=pair, anonymised=anonymised, **fields)


def _consented(pair: Pair, **fields) -> SuccessStory:
    return _story(pair, mentee_consent_at=MONDAY, reverse_mentor_consent_at=MONDAY, **fields)


def _reloaded(story: SuccessStory) -> SuccessStory:
    return SuccessStory.objects.select_related("pair").get(pk=story.pk)


# --- Consent ------------------------------------------------------------------------------


def test_it_records_each_sides_own_consent(pair) -> None:
    story = _story(pair)

    stories.story_consent(story=story, by=pair.mentee, consent=True, now=MONDAY)
    story.refresh_from_db()
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (MONDAY, None)

    later = MONDAY + timedelta(days=1)
    stories.story_consent(story=story, by=pair.reverse_mentor, consent=True, now=later)
    story.refresh_from_db()
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (MONDAY, later)


def test_it_is_not_publishable_until_anonymised_and_agreed_by_both(pair, programme) -> None:
    story = _story(pair)
    assert not story.publishable

    stories.story_consent(story=story, by=pair.mentee, consent=True)
    assert not _reloaded(story).publishable
    assert not stories.stories_for_sponsors(programme=programme).exists()

    stories.story_consent(story=story, by=pair.reverse_mentor, consent=True)
    assert _reloaded(story).publishable
    assert list(stories.stories_for_sponsors(programme=programme)) == [
        {"title": TITLE, "body": BODY}
    ]


def test_it_keeps_the_first_time_consent_was_given(pair) -> None:
    story = _story(pair)

    stories.story_consent(story=story, by=pair.mentee, consent=True, now=MONDAY)
    again = stories.story_consent(
        story=story, by=pair.mentee, consent=True, now=MONDAY + timedelta(days=5)
    )

    assert again.mentee_consent_at == MONDAY
    assert _reloaded(story).mentee_consent_at == MONDAY


def test_it_refuses_consent_before_the_manager_has_anonymised_the_story(pair) -> None:
    story = _story(pair, anonymised=False)

    with pytest.raises(ValidationError, match="still being prepared"):
        stories.story_consent(story=story, by=pair.mentee, consent=True)

    assert _reloaded(story).mentee_consent_at is None


def test_it_refuses_consent_to_a_text_changed_since_it_was_read(pair) -> None:
    story = _story(pair)
    seen = story_version(story)
    SuccessStory.objects.filter(pk=story.pk).update(body="A different text.")

    with pytest.raises(ValidationError, match="changed since you opened the page"):
        stories.story_consent(story=story, by=pair.mentee, consent=True, seen_version=seen)

    assert _reloaded(story).mentee_consent_at is None


def test_it_refuses_consent_from_someone_outside_the_pair(pair) -> None:
    story = _story(pair)
    stranger = ParticipantFactory(cohort=pair.cohort)
    other = agreed_pair(programme=pair.cohort.programme)

    for outsider in (stranger, other.mentee, other.reverse_mentor):
        with pytest.raises(ValidationError, match="not part of this pair"):
            stories.story_consent(story=story, by=outsider, consent=True)

    story = _reloaded(story)
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)


def test_withdrawing_touches_only_ones_own_consent(pair) -> None:
    story = _consented(pair)

    stories.story_consent(story=story, by=pair.reverse_mentor, consent=False)

    story = _reloaded(story)
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (MONDAY, None)


def test_withdrawing_takes_the_story_off_sponsor_pages_at_once(pair, programme) -> None:
    story = _consented(pair)
    shown = stories.stories_for_sponsors(programme=programme)
    assert shown.count() == 1

    stories.story_consent(story=story, by=pair.mentee, consent=False)

    assert not stories.stories_for_sponsors(programme=programme).exists()
    # A queryset built before the withdrawal reads afresh when it is evaluated.
    assert not shown.all().exists()


def test_withdrawing_is_possible_even_from_a_draft(pair) -> None:
    story = _story(pair, anonymised=False)

    assert stories.story_consent(story=story, by=pair.mentee, consent=False).pk == story.pk


def test_an_ended_pair_can_still_consent_and_withdraw(programme) -> None:
    pair = agreed_pair(programme=programme, status=Pair.Status.ENDED, ended_on=date(2026, 2, 27))
    story = _story(pair)

    stories.story_consent(story=story, by=pair.mentee, consent=True, now=MONDAY)
    stories.story_consent(story=story, by=pair.reverse_mentor, consent=True, now=MONDAY)
    assert _reloaded(story).publishable

    stories.story_consent(story=story, by=pair.reverse_mentor, consent=False)
    assert not _reloaded(story).publishable


# --- Saving (the admin) --------------------------------------------------------------------


def test_it_records_the_manager_as_the_writer_and_starts_with_no_consent(pair, manager) -> None:
    # Consents cannot be typed in: a new text has not been agreed to by anyone.
    story = SuccessStory(
        pair=pair, title=TITLE, body=BODY, anonymised=True, mentee_consent_at=MONDAY
    )

    stories.story_save(story=story, by=manager)

    story = _reloaded(story)
    assert story.written_by == manager
    assert story.mentee_consent_at is None


@pytest.mark.parametrize(
    "change",
    [{"title": "A new title"}, {"body": BODY + " Complaints fell within a month."}],
    ids=["title", "body"],
)
def test_editing_the_text_clears_both_consents(pair, manager, change: dict) -> None:
    story = _reloaded(_consented(pair))
    for field, value in change.items():
        setattr(story, field, value)

    stories.story_save(story=story, by=manager)

    story = _reloaded(story)
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)
    assert not story.publishable


def test_moving_the_story_to_another_pair_clears_both_consents(pair, manager) -> None:
    story = _reloaded(_consented(pair))
    story.pair = agreed_pair(programme=pair.cohort.programme)

    stories.story_save(story=story, by=manager)

    story = _reloaded(story)
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)


def test_unticking_anonymised_clears_both_consents(pair, manager, programme) -> None:
    story = _reloaded(_consented(pair))
    story.anonymised = False

    stories.story_save(story=story, by=manager)

    story = _reloaded(story)
    assert (story.mentee_consent_at, story.reverse_mentor_consent_at) == (None, None)
    assert not stories.stories_for_sponsors(programme=programme).exists()
    # Ticking it again does not bring them back: the participants are asked again.
    story.anonymised = True
    stories.story_save(story=story, by=manager)
    assert _reloaded(story).mentee_consent_at is None


def test_saving_the_same_text_keeps_the_consents(pair, manager) -> None:
    story = _reloaded(_consented(pair, body="First paragraph.\n\nSecond paragraph."))
    # What a browser sends back for an unchanged textarea: CRLF line breaks.
    story.body = "First paragraph.\r\n\r\nSecond paragraph.\r\n"

    stories.story_save(story=story, by=manager)

    story = _reloaded(story)
    assert story.publishable
    assert story.body == "First paragraph.\n\nSecond paragraph."


def test_a_stale_form_never_brings_back_a_withdrawn_consent(pair, manager) -> None:
    # The manager opens the story; meanwhile the executive withdraws; the manager saves.
    in_the_form = _reloaded(_consented(pair))
    stories.story_consent(story=_reloaded(in_the_form), by=pair.mentee, consent=False)

    stories.story_save(story=in_the_form, by=manager)

    story = _reloaded(in_the_form)
    assert story.mentee_consent_at is None
    assert story.reverse_mentor_consent_at == MONDAY


def test_it_refuses_a_story_about_a_proposed_pair(programme, manager) -> None:
    proposed = agreed_pair(programme=programme, status=Pair.Status.PROPOSED)

    with pytest.raises(ValidationError, match="only proposed") as caught:
        stories.story_save(story=SuccessStory(pair=proposed, title=TITLE, body=BODY), by=manager)

    assert "pair" in caught.value.message_dict
    assert not SuccessStory.objects.exists()


def test_it_refuses_a_story_without_a_title(pair, manager) -> None:
    with pytest.raises(ValidationError) as caught:
        stories.story_save(story=SuccessStory(pair=pair, title="   ", body=BODY), by=manager)

    assert "title" in caught.value.message_dict
    assert not SuccessStory.objects.exists()


# --- What sponsors get ---------------------------------------------------------------------


def test_sponsors_get_only_the_programmes_publishable_stories_newest_first(pair, programme) -> None:
    older = _consented(pair, title="Older")
    newer = _consented(agreed_pair(programme=programme), title="Newer")
    SuccessStory.objects.filter(pk=older.pk).update(created_at=MONDAY)
    SuccessStory.objects.filter(pk=newer.pk).update(created_at=MONDAY + timedelta(days=1))
    _story(pair, title="Waiting for consent", mentee_consent_at=MONDAY)
    _consented(pair, title="Not anonymised", anonymised=False)
    _consented(agreed_pair(programme=ProgrammeFactory()), title="Another programme")

    titles = [row["title"] for row in stories.stories_for_sponsors(programme=programme)]

    assert titles == ["Newer", "Older"]


def test_what_sponsors_get_carries_no_names_and_no_way_to_the_pair(pair, programme) -> None:
    _consented(pair)

    rows = list(stories.stories_for_sponsors(programme=programme))

    assert [set(row) for row in rows] == [{"title", "body"}]
    text = repr(rows)
    for person in (pair.mentee.person, pair.reverse_mentor.person):
        assert person.full_name not in text
        assert person.email not in text
        for part in person.full_name.split():
            assert part not in text


# --- Asking for consent by e-mail ------------------------------------------------------------


def _send_pending() -> None:
    for row in Notification.objects.filter(kind="story_consent", status="pending"):
        send_notification.delay(row.pk)


def test_saving_an_anonymised_story_asks_both_by_email_once(
    pair, manager, django_capture_on_commit_callbacks
) -> None:
    story = SuccessStory(pair=pair, title=TITLE, body=BODY, anonymised=True)

    with django_capture_on_commit_callbacks(execute=True):
        stories.story_save(story=story, by=manager)
    with django_capture_on_commit_callbacks(execute=True):
        stories.story_save(story=_reloaded(story), by=manager)  # saved again unchanged

    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [pair.mentee.person.email, pair.reverse_mentor.person.email]
    )
    for message in mail.outbox:
        assert f"“{TITLE}”" in message.body
        assert f"#story-{story.pk}\n" in message.body
        assert BODY not in message.body  # the story is read on the pair page, not in mail


def test_a_draft_asks_nobody_until_it_is_marked_anonymised(
    pair, manager, django_capture_on_commit_callbacks
) -> None:
    story = SuccessStory(pair=pair, title=TITLE, body=BODY, anonymised=False)
    with django_capture_on_commit_callbacks(execute=True):
        stories.story_save(story=story, by=manager)
    assert mail.outbox == []

    story.anonymised = True
    with django_capture_on_commit_callbacks(execute=True):
        stories.story_save(story=story, by=manager)
    assert len(mail.outbox) == 2


def test_a_changed_text_asks_again_and_the_old_question_is_never_sent(pair, manager) -> None:
    story = SuccessStory(pair=pair, title=TITLE, body=BODY, anonymised=True)
    stories.story_save(story=story, by=manager)
    story.body = BODY + " Complaints fell within a month."
    stories.story_save(story=story, by=manager)

    _send_pending()

    statuses = sorted(
        Notification.objects.filter(kind="story_consent").values_list("status", flat=True)
    )
    assert statuses == ["cancelled", "cancelled", "sent", "sent"]
    assert len(mail.outbox) == 2


def test_someone_who_agreed_before_the_mail_went_is_not_asked(pair, manager) -> None:
    story = stories.story_save(
        story=SuccessStory(pair=pair, title=TITLE, body=BODY, anonymised=True), by=manager
    )
    stories.story_consent(story=_reloaded(story), by=pair.mentee, consent=True)

    _send_pending()

    assert [m.to[0] for m in mail.outbox] == [pair.reverse_mentor.person.email]


def test_a_participant_who_has_withdrawn_is_not_asked(
    pair, manager, django_capture_on_commit_callbacks
) -> None:
    Participant.objects.filter(pk=pair.mentee_id).update(status=Participant.Status.WITHDRAWN)

    with django_capture_on_commit_callbacks(execute=True):
        stories.story_save(
            story=SuccessStory(pair=pair, title=TITLE, body=BODY, anonymised=True), by=manager
        )

    assert [m.to[0] for m in mail.outbox] == [pair.reverse_mentor.person.email]
