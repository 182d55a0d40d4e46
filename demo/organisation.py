"""Northwind Logistics, a fictional company of 40 people in six departments, its organisation
administrator, and its reverse mentoring programme: a finished pilot and a second wave now
running (a second programme, just set up, is in demo/second_programme.py)."""

from datetime import timedelta

from django.contrib.auth.models import Group, User

from demo.context import DemoContext
from programmes.models import Cohort, KeySkill, Person, Programme, Topic
from programmes.organisation import max_mentoring_load, organisation_min_group
from programmes.roles import sync_manager_group, sync_org_admin_group

EMAIL_DOMAIN = "northwind.example"  # a reserved domain: demo mail can never reach anyone
PROGRAMME_SLUG = "northwind-reverse-mentoring"
MANAGER = ("manager", "manager-demo-2026", "Priya Raman")
SPONSOR = ("sponsor", "sponsor-demo-2026", "Helen Okafor")
# The People team's head of programmes: every programme, the organisation's settings, and the
# one who names managers and sponsors.
ORG_ADMIN = ("orgadmin", "orgadmin-demo-2026", "Nicola Grant")

# (key, name, title, department, manager key, time zone, language)
DIRECTORY = [
    (
        "ceo",
        "Margaret Ellison",
        "Chief Executive Officer",
        "Executive office",
        None,
        "Europe/London",
        "en",
    ),
    ("cfo", "Richard Hale", "Chief Financial Officer", "Finance", "ceo", "Europe/London", "en"),
    (
        "cto",
        "Andreas Vogel",
        "Chief Technology Officer",
        "Technology",
        "ceo",
        "Europe/Berlin",
        "de",
    ),
    (
        "coo",
        "Catherine Dubois",
        "Chief Operating Officer",
        "Operations",
        "ceo",
        "Europe/Paris",
        "fr",
    ),
    ("chro", "Samuel Osei", "Chief People Officer", "People", "ceo", "Europe/London", "en"),
    ("cmo", "Linda Marsh", "Chief Marketing Officer", "Marketing", "ceo", "America/New_York", "en"),
    (
        "fin-d1",
        "Graham Whitaker",
        "Director of Financial Planning",
        "Finance",
        "cfo",
        "Europe/London",
        "en",
    ),
    ("fin-d2", "Nadia Petrova", "Director of Procurement", "Finance", "cfo", "Europe/London", "en"),
    (
        "tech-d1",
        "Thomas Becker",
        "Director of Engineering",
        "Technology",
        "cto",
        "Europe/Berlin",
        "de",
    ),
    ("tech-d2", "Rajesh Iyer", "Director of Data", "Technology", "cto", "Europe/London", "en"),
    (
        "ops-d1",
        "Paul Lefevre",
        "Director of Warehousing",
        "Operations",
        "coo",
        "Europe/Paris",
        "fr",
    ),
    ("ops-d2", "Fiona Campbell", "Director of Fleet", "Operations", "coo", "Europe/London", "en"),
    ("ppl-d1", "Deborah Stone", "Director of Talent", "People", "chro", "Europe/London", "en"),
    ("ppl-d2", "Martin Kowalski", "Director of Reward", "People", "chro", "Europe/London", "en"),
    ("mkt-d1", "Susan Reilly", "Director of Brand", "Marketing", "cmo", "America/New_York", "en"),
    (
        "mkt-d2",
        "Jonathan Price",
        "Director of Customer Insight",
        "Marketing",
        "cmo",
        "Europe/London",
        "en",
    ),
    ("fin-1", "Aisha Bello", "Financial Analyst", "Finance", "fin-d1", "Europe/London", "en"),
    ("fin-2", "Tom Nguyen", "Graduate Accountant", "Finance", "fin-d1", "Europe/London", "en"),
    ("fin-3", "Sofia Marquez", "Buyer", "Finance", "fin-d2", "Europe/Madrid", "es"),
    ("fin-4", "Kwame Mensah", "Procurement Analyst", "Finance", "fin-d2", "Europe/London", "en"),
    ("tech-1", "Lena Schmidt", "Software Engineer", "Technology", "tech-d1", "Europe/Berlin", "de"),
    ("tech-2", "Jordan Ellis", "Junior Developer", "Technology", "tech-d1", "Europe/London", "en"),
    ("tech-3", "Mei Chen", "Data Scientist", "Technology", "tech-d2", "Asia/Singapore", "en"),
    ("tech-4", "Omar Haddad", "Data Engineer", "Technology", "tech-d2", "Europe/London", "en"),
    ("tech-5", "Zoe Williams", "IT Apprentice", "Technology", "tech-d1", "Europe/London", "en"),
    ("ops-1", "Lucas Martin", "Shift Supervisor", "Operations", "ops-d1", "Europe/Paris", "fr"),
    (
        "ops-2",
        "Chloe Bernard",
        "Logistics Coordinator",
        "Operations",
        "ops-d1",
        "Europe/Paris",
        "fr",
    ),
    ("ops-3", "Ryan O'Connor", "Fleet Planner", "Operations", "ops-d2", "Europe/Dublin", "en"),
    ("ops-4", "Amara Nwosu", "Route Analyst", "Operations", "ops-d2", "Europe/London", "en"),
    ("ops-5", "Daniel Costa", "Warehouse Team Lead", "Operations", "ops-d1", "Europe/Lisbon", "en"),
    ("ppl-1", "Hannah Goldberg", "HR Business Partner", "People", "ppl-d1", "Europe/London", "en"),
    (
        "ppl-2",
        "Yusuf Demir",
        "Talent Acquisition Specialist",
        "People",
        "ppl-d1",
        "Europe/London",
        "en",
    ),
    ("ppl-3", "Grace Adeyemi", "Reward Analyst", "People", "ppl-d2", "Europe/London", "en"),
    ("ppl-4", "Ethan Brooks", "Learning Coordinator", "People", "ppl-d2", "Europe/London", "en"),
    (
        "mkt-1",
        "Maya Patel",
        "Social Media Executive",
        "Marketing",
        "mkt-d1",
        "America/New_York",
        "en",
    ),
    ("mkt-2", "Carlos Rivera", "Content Designer", "Marketing", "mkt-d1", "America/Chicago", "es"),
    ("mkt-3", "Imogen Clarke", "Customer Researcher", "Marketing", "mkt-d2", "Europe/London", "en"),
    (
        "mkt-4",
        "Kenji Sato",
        "Digital Marketing Assistant",
        "Marketing",
        "mkt-d2",
        "Europe/London",
        "en",
    ),
    ("mkt-5", "Fatima Zahra", "Brand Designer", "Marketing", "mkt-d1", "Europe/London", "fr"),
    ("tech-6", "Noah Fischer", "Cloud Engineer", "Technology", "tech-d2", "Europe/Berlin", "de"),
]

KEY_SKILLS = ["Digital fluency", "Inclusive leadership", "Understanding younger customers"]

ROAD_MAP = [
    (
        "Getting started: trust and expectations",
        "Agree how you will work together and what each of you hopes to learn.",
    ),
    (
        "Digital tools and everyday habits",
        "How colleagues actually work: messaging, collaboration tools, shortcuts.",
    ),
    (
        "Social media and our brand",
        "What people see of Northwind online, and how they talk about it.",
    ),
    (
        "Inclusion and belonging at work",
        "Lived experience of our culture: what helps people belong, what gets in the way.",
    ),
    (
        "Hybrid and flexible working",
        "What flexibility means at different career stages and in different roles.",
    ),
    (
        "What younger customers expect",
        "Service, speed, sustainability and trust, through a younger customer's eyes.",
    ),
    (
        "Generative AI in everyday work",
        "Where AI tools help, where they worry people, and how teams use them.",
    ),
    (
        "Reflection and next steps",
        "What changed, what each of you will keep doing, and what to tell others.",
    ),
]


def build(ctx: DemoContext) -> None:
    org_admin = demo_user(ctx, *ORG_ADMIN, staff=True)
    org_admin.groups.add(sync_org_admin_group())
    manager = demo_user(ctx, *MANAGER, staff=True)
    manager.groups.add(Group.objects.get(name=sync_manager_group().name))
    sponsor = demo_user(ctx, *SPONSOR, staff=False)
    ctx.summary.append(
        f"Organisation settings: at most {max_mentoring_load()} pairs per reverse-mentor, "
        f"sponsors' figures from groups of at least {organisation_min_group()}"
    )

    programme = Programme.objects.create(
        name="Northwind Reverse Mentoring",
        slug=PROGRAMME_SLUG,
        purpose=(
            "Our senior leaders decide how Northwind works, but many of the people who live "
            "those decisions every day are early in their careers. Reverse mentoring pairs each "
            "executive with a colleague who can show them what they would otherwise miss: the "
            "digital habits of our teams, lived experience of our culture, and what younger "
            "customers expect from us."
        ),
        status=Programme.Status.RUNNING,
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
    pilot_start = ctx.today - timedelta(days=210)
    wave_start = ctx.today - timedelta(days=75)
    ctx.cohorts["pilot"] = Cohort.objects.create(
        programme=programme,
        name="Pilot",
        starts_on=pilot_start,
        ends_on=pilot_start + timedelta(days=90),
        status=Cohort.Status.FINISHED,
    )
    ctx.cohorts["wave2"] = Cohort.objects.create(
        programme=programme,
        name="Wave 2",
        starts_on=wave_start,
        ends_on=wave_start + timedelta(days=120),
        status=Cohort.Status.RUNNING,
    )
    ctx.programme = programme

    for key, name, title, department, _, zone, language in DIRECTORY:
        first, last = name.split(" ", 1)
        email = f"{first}.{last}".lower().replace("'", "").replace(" ", "") + f"@{EMAIL_DOMAIN}"
        ctx.people[key] = Person.objects.create(
            full_name=name,
            email=email,
            job_title=title,
            department=department,
            time_zone=zone,
            language=language,
        )
    for key, *_, manager_key, _zone, _language in DIRECTORY:
        if manager_key:
            ctx.people[key].manager = ctx.people[manager_key]
            ctx.people[key].save(update_fields=["manager"])

    ctx.summary.append(
        f"{programme.name}: {len(KEY_SKILLS)} key skills, {len(ROAD_MAP)} road-map topics, "
        f"cohorts {', '.join(c.name for c in ctx.cohorts.values())}; "
        f"{len(ctx.people)} people in {len({row[3] for row in DIRECTORY})} departments"
    )


def demo_user(
    ctx: DemoContext, username: str, password: str, full_name: str, *, staff: bool
) -> User:
    first, last = full_name.split(" ", 1)
    user = User.objects.create_user(
        username=username,
        password=password,
        email=f"{username}@{EMAIL_DOMAIN}",
        first_name=first,
        last_name=last,
        is_staff=staff,
    )
    ctx.users[username] = user
    return user
