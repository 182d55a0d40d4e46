from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from pairs.models import Meeting
from programmes.models import Role
from tests.factories import TopicFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for, pair_token


def test_a_reverse_mentor_books_a_session_downloads_it_and_logs_the_last_one(
    page: Page, live_server, programme, screenshot_dir: Path
) -> None:
    pair = agreed_pair(
        programme=programme, mentee_zone="America/New_York", mentor_zone="Europe/London"
    )
    TopicFactory(programme=programme, title="Digital habits")
    TopicFactory(programme=programme, title="Our culture")
    last_week = meeting_for(
        pair, starts_at=(timezone.now() - timedelta(days=7)).replace(second=0, microsecond=0)
    )
    token = pair_token(pair.reverse_mentor)
    day = timezone.localdate(timezone=ZoneInfo("Europe/London")) + timedelta(days=7)

    page.goto(live_server.url + reverse("pairs:pair", args=[token]))
    page.get_by_role("link", name="Schedule a session").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Schedule a session with Margaret Hale"
    )
    expect(page.locator("#id_time_helptext")).to_have_text("In your time zone, Europe/London.")
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill("09:30")
    page.get_by_label("Length in minutes").fill("50")
    page.get_by_label("Topic from the road map").select_option(label="Digital habits")
    page.get_by_role("button", name="Schedule and send the invitation").click()

    expect(page.get_by_role("alert").filter(has_text="Session booked")).to_contain_text(
        "09:30 (Europe/London). Margaret Hale has been sent the invitation."
    )
    booked = Meeting.objects.exclude(pk=last_week.pk).get()
    assert (booked.duration_minutes, booked.topic.title) == (50, "Digital habits")
    [email] = mail.outbox
    assert email.to == [pair.mentee.person.email]
    assert "(America/New_York)" in email.subject

    page.goto(live_server.url + reverse("pairs:meeting_edit", args=[token, booked.pk]))
    expect(page.locator("#session-when")).to_contain_text("09:30")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the calendar invitation (.ics)").click()
    download = download_info.value
    assert download.suggested_filename == f"session-{day.isoformat()}.ics"
    calendar = icalendar.Calendar.from_ical(Path(download.path()).read_bytes())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == booked.starts_at
    assert event["SUMMARY"] == "Reverse mentoring: Margaret Hale"
    page.screenshot(path=str(screenshot_dir / "meeting.png"), full_page=True)

    page.goto(live_server.url + reverse("pairs:meeting_edit", args=[token, last_week.pk]))
    mark = page.locator("#mark")
    mark.get_by_label("We held it").check()
    mark.get_by_role("group", name="Who led it?").get_by_label(
        "Ravi Patel (reverse-mentor)"
    ).check()
    mark.get_by_label("Topic from the road map").select_option(label="Our culture")
    mark.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert").filter(has_text="Session marked")).to_have_text(
        "Session marked as held. Margaret Hale has been told."
    )
    last_week.refresh_from_db()
    assert (last_week.status, last_week.led_by, last_week.topic.title) == (
        Meeting.Status.HELD,
        Role.REVERSE_MENTOR,
        "Our culture",
    )
