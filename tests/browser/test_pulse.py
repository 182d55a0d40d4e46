from pathlib import Path
from urllib.parse import urlsplit

from django.core import mail
from playwright.sync_api import Page, expect

from pairs.models import Meeting
from surveys import tasks
from surveys.models import Pulse
from tests.surveys.pulse_helpers import past_session, running_pair


def _link(body: str, marker: str) -> str:
    line = next(line.strip() for line in body.splitlines() if marker in line)
    parts = urlsplit(line)
    return f"{parts.path}?{parts.query}"


def test_a_participant_answers_from_the_email_on_a_phone(
    page: Page, live_server, programme, screenshot_dir: Path
) -> None:
    pair = running_pair(programme=programme)
    session = past_session(pair, hours_ago=3)
    tasks.request_due_pulses()
    email = next(m for m in mail.outbox if m.to == [pair.mentee.person.email])
    page.set_viewport_size({"width": 390, "height": 844})

    # One tap on "Yes, we met" in the e-mail: the pulse opens with "Yes" already chosen.
    page.goto(live_server.url + _link(email.body, "held=yes"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session with Ravi Patel")
    expect(page.get_by_label("Yes", exact=True).first).to_be_checked()
    page.get_by_label("One thing you learned").fill("Graduates send drafts before they are done")
    page.get_by_label("One action you commit to").fill("Share a rough draft with my team")
    page.locator("#q-good_fit").get_by_text("Yes", exact=True).click()
    page.screenshot(path=screenshot_dir / "pulse-phone.png", full_page=True)
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, your answers are saved")
    expect(page.get_by_text("What you wrote is private to you.")).to_be_visible()
    page.screenshot(path=screenshot_dir / "pulse-thanks-phone.png", full_page=True)
    pulse = Pulse.objects.get()
    assert (pulse.learning, pulse.action, pulse.good_fit) == (
        "Graduates send drafts before they are done",
        "Share a rough draft with my team",
        True,
    )
    session.refresh_from_db()
    assert session.status == Meeting.Status.HELD


def test_saying_no_reveals_what_happened_and_logs_a_missed_session(
    page: Page, live_server, programme, screenshot_dir: Path
) -> None:
    pair = running_pair(programme=programme)
    session = past_session(pair, hours_ago=3)
    tasks.request_due_pulses()
    email = next(m for m in mail.outbox if m.to == [pair.reverse_mentor.person.email])
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(live_server.url + _link(email.body, "held=no"))
    expect(page.get_by_label("One thing you learned")).to_be_hidden()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("#error-summary")).to_contain_text("Say what happened to the session.")
    page.get_by_text("It did not happen").click()
    page.screenshot(path=screenshot_dir / "pulse-not-held-phone.png", full_page=True)
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_text("The session is logged as missed.")).to_be_visible()
    session.refresh_from_db()
    assert session.status == Meeting.Status.MISSED
