"""A second programme, just set up, with its own manager and sponsor: Digital Champions, in
which colleagues from technology show finance and operations leaders the tools their teams
use. Its first cohort starts in three weeks and its people have been added, not yet invited;
its manager sees it and nothing of the first programme, and the first one's manager sees
nothing of it."""

from datetime import timedelta

from django.contrib.auth.models import Group

from demo.context import DemoContext
from demo.organisation import demo_user
from programmes.models import Cohort, KeySkill, Participant, Programme, Role, Topic
from programmes.roles import MANAGERS_GROUP

SLUG = "northwind-digital-champions"
MANAGER = ("champions", "champions-demo-2026", "Tomasz Nowak")
SPONSOR = ("cfo", "cfo-demo-2026", "Richard Hale")  # the finance director backs it

KEY_SKILLS = ["Everyday digital tools", "Working with data"]
ROAD_MAP = [
    ("How your team really works", "The tools and shortcuts your team uses every day."),
    ("Spreadsheets to dashboards", "From monthly spreadsheets to figures that update themselves."),
    ("Automating the routine", "What can be left to a tool, and what should not be."),
]
# (directory key, role): leaders from finance and operations, champions from technology.
PEOPLE = [
    ("fin-d1", Role.MENTEE),
    ("ops-d2", Role.MENTEE),
    ("fin-d2", Role.MENTEE),
    ("tech-6", Role.REVERSE_MENTOR),
    ("tech-1", Role.REVERSE_MENTOR),
    ("tech-4", Role.REVERSE_MENTOR),
]


def build(ctx: DemoContext) -> None:
    manager = demo_user(ctx, *MANAGER, staff=True)
    manager.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    sponsor = demo_user(ctx, *SPONSOR, staff=False)
    programme = Programme.objects.create(
        name="Northwind Digital Champions",
        slug=SLUG,
        purpose=(
            "Finance and operations leaders learn the digital tools their teams already use "
            "from the colleagues in technology who use them best, one hour a fortnight."
        ),
        status=Programme.Status.INTAKE_OPEN,
        sessions_per_month_target=2,
        # A small programme: its manager asks for bigger groups than the organisation's.
        min_group_size=6,
    )
    programme.managers.add(manager)
    programme.sponsors.add(sponsor)
    KeySkill.objects.bulk_create(
        KeySkill(programme=programme, name=name, position=i) for i, name in enumerate(KEY_SKILLS)
    )
    Topic.objects.bulk_create(
        Topic(programme=programme, title=title, description=text, position=i)
        for i, (title, text) in enumerate(ROAD_MAP)
    )
    starts = ctx.today + timedelta(days=21)
    cohort = Cohort.objects.create(
        programme=programme,
        name="First cohort",
        starts_on=starts,
        ends_on=starts + timedelta(days=90),
        status=Cohort.Status.PLANNED,
    )
    Participant.objects.bulk_create(
        Participant(cohort=cohort, person=ctx.people[key], role=role) for key, role in PEOPLE
    )
    ctx.summary.append(
        f"{programme.name}: a second programme with its own manager and sponsor, "
        f"{cohort.name.lower()} planned with {len(PEOPLE)} people added"
    )
