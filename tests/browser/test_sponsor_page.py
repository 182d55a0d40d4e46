"""The demo sponsor signs in, reads the month's status in the time it takes, switches months,
and can print it on two A4 pages."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from demo.organisation import PROGRAMME_SLUG, SPONSOR
from programmes.models import Programme
from reporting import sponsor as selector


@pytest.fixture
def demo(settings) -> Programme:
    settings.DEBUG = True  # the demo refuses to load otherwise
    call_command("demo")
    settings.DEBUG = False
    return Programme.objects.get(slug=PROGRAMME_SLUG)


def test_the_demo_sponsor_reads_the_status_and_switches_months(
    page: Page, live_server, demo: Programme, screenshot_dir: Path
) -> None:
    months = selector.sponsor_months(demo)
    latest, previous = months[-1], months[-2]
    username, password, name = SPONSOR

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/sponsor/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/sponsor/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your programmes")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text(name)
    page.get_by_role("link", name=f"Read the {latest:%B %Y} status").click()

    # The two-minute read: the ask first, then the marks.
    expect(page.get_by_role("heading", level=1)).to_have_text(demo.name)
    expect(page.locator("#status-month")).to_have_text(f"{latest:%B %Y}")
    ask = page.get_by_role("region", name="What we need from you")
    expect(ask).to_contain_text("Wave 3")
    glance = page.get_by_role("region", name="At a glance")
    expect(glance.locator("#glance-summary")).to_contain_text("on track")
    expect(glance.get_by_role("article")).to_have_count(len(selector.HEADLINE))
    expect(glance.get_by_role("heading", name="Session frequency")).to_be_visible()
    expect(page.get_by_role("region", name="Pairs and what is being done")).to_contain_text(
        "Active"
    )
    expect(page.get_by_role("region", name="Topic coverage against the road map")).to_contain_text(
        "Not covered yet"
    )
    # Each chart is an image with a name, and its figures are a table away.
    chart = page.get_by_role("img", name="Programme NPS, month by month")
    expect(chart).to_be_visible()
    page.get_by_text("Programme NPS: the figures as a table").click()
    table = page.get_by_role("table", name=re.compile(r"^Programme NPS by month"))
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(len(months) + 1)
    page.screenshot(path=screenshot_dir / "sponsor-status.png", full_page=True)

    # Printed, it is two A4 pages.
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 2
    page.emulate_media(media="screen")

    # The month before, by its link; then back through the selector.
    page.get_by_role("link", name=f"{previous:%B %Y}").first.click()
    expect(page.locator("#status-month")).to_have_text(f"{previous:%B %Y}")
    expect(page).to_have_url(re.compile(rf"/sponsor/{demo.slug}/{previous:%Y-%m}/$"))
    expect(page.get_by_role("region", name="What we need from you")).to_contain_text(
        "leadership meeting"
    )
    page.get_by_label("Month", exact=True).select_option(f"{months[0]:%Y-%m}")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#status-month")).to_have_text(f"{months[0]:%B %Y}")
    expect(page.get_by_role("region", name="What we need from you")).to_have_count(0)

    # On a phone the same page reads top to bottom.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/sponsor/{demo.slug}/{previous:%Y-%m}/")
    expect(page.get_by_role("region", name="What we need from you")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=screenshot_dir / "sponsor-status-phone.png", full_page=True)
