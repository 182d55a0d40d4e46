import re
from pathlib import Path

from django.core import mail
from django.urls import reverse
from playwright.sync_api import Page, expect

from programmes.links import Purpose, make_token
from programmes.models import Cohort, Intake, Role
from surveys.models import ConfidenceRating
from tests.factories import (
    CohortFactory,
    KeySkillFactory,
    ParticipantFactory,
    PersonFactory,
    TopicFactory,
)


def test_a_reverse_mentor_fills_the_intake_on_a_phone_with_the_keyboard_for_the_grid(
    page: Page, live_server, programme, screenshot_dir: Path
) -> None:
    cohort = CohortFactory(programme=programme, name="Spring", status=Cohort.Status.INTAKE)
    for title in ("Digital habits", "Our culture", "What customers see", "Hybrid work"):
        TopicFactory(programme=programme, title=title, description=f"About {title.lower()}.")
    feedback = KeySkillFactory(programme=programme, name="Giving feedback")
    ai_tools = KeySkillFactory(programme=programme, name="Using AI tools")
    mentor = ParticipantFactory(
        cohort=cohort,
        role=Role.REVERSE_MENTOR,
        person=PersonFactory(full_name="Eli Okafor", time_zone="Europe/Paris"),
    )
    token = make_token(participant_id=mentor.pk, purpose=Purpose.INTAKE)
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(live_server.url + reverse("programmes:intake", args=[token]))

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your intake for Inclusive Leadership"
    )
    learning = page.get_by_role("group", name="What would you like to get out of it?")
    learning.get_by_label("1st choice").select_option(label="Our culture")
    learning.get_by_label("2nd choice").select_option(label="Digital habits")
    page.get_by_label("Anything else you would like to get out of it").fill(
        "See how the leadership team decides where budgets go."
    )
    share = page.get_by_role("group", name=re.compile("What could you share with your executive"))
    share.get_by_label("What customers see").check()
    share.get_by_label("Hybrid work").check()
    page.get_by_label("Conversational: I think out loud").check()
    # The draft is kept as they go, a second after the last change: a reload brings back
    # what was typed.
    with page.expect_response(
        lambda response: (
            response.url.endswith("/draft/") and "supportive" in (response.request.post_data or "")
        )
    ) as autosave:
        page.get_by_label("Gentle and encouraging").check()
    assert autosave.value.ok
    status = page.locator("#draft-status")
    expect(status).to_have_text(re.compile(r"^Saved at \d"))
    page.reload()
    expect(page.get_by_label("Gentle and encouraging")).to_be_checked()
    expect(share.get_by_label("Hybrid work")).to_be_checked()
    expect(status).to_contain_text("We restored what you typed")

    # The grid by keyboard alone: Tab from the last question into the grid, arrows to move,
    # Space to tick, Tab to the next day.
    expect(page.get_by_text("Europe/Paris", exact=True)).to_be_visible()
    page.get_by_label("Gentle and encouraging").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Monday 07:00–08:00")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Monday 09:00–10:00")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Tuesday 09:00–10:00")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Tuesday 10:00–11:00")).to_be_focused()
    page.keyboard.press("Space")
    for slot in ("Monday 09:00–10:00", "Tuesday 09:00–10:00", "Tuesday 10:00–11:00"):
        expect(page.get_by_label(slot)).to_be_checked()
    expect(page.get_by_label("Monday 10:00–11:00")).not_to_be_checked()

    page.get_by_label("Every two weeks").check()
    page.get_by_label("Video call").check()
    page.get_by_label("Your first goal").fill("Learn how budgets are decided")
    page.get_by_label("A second goal").fill("Be heard in leadership meetings")
    page.get_by_role("group", name=re.compile("Topics you would rather not discuss")).get_by_label(
        "Digital habits"
    ).check()
    # The form says who reads the note before it is written.
    expect(page.get_by_text("Only the programme manager sees this")).to_be_visible()
    page.get_by_label("Anything the programme team should know before matching you").fill(
        "My health, please."
    )
    page.get_by_role("group", name="Giving feedback").get_by_text("2", exact=True).click()
    page.get_by_role("group", name="Using AI tools").get_by_text("5", exact=True).click()
    page.get_by_label("I will keep what my partner tells me confidential").check()
    page.get_by_label("I agree that the programme team stores and uses my answers").check()
    page.screenshot(path=screenshot_dir / "intake.png", full_page=True)

    # "Digital habits" is wanted and off-limits: the page says so and keeps everything.
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be off-limits too")
    expect(page.get_by_label("Your first goal")).to_have_value("Learn how budgets are decided")
    expect(page.get_by_label("Tuesday 10:00–11:00")).to_be_checked()
    page.screenshot(path=screenshot_dir / "intake-error.png")
    # The summary links to the question.
    page.get_by_role("alert").get_by_role("link", name=re.compile("Topics you would")).click()
    off_limits = page.get_by_role("group", name=re.compile("Topics you would rather not discuss"))
    expect(off_limits.get_by_label("Digital habits")).to_be_focused()
    off_limits.get_by_label("Digital habits").uncheck()

    page.get_by_role("button", name="Submit my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, your answers are in")
    expect(page.get_by_text("You can change your answers until matching starts")).to_be_visible()
    page.screenshot(path=screenshot_dir / "intake-done.png", full_page=True)

    intake = Intake.objects.get(participant=mentor)
    assert intake.submitted_at is not None
    assert intake.availability == [9, 33, 34]
    assert [o.topic.title for o in intake.ranked_objectives.select_related("topic")] == [
        "Our culture",
        "Digital habits",
    ]
    assert sorted(intake.can_share.values_list("title", flat=True)) == [
        "Hybrid work",
        "What customers see",
    ]
    assert not intake.off_limits.exists()
    assert dict(
        ConfidenceRating.objects.filter(participant=mentor).values_list("key_skill", "value")
    ) == {feedback.pk: 2, ai_tools.pk: 5}
    assert len(mail.outbox) == 1
