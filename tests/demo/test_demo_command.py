import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from demo.organisation import MANAGER, SPONSOR
from programmes.models import Cohort, Person, Programme

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings) -> None:
    settings.DEBUG = True


def test_it_builds_one_realistic_organisation(capsys) -> None:
    call_command("demo")

    programme = Programme.objects.get()
    assert programme.purpose
    assert programme.key_skills.count() == 3
    assert programme.topics.count() == 8
    statuses = set(programme.cohorts.values_list("status", flat=True))
    assert statuses == {Cohort.Status.FINISHED, Cohort.Status.RUNNING}

    people = Person.objects.all()
    assert people.count() == 40
    # One chief executive at the top; everyone else reports to someone.
    assert list(people.filter(manager=None).values_list("job_title", flat=True)) == [
        "Chief Executive Officer"
    ]
    assert people.values("department").distinct().count() == 6

    out = capsys.readouterr().out
    for username, password, _ in (MANAGER, SPONSOR):
        assert f"username {username}" in out
        assert f"password {password}" in out
        assert authenticate(username=username, password=password) is not None
    assert programme.managers.get().username == MANAGER[0]
    assert programme.sponsors.get().username == SPONSOR[0]


def test_it_loads_once_and_rebuilds_on_reset(capsys) -> None:
    call_command("demo")
    first_programme = Programme.objects.get().pk

    call_command("demo")
    assert "already loaded" in capsys.readouterr().out
    assert Person.objects.count() == 40

    call_command("demo", "--reset")
    assert Person.objects.count() == 40
    assert Programme.objects.get().pk != first_programme


def test_it_refuses_to_run_with_debug_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("demo")
    assert not Programme.objects.exists()
