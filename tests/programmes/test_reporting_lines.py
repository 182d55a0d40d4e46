import pytest
from django.core.exceptions import ValidationError

from programmes.models import Person
from programmes.models.people import PersonQuerySet
from programmes.reporting_lines import (
    chain_above,
    find_loops,
    tree_intervals,
)
from tests.factories import PersonFactory
from tests.oracles import in_same_line

# ceo ─┬─ cto ── eng ── dev
#      └─ cfo
LINES = {"ceo": None, "cto": "ceo", "eng": "cto", "dev": "eng", "cfo": "ceo"}


def test_it_lists_everyone_above_nearest_first() -> None:
    assert chain_above("dev", LINES) == ["eng", "cto", "ceo"]
    assert chain_above("ceo", LINES) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [("dev", "eng"), ("dev", "ceo"), ("ceo", "dev"), ("cto", "dev"), ("cfo", "ceo")],
)
def test_it_finds_two_people_in_one_line_at_any_depth_either_way(a: str, b: str) -> None:
    assert in_same_line(a, b, LINES)


@pytest.mark.parametrize(("a", "b"), [("dev", "cfo"), ("cfo", "eng"), ("cto", "cfo")])
def test_it_keeps_people_in_different_lines_apart(a: str, b: str) -> None:
    assert not in_same_line(a, b, LINES)


def test_it_names_everyone_on_a_loop_and_nobody_else() -> None:
    looped = {"a": "b", "b": "c", "c": "a", "d": "a", "e": None, "f": "f"}
    assert find_loops(looped) == {"a", "b", "c", "f"}
    assert find_loops(LINES) == set()


def test_it_stops_walking_at_a_loop() -> None:
    assert chain_above("d", {"a": "b", "b": "a", "d": "a"}) == ["a", "b"]


def test_it_loads_the_directory_in_one_query(db: None, django_assert_num_queries) -> None:
    boss = PersonFactory()
    report = PersonFactory(manager=boss)
    with django_assert_num_queries(1):
        managers = Person.objects.manager_map()
    assert managers == {boss.pk: None, report.pk: boss.pk}
    assert in_same_line(boss.pk, report.pk, managers)


def test_it_refuses_to_save_a_manager_loop_in_the_directory(db: None) -> None:
    ceo = PersonFactory(full_name="Margaret Ellison")
    cto = PersonFactory(manager=ceo)
    dev = PersonFactory(manager=cto)

    ceo.manager = dev
    with pytest.raises(ValidationError) as error:
        ceo.full_clean()
    assert "loop" in str(error.value.message_dict["manager"])

    ceo.manager = ceo
    with pytest.raises(ValidationError) as error:
        ceo.full_clean()
    assert error.value.message_dict["manager"] == ["Someone cannot be their own manager."]


def test_the_loop_check_reads_only_the_line_above_in_one_query(
    db: None, django_assert_num_queries, monkeypatch
) -> None:
    ceo = PersonFactory()
    dev = PersonFactory(manager=PersonFactory(manager=ceo))
    PersonFactory.create_batch(20, manager=ceo)  # the rest of the directory
    ceo.manager = dev

    def whole_directory(self):
        raise AssertionError("a save must not read the whole directory")

    monkeypatch.setattr(PersonQuerySet, "manager_map", whole_directory)
    with django_assert_num_queries(1), pytest.raises(ValidationError):
        ceo.clean()


def test_it_accepts_a_manager_from_another_line(db: None) -> None:
    ceo = PersonFactory()
    cfo = PersonFactory(manager=ceo)
    dev = PersonFactory(manager=PersonFactory(manager=ceo))
    dev.manager = cfo
    dev.full_clean()  # raises ValidationError if it took this for a loop
    dev.save()
    assert Person.objects.manager_map()[dev.pk] == cfo.pk


def test_it_numbers_the_tree_so_that_lines_are_nested_intervals() -> None:
    intervals = tree_intervals(LINES)

    def above(a: str, b: str) -> bool:
        return intervals[a][0] <= intervals[b][0] and intervals[b][1] <= intervals[a][1]

    for a in LINES:
        for b in LINES:
            assert (above(a, b) or above(b, a)) == in_same_line(a, b, LINES), (a, b)


def test_it_numbers_people_on_a_loop_without_hanging() -> None:
    intervals = tree_intervals({"a": "b", "b": "a", "c": None})
    assert set(intervals) == {"a", "b", "c"}
