"""One realistic organisation to attack: the demo programme, a second programme with its own
sponsor and manager, and private words planted in one participant's answers, so that every
page can be checked for what it must never show."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import Group, User
from django.utils import timezone

from audit.models import AuditEntry
from audit.records import audit_record
from demo.build import build_demo
from demo.organisation import MANAGER, PROGRAMME_SLUG, SPONSOR
from matching.models import PairRule
from pairs.models import Meeting, Note, Pair
from programmes.links import Purpose, make_token
from programmes.models import Intake, Participant, Programme
from programmes.roles import MANAGERS_GROUP
from reporting.models import SuccessStory
from risks.models import CheckIn
from surveys.feedback import MIDPOINT
from surveys.models import LinkRequest, NpsResponse, Pulse
from tests.factories import ProgrammeFactory, UserFactory

# Words only participant A wrote, none of them shared with anyone. No page any other role
# can open may show one of them.
SECRETS = {
    "note": "ZQX-A-PRIVATE-NOTE",
    "objectives": "ZQX-A-INTAKE-OBJECTIVES",
    "boundaries": "ZQX-A-INTAKE-BOUNDARIES",
    "learning": "ZQX-A-PULSE-LEARNING",
    "action": "ZQX-A-PULSE-ACTION",
    "why": "ZQX-A-NPS-WHY",
}


@dataclass
class World:
    programme: Programme
    other_programme: Programme
    users: dict[str, User]
    pair: Pair
    a: Participant  # the mentee of the pair under attack
    b: Participant  # A's partner
    c: Participant  # a participant of another pair in the same programme
    meeting: Meeting  # a held session of A and B
    note: Note  # A's private note
    story: SuccessStory  # a story about A and B
    checkin: CheckIn  # A's check-in

    def token(self, who: Participant, purpose: Purpose, scope: str | int = "") -> str:
        return make_token(participant_id=who.pk, purpose=purpose, scope=scope)


def _plant_secrets(a: Participant, pair: Pair, meeting: Meeting) -> Note:
    intake = Intake.objects.get(participant=a)
    intake.objectives_text = SECRETS["objectives"]
    intake.boundaries_text = SECRETS["boundaries"]
    intake.save(update_fields=["objectives_text", "boundaries_text"])
    Pulse.objects.update_or_create(
        meeting=meeting,
        participant=a,
        defaults={
            "held": True,
            "learning": SECRETS["learning"],
            "action": SECRETS["action"],
            "shared": False,
            "safety": 1,
            "teaching": 5,
            "submitted_at": meeting.ends_at,
            "session_starts_at": meeting.starts_at,
        },
    )
    NpsResponse.objects.update_or_create(
        participant=a,
        moment=MIDPOINT,
        defaults={"score": 3, "why": SECRETS["why"], "submitted_at": timezone.now()},
    )
    return Note.objects.create(pair=pair, author=a, text=SECRETS["note"], shared=False)


def build_world() -> World:
    build_demo(today=date.today())
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
    users = {
        "manager": User.objects.get(username=MANAGER[0]),
        "sponsor": User.objects.get(username=SPONSOR[0]),
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    other = ProgrammeFactory(name="Another programme", slug="another-programme")
    users["other_sponsor"] = UserFactory(username="dana")
    other.sponsors.add(users["other_sponsor"])
    users["other_manager"] = UserFactory(username="omar", is_staff=True)
    users["other_manager"].groups.add(Group.objects.get(name=MANAGERS_GROUP))
    other.managers.add(users["other_manager"])

    pairs = Pair.objects.filter(cohort__programme=programme, status=Pair.Status.ACTIVE)
    pair = pairs.order_by("-score").first()
    other_pair = pairs.exclude(pk=pair.pk).first()
    meeting = pair.meetings.filter(status=Meeting.Status.HELD).latest("starts_at")
    a, b = pair.mentee, pair.reverse_mentor
    note = _plant_secrets(a, pair, meeting)
    story = SuccessStory.objects.create(
        pair=pair,
        title="A story",
        body="An anonymised account.",
        anonymised=True,
        written_by=users["manager"],
    )
    PairRule.objects.create(
        kind=PairRule.Kind.BLOCKED, mentee=a.person, reverse_mentor=other_pair.reverse_mentor.person
    )
    LinkRequest.objects.create(email=a.person.email, person=a.person, ip_address="192.0.2.1")
    # A's manager was granted the role: an entry of A's audit trail.
    audit_record(
        AuditEntry.Event.ROLE_GRANTED,
        by=users["superuser"],
        target=users["manager"],
        programme=programme,
        changes={"role": ("", "manager")},
    )
    checkin = CheckIn.objects.create(
        pair=pair, participant=a, asked_at=timezone.now() - timedelta(days=1)
    )
    return World(
        programme=programme,
        other_programme=other,
        users=users,
        pair=pair,
        a=a,
        b=b,
        c=other_pair.mentee,
        meeting=meeting,
        note=note,
        story=story,
        checkin=checkin,
    )
