import pytest
from django.test import Client


@pytest.mark.django_db
def test_it_tells_each_kind_of_user_where_to_go(client: Client, django_assert_num_queries) -> None:
    # An anonymous visitor costs no query at all: no session, no user lookup.
    with django_assert_num_queries(0):
        response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert 'href="#main"' in html
    assert '<main id="main"' in html
    for audience in ("Mentees and reverse-mentors", "Sponsors", "Programme managers"):
        assert audience in html
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html


def test_it_shows_the_admin_link_only_to_staff(client: Client, manager, sponsor) -> None:
    client.force_login(sponsor)
    assert "Programme admin</a>" not in client.get("/").content.decode()

    client.force_login(manager)
    assert "Programme admin</a>" in client.get("/").content.decode()
