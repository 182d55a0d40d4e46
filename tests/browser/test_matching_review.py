import re
from pathlib import Path

from django.core import mail
from playwright.sync_api import Page, expect

from matching import tasks
from matching.models import MatchingRun
from pairs.models import Pair
from programmes.models import Cohort, IntakeObjective, Role
from tests.factories import (
    CohortFactory,
    IntakeFactory,
    ParticipantFactory,
    PersonFactory,
    TopicFactory,
)

PEOPLE = [
    # name, role, job title, department, wants, shares
    ("Grace Okafor", "mentee", "Chief Operating Officer", "Operations", ["Digital habits"], []),
    ("Henrik Larsen", "mentee", "Chief Financial Officer", "Finance", ["Our culture"], []),
    ("Mei Chen", "reverse_mentor", "Software Engineer", "Technology", [], ["Digital habits"]),
    ("Tomás Ruiz", "reverse_mentor", "Analyst", "Marketing", [], ["Our culture"]),
    ("Aisha Bello", "reverse_mentor", "Designer", "Product", [], []),
]


def test_a_manager_starts_a_run_watches_it_finish_and_approves_it(
    page: Page, live_server, programme, manager, screenshot_dir: Path, monkeypatch
) -> None:
    # Celery runs eagerly in the tests, so the run would be over before the page loads: hold
    # the task back, and be the worker once the progress bar is on screen.
    queued: list[int] = []
    monkeypatch.setattr(tasks.run_matching, "delay", queued.append)
    cohort = CohortFactory(programme=programme, name="Wave 4", status=Cohort.Status.INTAKE)
    topics = {
        title: TopicFactory(programme=programme, title=title)
        for title in ("Digital habits", "Our culture")
    }
    for name, role, title, department, wants, shares in PEOPLE:
        participant = ParticipantFactory(
            cohort=cohort,
            role=Role(role),
            person=PersonFactory(full_name=name, job_title=title, department=department),
        )
        intake = IntakeFactory(participant=participant, availability=[9, 10, 11, 33, 34, 35])
        for rank, topic in enumerate(wants, start=1):
            IntakeObjective.objects.create(intake=intake, topic=topics[topic], rank=rank)
        intake.can_share.set([topics[t] for t in shares])

    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + "/admin/matching/matchingrun/")
    page.get_by_role("link", name="Start a matching run").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a matching run")
    page.get_by_label("Cohort").select_option(label=str(cohort))
    page.get_by_role("button", name="Start the run").click()
    # The intake is still open: the next page asks before closing it.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Close the intake of {cohort}?")
    page.get_by_role("button", name="Close intake and start matching").click()

    expect(page.get_by_label("Progress of the matching run")).to_be_visible()
    expect(page.locator("#run-stage")).to_have_text("Queued: waiting for a worker.")
    run = MatchingRun.objects.get(cohort=cohort)
    assert queued == [run.pk]
    tasks.run_matching(run.pk)

    # The page polls the run's progress and shows the result by itself.
    expect(page.get_by_role("heading", name="Summary")).to_be_visible(timeout=10_000)
    expect(page.locator("#run-progress")).to_have_count(0)
    proposals = page.get_by_role("table", name="Proposed pairs, best score first")
    expect(proposals.get_by_role("row")).to_have_count(3)  # header and two pairs
    grace = proposals.get_by_role("row").filter(has_text="Grace Okafor")
    expect(grace).to_contain_text("Mei Chen")
    expect(grace).to_contain_text("Grace wants to learn about “Digital habits”")
    waiting = page.get_by_role("table", name="Waiting list")
    expect(waiting).to_contain_text("Aisha Bello")

    page.get_by_role("button", name="Approve").click()

    expect(page.locator(".messagelist .success")).to_have_text(
        "2 pairs created; introductions are being sent."
    )
    expect(page.get_by_text(re.compile("This run is approved"))).to_be_visible()
    page.screenshot(path=screenshot_dir / "matching-review.png", full_page=True)
    assert MatchingRun.objects.get(cohort=cohort).status == MatchingRun.Status.APPROVED
    assert Pair.objects.filter(cohort=cohort).count() == 2
    assert len(mail.outbox) == 4
