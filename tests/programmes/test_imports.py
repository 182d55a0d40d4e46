"""The CSV import of people and participants: reading, checking, and writing all or nothing."""

import math
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from programmes.imports import (
    BATCH_SIZE,
    COLUMNS,
    MAX_ROWS,
    ImportConflict,
    ImportNotValid,
    ImportPlan,
    parse_people_csv,
    people_import,
)
from programmes.models import Cohort, Participant, Person, Role
from tests.factories import CohortFactory, ParticipantFactory, PersonFactory

HEADER = "full_name,email,job_title,department,manager_email,time_zone,language,role,capacity"


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _problems(plan: ImportPlan) -> list[tuple[int | None, str, str]]:
    return [(p.line, p.column, p.message) for p in plan.problems]


@pytest.fixture
def cohort(programme) -> Cohort:
    return CohortFactory(programme=programme, name="Wave 1", status=Cohort.Status.INTAKE)


def test_it_creates_people_their_managers_and_participants_from_a_good_file(
    cohort: Cohort,
) -> None:
    data = _csv(
        HEADER,
        # Mei's manager comes later in the file: the order of lines does not matter.
        "Mei Chen,mei@example.org,Engineer,Technology,tomas@example.org,Asia/Singapore,en,"
        "reverse_mentor,2",
        "Grace Okafor,grace@example.org,COO,Operations,,,,mentee,",
        "Tomás Ruiz,tomas@example.org,Analyst,Finance,grace@example.org,Europe/Madrid,es,,",
    )

    plan = parse_people_csv(data=data, cohort=cohort)
    assert plan.problems == []
    assert [(r.line, r.action, r.participant) for r in plan.rows] == [
        (2, "new", "add"),
        (3, "new", "add"),
        (4, "new", ""),
    ]
    result = people_import(plan=plan)

    assert (result.created, result.updated, result.participants_added) == (3, 0, 2)
    mei = Person.objects.select_related("manager__manager").get(email="mei@example.org")
    assert (mei.full_name, mei.job_title, mei.department) == ("Mei Chen", "Engineer", "Technology")
    assert (mei.time_zone, mei.language) == ("Asia/Singapore", "en")
    assert mei.manager.full_name == "Tomás Ruiz"
    assert mei.manager.manager.full_name == "Grace Okafor"
    grace = Person.objects.get(email="grace@example.org")
    assert (grace.manager, grace.time_zone, grace.language) == (None, "Europe/London", "en")
    assert sorted(
        Participant.objects.filter(cohort=cohort).values_list("person__email", "role", "capacity")
    ) == [
        ("grace@example.org", Role.MENTEE, 1),
        ("mei@example.org", Role.REVERSE_MENTOR, 2),
    ]


def test_it_reads_columns_in_any_order_and_case_and_forgives_how_people_type(
    cohort: Cohort,
) -> None:
    data = _csv(
        "E-mail;Full Name;ROLE;Time zone;Language",
        "ana@example.org;Ana Lima;Reverse mentor;europe/lisbon;Spanish",
        "ben@example.org;Ben Ode;MENTOR;;",
        "cy@example.org;Cy Park;reverse-mentor;;FR",
    )

    plan = parse_people_csv(data=data, cohort=cohort)

    assert plan.problems == []
    ana = plan.rows[0]
    assert (ana.full_name, ana.role, ana.time_zone, ana.language) == (
        "Ana Lima",
        Role.REVERSE_MENTOR,
        "Europe/Lisbon",
        "es",
    )
    assert {r.role for r in plan.rows} == {Role.REVERSE_MENTOR}
    assert plan.rows[2].language == "fr"


def test_it_reads_utf8_with_a_byte_order_mark_and_windows_1252(db: None) -> None:
    text = "full_name,email\nLéa Martin,lea@example.org\n"

    with_bom = parse_people_csv(data=b"\xef\xbb\xbf" + text.encode(), cohort=None)
    windows = parse_people_csv(data=text.encode("cp1252"), cohort=None)

    assert with_bom.problems == windows.problems == []
    assert with_bom.rows[0].full_name == windows.rows[0].full_name == "Léa Martin"
    assert (with_bom.encoding, windows.encoding) == ("UTF-8", "Windows-1252")


def test_it_updates_someone_already_in_the_directory_matched_by_email_in_any_case(
    db: None,
) -> None:
    boss = PersonFactory(email="boss@example.org")
    kim = PersonFactory(
        full_name="Kim Old",
        email="Kim@Example.org",
        job_title="Analyst",
        department="Finance",
        time_zone="Europe/London",
        language="en",
    )
    data = _csv(
        "full_name,email,job_title,manager_email,time_zone",
        "Kim New,kim@example.org,Lead Analyst,BOSS@example.org,Europe/Paris",
    )

    plan = parse_people_csv(data=data, cohort=None)
    assert plan.rows[0].action == "update"
    assert plan.rows[0].changes == ["name", "job title", "time zone", "manager"]
    result = people_import(plan=plan)

    kim.refresh_from_db()
    assert (result.created, result.updated) == (0, 1)
    assert (kim.full_name, kim.job_title, kim.time_zone, kim.manager) == (
        "Kim New",
        "Lead Analyst",
        "Europe/Paris",
        boss,
    )
    # Columns the file does not have are left alone; the e-mail keeps its spelling.
    assert (kim.department, kim.language, kim.email) == ("Finance", "en", "Kim@Example.org")
    assert Person.objects.count() == 2


def test_it_says_who_is_unchanged_and_who_is_already_in_the_cohort(cohort: Cohort) -> None:
    kim = PersonFactory(full_name="Kim Ode", email="kim@example.org", job_title="Analyst")
    ParticipantFactory(cohort=cohort, person=kim, role=Role.REVERSE_MENTOR)

    plan = parse_people_csv(
        data=_csv("full_name,email,job_title,role", "Kim Ode,kim@example.org,Analyst,mentor"),
        cohort=cohort,
    )
    result = people_import(plan=plan)

    assert (plan.rows[0].action, plan.rows[0].participant) == ("unchanged", "already in cohort")
    assert (result.created, result.updated, result.participants_added) == (0, 0, 0)
    assert Participant.objects.filter(cohort=cohort).count() == 1


def test_it_adds_someone_from_the_directory_to_the_cohort(cohort: Cohort) -> None:
    kim = PersonFactory(full_name="Kim Ode", email="kim@example.org")

    plan = parse_people_csv(
        data=_csv("full_name,email,role", "Kim Ode,kim@example.org,mentee"), cohort=cohort
    )
    people_import(plan=plan)

    assert Participant.objects.get(cohort=cohort).person == kim


def test_it_rejects_a_bad_email(db: None) -> None:
    plan = parse_people_csv(
        data=_csv("full_name,email", "Ann,ann@example.org", "Bob,bob@", "Cy,"), cohort=None
    )

    assert _problems(plan) == [
        (3, "email", "“bob@” is not a valid e-mail address"),
        (4, "email", "the e-mail address is missing"),
    ]


def test_it_rejects_the_same_person_twice_in_one_file(db: None) -> None:
    plan = parse_people_csv(
        data=_csv(
            "full_name,email", "Bob,bob@example.org", "Ann,ann@example.org", "B,BOB@example.org"
        ),
        cohort=None,
    )

    assert _problems(plan) == [(4, "email", "BOB@example.org is already on line 2")]


def test_it_rejects_an_unknown_manager(db: None) -> None:
    PersonFactory(email="boss@example.org")
    plan = parse_people_csv(
        data=_csv(
            "full_name,email,manager_email",
            "Ann,ann@example.org,boss@example.org",  # in the directory
            "Bob,bob@example.org,ann@example.org",  # in the file
            "Cy,cy@example.org,x@y.org",
        ),
        cohort=None,
    )

    assert _problems(plan) == [
        (4, "manager_email", "manager “x@y.org” is neither in this file nor in the directory")
    ]


def test_it_rejects_a_manager_chain_that_loops(db: None) -> None:
    plan = parse_people_csv(
        data=_csv(
            "full_name,email,manager_email",
            "Ann,ann@example.org,",
            "Bob,bob@example.org,cy@example.org",
            "Cy,cy@example.org,bob@example.org",
            "Di,di@example.org,di@example.org",
            "Ed,ed@example.org,bob@example.org",  # under the loop, not on it
        ),
        cohort=None,
    )

    assert _problems(plan) == [
        (3, "manager_email", "manager chain loops: line 3 → line 4 → line 3"),
        (4, "manager_email", "manager chain loops: line 4 → line 3 → line 4"),
        (5, "manager_email", "someone cannot be their own manager"),
    ]


def test_it_rejects_a_loop_through_people_whose_manager_the_file_changes(db: None) -> None:
    # In the directory: ceo ← vp ← lead. The file puts the ceo under the lead.
    ceo = PersonFactory(email="ceo@example.org")
    vp = PersonFactory(email="vp@example.org", manager=ceo)
    PersonFactory(email="lead@example.org", manager=vp)

    plan = parse_people_csv(
        data=_csv("full_name,email,manager_email", "The CEO,ceo@example.org,lead@example.org"),
        cohort=None,
    )

    assert _problems(plan) == [
        (
            2,
            "manager_email",
            "manager chain loops: line 2 → lead@example.org → vp@example.org → line 2",
        )
    ]


def test_it_rejects_an_unknown_time_zone_language_role_and_capacity(cohort: Cohort) -> None:
    plan = parse_people_csv(
        data=_csv(
            HEADER,
            "Ann,ann@example.org,,,,Mars/Olympus,en,,",
            "Bob,bob@example.org,,,,,klingon,,",
            "Cy,cy@example.org,,,,,,sponsor,",
            "Di,di@example.org,,,,,,mentee,6",
            "Ed,ed@example.org,,,,,,,2",
        ),
        cohort=cohort,
    )

    assert _problems(plan) == [
        (
            2,
            "time_zone",
            "“Mars/Olympus” is not a time zone we know: use a name such as Europe/London or "
            "America/New_York",
        ),
        (3, "language", "“klingon” is not a language we offer: use one of en, fr, de, es"),
        (4, "role", "“sponsor” is not a role: use mentee or reverse_mentor"),
        (5, "capacity", "“6” is not a capacity: use a whole number 1 to 5"),
        (6, "capacity", "a capacity is only for someone with a role"),
    ]


def test_it_asks_for_a_cohort_when_people_have_a_role(db: None) -> None:
    plan = parse_people_csv(
        data=_csv("full_name,email,role", "Ann,ann@example.org,mentee", "Bob,bob@example.org,"),
        cohort=None,
    )

    assert _problems(plan) == [
        (None, "", "1 person has a role, but no cohort was chosen: choose the cohort they join")
    ]


def test_it_rejects_someone_already_in_the_cohort_with_another_role(cohort: Cohort) -> None:
    ParticipantFactory(cohort=cohort, person__email="kim@example.org", role=Role.MENTEE)

    plan = parse_people_csv(
        data=_csv("full_name,email,role", "Kim,kim@example.org,reverse_mentor"), cohort=cohort
    )

    assert _problems(plan) == [
        (
            2,
            "role",
            "already in this cohort as Mentee (executive): change their role in the participant "
            "list, not by import",
        )
    ]


def test_it_rejects_a_line_with_the_wrong_number_of_fields(db: None) -> None:
    plan = parse_people_csv(
        data=_csv(
            "full_name,email,job_title",
            "Ann,ann@example.org,Analyst",
            "Bob,bob@example.org",
            "Cy,cy@example.org,Chief, Finance",
            "Di,di@example.org,,,",  # empty trailing fields are forgiven
        ),
        cohort=None,
    )

    assert _problems(plan) == [
        (3, "", "this line has 2 fields; the header has 3"),
        (4, "", "this line has 4 fields; the header has 3"),
    ]


def test_it_numbers_lines_as_an_editor_does_across_blank_lines_and_quoted_line_breaks(
    db: None,
) -> None:
    data = _csv(
        "full_name,email,job_title",
        "",
        'Ann,ann@example.org,"Head of',
        'Things"',
        "Bob,bob@,",
    )

    plan = parse_people_csv(data=data, cohort=None)

    assert (plan.rows[0].line, plan.rows[0].job_title) == (3, "Head of\nThings")
    assert _problems(plan) == [(5, "email", "“bob@” is not a valid e-mail address")]


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (b"", [(None, "", "the file is empty")]),
        (b"\xef\xbb\xbf\r\n\r\n", [(None, "", "the file is empty")]),
        (b"full_name,email\n", [(None, "", "the file has a header but nobody in it")]),
        (
            b"Ann,ann@example.org\n",
            [
                (
                    1,
                    "",
                    "the first line must be a header naming the columns: full_name, email, "
                    "job_title, department, manager_email, time_zone, language, role, capacity",
                )
            ],
        ),
        (
            b"full_name,job_title,team\nAnn,Analyst,Blue\n",
            [
                (
                    1,
                    "team",
                    "“team” is not a column we know; the columns are full_name, email, "
                    "job_title, department, manager_email, time_zone, language, role, capacity",
                ),
                (1, "email", "the header has no “email” column"),
            ],
        ),
        (
            b"full_name,email,email\nAnn,a@example.org,b@example.org\n",
            [(1, "email", "the column “email” appears 2 times")],
        ),
    ],
)
def test_it_rejects_a_file_without_a_usable_header_or_people(
    db: None, data: bytes, problems: list
) -> None:
    plan = parse_people_csv(data=data, cohort=None)

    assert _problems(plan) == problems


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",  # the start of an .xlsx
        "full_name,email\n".encode("utf-16"),
        bytes(range(256)) * 4,
        b"full_name,email\nAnn,ann@example.org\x81\x8d\x90\x9d\n",  # neither UTF-8 nor 1252
    ],
)
def test_it_answers_a_file_that_is_not_text_with_one_plain_problem(db: None, data: bytes) -> None:
    plan = parse_people_csv(data=data, cohort=None)

    [problem] = plan.problems
    assert problem.line is None
    assert "CSV UTF-8" in problem.message


# Cells of the kinds people type, well- and ill-formed, so that generated files reach the
# cross-row checks (duplicates, managers, loops) and not only the header's.
_CELLS = st.sampled_from(
    ["", "Ann", "a@example.org", "b@example.org", "A@EXAMPLE.ORG", "bob@", "Europe/Paris",
     "Mars/Olympus", "fr", "mentee", "mentor", "boss", "3", "9", '"', "x\ny", " ; ", "é"]
)  # fmt: skip
_EMAILS = st.sampled_from(
    ["a@example.org", "b@example.org", "B@example.org", "c@example.org", "bob@"]
)
_ROWS = st.tuples(
    st.sampled_from(["Ann", "Bob", "Cy", ""]),
    _EMAILS,
    st.lists(st.just("") | st.just("") | st.just("") | _CELLS, min_size=3, max_size=3),
).map(lambda r: [r[0], r[1], *r[2]])
_CSVISH = st.tuples(
    st.permutations(COLUMNS[2:]).map(lambda c: ["full_name", "email", *c[:3]]),
    st.lists(_ROWS | _ROWS | _ROWS | st.lists(_CELLS, max_size=6), min_size=1, max_size=4),
).map(lambda f: "\n".join(",".join(cells) for cells in [f[0], *f[1]]).encode())


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400) | _CSVISH | _CSVISH)
def test_it_never_fails_on_any_file(cohort: Cohort, data: bytes) -> None:
    plan = parse_people_csv(data=data, cohort=cohort)

    assert plan.is_valid or all(p.message for p in plan.problems)
    if plan.is_valid:
        with transaction.atomic():
            people_import(plan=plan)
            transaction.set_rollback(True)


def test_it_refuses_a_file_that_is_too_long(db: None) -> None:
    rows = [f"P{i},p{i}@example.org" for i in range(MAX_ROWS + 1)]

    plan = parse_people_csv(data=_csv("full_name,email", *rows), cohort=None)

    assert _problems(plan) == [
        (None, "", "the file has more than 20,000 people: split it into smaller files")
    ]


def test_it_refuses_a_file_that_is_too_large(db: None) -> None:
    plan = parse_people_csv(data=b"full_name,email\n" + b"x" * 6 * 2**20, cohort=None)

    assert _problems(plan) == [
        (None, "", "the file is larger than 5 MB: split it into smaller files")
    ]


def test_it_reports_every_problem_not_just_the_first(db: None) -> None:
    plan = parse_people_csv(
        data=_csv(
            "full_name,email,manager_email,time_zone",
            ",ann@,nobody@example.org,Mars/Olympus",
            "Bob,bob@example.org,nobody@example.org,",
        ),
        cohort=None,
    )

    assert [(p.line, p.column) for p in plan.problems] == [
        (2, "full_name"),
        (2, "email"),
        (2, "manager_email"),
        (2, "time_zone"),
        (3, "manager_email"),
    ]


def test_it_imports_nothing_when_one_line_is_bad(cohort: Cohort) -> None:
    kim = PersonFactory(email="kim@example.org", job_title="Analyst")
    plan = parse_people_csv(
        data=_csv(
            "full_name,email,job_title,time_zone,role",
            "Kim,kim@example.org,Lead,,mentee",
            "Ann,ann@example.org,Analyst,,mentee",
            "Bob,bob@example.org,Analyst,Mars/Olympus,mentee",
        ),
        cohort=cohort,
    )

    with pytest.raises(ImportNotValid):
        people_import(plan=plan)

    kim.refresh_from_db()
    assert kim.job_title == "Analyst"
    assert Person.objects.count() == 1
    assert not Participant.objects.exists()


def test_it_writes_nothing_when_someone_is_added_between_checking_and_writing(
    cohort: Cohort,
) -> None:
    plan = parse_people_csv(
        data=_csv("full_name,email,role", "Ann,ann@example.org,mentee", "Bob,bob@example.org,"),
        cohort=cohort,
    )
    PersonFactory(email="BOB@example.org")  # by someone else, meanwhile

    with pytest.raises(ImportConflict):
        people_import(plan=plan)

    assert list(Person.objects.values_list("email", flat=True)) == ["BOB@example.org"]
    assert not Participant.objects.exists()


def test_the_example_file_in_the_docs_is_valid(cohort: Cohort) -> None:
    data = (Path(settings.BASE_DIR) / "docs" / "people-import-example.csv").read_bytes()

    plan = parse_people_csv(data=data, cohort=cohort)

    assert plan.problems == []
    assert plan.counts["new"] == len(plan.rows) == 7


def _batches(count: int, model: type, fields: list[str]) -> int:
    """How many statements Django uses to write ``count`` rows of ``fields`` in batches of
    BATCH_SIZE: fewer rows a statement where the backend caps query parameters (SQLite: 999
    a statement, so 999 // 8 = 124 new people a statement, but PostgreSQL takes 1,000)."""
    if count == 0:
        return 0
    model_fields = [model._meta.get_field(name) for name in fields]
    per_statement = min(BATCH_SIZE, connection.ops.bulk_batch_size(model_fields, [None] * count))
    return math.ceil(count / per_statement)


@pytest.mark.parametrize("rows", [300, 10_000])
def test_it_imports_a_large_file_in_a_fixed_number_of_queries_plus_batches(
    cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    # A realistic organisation: everyone's manager is an earlier line, five reports each.
    # The first 20 are already in the directory, with another job title.
    already = 20
    for i in range(already):
        PersonFactory(full_name=f"Person {i}", email=f"p{i}@example.org", job_title="Trainee")
    lines = [HEADER]
    for i in range(rows):
        manager = f"p{(i - 1) // 5}@example.org" if i else ""
        role = "mentee" if i % 10 == 0 else "reverse_mentor"
        lines.append(
            f"Person {i},p{i}@example.org,Analyst,Operations,{manager},Europe/London,en,{role},1"
        )
    data = _csv(*lines)

    # 1 the directory (id, e-mail, manager and the fields an update compares), 2 the cohort's
    # participants
    with django_assert_num_queries(2):
        plan = parse_people_csv(data=data, cohort=cohort)
    assert plan.is_valid
    assert plan.counts["new"] == rows - already

    insert_person = [f.name for f in Person._meta.concrete_fields if not f.primary_key]
    insert_participant = [f.name for f in Participant._meta.concrete_fields if not f.primary_key]
    update_fields = ["full_name", "job_title", "department", "manager", "time_zone", "language"]
    batches = (
        _batches(rows - already, Person, insert_person)
        # new people's managers, linked once everyone has an id (the id twice: WHERE and CASE)
        + _batches(rows - already, Person, ["id", "id", "manager"])
        + _batches(already, Person, ["id", "id", *update_fields])
        + _batches(rows, Participant, insert_participant)
    )
    # The fixed part: the savepoint of transaction.atomic() and its release, and the import's
    # one audit entry.
    with django_assert_num_queries(3 + batches):
        result = people_import(plan=plan)

    assert (result.created, result.updated, result.participants_added) == (
        rows - already,
        already,
        rows,
    )
    last = Person.objects.select_related("manager").get(email=f"p{rows - 1}@example.org")
    assert last.manager.email == f"p{(rows - 2) // 5}@example.org"
    assert Person.objects.get(email="p3@example.org").job_title == "Analyst"
    assert Participant.objects.filter(cohort=cohort).count() == rows
