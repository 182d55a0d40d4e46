from pathlib import Path

from django.urls import reverse
from playwright.sync_api import Page, expect

from pairs.models import Pair
from programmes.links import Purpose, make_token
from reporting import stories
from reporting.models import SuccessStory
from tests.pairs.pair_setup import make_pair

AGREE = "I agree this story can be shown to the programme's sponsors"


def test_both_sides_of_an_ended_pair_agree_to_their_story_and_one_withdraws(
    page: Page, live_server, programme, screenshot_dir: Path
) -> None:
    setup = make_pair(programme, status=Pair.Status.ENDED)
    story = SuccessStory.objects.create(
        pair=setup.pair,
        title="Budgets, explained by a graduate",
        body="An executive learned how new joiners use AI tools.",
        anonymised=True,
    )

    def url(participant) -> str:
        token = make_token(participant_id=participant.pk, purpose=Purpose.PAIR)
        return live_server.url + reverse("pairs:pair", args=[token])

    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(url(setup.mentee))
    section = page.locator("#stories")
    expect(section.get_by_role("heading", name="Budgets, explained by a graduate")).to_be_visible()
    section.get_by_role("button", name=AGREE).click()
    expect(page.get_by_role("alert")).to_contain_text("once Eli Okafor agrees too")
    expect(page.locator("#stories")).to_contain_text("Waiting for your partner")

    page.goto(url(setup.mentor))
    expect(page.locator("#stories")).to_contain_text("Morgan Hale has agreed")
    page.locator("#stories").get_by_role("button", name=AGREE).click()
    expect(page.get_by_role("alert")).to_contain_text("You have both agreed")
    expect(page.locator("#stories")).to_contain_text("Both agreed: sponsors can see it")
    page.screenshot(path=str(screenshot_dir / "story-consent-both-agreed.png"), full_page=True)
    assert list(stories.stories_for_sponsors(programme=programme))

    page.locator("#stories").get_by_role("button", name="Withdraw my consent").click()
    expect(page.get_by_role("alert")).to_contain_text("You withdrew your consent")
    assert not stories.stories_for_sponsors(programme=programme).exists()
    story.refresh_from_db()
    assert story.mentee_consent_at is not None
    assert story.reverse_mentor_consent_at is None
