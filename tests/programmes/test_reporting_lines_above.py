"""Loading only the reporting lines above some people (a cohort's members), walked up in the
database, instead of the whole directory."""

from programmes.models import Person
from programmes.reporting_lines import (
    tree_intervals,
)
from tests.factories import PersonFactory
from tests.oracles import in_same_line


def test_it_loads_everyone_above_the_people_asked_and_nobody_else_in_one_query(
    db: None, django_assert_num_queries
) -> None:
    # ceo ─┬─ cto ── eng ── dev        boss ── clerk
    #      └─ cfo
    ceo = PersonFactory()
    cto = PersonFactory(manager=ceo)
    eng = PersonFactory(manager=cto)
    dev = PersonFactory(manager=eng)
    cfo = PersonFactory(manager=ceo)
    boss = PersonFactory()
    clerk = PersonFactory(manager=boss)
    asked = Person.objects.filter(pk__in=[dev.pk, cfo.pk]).values("pk")

    with django_assert_num_queries(1):
        managers = Person.objects.managers_above(asked)

    assert managers == {
        dev.pk: eng.pk,
        eng.pk: cto.pk,
        cto.pk: ceo.pk,
        ceo.pk: None,
        cfo.pk: ceo.pk,
    }
    assert boss.pk not in managers
    assert clerk.pk not in managers


def test_its_intervals_nest_as_the_whole_directorys_do(db: None) -> None:
    people = [PersonFactory()]
    for k in range(1, 30):  # a random-looking tree: everyone's manager came before them
        people.append(PersonFactory(manager=people[(k * 7) % k]))
    asked = people[5::4]
    whole = Person.objects.manager_map()
    part = tree_intervals(
        Person.objects.managers_above(
            Person.objects.filter(pk__in=[p.pk for p in asked]).values("pk")
        )
    )

    def above(a: int, b: int) -> bool:
        return part[a][0] <= part[b][0] and part[b][1] <= part[a][1]

    for a in asked:
        for b in asked:
            assert (above(a.pk, b.pk) or above(b.pk, a.pk)) == in_same_line(a.pk, b.pk, whole)


def test_it_stops_at_a_loop_in_the_directory(db: None) -> None:
    # The directory refuses to save a loop through its forms; one written around them still
    # must not make the walk run forever.
    a = PersonFactory()
    b = PersonFactory(manager=a)
    c = PersonFactory(manager=b)
    Person.objects.filter(pk=a.pk).update(manager=b)

    managers = Person.objects.managers_above(Person.objects.filter(pk=c.pk).values("pk"))

    assert managers == {c.pk: b.pk, b.pk: a.pk, a.pk: b.pk}
    assert set(tree_intervals(managers)) == {a.pk, b.pk, c.pk}
