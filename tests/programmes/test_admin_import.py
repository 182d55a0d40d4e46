"""Programme managers import people from a CSV file in the admin: upload, preview, confirm."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from programmes.admin_import import EXAMPLE_CSV
from programmes.models import Cohort, Participant, Person
from tests.factories import CohortFactory, PersonFactory, UserFactory

URL = "/admin/programmes/participant/import/"

GOOD = (
    "full_name,email,job_title,manager_email,role\n"
    "Grace Okafor,grace@example.org,COO,,mentee\n"
    "Mei Chen,mei@example.org,Engineer,grace@example.org,reverse_mentor\n"
    "Sam Taylor,sam@example.org,Trainee,mei@example.org,\n"
)


@pytest.fixture
def cohort(programme) -> Cohort:
    return CohortFactory(programme=programme, name="Wave 2", status=Cohort.Status.INTAKE)


def _upload(client: Client, text: str | bytes, cohort: Cohort | None = None):
    data = text.encode() if isinstance(text, str) else text
    form = {"file": SimpleUploadedFile("people.csv", data, content_type="text/csv")}
    if cohort is not None:
        form["cohort"] = str(cohort.pk)
    return client.post(URL, form)


def test_it_shows_the_upload_form_inside_the_admin(client: Client, manager) -> None:
    client.force_login(manager)

    html = client.get(URL).content.decode()

    assert '<div class="breadcrumbs">' in html
    assert 'href="/admin/programmes/participant/">Participants</a>' in html
    assert "<h1>Import people from CSV</h1>" in html
    assert 'enctype="multipart/form-data"' in html
    assert "csrfmiddlewaretoken" in html
    assert "manager_email" in html
    assert 'href="?example=csv"' in html


def test_it_offers_the_import_from_the_participant_list(client: Client, manager) -> None:
    client.force_login(manager)

    html = client.get("/admin/programmes/participant/").content.decode()

    assert f'href="{URL}">Import from CSV</a>' in html


def test_it_downloads_an_example_that_imports_cleanly(client: Client, manager, cohort) -> None:
    client.force_login(manager)

    response = client.get(URL, {"example": "csv"})
    preview = _upload(client, response.content, cohort)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode() == EXAMPLE_CSV
    assert preview.context["plan"].is_valid


def test_it_previews_a_good_file_and_imports_it_on_confirmation(
    client: Client, manager, cohort: Cohort
) -> None:
    PersonFactory(full_name="Grace Okafor", email="GRACE@example.org", job_title="CFO")
    client.force_login(manager)

    preview = _upload(client, GOOD, cohort)
    html = preview.content.decode()

    assert preview.status_code == 200
    assert "Preview: nothing has been imported yet" in html
    assert "update (job title)" in html
    assert "<td>Reverse-mentor</td>" in html
    assert 'value="Confirm import"' in html
    assert Person.objects.count() == 1  # nothing written by the preview

    done = client.post(URL, {"preview": preview.context["preview"]}, follow=True)

    assert done.redirect_chain == [
        (f"/admin/programmes/participant/?cohort__id__exact={cohort.pk}", 302)
    ]
    assert "Imported: 2 new people, 1 updated, 2 participants added" in done.content.decode()
    assert Person.objects.get(email="sam@example.org").manager.email == "mei@example.org"
    assert Person.objects.get(email="GRACE@example.org").job_title == "COO"
    assert set(
        Participant.objects.filter(cohort=cohort).values_list("person__email", flat=True)
    ) == {"GRACE@example.org", "mei@example.org"}


def test_it_imports_people_without_a_cohort_into_the_directory(client: Client, manager) -> None:
    client.force_login(manager)

    preview = _upload(client, "full_name,email\nAnn Lee,ann@example.org\n")
    done = client.post(URL, {"preview": preview.context["preview"]})

    assert done["Location"] == "/admin/programmes/person/"
    assert Person.objects.filter(email="ann@example.org").exists()


def test_it_shows_every_problem_with_its_line_and_column_and_offers_no_confirmation(
    client: Client, manager, cohort: Cohort
) -> None:
    client.force_login(manager)

    response = _upload(
        client,
        "full_name,email,manager_email,time_zone\n"
        "Ann,ann@example.org,,\n"
        "Bob,bob@,,\n"
        "Cy,cy@example.org,x@y.org,Mars/Olympus\n",
        cohort,
    )
    html = response.content.decode()

    assert response.status_code == 200
    assert "This file has 3 problems, so nothing can be imported." in html
    assert "<td>3</td>\n            <td><code>email</code></td>" in html
    assert "“bob@” is not a valid e-mail address" in html
    assert "<td>4</td>\n            <td><code>manager_email</code></td>" in html
    assert "manager “x@y.org” is neither in this file nor in the directory" in html
    assert "“Mars/Olympus” is not a time zone we know" in html
    assert "Confirm import" not in html
    assert not response.context["preview"]


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00garbage",
        bytes(range(256)),
        b"\xff\xfe\x00\x00",
        b"just some words, not a list of people",
    ],
)
def test_it_answers_a_file_that_is_not_a_csv_of_people_with_a_message(
    client: Client, manager, data: bytes
) -> None:
    client.force_login(manager)

    response = _upload(client, data)

    assert response.status_code == 200
    assert "nothing can be imported" in response.content.decode()
    assert not Person.objects.exists()


def test_it_asks_for_a_file_when_none_or_an_empty_one_is_sent(client: Client, manager) -> None:
    client.force_login(manager)

    missing = client.post(URL, {"cohort": ""})
    empty = _upload(client, b"")

    assert missing.status_code == empty.status_code == 200
    assert missing.context["upload"].errors == {"file": ["This field is required."]}
    assert empty.context["upload"].errors == {"file": ["The submitted file is empty."]}


def test_it_refuses_a_file_over_the_size_limit_before_reading_it(client: Client, manager) -> None:
    client.force_login(manager)

    response = _upload(client, b"full_name,email\n" + b"x" * 5 * 2**20)

    assert response.context["upload"].errors == {
        "file": ["This file is larger than 5 MB: split it into smaller files."]
    }


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=12_000)
def test_it_says_so_when_a_valid_file_is_too_large_to_confirm_in_one_request(
    client: Client, manager
) -> None:
    # A file of random-looking text hardly compresses, so its signed copy may exceed what
    # Django accepts as form data; the page says so rather than failing on confirmation.
    rows = [
        f"P{i} {i * 7919 % 10007:x},p{i}.{i * 104729 % 99991:x}@example.org" for i in range(400)
    ]
    client.force_login(manager)

    response = _upload(client, "full_name,email\n" + "\n".join(rows))

    assert response.context["plan"].is_valid
    assert "too large to confirm in one go" in response.content.decode()
    assert "Confirm import" not in response.content.decode()


def test_it_refuses_a_tampered_confirmation(client: Client, manager) -> None:
    client.force_login(manager)
    preview = _upload(client, "full_name,email\nAnn Lee,ann@example.org\n")

    response = client.post(URL, {"preview": preview.context["preview"] + "x"})

    assert response.status_code == 200
    assert "This preview could not be read: upload the file again." in response.content.decode()
    assert not Person.objects.exists()


def test_it_refuses_a_confirmation_prepared_for_someone_else(client: Client, manager) -> None:
    colleague = UserFactory(username="dana", is_staff=True)
    colleague.groups.set(manager.groups.all())
    client.force_login(colleague)
    preview = _upload(client, "full_name,email\nAnn Lee,ann@example.org\n")
    client.force_login(manager)

    response = client.post(URL, {"preview": preview.context["preview"]})

    assert "This preview could not be read" in response.content.decode()
    assert not Person.objects.exists()


def test_it_checks_the_file_again_on_confirmation(client: Client, manager) -> None:
    PersonFactory(email="boss@example.org")
    client.force_login(manager)
    preview = _upload(
        client, "full_name,email,manager_email\nAnn Lee,ann@example.org,boss@example.org\n"
    )
    Person.objects.filter(email="boss@example.org").delete()  # meanwhile

    response = client.post(URL, {"preview": preview.context["preview"]})
    html = response.content.decode()

    assert response.status_code == 200
    assert "The directory has changed since the preview" in html
    assert "manager “boss@example.org” is neither in this file nor in the directory" in html
    assert not Person.objects.exists()


def test_it_lets_only_staff_who_may_add_people_and_participants_import(
    client: Client, sponsor, outsider
) -> None:
    for user in (sponsor, outsider):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    clerk = UserFactory(username="dana", is_staff=True)
    clerk.user_permissions.set(
        Permission.objects.filter(codename__in=["add_person", "change_person", "view_person"])
    )
    client.force_login(clerk)
    assert client.get(URL).status_code == 403
    assert _upload(client, GOOD).status_code == 403
    assert not Person.objects.exists()
