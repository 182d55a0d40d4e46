"""The sponsors' monthly e-mail says what their status page says: the month's headline figures
against their targets (from the page's own selector, reporting.sponsor), the managers' ask,
and a link to the page; a figure from too few people reads "fewer than N responses" as it
does on the page. Never a name or anything a participant wrote. Nothing is sent to someone
who no longer sponsors the programme, or for a programme no longer running; the scan run
twice sends one e-mail per sponsor and month."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from notifications.models import Notification
from notifications.sending import notification_send
from programmes.models import Programme
from reporting import digests as reporting_digests
from reporting import sponsor as sponsor_page
from reporting.digests import sponsor_statuses_due
from reporting.kpis import kpis_compute
from reporting.models import KpiSnapshot, SponsorAsk
from tests.factories import ProgrammeFactory, UserFactory
from tests.reporting.kpi_helpers import (
    SECRETS,
    cohort_in,
    nps,
    pair_in,
    pulse,
    session,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MAY = date(2026, 5, 1)
JUNE_FIRST = datetime(2026, 6, 1, 8, 0, tzinfo=LONDON)  # a Monday: the status is due
ASK = "Please mention the programme at the June town hall."


@pytest.fixture(autouse=True)
def london(settings, organisation) -> None:
    settings.TIME_ZONE = "Europe/London"
    organisation.min_group_size = 5
    organisation.save()


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def send_due(django_capture_on_commit_callbacks, moment: datetime = JUNE_FIRST) -> int:
    with at(moment), django_capture_on_commit_callbacks(execute=True):
        return sponsor_statuses_due()


def mail_to(user) -> mail.EmailMessage:
    [message] = [m for m in mail.outbox if m.to == [user.email]]
    return message


def programme_with_pairs(programme: Programme, pairs: int) -> Programme:
    """``pairs`` active pairs of one cohort, each with a session held in May and both sides'
    pulses (with free text), and NPS answers at the end of May; the KPIs computed."""
    programme.time_zone = "Europe/London"
    programme.save()
    cohort = cohort_in(programme, date(2026, 4, 1), date(2026, 7, 31))
    for n in range(pairs):
        pair = pair_in(cohort, started_on=date(2026, 4, 6))
        held = session(pair, datetime(2026, 5, 5 + n, 10, tzinfo=LONDON))
        pulse(held, pair.mentee, learning=SECRETS[0], action=SECRETS[1])
        pulse(held, pair.reverse_mentor, learning=SECRETS[0])
        nps(pair.mentee, 9, datetime(2026, 5, 28, 12, tzinfo=LONDON))
    kpis_compute(programme=programme, now=JUNE_FIRST - timedelta(hours=6))
    return programme


# --- What it says -------------------------------------------------------------------------------


@dataclass
class FakeFigure:
    label: str
    text: str
    target_text: str
    mark_label: str
    suppressed: bool = False


@dataclass
class FakeStatus:
    headline: list[FakeFigure]
    ask: str
    min_group: int
    has_figures: bool = True


def test_it_lists_each_headline_figure_with_its_mark_and_target_then_the_ask_and_the_link(
    programme, sponsor, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    asked = []

    def fake_status(*, programme: Programme, month: date) -> FakeStatus:
        asked.append((programme, month))
        return FakeStatus(
            headline=[
                FakeFigure("Session frequency", "1.8", "target 2 a month", "Watch"),
                FakeFigure("Pulse response rate", "74%", "target 70%", "On track"),
                FakeFigure("Programme NPS", "fewer than 7 responses", "target 30", "", True),
                FakeFigure("Confidence change", "no data", "", ""),
            ],
            ask=ASK,
            min_group=7,
        )

    monkeypatch.setattr(sponsor_page, "sponsor_status", fake_status)
    send_due(django_capture_on_commit_callbacks)

    assert asked == [(programme, MAY)]
    message = mail_to(sponsor)
    assert message.subject == "Inclusive Leadership: status for May 2026"
    assert (
        "Here is how Inclusive Leadership went in May 2026.\n\n"
        "- Session frequency: 1.8 (Watch, target 2 a month)\n"
        "- Pulse response rate: 74% (On track, target 70%)\n"
        "- Programme NPS: fewer than 7 responses (target 30)\n"
        "- Confidence change: no data\n\n"
        f"What we need from you:\n{ASK}\n\n"
    ) in message.body
    assert "fewer than 7 people is not shown" in message.body
    link = "http://testserver" + sponsor_page.sponsor_status_path(programme, MAY)
    assert message.body.rstrip().endswith(link)


def test_the_figures_the_ask_and_the_link_are_the_pages_own(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    programme_with_pairs(programme, 3)
    SponsorAsk.objects.create(programme=programme, month=MAY, text=ASK)

    send_due(django_capture_on_commit_callbacks)

    body = mail_to(sponsor).body
    status = sponsor_page.sponsor_status(programme=programme, month=MAY)
    assert status.headline
    for figure in status.headline:
        assert f"- {figure.label}: {figure.text}" in body
        assert (figure.mark_label or "") in body
        assert figure.target_text in body
    assert f"What we need from you:\n{ASK}" in body
    assert f"http://testserver{sponsor_page.sponsor_status_path(programme, MAY)}" in body


def test_a_figure_from_too_few_people_says_fewer_than_n_responses(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    programme_with_pairs(programme, 2)  # 4 people in May, fewer than 5

    send_due(django_capture_on_commit_callbacks)

    body = mail_to(sponsor).body
    status = sponsor_page.sponsor_status(programme=programme, month=MAY)
    suppressed = [figure for figure in status.headline if figure.suppressed]
    assert suppressed
    for figure in suppressed:
        assert f"- {figure.label}: fewer than 5 responses" in body
    assert "fewer than 5 people is not shown" in body


def test_a_programme_asking_for_bigger_groups_suppresses_more(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    programme.min_group_size = 8
    programme_with_pairs(programme, 3)  # 6 people: enough for 5, not for 8

    send_due(django_capture_on_commit_callbacks)

    assert "fewer than 8 responses" in mail_to(sponsor).body


def test_the_organisation_s_minimum_holds_for_a_programme_asking_for_less(
    programme, sponsor, organisation, django_capture_on_commit_callbacks
) -> None:
    organisation.min_group_size = 8
    organisation.save()
    programme.min_group_size = 5
    programme.save()
    programme_with_pairs(programme, 3)  # 6 people: enough for 5, not for 8

    send_due(django_capture_on_commit_callbacks)

    body = mail_to(sponsor).body
    assert "fewer than 8 responses" in body
    assert "fewer than 5 responses" not in body


def test_a_month_without_figures_yet_says_so_and_links_to_the_latest_month(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    programme_with_pairs(programme, 3)
    KpiSnapshot.objects.filter(month=MAY).delete()  # as if May's were not computed yet

    send_due(django_capture_on_commit_callbacks)

    body = mail_to(sponsor).body
    assert "Its figures are not ready yet" in body
    assert "no data" not in body
    assert f"http://testserver/sponsor/{programme.slug}/\n" in body


def test_without_an_ask_there_is_no_ask_section(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    programme_with_pairs(programme, 3)
    # An ask for another month is not this month's.
    SponsorAsk.objects.create(programme=programme, month=date(2026, 4, 1), text=ASK)

    send_due(django_capture_on_commit_callbacks)

    body = mail_to(sponsor).body
    assert "What we need from you" not in body
    assert ASK not in body


def test_it_never_names_anyone_or_shows_what_they_wrote(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    programme_with_pairs(programme, 3)

    send_due(django_capture_on_commit_callbacks)

    message = mail_to(sponsor)
    text = message.subject + message.body
    for secret in SECRETS:
        assert secret not in text
    for pair in programme.cohorts.get().pairs.select_related(
        "mentee__person", "reverse_mentor__person"
    ):
        for person in (pair.mentee.person, pair.reverse_mentor.person):
            assert person.full_name not in text
            assert person.email not in text


# --- Who gets it, and how often ------------------------------------------------------------------


def test_only_running_programmes_sponsors_get_it(
    programme, sponsor, outsider, django_capture_on_commit_callbacks
) -> None:
    closed = ProgrammeFactory(name="Closed", status=Programme.Status.CLOSED)
    closed.sponsors.add(UserFactory(username="finn"))
    draft = ProgrammeFactory(name="Draft", status=Programme.Status.DRAFT)
    draft.sponsors.add(UserFactory(username="gail"))

    assert send_due(django_capture_on_commit_callbacks) == 1

    assert [m.to for m in mail.outbox] == [[sponsor.email]]


def test_nothing_is_sent_once_the_programme_closes_or_the_sponsor_steps_down(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    other = UserFactory(username="gail")
    programme.sponsors.add(other)
    with at(JUNE_FIRST):
        assert sponsor_statuses_due() == 2
    programme.sponsors.remove(other)

    for row in Notification.objects.filter(kind="sponsor_status").order_by("pk"):
        assert notification_send(row.pk) in ("sent", "cancelled")

    assert [m.to for m in mail.outbox] == [[sponsor.email]]
    assert Notification.objects.get(user=other).status == Notification.Status.CANCELLED

    Programme.objects.filter(pk=programme.pk).update(status=Programme.Status.CLOSED)
    reporting_digests.ask_sponsor_status(sponsor, programme, date(2026, 7, 1), date(2026, 6, 1))
    row = Notification.objects.get(
        key=reporting_digests.sponsor_status_key(sponsor, programme, date(2026, 7, 1))
    )
    assert notification_send(row.pk) == "cancelled"
    assert len(mail.outbox) == 1


def test_the_scan_run_twice_sends_one_email_per_sponsor_and_month(
    programme, sponsor, django_capture_on_commit_callbacks
) -> None:
    programme.sponsors.add(UserFactory(username="gail"))

    assert send_due(django_capture_on_commit_callbacks) == 2
    assert send_due(django_capture_on_commit_callbacks, JUNE_FIRST + timedelta(hours=2)) == 0
    assert send_due(django_capture_on_commit_callbacks, JUNE_FIRST + timedelta(days=3)) == 0

    assert sorted(m.to[0] for m in mail.outbox) == sorted([sponsor.email, "gail@example.org"])
    # Next month is a new one.
    july = datetime(2026, 7, 1, 8, 0, tzinfo=LONDON)
    assert send_due(django_capture_on_commit_callbacks, july) == 2
    assert len(mail.outbox) == 4
