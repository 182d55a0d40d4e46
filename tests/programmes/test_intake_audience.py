"""Who reads each intake answer (``Intake.AUDIENCE``) is said before each question, and the
pages hold to it: the partner's pair page and the match introduction show the partner's
answers and no others; the note for the programme team appears on the matching review of a
run that includes its author, to that programme's managers, and on no other page."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls.resolvers import RoutePattern

from matching import services as matching
from matching.models import MatchingRun
from programmes.models import Audience, Cohort, Intake, IntakeObjective, Role
from tests.factories import (
    CohortFactory,
    IntakeFactory,
    KeySkillFactory,
    ParticipantFactory,
    PersonFactory,
    ProgrammeFactory,
    TopicFactory,
    UserFactory,
)
from tests.pairs.pair_setup import make_pair, page_url
from tests.programmes.test_intake_view import url as intake_url
from tests.reporting.test_sponsor_views import every_url

pytestmark = pytest.mark.django_db
NOTE = "ELI-NOTE-FOR-THE-PROGRAMME-TEAM"
FREE_TEXT = ("objectives_text", "goal_1", "goal_2", "goal_3", "boundaries_text")


def test_every_question_sits_under_the_note_that_says_who_reads_it(programme) -> None:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    TopicFactory(programme=programme)
    skill = KeySkillFactory(programme=programme)
    participant = ParticipantFactory(cohort=cohort, role=Role.MENTEE)
    html = Client().get(intake_url(participant)).content.decode()
    notes = [
        (match.start(), match.group(1))
        for match in re.finditer(r'class="intake-audience intake-audience-(\w+)"', html)
    ]
    first_input = {"objectives": "objective_1", "confidence": f"confidence_{skill.pk}"}

    for name, audience in Intake.AUDIENCE.items():
        position = html.index(f'name="{first_input.get(name, name)}"')
        above = [kind for start, kind in notes if start < position][-1]
        assert above == audience.value, name
        assert audience.label in html
    assert {kind for _, kind in notes} == {a.value for a in set(Intake.AUDIENCE.values())}


def _fill(intake: Intake, prefix: str, topics) -> None:
    """Distinct words in every answer, and a distinct topic for each topic list."""
    for name in FREE_TEXT:
        setattr(intake, name, f"{prefix}-{name.upper()}")
    intake.save()
    IntakeObjective.objects.filter(intake=intake).delete()
    IntakeObjective.objects.create(intake=intake, topic=topics["objectives"], rank=1)
    intake.can_share.set([topics["can_share"]])
    intake.off_limits.set([topics["off_limits"]])
    intake.avoid.set([PersonFactory(full_name=f"Avoided by {prefix}")])


def test_the_pair_page_shows_the_partner_exactly_the_answers_the_form_says_it_will(
    client: Client, programme
) -> None:
    setup = make_pair(programme)
    topics = {
        name: TopicFactory(programme=programme, title=f"Topic of {name}")
        for name in ("objectives", "can_share", "off_limits")
    }
    _fill(setup.mentor.intake, "ELI", topics)

    page = client.get(page_url(setup.mentee)).content.decode()
    partner_section = page[page.index('id="partner"') :]
    partner_section = partner_section[: partner_section.index("</section>")]

    for name in FREE_TEXT:
        shown = f"ELI-{name.upper()}" in page
        assert shown == (Intake.AUDIENCE[name] == Audience.PARTNER), name
    for name, topic in topics.items():  # every title is on the road map: look where the
        shown = topic.title in partner_section  # partner's answers are
        assert shown == (Intake.AUDIENCE[name] == Audience.PARTNER), name
    assert "Avoided by ELI" not in page
    assert Intake.AUDIENCE["avoid"] != Audience.PARTNER


def test_the_match_introduction_carries_no_intake_answer_and_points_to_the_pair_page(
    programme, django_capture_on_commit_callbacks
) -> None:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    topics = {
        name: TopicFactory(programme=programme, title=f"Topic of {name}")
        for name in ("objectives", "can_share", "off_limits")
    }
    for role, prefix in (
        (Role.MENTEE, "ADA"),
        (Role.REVERSE_MENTOR, "ELI"),
    ):
        intake = IntakeFactory(participant=ParticipantFactory(cohort=cohort, role=role))
        _fill(intake, prefix, topics)
        intake.off_limits.clear()  # nothing in the way of the pair
    run = MatchingRun.objects.create(cohort=cohort, weights=matching.policy_for(cohort).weights)
    matching.matching_run_execute(run=run)

    with django_capture_on_commit_callbacks(execute=True):
        pairs = matching.matching_run_approve(run=run)

    assert len(pairs) == 1

    assert len(mail.outbox) == 2
    for message in mail.outbox:
        for prefix in ("ADA", "ELI"):
            for name in FREE_TEXT:
                assert f"{prefix}-{name.upper()}" not in message.body
            assert f"Avoided by {prefix}" not in message.body
        assert "Your pair page has your partner's goals" in message.body


# --- the note for the programme team ---------------------------------------------------------


@pytest.fixture
def paired(programme):
    """A running pair whose mentor wrote a note, and a finished run that includes them."""
    setup = make_pair(programme)
    Intake.objects.filter(participant=setup.mentor).update(boundaries_text=NOTE)
    run = MatchingRun.objects.create(
        cohort=setup.cohort, weights=matching.policy_for(setup.cohort).weights
    )
    matching.matching_run_execute(run=run)
    return setup, run


def review(run: MatchingRun) -> str:
    return f"/admin/matching/matchingrun/{run.pk}/review/"


def test_the_review_shows_the_note_to_the_programmes_managers(client, manager, paired) -> None:
    _, run = paired
    assert run.proposals.exists() or run.waiting.exists()
    client.force_login(manager)

    page = client.get(review(run)).content.decode()

    assert page.count(NOTE) == 1
    assert "Note for the programme team" in page


def test_the_review_of_a_run_without_its_author_does_not_show_it(client, manager, paired) -> None:
    other = CohortFactory(programme=paired[0].cohort.programme, status=Cohort.Status.INTAKE)
    ParticipantFactory(cohort=other, role=Role.MENTEE)
    run = MatchingRun.objects.create(cohort=other, weights=matching.policy_for(other).weights)
    matching.matching_run_execute(run=run)
    client.force_login(manager)

    assert NOTE not in client.get(review(run)).content.decode()


def test_a_note_written_under_the_old_promise_is_not_shown(client, manager, paired) -> None:
    setup, run = paired
    Intake.objects.filter(participant=setup.mentor).update(boundaries_text_for_manager=False)
    client.force_login(manager)

    assert NOTE not in client.get(review(run)).content.decode()


def _admin_urls() -> list[str]:
    """Every admin page that takes no argument or one object id, for every object."""
    urls = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        ids = list(model._default_manager.values_list("pk", flat=True)[:50])
        for pattern in model_admin.urls:
            if not isinstance(pattern.pattern, RoutePattern):
                continue
            route = str(pattern.pattern)
            params = re.findall(r"<[^>]+>", route)
            if not params:
                urls.append(base + route)
            elif len(params) == 1:
                urls += [base + route.replace(params[0], str(pk)) for pk in ids]
    return urls


def test_no_admin_list_searches_filters_or_shows_the_boundaries() -> None:
    for model_admin in admin.site._registry.values():
        named = [
            *model_admin.search_fields,
            *(f for f in model_admin.list_filter if isinstance(f, str)),
            *(f for f in model_admin.list_display if isinstance(f, str)),
        ]
        assert not [f for f in named if "boundaries" in f or "avoid" in f], model_admin


def test_no_other_page_shows_the_note(client, programme, manager, sponsor, paired) -> None:
    setup, run = paired
    other_manager = UserFactory(username="dora", is_staff=True)
    other_manager.groups.add(Group.objects.get(name="Programme managers"))
    ProgrammeFactory().managers.add(other_manager)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    pages: list[tuple[str, str]] = []
    quiet = Client(raise_request_exception=False)

    for user in (manager, superuser, other_manager):
        quiet.force_login(user)
        for address in _admin_urls():
            if address == review(run) and user == manager:
                continue  # the one page that shows it
            pages.append((address, quiet.get(address).content.decode()))
    quiet.force_login(sponsor)
    pages += [(address, quiet.get(address).content.decode()) for address in every_url(programme)]
    quiet.logout()
    for participant in (setup.mentee, setup.mentor):
        address = page_url(participant)
        pages.append((address, quiet.get(address).content.decode()))

    assert len(pages) > 50
    for address, content in pages:
        assert NOTE not in content, address
