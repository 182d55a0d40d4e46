"""Sponsors and managers sign in with Django's auth and land where their work is: managers in
the admin, sponsors on their programmes, anyone else at home; a ``?next=`` on the site still
wins. A forgotten password is reset by e-mail, sent through the outbox, with a link built from
SITE_URL that works once, and the pages never tell whether an address has an account.

Managers set a programme's KPI targets and write the sponsors' monthly ask in the admin;
sponsors and outsiders cannot reach it."""

import re
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from programmes.models import Programme
from reporting.models import SponsorAsk
from reporting.sponsor import sponsor_status_path
from tests.factories import ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
NEW_PASSWORD = "a brand new passphrase 42"
LOGIN = reverse("login")
RESET = reverse("password_reset")
SPONSOR_HOME = reverse("reporting:sponsor_index")


def sign_in(client: Client, user: User, *, password: str = PASSWORD, next: str = ""):
    url = f"{LOGIN}?next={next}" if next else LOGIN
    return client.post(url, {"username": user.username, "password": password, "next": next})


def landing(client: Client, user: User, **kwargs) -> str:
    response = sign_in(client, user, **kwargs)
    assert response.status_code == 302, response.content.decode()
    if response["Location"] == reverse("after_login"):
        response = client.get(response["Location"])
        assert response.status_code == 302
    return response["Location"]


# --- Signing in ---------------------------------------------------------------------------------


def test_a_manager_lands_in_the_admin(client: Client, manager) -> None:
    assert landing(client, manager) == reverse("admin:index")


def test_a_sponsor_lands_on_their_programmes(client: Client, sponsor) -> None:
    assert landing(client, sponsor) == SPONSOR_HOME


def test_anyone_else_lands_at_home(client: Client, outsider) -> None:
    assert landing(client, outsider) == reverse("home")


def test_a_sponsor_of_a_closed_programme_still_lands_on_their_programmes(client: Client) -> None:
    user = UserFactory(username="dora")
    ProgrammeFactory(status=Programme.Status.CLOSED).sponsors.add(user)

    assert landing(client, user) == SPONSOR_HOME


def test_next_is_respected_when_it_stays_on_the_site(client: Client, manager, sponsor) -> None:
    asks = reverse("admin:reporting_sponsorask_changelist")
    assert landing(client, manager, next=asks) == asks
    client.logout()
    assert landing(client, sponsor, next="/sponsor/1/") == "/sponsor/1/"


def test_the_emails_link_leads_through_the_sign_in_to_the_months_status(
    client: Client, sponsor, programme
) -> None:
    status = sponsor_status_path(programme, date(2026, 5, 1))

    response = client.get(status)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={status}"
    assert landing(client, sponsor, next=status) == status


def test_a_next_to_another_site_is_ignored(client: Client, sponsor) -> None:
    assert landing(client, sponsor, next="https://evil.example/") == SPONSOR_HOME


def test_the_landing_page_asks_a_visitor_to_sign_in(client: Client) -> None:
    response = client.get(reverse("after_login"))

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={reverse('after_login')}"


def test_the_sign_in_page_offers_a_password_reset(client: Client) -> None:
    page = client.get(LOGIN).content.decode()

    assert f'href="{RESET}">Forgot your password?</a>' in page


# --- Resetting a forgotten password ------------------------------------------------------------


def reset_link(message: mail.EmailMessage) -> str:
    [url] = re.findall(r"http://testserver(/accounts/reset/\S+/)", message.body)
    return url


@pytest.fixture
def ask_reset(client: Client, django_capture_on_commit_callbacks):
    """Post the "forgot your password" form and let the outbox send what it queued (eager
    Celery in tests), as a worker would once the request's transaction commits."""

    def ask(email: str, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(RESET, {"email": email}, follow=True, **extra)

    return ask


def test_a_sponsor_resets_a_forgotten_password_end_to_end(
    client: Client, sponsor, ask_reset
) -> None:
    page = client.get(RESET)
    assert page.status_code == 200
    assert "we don't say whether an address has an account" in page.content.decode()

    response = ask_reset(sponsor.email.upper())

    assert response.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert "If an account uses this address" in response.content.decode()
    [message] = mail.outbox
    assert message.to == [sponsor.email]
    assert message.subject == "Reset your password for Reverse mentoring"
    assert "Hello Bob" in message.body
    assert "The link works once, for 3 days" in message.body
    assert f"http://testserver{RESET}" in message.body

    # The link leads to the form (Django moves the token out of the address first).
    response = client.get(reset_link(message), follow=True)
    assert "Choose a new password" in response.content.decode()
    set_password = response.redirect_chain[-1][0]
    response = client.post(
        set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("password_reset_complete")
    assert "Your password is changed" in client.get(response["Location"]).content.decode()

    client.logout()
    assert sign_in(client, sponsor).status_code == 200  # the old password no longer works
    assert landing(client, sponsor, password=NEW_PASSWORD) == SPONSOR_HOME


def test_a_used_link_says_so_and_how_to_get_a_new_one(client: Client, sponsor, ask_reset) -> None:
    ask_reset(sponsor.email)
    link = reset_link(mail.outbox[0])
    set_password = client.get(link)["Location"]
    client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    for url in (link, set_password):
        response = client.get(url, follow=True)
        page = response.content.decode()
        assert "This link cannot be used" in page
        assert "works only once, and for 3 days" in page
        assert f'href="{RESET}">Send me a new link</a>' in page
        assert "new_password1" not in page
    sponsor.refresh_from_db()
    assert sponsor.check_password(NEW_PASSWORD)


def test_a_tampered_link_gets_the_same_helpful_page(client: Client, sponsor, ask_reset) -> None:
    ask_reset(sponsor.email)
    link = reset_link(mail.outbox[0])

    response = client.get(link[:-3] + "xx/", follow=True)

    assert response.status_code == 200
    assert "This link cannot be used" in response.content.decode()


def test_a_mismatched_new_password_is_told_in_the_page(client: Client, sponsor, ask_reset) -> None:
    ask_reset(sponsor.email)
    set_password = client.get(reset_link(mail.outbox[0]))["Location"]

    response = client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": "x"})

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    sponsor.refresh_from_db()
    assert sponsor.check_password(PASSWORD)


def test_an_unknown_address_gets_the_same_page_and_no_mail(
    client: Client, sponsor, ask_reset
) -> None:
    known = ask_reset(sponsor.email)
    mail.outbox.clear()
    unknown = ask_reset("nobody@example.org")

    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.content == known.content
    assert mail.outbox == []


def test_an_inactive_account_gets_no_mail(client: Client, sponsor, ask_reset) -> None:
    User.objects.filter(pk=sponsor.pk).update(is_active=False)

    ask_reset(sponsor.email)

    assert mail.outbox == []


def test_the_links_come_from_site_url_not_the_host_header(
    client: Client, sponsor, settings, ask_reset
):
    settings.SITE_URL = "https://mentoring.example.com"
    settings.ALLOWED_HOSTS = ["evil.example"]

    ask_reset(sponsor.email, HTTP_HOST="evil.example")

    body = mail.outbox[0].body
    assert "https://mentoring.example.com/accounts/reset/" in body
    assert "evil.example" not in body


def test_a_signed_in_user_changes_their_password(client: Client, sponsor) -> None:
    client.force_login(sponsor)
    url = reverse("password_change")
    assert "Change your password" in client.get(url).content.decode()

    response = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )

    assert "Your password is changed" in response.content.decode()
    sponsor.refresh_from_db()
    assert sponsor.check_password(NEW_PASSWORD)


# --- Targets and asks in the admin -----------------------------------------------------------

ASKS = reverse("admin:reporting_sponsorask_changelist")
ADD_ASK = reverse("admin:reporting_sponsorask_add")
ASK_TEXT = "Please mention the programme at the March town hall."


def _ask_url(ask: SponsorAsk) -> str:
    return reverse("admin:reporting_sponsorask_change", args=[ask.pk])


def test_the_programme_page_has_the_targets_with_their_help(
    client: Client, manager, programme
) -> None:
    client.force_login(manager)

    response = client.get(reverse("admin:programmes_programme_change", args=[programme.pk]))

    page = response.content.decode()
    assert ">Targets</h2>" in page
    assert "marks each headline figure against its target" in page
    for name in (
        "sessions_per_month_target",
        "target_notes_logged",
        "target_action_commitment",
        "target_action_follow_through",
        "target_pulse_response_rate",
        "target_cancellation_rate",
        "target_reversion_rate",
        "target_nps",
        "target_confidence_change",
    ):
        assert f'name="{name}"' in page, name


def test_a_manager_writes_an_ask_on_any_day_and_it_is_kept_as_the_month(
    client: Client, manager, programme
) -> None:
    client.force_login(manager)
    assert client.get(ADD_ASK).status_code == 200

    response = client.post(
        ADD_ASK, {"programme": programme.pk, "month": "2026-11-17", "text": ASK_TEXT}
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    ask = SponsorAsk.objects.get()
    assert (ask.programme, ask.month, ask.text, ask.written_by) == (
        programme,
        date(2026, 11, 1),
        ASK_TEXT,
        manager,
    )
    page = client.get(ASKS).content.decode()
    assert "November 2026" in page
    assert ASK_TEXT in page


def test_the_last_manager_to_edit_an_ask_is_its_writer(client: Client, manager, programme) -> None:
    ask = SponsorAsk.objects.create(programme=programme, month=date(2026, 11, 1), text="Old")
    other = UserFactory(username="erin", is_staff=True)
    other.groups.set(manager.groups.all())
    programme.managers.add(other)  # a second manager of the same programme
    client.force_login(other)

    response = client.post(
        _ask_url(ask), {"programme": programme.pk, "month": "2026-11-01", "text": ASK_TEXT}
    )

    assert response.status_code == 302
    ask.refresh_from_db()
    assert (ask.text, ask.written_by) == (ASK_TEXT, other)


def test_a_second_ask_for_the_same_month_is_refused_in_words(
    client: Client, manager, programme
) -> None:
    SponsorAsk.objects.create(programme=programme, month=date(2026, 11, 1), text="First")
    client.force_login(manager)

    response = client.post(
        ADD_ASK, {"programme": programme.pk, "month": "2026-11-30", "text": ASK_TEXT}
    )

    assert response.status_code == 200
    assert "This programme already has an ask for that month" in response.content.decode()
    assert SponsorAsk.objects.count() == 1


def test_the_asks_are_for_managers_only(
    client: Client, manager, sponsor, outsider, programme
) -> None:
    ask = SponsorAsk.objects.create(programme=programme, month=date(2026, 11, 1), text="First")
    pages = (ASKS, ADD_ASK, _ask_url(ask))
    for user in (None, sponsor, outsider):
        client.logout()
        if user is not None:
            client.force_login(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 302, (user, url)
            assert response["Location"].startswith("/admin/login/")
        response = client.post(ADD_ASK, {"programme": programme.pk, "month": "2026-12-01"})
        assert response.status_code == 302
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(ASKS).status_code == 403
    assert SponsorAsk.objects.count() == 1


def test_the_list_of_asks_takes_a_fixed_number_of_queries(
    client: Client, manager, django_assert_num_queries
) -> None:
    for n in range(3):
        programme = ProgrammeFactory(name=f"Programme {n}")
        programme.managers.add(manager)
        for month in (10, 11):
            SponsorAsk.objects.create(
                programme=programme, month=date(2026, month, 1), text="x", written_by=manager
            )
    client.force_login(manager)

    # session, user, the user's permissions and their group's, the programmes for the
    # filter, the count, the count with no filter, the page of asks (with programme and
    # writer)
    with django_assert_num_queries(8):
        response = client.get(ASKS)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 6
