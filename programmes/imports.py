"""The CSV import of people and participants, for programme managers.

``parse_people_csv`` reads a whole file, checks it against the directory and reports every
problem by line and column, writing nothing; ``people_import`` then writes a valid plan in one
transaction. The admin shows the first as a preview and runs the second on confirmation.

A file is a directory export plus, optionally, who joins a cohort: one header row naming the
columns (any case, any order), then one person a line. People already in the directory,
matched by e-mail in any case, are updated; the columns a file leaves out are left alone.
"""

import codecs
import csv
import io
import re
import zoneinfo
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Field

from programmes.models import Cohort, Participant, Person, Role
from programmes.reporting_lines import find_loops

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Rows per INSERT or UPDATE; Django lowers it further where the backend caps query parameters
# (SQLite: 999 per statement).
BATCH_SIZE = 1000
DEFAULT_TIME_ZONE = "Europe/London"
DEFAULT_LANGUAGE = "en"

COLUMNS = (
    "full_name",
    "email",
    "job_title",
    "department",
    "manager_email",
    "time_zone",
    "language",
    "role",
    "capacity",
)
REQUIRED_COLUMNS = ("full_name", "email")

# What an import may change on someone already in the directory, and how the preview names it.
PERSON_FIELDS = {
    "full_name": "name",
    "job_title": "job title",
    "department": "department",
    "manager_id": "manager",
    "time_zone": "time zone",
    "language": "language",
}

NEW, UPDATE, UNCHANGED = "new", "update", "unchanged"
ADD, ALREADY_IN_COHORT = "add", "already in cohort"

_ROLES = {
    "mentee": Role.MENTEE,
    "reverse_mentor": Role.REVERSE_MENTOR,
    "mentor": Role.REVERSE_MENTOR,
}
# Control characters never appear in a CSV typed or exported by people: their presence means
# a spreadsheet or other binary file was uploaded.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    line: int | None  # as an editor numbers the file, header = 1; None: the file as a whole
    column: str  # "" when the problem is the whole line or file
    message: str


@dataclass
class PlannedRow:
    """One person from the file, what the import will do with them, and what is wrong."""

    line: int
    email: str = ""
    full_name: str = ""
    # Directory fields the file gives for this person (besides the name); None for a column
    # the file does not have, so an update leaves that field alone.
    job_title: str | None = None
    department: str | None = None
    time_zone: str | None = None
    language: str | None = None
    manager_email: str | None = None  # "" = no manager
    role: str = ""
    capacity: int = 1
    # Someone already in the directory: their id and current values.
    person_id: int | None = None
    current: dict[str, Any] | None = None
    # The manager, once resolved: a row of this file (by its line) or someone in the directory.
    manager_line: int | None = None
    manager_person_id: int | None = None
    action: str = ""  # NEW, UPDATE or UNCHANGED
    changes: list[str] = field(default_factory=list)  # what an UPDATE changes, in words
    participant: str = ""  # ADD, ALREADY_IN_COHORT or "" (no role)
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True  # False when the line has the wrong number of fields

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.line, column, message))

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else ""


@dataclass(frozen=True)
class ImportPlan:
    cohort: Cohort | None
    text: str  # the file as read, so a confirmation can check it again without a re-upload
    encoding: str
    rows: list[PlannedRow]
    file_problems: list[Problem]

    @cached_property
    def problems(self) -> list[Problem]:
        found = self.file_problems + [p for row in self.rows for p in row.problems]
        # By line, then in the order of the columns (whole-line problems first).
        order = {name: position for position, name in enumerate(COLUMNS)}
        return sorted(found, key=lambda p: (p.line or 0, order.get(p.column, -1)))

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @cached_property
    def counts(self) -> dict[str, int]:
        actions = Counter(r.action for r in self.rows)
        joining = Counter(r.participant for r in self.rows)
        return {
            "new": actions[NEW],
            "update": actions[UPDATE],
            "unchanged": actions[UNCHANGED],
            "join": joining[ADD],
            "already_in_cohort": joining[ALREADY_IN_COHORT],
        }


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    participants_added: int


class ImportNotValid(Exception):
    """The plan has problems: nothing was written."""


class ImportConflict(Exception):
    """The directory changed between checking and writing (someone added one of these people
    meanwhile): nothing was written, and checking the file again will say what changed."""


class _Unreadable(Exception):
    """The file cannot be read as people, for the reasons its problems give."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(problems[0].message)
        self.problems = list(problems)


def parse_people_csv(*, data: bytes, cohort: Cohort | None) -> ImportPlan:
    """Read and check a whole file. Writes nothing; reads the directory in one query and the
    cohort's participants in another, however long the file."""
    try:
        text, encoding = _decode(data)
        columns, records, file_problems = _split(text)
    except _Unreadable as unreadable:
        return ImportPlan(cohort, "", "", [], unreadable.problems)
    rows = [_read_row(line, cells, columns) for line, cells in records]
    _check_against_each_other_and_the_directory(rows)
    file_problems += _check_participants(rows, cohort)
    return ImportPlan(cohort, text, encoding, rows, file_problems)


def people_import(*, plan: ImportPlan) -> ImportResult:
    """Write a plan from ``parse_people_csv``, all or nothing.

    Precondition: the plan was made just now. The database's unique constraints catch anyone
    added meanwhile (raising ImportConflict); other changes since checking are not re-checked,
    so a plan kept from an earlier request must be parsed again first.
    """
    if not plan.is_valid:
        raise ImportNotValid(plan.problems)
    by_line: dict[int, Person] = {}
    new: list[Person] = []
    updated: list[Person] = []
    for row in plan.rows:
        if row.action == NEW:
            person = Person(
                email=row.email,
                full_name=row.full_name,
                job_title=row.job_title or "",
                department=row.department or "",
                time_zone=row.time_zone or DEFAULT_TIME_ZONE,
                language=row.language or DEFAULT_LANGUAGE,
            )
            new.append(person)
        else:
            person = Person(pk=row.person_id, **(row.current or {}))
            if row.action == UPDATE:
                for name in ("full_name", "job_title", "department", "time_zone", "language"):
                    if getattr(row, name) is not None:
                        setattr(person, name, getattr(row, name))
                updated.append(person)
        by_line[row.line] = person

    # parse_people_csv's checks stand in for full_clean(), whose Person.clean() would load the
    # whole directory once per person.
    try:
        with transaction.atomic():
            # Managers are linked in a second pass: a new person's manager may be later in
            # the file, and has no id until this insert.
            Person.objects.bulk_create(new, batch_size=BATCH_SIZE)
            for row in plan.rows:
                if row.manager_email is not None and row.action != UNCHANGED:
                    by_line[row.line].manager_id = (
                        by_line[row.manager_line].pk
                        if row.manager_line is not None
                        else row.manager_person_id
                    )
            Person.objects.bulk_update(
                [p for p in new if p.manager_id is not None], ["manager"], batch_size=BATCH_SIZE
            )
            Person.objects.bulk_update(updated, list(PERSON_FIELDS), batch_size=BATCH_SIZE)
            joining = [
                Participant(
                    cohort=plan.cohort, person=by_line[r.line], role=r.role, capacity=r.capacity
                )
                for r in plan.rows
                if r.participant == ADD
            ]
            Participant.objects.bulk_create(joining, batch_size=BATCH_SIZE)
    except IntegrityError as error:
        raise ImportConflict(str(error)) from error
    return ImportResult(created=len(new), updated=len(updated), participants_added=len(joining))


def _decode(data: bytes) -> tuple[str, str]:
    if not data.strip():
        raise _Unreadable(Problem(None, "", "the file is empty"))
    if len(data) > MAX_BYTES:
        megabytes = MAX_BYTES // (1024 * 1024)
        raise _Unreadable(
            Problem(
                None, "", f"the file is larger than {megabytes} MB: split it into smaller files"
            )
        )
    save_as = "Save it from your spreadsheet as “CSV UTF-8 (comma delimited)” and upload that."
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Unreadable(
            Problem(None, "", f"the file is in UTF-16, which we cannot read. {save_as}")
        )
    try:
        text, encoding = data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV (comma delimited)" in Windows-1252; refusing it would
        # leave many managers stuck, and the preview shows any misread name before import.
        try:
            text, encoding = data.decode("cp1252"), "Windows-1252"
        except UnicodeDecodeError:
            raise _Unreadable(
                Problem(None, "", f"the file is not text we can read. {save_as}")
            ) from None
    if _BINARY.search(text):
        raise _Unreadable(
            Problem(
                None,
                "",
                f"this is not a CSV file: it looks like a spreadsheet or another binary file. "
                f"{save_as}",
            )
        )
    return text, encoding


def _column_name(header: str) -> str:
    # "Full name", "full-name" and "FULL_NAME" all name full_name; "E-mail" names email.
    return re.sub(r"[\s\-]+", "_", header.strip().lower()).replace("e_mail", "email")


def _split(text: str) -> tuple[list[str], list[tuple[int, list[str]]], list[Problem]]:
    """The header's column names, the data records with the line each starts on, and the
    header's problems. Blank lines are skipped."""
    first_line = text.lstrip("\r\n").partition("\n")[0]
    # Excel writes ";" where the decimal separator is a comma, and some exports use tabs.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    line = 1
    try:
        for cells in reader:
            starts_on, line = line, reader.line_num + 1
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if header is None:
                header = cells
                header_line = starts_on
                continue
            if len(records) == MAX_ROWS:
                raise _Unreadable(
                    Problem(
                        None,
                        "",
                        f"the file has more than {MAX_ROWS:,} people: split it into smaller files",
                    )
                )
            records.append((starts_on, cells))
    except csv.Error as error:
        raise _Unreadable(Problem(line, "", f"this line cannot be read as CSV ({error})")) from None
    if header is None:
        raise _Unreadable(Problem(None, "", "the file is empty"))

    while header and not header[-1]:
        header.pop()  # trailing empty cells some exports add
    columns = [_column_name(h) for h in header]
    known = ", ".join(COLUMNS)
    if not set(columns) & set(COLUMNS):
        raise _Unreadable(
            Problem(header_line, "", f"the first line must be a header naming the columns: {known}")
        )
    problems = [
        Problem(header_line, raw, f"“{raw}” is not a column we know; the columns are {known}")
        if raw
        else Problem(header_line, "", f"column {position} of the header has no name")
        for position, (raw, name) in enumerate(zip(header, columns, strict=True), start=1)
        if name not in COLUMNS
    ]
    problems += [
        Problem(header_line, name, f"the column “{name}” appears {count} times")
        for name, count in Counter(columns).items()
        if count > 1 and name in COLUMNS
    ]
    missing = [
        Problem(header_line, name, f"the header has no “{name}” column")
        for name in REQUIRED_COLUMNS
        if name not in columns
    ]
    if missing:
        raise _Unreadable(*problems, *missing)
    if not records:
        problems.append(Problem(None, "", "the file has a header but nobody in it"))
    return columns, records, problems


@cache
def _time_zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@cache
def _languages() -> dict[str, str]:
    by_name = {name.lower(): code for code, name in settings.LANGUAGES}
    return by_name | {code.lower(): code for code, _ in settings.LANGUAGES}


def _read_row(line: int, cells: list[str], columns: list[str]) -> PlannedRow:
    """Checks that need only the row itself."""
    row = PlannedRow(line=line)
    if len(cells) > len(columns) and not any(cells[len(columns) :]):
        cells = cells[: len(columns)]  # trailing empty cells some exports add
    values = dict(zip(columns, cells, strict=False))
    row.email = values.get("email", "")
    if len(cells) != len(columns):
        row.readable = False
        fields = "1 field" if len(cells) == 1 else f"{len(cells)} fields"
        row.problem("", f"this line has {fields}; the header has {len(columns)}")
        return row

    row.full_name = values["full_name"]
    if not row.full_name:
        row.problem("full_name", "the name is missing")
    if not row.email:
        row.problem("email", "the e-mail address is missing")
    elif not _is_email(row.email):
        row.problem("email", f"“{row.email}” is not a valid e-mail address")
    for name in ("full_name", "email", "job_title", "department"):
        limit = cast(int, cast(Field, Person._meta.get_field(name)).max_length)
        if len(values.get(name, "")) > limit:
            row.problem(name, f"this is longer than {limit} characters")
    row.job_title = values.get("job_title")
    row.department = values.get("department")

    if "manager_email" in values:
        row.manager_email = values["manager_email"]
        if row.manager_email and not _is_email(row.manager_email):
            row.problem("manager_email", f"“{row.manager_email}” is not a valid e-mail address")
        elif row.manager_email and row.manager_email.lower() == row.email.lower():
            row.problem("manager_email", "someone cannot be their own manager")

    if zone := values.get("time_zone"):
        row.time_zone = _time_zones_by_lower_name().get(zone.lower())
        if row.time_zone is None:
            row.problem(
                "time_zone",
                f"“{zone}” is not a time zone we know: use a name such as Europe/London or "
                "America/New_York",
            )
    if language := values.get("language"):
        row.language = _languages().get(language.lower())
        if row.language is None:
            codes = ", ".join(code for code, _ in settings.LANGUAGES)
            row.problem("language", f"“{language}” is not a language we offer: use one of {codes}")

    if role := values.get("role"):
        row.role = _ROLES.get(re.sub(r"[\s\-]+", "_", role.lower()), "")
        if not row.role:
            row.problem("role", f"“{role}” is not a role: use mentee or reverse_mentor")
    if capacity := values.get("capacity"):
        if not role:
            row.problem("capacity", "a capacity is only for someone with a role")
        elif not (capacity.isascii() and capacity.isdigit() and 1 <= int(capacity) <= 5):
            row.problem("capacity", f"“{capacity}” is not a capacity: use a whole number 1 to 5")
        else:
            row.capacity = int(capacity)
    return row


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _check_against_each_other_and_the_directory(rows: list[PlannedRow]) -> None:
    """Duplicates, what happens to each person, managers and loops through the combined
    reporting lines of the directory and the file."""
    directory = {
        email.lower(): (pk, dict(zip(PERSON_FIELDS, values, strict=True)))
        for pk, email, *values in Person.objects.order_by().values_list(
            "id", "email", *PERSON_FIELDS
        )
    }
    managers: dict[Hashable, Hashable | None] = {
        pk: current["manager_id"] for pk, current in directory.values()
    }
    email_of = {pk: email for email, (pk, _) in directory.items()}

    # The first line with an e-mail is that person's; later ones are duplicates.
    first_line: dict[str, PlannedRow] = {}
    for row in rows:
        key = row.email.lower()
        if not key:
            continue
        if key in first_line:
            row.problem("email", f"{row.email} is already on line {first_line[key].line}")
            row.readable = False
        else:
            first_line[key] = row
    usable = [row for row in rows if row.readable and row.email]

    for row in usable:
        if row.email.lower() in directory:
            row.person_id, row.current = directory[row.email.lower()]

    # Every manager named in the file, resolved before comparing values: a changed manager is
    # a change even when nothing else is.
    for row in usable:
        wanted = (row.manager_email or "").lower()
        if not wanted or any(p.column == "manager_email" for p in row.problems):
            continue  # no manager, or one already reported as invalid
        if wanted in first_line:
            row.manager_line = first_line[wanted].line
        elif wanted in directory:
            row.manager_person_id = directory[wanted][0]
        else:
            row.problem(
                "manager_email",
                f"manager “{row.manager_email}” is neither in this file nor in the directory",
            )

    def node(row: PlannedRow) -> Hashable:
        return row.person_id if row.person_id is not None else ("line", row.line)

    by_line = {row.line: row for row in rows}
    for row in usable:
        manager: Hashable | None = None
        if row.manager_line is not None:
            manager = node(by_line[row.manager_line])
        elif row.manager_person_id is not None:
            manager = row.manager_person_id
        elif row.manager_email is None and row.current:
            manager = row.current["manager_id"]
        managers[node(row)] = manager
        if row.current is None:
            row.action = NEW
            continue
        new_values = {
            "full_name": row.full_name,
            "job_title": row.job_title,
            "department": row.department,
            "time_zone": row.time_zone,
            "language": row.language,
        }
        row.changes = [
            PERSON_FIELDS[name]
            for name, value in new_values.items()
            if value is not None and value != row.current[name]
        ]
        if row.manager_email is not None and manager != row.current["manager_id"]:
            row.changes.append(PERSON_FIELDS["manager_id"])
        row.action = UPDATE if row.changes else UNCHANGED

    on_loop = find_loops(managers)
    line_of = {node(row): row.line for row in usable}
    for row in usable:
        if node(row) not in on_loop:
            continue
        # Named by line where the file has them, by e-mail for people only in the directory.
        steps = [f"line {row.line}"]
        current = managers[node(row)]
        while current != node(row):
            steps.append(f"line {line_of[current]}" if current in line_of else email_of[current])
            current = managers[current]
        steps.append(f"line {row.line}")
        row.problem("manager_email", "manager chain loops: " + " → ".join(steps))


def _check_participants(rows: list[PlannedRow], cohort: Cohort | None) -> list[Problem]:
    with_role = [row for row in rows if row.readable and row.role]
    if not with_role:
        return []
    if cohort is None:
        who = "1 person has" if len(with_role) == 1 else f"{len(with_role):,} people have"
        return [
            Problem(
                None, "", f"{who} a role, but no cohort was chosen: choose the cohort they join"
            )
        ]
    roles = dict(
        Participant.objects.filter(cohort=cohort).order_by().values_list("person_id", "role")
    )
    for row in with_role:
        already = roles.get(row.person_id) if row.person_id is not None else None
        if already is None:
            row.participant = ADD
        elif already == row.role:
            row.participant = ALREADY_IN_COHORT
        else:
            row.problem(
                "role",
                f"already in this cohort as {Role(already).label}: change their "
                "role in the participant list, not by import",
            )
    return []
