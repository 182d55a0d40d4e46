"""How far a message's wording reaches: only the variables and attributes its kind declares
(notifications/kinds.py). Refused at save, with the expression named; and whatever a stored
wording asks for, the renderer holds only plain values and read-only records built from the
declaration, so a user account, a reverse relation or someone else's free text is never there
to be shown."""

import importlib
from collections.abc import Callable

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core import mail
from django.db import models
from django.test import Client

from notifications.admin import wording_check
from notifications.defaults import default_wording
from notifications.kinds import KINDS
from notifications.models import MessageTemplate, Notification
from notifications.samples import sample_context
from notifications.schema import PLAIN, VALUE, Fields, ListOf, Record, Row, UndeclaredContext
from notifications.sending import notification_send
from notifications.template_checks import wording_problems
from pairs.models import Agreement, Meeting, Pair
from programmes.models import Participant, Programme
from programmes.roles import MANAGERS_GROUP
from reporting import notices as reporting_notices
from reporting.consent import story_version
from reporting.models import SponsorAsk, SuccessStory
from risks.models import RiskFlag
from surveys.models import Pulse
from tests.pairs.meeting_helpers import agreed_pair

pytestmark = pytest.mark.django_db

# --- The examples of the issue, each refused where its root is offered ------------------------

ISSUE_EXAMPLES = [
    ("story_consent", "{{ story.written_by.password }}", "story.written_by.password"),
    ("story_consent", "{{ story.written_by.email }}", "story.written_by.email"),
    ("story_consent", "{{ story.written_by.is_superuser }}", "story.written_by.is_superuser"),
    ("story_consent", "{{ story.body }}", "story.body"),
    (
        "risk_digest",
        "{% for e in programmes %}{% for i in e.pairs %}{% for flag in i.flags %}"
        "{{ flag.resolved_by.password }}{% endfor %}{% endfor %}{% endfor %}",
        "flag.resolved_by.password",
    ),
    (
        "risk_digest",
        "{% for e in programmes %}{{ e.programme.managers.all }}{% endfor %}",
        "e.programme.managers.all",
    ),
    (
        "rematch_alert",
        "{% for a in pair.actions.all %}{{ a.by.password }}{% endfor %}",
        "pair.actions.all",
    ),
    (
        "checkin_answer",
        "{{ pair.risk_flags.first.resolved_by.email }}",
        "pair.risk_flags.first.resolved_by.email",
    ),
    ("sponsor_status", "{{ ask.written_by.password }}", "ask.written_by.password"),
    (
        "sponsor_status",
        "{{ programme.sponsor_asks.first.written_by.email }}",
        "programme.sponsor_asks.first.written_by.email",
    ),
    ("meeting_cancelled", "{{ meeting.cancel_reason }}", "meeting.cancel_reason"),
    ("meeting_cancelled", "{% if meeting.cancel_reason %}x{% endif %}", "meeting.cancel_reason"),
    ("match_introduction", "{{ pair.replaces.end_reason }}", "pair.replaces.end_reason"),
    ("match_introduction", "{{ pair.end_reason }}", "pair.end_reason"),
    ("agreement_proposed", "{{ agreement.cancellation }}", "agreement.cancellation"),
    (
        "agreement_proposed",
        "{{ agreement.pair.mentee.intake.boundaries_text }}",
        "agreement.pair.mentee.intake.boundaries_text",
    ),
]


@pytest.mark.parametrize(("kind", "text", "named"), ISSUE_EXAMPLES)
def test_it_refuses_each_example_of_the_issue_naming_it(kind: str, text: str, named: str) -> None:
    assert [p.split(": ")[0] for p in wording_problems(text, kind=kind)] == [
        f"{{{{ {named} }}}} cannot be used in this message"
    ]


# --- Every kind × every class of path that reaches further -------------------------------------


def _all_model_attribute_names() -> set[str]:
    """Every field, relation (both ways), manager and method name of every model the project
    has: what ``placeholder.<name>`` could reach if a placeholder held a model."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields(include_hidden=True):
            names.add(field.name)
            accessor = getattr(field, "get_accessor_name", None)
            if accessor and accessor():
                names.add(accessor())
            attname = getattr(field, "attname", None)
            if attname:
                names.add(attname)
        for name in dir(model):
            if not name.startswith("_"):
                names.add(name)
    return {name for name in names if name.isidentifier() and not name.endswith("+")}


USER_FIELDS = [field.name for field in User._meta.concrete_fields]
PATH_CLASSES: dict[str, Callable[[str], list[str]]] = {
    # A user account through any foreign key the project has to one.
    "user account": lambda root: [
        f"{root}.{fk}.{field}"
        for fk in ("written_by", "resolved_by", "by", "user", "manager")
        for field in USER_FIELDS
    ],
    # Free text of every model (the recipient's own included: a wording shows what is declared).
    "free text": lambda root: (
        [
            f"{root}.{field.name}"
            for model in (Meeting, Pair, Agreement, SuccessStory, SponsorAsk, RiskFlag, Pulse)
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
            and not field.choices
            and field.name not in ("title", "name", "full_name")
        ]
        + [f"{root}.intake.{name}" for name in ("objectives_text", "boundaries_text", "goal_1")]
    ),
    "reverse relation": lambda root: (
        [
            f"{root}.{name}.all"
            for name in ("notes", "pulses", "checkins", "risk_flags", "actions", "stories")
        ]
        + [f"{root}.intake", f"{root}.replaces.end_reason", f"{root}.replaced_by"]
    ),
    "method": lambda root: [
        f"{root}.{name}" for name in ("delete", "save", "refresh_from_db", "clean", "pk", "id")
    ],
}


def _declared_paths(schema, prefix: str) -> set[str]:
    if isinstance(schema, Fields):
        found = {prefix}
        for name, sub in schema.fields.items():
            found |= _declared_paths(sub, f"{prefix}.{name}")
        return found
    return {prefix}


@pytest.mark.parametrize("path_class", list(PATH_CLASSES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_path_past_what_a_kind_declares_is_refused_naming_it(
    kind: str, path_class: str
) -> None:
    declared = set()
    for name, schema in KINDS[kind].placeholders.items():
        declared |= _declared_paths(schema, name)
    checked = 0
    for root in KINDS[kind].placeholders:
        for path in PATH_CLASSES[path_class](root):
            if path in declared:
                continue
            problems = wording_problems(f"{{{{ {path} }}}}", kind=kind)
            assert len(problems) == 1, (path, problems)
            assert problems[0].startswith(f"{{{{ {path} }}}} cannot be used in this message: ")
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_model_attribute_is_offered_beyond_the_declaration(kind: str) -> None:
    """One wording per variable with every attribute name any model has: everything the
    variable does not declare is refused, each named."""
    every = sorted(_all_model_attribute_names())
    for root, schema in KINDS[kind].placeholders.items():
        offered = schema.fields if isinstance(schema, Fields) else {}
        paths = [f"{root}.{name}" for name in every if name not in offered]
        problems = wording_problems("".join(f"{{{{ {p} }}}}" for p in paths), kind=kind)
        assert [p.split(" }}")[0].removeprefix("{{ ") for p in problems] == paths


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_declared_variable_and_attribute_is_accepted(kind: str) -> None:
    parts = []
    for name, schema in KINDS[kind].placeholders.items():
        parts.append(_uses(schema, name, depth=0))
    text = "".join(parts)

    assert wording_problems(text, kind=kind) == []
    assert wording_problems(text, kind=kind, field="body_html") == []


def _uses(schema, name: str, *, depth: int) -> str:
    """A wording that reads everything ``schema`` offers under ``name``."""
    if isinstance(schema, Fields):
        return "".join(
            _uses(sub, f"{name}.{key}", depth=depth) for key, sub in schema.fields.items()
        )
    if isinstance(schema, ListOf):
        item = f"item{depth}"
        if isinstance(schema.item, Row):
            names = [f"v{depth}_{i}" for i in range(len(schema.item.items))]
            inner = "".join(f"{{{{ {n} }}}}" for n in names)
            return f"{{% for {', '.join(names)} in {name} %}}{inner}{{% endfor %}}"
        inner = _uses(schema.item, item, depth=depth + 1)
        return f"{{% for {item} in {name} %}}{inner}{{% endfor %}}"
    return f"{{{{ {name} }}}}"


def test_the_refusal_lists_what_the_variable_offers() -> None:
    [problem] = wording_problems("{{ story.written_by.password }}", kind="story_consent")

    assert problem == (
        "{{ story.written_by.password }} cannot be used in this message: story offers story.title."
    )
    [problem] = wording_problems(
        "{% for place in places %}{{ place.participant.intake }}{% endfor %}",
        kind="participant_links",
    )
    assert problem == (
        "{{ place.participant.intake }} cannot be used in this message: place offers "
        "place.participant.role, place.participant.get_role_display, "
        "place.participant.cohort.name, place.participant.cohort.programme.name, "
        "place.links (a list of 2 values each: {% for a, b in … %})."
    )


# --- What a builder hands the renderer ----------------------------------------------------------


def _only_declared(schema, value, where: str) -> None:
    """``value`` is what ``schema`` declares and nothing else: plain values, Records with
    exactly the declared attributes, tuples."""
    if value is None:
        return
    assert not isinstance(value, models.Model), where
    if schema is VALUE:
        assert isinstance(value, PLAIN), (where, value)
        return
    if isinstance(schema, Fields):
        assert isinstance(value, Record), (where, type(value))
        assert set(value._values) == set(schema.fields), where
        for name, sub in schema.fields.items():
            _only_declared(sub, value[name], f"{where}.{name}")
        return
    assert isinstance(value, tuple), (where, type(value))
    items = (schema.item,) * len(value) if isinstance(schema, ListOf) else schema.items
    for index, (sub, item) in enumerate(zip(items, value, strict=True)):
        _only_declared(sub, item, f"{where}[{index}]")


def test_every_kind_has_a_build_scenario(built: dict) -> None:
    assert set(built) == set(KINDS), "add the new kind to the `built` fixture above"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_built_context_holds_only_declared_plain_values(built: dict, kind: str) -> None:
    message = built.get(kind)
    assert message is not None, f"{kind} built nothing from its scenario"
    declared = KINDS[kind].placeholders

    assert set(message.context) <= set(declared)
    for name, value in message.context.items():
        _only_declared(declared[name], value, name)
    # Someone else's free text and the author's account, all within reach of the builders.
    text = repr(message.context)
    for secret in ("SECRET", "STORY-BODY", "pbkdf2", "alice@example.org"):
        assert secret not in text


def test_a_builder_that_hands_over_an_undeclared_name_or_a_model_is_caught() -> None:
    kind = KINDS["pulse_request"]

    with pytest.raises(UndeclaredContext, match="does not declare pulse"):
        kind.project({"person": {"full_name": "A"}, "pulse": "x"})
    with pytest.raises(UndeclaredContext, match="zone must be a plain value, not User"):
        kind.project({"zone": User(username="x")})
    with pytest.raises(UndeclaredContext, match="person has no “full_name”"):
        kind.project({"person": object()})


def test_the_sample_data_follows_each_kinds_declaration() -> None:
    for name, kind in KINDS.items():
        context = sample_context(name)
        assert set(context) == set(kind.placeholders), name
        for variable, value in context.items():
            _only_declared(kind.placeholders[variable], value, f"{name}: {variable}")


# --- Wording saved before the checks ------------------------------------------------------------


STALE = (
    "Password {{ story.written_by.password }} mail {{ story.written_by.email }} "
    "text {{ story.body }} end {{ story.pair.end_reason }} title {{ story.title }}"
)


@pytest.fixture
def stale_story_wording() -> MessageTemplate:
    """A wording saved before the allow-list, straight into the table as an old release
    would have let it be."""
    row = MessageTemplate.objects.get(kind="story_consent", language="")
    row.body_text = STALE
    row.save()
    return row


def test_a_stored_wording_that_reaches_further_sends_with_those_parts_empty(
    programme: Programme, manager: User, stale_story_wording: MessageTemplate
) -> None:
    pair = agreed_pair(programme=programme)
    pair.end_reason = "END-REASON-SECRET"
    pair.save()
    story = SuccessStory.objects.create(
        pair=pair, title="A story", body="STORY-BODY", anonymised=True, written_by=manager
    )
    reporting_notices.ask_story_consent(story, pair.mentee, story_version(story))
    row = Notification.objects.get(kind="story_consent")

    assert notification_send(row.pk) == Notification.Status.SENT

    [email] = mail.outbox
    assert email.body == "Password  mail  text  end  title A story"


def test_the_list_flags_a_stored_wording_that_needs_an_edit(
    client: Client, manager: User, stale_story_wording: MessageTemplate
) -> None:
    client.force_login(manager)

    page = client.get("/admin/notifications/messagetemplate/").content.decode()

    assert page.count("Needs an edit") == 1
    assert "{{ story.written_by.password }}" in page
    assert Group.objects.get(name=MANAGERS_GROUP)  # the persona is a manager, not a superuser
    assert not manager.is_superuser


def test_rendering_never_hands_a_model_to_a_template(programme: Programme) -> None:
    pair = agreed_pair(programme=programme)
    model_context = {"person": pair.mentee.person, "partner": pair.reverse_mentor.person}

    projected = KINDS["checkin"].project(model_context)

    assert projected["person"] == Record({"full_name": "Margaret Hale"})
    with pytest.raises(AttributeError):
        projected["person"].email  # noqa: B018
    assert not any(isinstance(v, Participant | models.Model) for v in projected.values())


def test_the_migration_puts_the_new_lines_in_place_of_the_partners_text() -> None:
    migration = importlib.import_module(
        "notifications.migrations.0002_wording_without_others_free_text"
    )
    for kind, [(old, new)] in migration.REPLACED.items():
        default = default_wording(kind)
        assert new in default.body_text, kind  # the migration writes what the files say
        row = MessageTemplate.objects.get(kind=kind, language="")
        row.body_text = default.body_text.replace(new, old)  # as seeded by the last release
        row.save()
        edited = MessageTemplate.objects.create(
            kind=kind, language="fr", subject="x", body_text=f"Bonjour\n{old}\nAu revoir"
        )

        migration.replace_lines(apps, None)

        row.refresh_from_db()
        edited.refresh_from_db()
        assert row.body_text == default.body_text
        assert edited.body_text == f"Bonjour\n{new}\nAu revoir"
        assert wording_check(row) == []
