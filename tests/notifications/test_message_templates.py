"""Message templates in the admin: a manager's wording is checked when saved (it compiles, uses
only its kind's placeholders, reaches no other template, tag library or private record), can be
previewed with sample data saved or not, and is what the next message says, in the
recipient's language. Every kind has a default wording, seeded from the files, that renders
exactly what the files do."""

import re
from html import unescape

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from notifications.admin import wording_preview
from notifications.apps import seed_after_migrate
from notifications.defaults import default_wording, message_templates_seed, without_wrappers
from notifications.forms import MessageTemplateForm
from notifications.kinds import KINDS
from notifications.models import MessageTemplate, Notification
from notifications.rendering import render_files, render_message
from notifications.samples import sample_context
from notifications.sending import notification_send
from notifications.services import notify
from notifications.template_checks import wording_problems
from programmes.models import Cohort
from tests.factories import CohortFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/messagetemplate/"


def form_for(kind: str = "match_introduction", **fields: str) -> MessageTemplateForm:
    data = {
        "kind": kind,
        "language": "",
        "subject": "Meet {{ partner.full_name }}",
        "body_text": "Dear {{ person.full_name }},\n\nYour pair page: {{ pair_url }}\n",
        "body_html": "",
    } | fields
    instance = MessageTemplate.objects.filter(kind=kind, language=data["language"]).first()
    return MessageTemplateForm(data, instance=instance)


def errors_of(form: MessageTemplateForm, field: str) -> list[str]:
    assert not form.is_valid()
    return form.errors[field]


# --- Checks when saved ------------------------------------------------------------------------


def test_it_explains_a_syntax_error_on_its_field() -> None:
    form = form_for(body_text="{% if partner.job_title %}They are {{ partner.job_title }}.")

    assert errors_of(form, "body_text") == [
        "This template does not work: Unclosed tag on line 1: 'if'. Looking for one of: "
        "elif, else, endif."
    ]
    assert "subject" not in form.errors


def test_it_names_an_unknown_placeholder_and_the_ones_it_can_use() -> None:
    form = form_for(subject="Meet {{ partnr.full_name }}")

    assert errors_of(form, "subject") == [
        "Unknown placeholder {{ partnr }}: this message can use person, programme, cohort, "
        "site_url, partner, pair_url, participant, partner_participant, pair."
    ]


def test_it_finds_unknown_placeholders_in_conditions_loops_and_filter_arguments() -> None:
    text = (
        "{% if partner.job_title and mentor %}x{% endif %}"
        "{% for topic in topics %}{{ topic }}{% endfor %}"
        "{{ partner.job_title|default:title }}"
    )

    assert [e.split(":")[0] for e in errors_of(form_for(body_text=text), "body_text")] == [
        "Unknown placeholder {{ mentor }}",
        "Unknown placeholder {{ topics }}",
        "Unknown placeholder {{ title }}",
    ]


def test_a_loop_variable_is_known_inside_its_loop_only() -> None:
    inside = "{% for place in places %}{{ place.participant.cohort.name }}{% endfor %}"
    assert wording_problems(inside, kind="participant_links") == []

    after = inside + "{{ place.participant.role }}"
    assert wording_problems(after, kind="participant_links") == [
        "Unknown placeholder {{ place }}: this message can use person, places, site_url."
    ]


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("{% load tz %}{% timezone zone %}{{ starts }}{% endtimezone %}", "load"),
        ("{% load i18n %}", "load"),
        ("{% load no_such_library %}", "load"),
        ("{% include 'base.html' %}", "include"),
        ('{% extends "admin/base.html" %}', "extends"),
        ("{% ssi '/etc/passwd' %}", "ssi"),
        ("{% debug %}", "debug"),
    ],
)
def test_it_refuses_tags_that_reach_other_templates_or_libraries(text: str, tag: str) -> None:
    [error] = errors_of(form_for(body_text=text), "body_text")

    assert error.startswith(f"{{% {tag} %}} cannot be used in a message")


@pytest.mark.parametrize(
    ("text", "reached", "offered"),
    [
        (
            "{{ partner_participant.intake.boundaries_text }}",
            "{{ partner_participant.intake.boundaries_text }}",
            "partner_participant offers partner_participant.role, "
            "partner_participant.get_role_display.",
        ),
        (
            "{% for note in pair.notes.all %}{{ note.text }}{% endfor %}",
            "{{ pair.notes.all }}",
            "pair offers pair.mentee.person.full_name, pair.reverse_mentor.person.full_name, "
            "pair.status, pair.get_status_display, pair.started_on.",
        ),
        (
            "{% with p=partner_participant %}{{ p.intake.objectives_text }}{% endwith %}",
            "{{ p.intake.objectives_text }}",
            "p offers p.role, p.get_role_display.",
        ),
        (
            "{% if partner.reports.exists %}x{% endif %}",
            "{{ partner.reports.exists }}",
            "partner offers partner.full_name, partner.job_title, partner.department, "
            "partner.email.",
        ),
        ("{{ programme.managers.all }}", "{{ programme.managers.all }}", "programme offers "),
    ],
)
def test_it_refuses_records_that_hold_what_people_wrote(
    text: str, reached: str, offered: str
) -> None:
    [error] = errors_of(form_for(body_text=text), "body_text")

    assert error.startswith(f"{reached} cannot be used in this message: ")
    assert offered in error


def test_a_name_whose_value_depends_on_the_data_cannot_be_looked_into() -> None:
    text = "{% firstof partner_participant participant as p %}{{ p.intake.boundaries_text }}"

    assert wording_problems(text, kind="match_introduction") == [
        "{{ p.intake.boundaries_text }} cannot be used in a message: what p stands for "
        "depends on the data, so only what the message offers can be shown."
    ]
    loops = (
        "{% for place in places %}{% for label, url in place.links %}"
        "{% if forloop.first and forloop.parentloop.last %}{{ label|upper }}{% endif %}"
        "{% endfor %}{% endfor %}{% url 'surveys:resend_link' as again %}{{ again }}"
    )
    assert wording_problems(loops, kind="participant_links") == []


def test_it_allows_what_the_kind_declares_and_catches_typos() -> None:
    fine = (
        "{{ partner.job_title }} {{ pair.reverse_mentor.person.full_name }} "
        "{{ cohort.starts_on|date:'j F' }} {{ partner_participant.get_role_display }}"
    )
    assert wording_problems(fine, kind="match_introduction") == []

    assert wording_problems("{{ person.ful_name }}", kind="match_introduction") == [
        "{{ person.ful_name }} cannot be used in this message: person offers person.full_name."
    ]
    assert wording_problems("{{ person.delete }}", kind="match_introduction") == [
        "{{ person.delete }} cannot be used in this message: person offers person.full_name."
    ]
    assert wording_problems("{{ pair_url.upper }}", kind="match_introduction") == [
        "{{ pair_url.upper }} cannot be used in this message: pair_url is a plain value "
        "(text, a number, a date or a link), with no details."
    ]


def test_what_people_typed_stays_escaped_in_the_html_body() -> None:
    form = form_for(
        body_html="<p>{{ partner.full_name|safe }}</p>{% autoescape off %}{{ pair_url }}"
        "{% endautoescape %}"
    )

    assert errors_of(form, "body_html") == [
        "The |safe filter cannot be used in the HTML body: what people typed (names, "
        "reasons) must stay escaped.",
        "{% autoescape off %} cannot be used in the HTML body: what people typed (names, "
        "reasons) must stay escaped.",
    ]
    # Plain text is never escaped, so there it is harmless.
    assert form_for(body_text="{% autoescape off %}{{ pair_url }}{% endautoescape %}").is_valid()


def test_a_url_that_does_not_exist_is_caught_with_the_sample_data() -> None:
    [error] = errors_of(form_for(body_text="{% url 'no-such-page' %}"), "body_text")

    assert error.startswith("This template does not work with the sample data: Reverse for")


def test_the_subject_is_one_line_and_the_plain_text_is_required() -> None:
    form = form_for(subject="Meet\n{{ partner.full_name }}", body_text="")

    assert form.errors["subject"] == ["The subject must be one line."]
    assert form.errors["body_text"] == ["This field is required."]
    assert form_for(body_html="").is_valid()


def test_one_wording_per_kind_and_language() -> None:
    form = form_for(language="fr")
    assert form.is_valid(), form.errors
    form.save()

    again = MessageTemplateForm(form.data)

    assert errors_of(again, "language") == [
        "This message already has a wording in French for the organisation: change that one "
        "instead."
    ]


# --- Saved wording is what is sent -------------------------------------------------------------


@pytest.fixture
def participant(programme):
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    return ParticipantFactory(
        cohort=cohort, person__full_name="Ada Brook", person__email="ada@example.org"
    )


def admin_post(client: Client, url: str, **fields: str):
    return client.post(url, {"body_html": "", **fields})


def test_a_managers_edit_and_translation_are_what_the_next_messages_say(
    client: Client, manager, participant, programme
) -> None:
    client.force_login(manager)
    response = admin_post(
        client,
        f"{CHANGELIST}add/",
        kind="intake_invitation",
        language="",
        programme=str(programme.pk),
        subject="{{ programme.name }}: your intake, {{ person.full_name }}",
        body_text="Hello {{ person.full_name }}, please fill in {{ intake_url }}",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    response = admin_post(
        client,
        f"{CHANGELIST}add/",
        kind="intake_invitation",
        language="fr",
        programme=str(programme.pk),
        subject="{{ programme.name }} : votre questionnaire",
        body_text="Bonjour {{ person.full_name }}, remplissez {{ intake_url }}",
        body_html="<p>Bonjour {{ person.full_name }}</p>",
    )
    assert response.status_code == 302, response.context["adminform"].form.errors

    french = ParticipantFactory(
        cohort=participant.cohort, person__full_name="Zoé <Ardent>", person__language="fr"
    )
    notify(kind="intake_invitation", key="en", to=participant.person, about=participant)
    notify(kind="intake_invitation", key="fr", to=french.person, about=french)
    for row in Notification.objects.order_by("key"):
        assert notification_send(row.pk) == "sent"

    english, in_french = sorted(mail.outbox, key=lambda m: m.to != ["ada@example.org"])
    assert english.subject == "Inclusive Leadership: your intake, Ada Brook"
    assert english.body.startswith("Hello Ada Brook, please fill in http://testserver/intake/")
    assert english.alternatives == []
    assert in_french.subject == "Inclusive Leadership : votre questionnaire"
    assert in_french.body.startswith("Bonjour Zoé <Ardent>, remplissez http://testserver/")
    assert in_french.alternatives[0][0] == "<p>Bonjour Zoé &lt;Ardent&gt;</p>"


def test_a_refused_edit_keeps_what_was_typed_and_the_saved_wording(
    client: Client, org_admin
) -> None:
    client.force_login(org_admin)
    default = MessageTemplate.objects.get(kind="match_introduction", language="")

    response = admin_post(
        client,
        f"{CHANGELIST}{default.pk}/change/",
        kind="match_introduction",
        language="",
        subject="Meet {{ partnr.full_name }}",
        body_text="Dear {{ person.full_name }}",
        _save="Save",
    )

    assert response.status_code == 200
    assert "Unknown placeholder {{ partnr }}" in unescape(response.content.decode())
    assert 'value="Meet {{ partnr.full_name }}"' in unescape(response.content.decode())
    default.refresh_from_db()
    assert default.subject == default_wording("match_introduction").subject


# --- Preview --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kinds_default_wording_previews_with_sample_data(kind: str) -> None:
    context = sample_context(kind)  # raises when a placeholder has no sample value
    assert set(context) == set(KINDS[kind].placeholders)

    preview, problem = wording_preview(MessageTemplate.objects.get(kind=kind, language=""))

    assert problem == ""
    assert preview.subject
    assert "Alex Sample" in preview.text or "Alex Sample" in preview.subject
    assert "{{" not in preview.text


def test_the_preview_shows_the_saved_wording_with_its_times_where_the_recipient_lives(
    client: Client, manager
) -> None:
    client.force_login(manager)
    row = MessageTemplate.objects.get(kind="meeting_scheduled", language="")

    response = client.get(f"{CHANGELIST}{row.pk}/preview/")

    assert response.status_code == 200
    page = unescape(response.content.decode())
    # 13:00 UTC on 16 June is 14:00 in London.
    assert "Sam Example booked a session: Tue 16 Jun, 14:00 (Europe/London)" in page
    assert "Tuesday 16 June 2026, 14:00 to 14:45 (Europe/London time)" in page
    assert "No HTML body" in page


def test_typed_wording_is_previewed_without_being_saved_and_its_html_is_sandboxed(
    client: Client, org_admin
) -> None:
    client.force_login(org_admin)
    row = MessageTemplate.objects.get(kind="match_introduction", language="")
    saved = row.subject

    response = admin_post(
        client,
        f"{CHANGELIST}{row.pk}/preview/",
        kind="match_introduction",
        language="",
        subject="Say hello to {{ partner.full_name }}",
        body_text="Hi <b>{{ person.full_name }}</b>",
        body_html="<p>Hi {{ person.full_name }}</p><script>alert(1)</script>",
        _preview="Preview",
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Say hello to Sam Example" in page
    assert "Hi &lt;b&gt;Alex Sample&lt;/b&gt;" in page  # plain text, shown as typed
    [srcdoc] = re.findall(r'<iframe sandbox srcdoc="([^"]*)"', page)
    assert unescape(srcdoc) == "<p>Hi Alex Sample</p><script>alert(1)</script>"
    assert "<script>alert(1)</script>" not in page  # only inside the sandboxed frame
    row.refresh_from_db()
    assert row.subject == saved


def test_a_new_wording_can_be_previewed_before_it_exists_and_errors_are_shown(
    client: Client, manager, programme
) -> None:
    client.force_login(manager)

    ok = admin_post(
        client,
        f"{CHANGELIST}preview/",
        kind="pulse_request",
        language="de",
        programme=str(programme.pk),
        subject="Wie war es mit {{ partner.full_name }}?",
        body_text="{{ held_url }}",
    )
    broken = admin_post(
        client,
        f"{CHANGELIST}preview/",
        kind="pulse_request",
        language="de",
        subject="Wie war es?",
        body_text="{% include 'x.html' %}",
    )

    assert "Wie war es mit Sam Example?" in ok.content.decode()
    assert "{% include %} cannot be used in a message" in unescape(broken.content.decode())
    assert not MessageTemplate.objects.filter(language="de").exists()


# --- Defaults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", [None, "Asia/Tokyo"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_a_seeded_default_that_renders_exactly_as_its_files(
    kind: str, zone: str | None
) -> None:
    assert MessageTemplate.objects.filter(kind=kind, language="").exists()
    context = sample_context(kind)
    if zone and "zone" in context:
        context["zone"] = zone

    with translation.override("en"):
        files = render_files(kind, context)
    seeded = render_message(kind, context, "en")  # the seeded row is what is used

    assert seeded == files


def test_the_seeded_wording_has_no_time_zone_or_escaping_wrapper() -> None:
    row = MessageTemplate.objects.get(kind="pulse_request", language="")

    assert row.subject == (
        'How was your session with {{ partner.full_name }} on {{ starts|date:"D j M" }}?'
    )
    assert row.body_text.startswith("Dear {{ person.full_name }},\n\nHow did your session")
    assert "{%" not in row.body_text
    # Blocks other than the wrapper stay as they are.
    assert (
        without_wrappers(
            "{% autoescape off %}{% autoescape on %}<{{ x }}>{% endautoescape %}{% endautoescape %}"
        )
        == "{% autoescape on %}<{{ x }}>{% endautoescape %}"
    )


@pytest.mark.parametrize(
    "kind",
    list(KINDS),
)
def test_a_manager_can_save_every_default_wording_unchanged(kind: str) -> None:
    row = MessageTemplate.objects.get(kind=kind, language="")
    fields = {"subject": row.subject, "body_text": row.body_text, "body_html": row.body_html}
    # As a browser posts a textarea: CRLF line endings.
    posted = {name: value.replace("\n", "\r\n") for name, value in fields.items()}
    form = MessageTemplateForm({"kind": kind, "language": ""} | posted, instance=row)

    assert form.is_valid(), form.errors
    assert {name: form.cleaned_data[name] for name in fields} == fields


def test_seeding_adds_what_is_missing_and_never_overwrites_an_edit() -> None:
    edited = MessageTemplate.objects.get(kind="intake_invitation", language="")
    edited.subject = "Our own subject"
    edited.save()
    MessageTemplate.objects.filter(kind="rematch_alert").delete()

    assert message_templates_seed() == ["rematch_alert"]
    assert message_templates_seed() == []
    MessageTemplate.objects.filter(kind="checkin").delete()
    seed_after_migrate(using="default")  # as flush sends it, without the migrations' apps
    call_command("seed_message_templates", stdout=open("/dev/null", "w"))  # noqa: SIM115

    edited.refresh_from_db()
    assert edited.subject == "Our own subject"
    assert MessageTemplate.objects.filter(language="").count() == len(KINDS)


# --- Who may ----------------------------------------------------------------------------------


def test_managers_may_word_messages_and_read_the_outbox(manager) -> None:
    perms = manager.get_all_permissions()

    assert {
        "notifications.view_messagetemplate",
        "notifications.add_messagetemplate",
        "notifications.change_messagetemplate",
        "notifications.view_notification",
    } <= perms
    assert "notifications.change_notification" not in perms


def test_a_manager_opens_the_pages_and_a_sponsor_or_outsider_does_not(
    client: Client, manager, sponsor
) -> None:
    row = MessageTemplate.objects.get(kind="match_introduction", language="")
    pages = [
        CHANGELIST,
        f"{CHANGELIST}add/",
        f"{CHANGELIST}{row.pk}/change/",
        f"{CHANGELIST}{row.pk}/preview/",
    ]

    client.force_login(manager)
    for page in pages:
        assert client.get(page).status_code == 200, page

    client.force_login(sponsor)
    for page in pages:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/admin/login/")

    client.force_login(UserFactory(username="staff-only", is_staff=True))
    for page in pages:
        assert client.get(page).status_code == 403, page
    assert client.post(f"{CHANGELIST}preview/", {"kind": "x"}).status_code == 403


def test_the_list_shows_labels_and_filters_by_kind_and_language(client: Client, manager) -> None:
    MessageTemplate.objects.create(
        kind="pulse_request", language="fr", subject="Alors ?", body_text="{{ held_url }}"
    )
    client.force_login(manager)

    response = client.get(CHANGELIST, {"kind": "pulse_request"})
    assert [(r.kind, r.language) for r in response.context["cl"].result_list] == [
        ("pulse_request", ""),
        ("pulse_request", "fr"),
    ]
    page = response.content.decode()
    assert 'class="selected">\n    <a href="?kind=pulse_request">Pulse after' in page
    assert '<td class="field-language_label">French</td>' in page
    assert "Default (all languages)" in page

    french = client.get(CHANGELIST, {"language": "fr"}).context["cl"].result_list
    assert [(row.kind, row.language) for row in french] == [("pulse_request", "fr")]
    defaults = client.get(CHANGELIST, {"language": "default"}).context["cl"].result_count
    assert defaults == len(KINDS)


def test_the_list_takes_a_fixed_number_of_queries(
    client: Client, manager, django_assert_num_queries
) -> None:
    for language in ("fr", "de", "es"):
        MessageTemplate.objects.create(
            kind="pulse_request", language=language, subject="x", body_text="{{ held_url }}"
        )
    client.force_login(manager)

    # session, user, the user's permissions and their group's, the programmes to filter by,
    # the count, the count with no filter ("3 of 20"), the page of rows
    with django_assert_num_queries(8):
        response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert response.context["cl"].result_count == len(KINDS) + 3
