import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.factories import UserFactory


def test_it_shows_each_kind_of_user_where_to_go_and_navigates(
    page: Page, live_server, manager, screenshot_dir: Path
) -> None:
    page.goto(live_server.url)

    expect(page).to_have_title("Reverse mentoring")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reverse mentoring")
    for audience in ("Mentees and reverse-mentors", "Sponsors", "Programme managers"):
        expect(page.get_by_role("heading", name=audience)).to_be_visible()
    # Bootstrap came from the npm package through Django's static files, not a CDN.
    css = page.evaluate("getComputedStyle(document.querySelector('.navbar')).display")
    assert css == "flex"
    page.screenshot(path=screenshot_dir / "home.png", full_page=True)

    # The first Tab reaches the skip link, which moves focus to the main landmark.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()

    # A programme manager lands straight in the admin, where their work is.
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Programmes, people and pairs")).to_be_visible()
    page.screenshot(path=screenshot_dir / "admin-index.png", full_page=True)


def test_it_tells_a_wrong_password_in_the_page_and_keeps_the_username(
    page: Page, live_server
) -> None:
    UserFactory(username="dana")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("dana")
