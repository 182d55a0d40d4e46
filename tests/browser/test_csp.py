"""Under the Content-Security-Policy, the main pages of every kind of user (participants,
sponsors, managers in the admin) load in real Chromium without a single violation or console
error: nothing the site or Django's admin draws needs an inline script or style."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page

from demo.organisation import MANAGER, PROGRAMME_SLUG, SPONSOR
from matching.models import MatchingRun
from pairs.models import Meeting, Pair
from programmes.links import Purpose, make_token
from programmes.models import Participant, Programme
from risks.models import RiskFlag

COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def demo(settings) -> Programme:
    settings.DEBUG = True  # the demo refuses to load otherwise
    call_command("demo")
    settings.DEBUG = False
    return Programme.objects.get(slug=PROGRAMME_SLUG)


@pytest.fixture
def watched(page: Page) -> tuple[Page, list[str]]:
    """The page, and every CSP violation and console error it reports."""
    problems: list[str] = []
    page.add_init_script(COLLECT)
    # The browser asks for /favicon.ico by itself; the site has none, which is not a fault.
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "/favicon.ico" not in message.location.get("url", "")
            and problems.append(f"console: {message.text} {message.location}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and problems.append(f"{response.status}: {response.url}")
        ),
    )
    return page, problems


def visit(page: Page, problems: list[str], url: str) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.ok, (url, response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    problems.extend(f"{url}: {v}" for v in page.evaluate("window.__violations"))


def sign_in(page: Page, problems: list[str], base: str, user: tuple[str, str, str]) -> None:
    visit(page, problems, f"{base}{reverse('login')}")
    page.get_by_label("Username").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def test_the_participants_pages_load_without_a_violation(live_server, demo, watched) -> None:
    page, problems = watched
    pair = Pair.objects.filter(status=Pair.Status.ACTIVE).select_related("mentee").first()
    meeting = Meeting.objects.filter(pair=pair).order_by("starts_at").first()
    participant = Participant.objects.order_by("pk").first()
    urls = [
        reverse("home"),
        reverse("surveys:resend_link"),
        reverse("password_reset"),
        reverse(
            "programmes:intake",
            args=[make_token(participant_id=participant.pk, purpose=Purpose.INTAKE)],
        ),
        reverse(
            "pairs:pair",
            args=[make_token(participant_id=pair.mentee.pk, purpose=Purpose.PAIR)],
        ),
        reverse(
            "surveys:pulse",
            args=[
                make_token(participant_id=pair.mentee.pk, purpose=Purpose.PULSE, scope=meeting.pk)
            ],
        ),
    ]

    for url in urls:
        visit(page, problems, live_server.url + url)

    assert problems == []


def test_the_sponsors_pages_load_without_a_violation(live_server, demo, watched) -> None:
    page, problems = watched

    sign_in(page, problems, live_server.url, SPONSOR)
    for url in (
        reverse("reporting:sponsor_index"),
        reverse("reporting:sponsor_programme", args=[demo.slug]),
    ):
        visit(page, problems, live_server.url + url)

    assert problems == []


def test_the_admin_pages_load_without_a_violation(live_server, demo, watched) -> None:
    page, problems = watched
    run = MatchingRun.objects.order_by("-pk").first()
    flag = RiskFlag.objects.order_by("pk").first()
    cohort = flag.pair.cohort
    urls = [
        reverse("admin:index"),
        reverse("admin:programmes_programme_changelist"),
        reverse("admin:programmes_programme_change", args=[demo.pk]),
        reverse("admin:programmes_programme_kpis", args=[demo.pk]),
        reverse("admin:matching_matchingrun_changelist"),
        reverse("admin:matching_matchingrun_start"),
        reverse("admin:matching_matchingrun_review", args=[run.pk]),
        reverse("admin:risks_riskflag_changelist"),
        reverse("admin:risks_riskflag_change", args=[flag.pk]),
        reverse("admin:programmes_cohort_diagnosis", args=[cohort.pk]),
        reverse("admin:programmes_participant_changelist"),
        reverse("admin:notifications_messagetemplate_changelist"),
    ]

    visit(page, problems, live_server.url + reverse("admin:login"))
    sign_in(page, problems, live_server.url, MANAGER)
    for url in urls:
        visit(page, problems, live_server.url + url)

    assert problems == []
