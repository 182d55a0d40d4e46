from pathlib import Path

from django.urls import reverse
from playwright.sync_api import Page, expect

from pairs.models import Agreement, Guide
from programmes.links import Purpose, make_token
from tests.pairs.pair_setup import make_pair


def test_a_pair_agrees_writes_a_note_and_shares_it_on_their_phones(
    page: Page, live_server, programme, screenshot_dir: Path
) -> None:
    setup = make_pair(programme)
    Guide.objects.create(
        kind=Guide.Kind.FIRST_MEETING,
        programme=programme,
        title="Your first session",
        body="Spend it getting to know each other.\n\n- Why you joined\n- One goal each",
    )
    mentor_url = live_server.url + reverse(
        "pairs:pair", args=[make_token(participant_id=setup.mentor.pk, purpose=Purpose.PAIR)]
    )
    mentee_url = live_server.url + reverse(
        "pairs:pair", args=[make_token(participant_id=setup.mentee.pk, purpose=Purpose.PAIR)]
    )
    page.set_viewport_size({"width": 390, "height": 844})

    # The reverse-mentor opens their page and accepts the starting agreement.
    page.goto(mentor_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("You and Morgan Hale")
    expect(page.locator("#next-step")).to_have_text("Agree how you'll work together.")
    page.get_by_role("button", name="Accept this agreement").click()
    expect(page.get_by_role("alert")).to_have_text("You accepted the agreement.")
    expect(page.get_by_text("Waiting for Morgan Hale")).to_be_visible()

    # The executive accepts it from their own link: it is agreed.
    page.goto(mentee_url)
    page.get_by_role("button", name="Accept this agreement").click()
    expect(page.get_by_text("Agreed by you both (version 1).")).to_be_visible()
    expect(page.locator("#next-step")).to_have_text("Eli Okafor books your next session.")
    assert Agreement.objects.get().agreed

    # The reverse-mentor writes a private note: the executive cannot see it yet.
    page.goto(mentor_url)
    page.get_by_label("Your note").fill("Morgan lights up when we talk about customers")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("alert")).to_have_text("Your note is saved. Only you can see it.")
    note = page.locator(".note", has_text="Morgan lights up")
    expect(note.get_by_text("Private")).to_be_visible()

    page.goto(mentee_url)
    expect(page.locator("#notes")).not_to_contain_text("Morgan lights up")

    # Shared, it appears on the executive's page.
    page.goto(mentor_url)
    page.locator(".note", has_text="Morgan lights up").get_by_role(
        "button", name="Share with Morgan Hale"
    ).click()
    expect(page.get_by_role("alert")).to_have_text("Morgan Hale can now see this note.")
    expect(page.locator(".note", has_text="Morgan lights up").get_by_text("Shared")).to_be_visible()

    page.goto(mentee_url)
    shared = page.locator(".note", has_text="Morgan lights up when we talk about customers")
    expect(shared).to_contain_text("shared with you")
    page.screenshot(path=str(screenshot_dir / "pair-page.png"), full_page=True)
