"""The CSV import of people and participants, for programme managers.

``parse_people_csv`` reads a whole file, checks it against the directory and reports every
problem by line and column, writing nothing; ``people_import`` then writes a valid plan in one
transaction. The admin shows the first as a preview and runs the second on confirmation.

A file is a directory export plus, optionally, who joins a cohort: one header row naming the
columns (any case, any order), then one person a line. People already in the directory,
matched by e-mail in any case, are updated; the columns a file leaves out are left alone.
This module reads the file and writes the plan; the checks on its rows are in
``programmes.import_checks``.
"""

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from audit.models import AuditEntry
from audit.records import audit_record
from programmes.import_checks import (
    ADD,
    ALREADY_IN_COHORT,
    COLUMNS,
    NEW,
    PERSON_FIELDS,
    REQUIRED_COLUMNS,
    UNCHANGED,
    UPDATE,
    PlannedRow,
    Problem,
    check_against_each_other_and_the_directory,
    check_participants,
    read_row,
)
from programmes.models import Cohort, Participant, Person

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Rows per INSERT or UPDATE; Django lowers it further where the backend caps query parameters
# (SQLite: 999 per statement).
BATCH_SIZE = 1000
DEFAULT_TIME_ZONE = "Europe/London"
DEFAULT_LANGUAGE = "en"

# Control characters never appear in a CSV typed or exported by people: their presence means
# a spreadsheet or other binary file was uploaded.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    rows = [read_row(line, cells, columns) for line, cells in records]
    check_against_each_other_and_the_directory(rows)
    file_problems += check_participants(rows, cohort)
    return ImportPlan(cohort, text, encoding, rows, file_problems)


def people_import(*, plan: ImportPlan, by: User | None = None) -> ImportResult:
    """Write a plan from ``parse_people_csv``, all or nothing, and its audit entry (by ``by``).

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
            result = ImportResult(
                created=len(new), updated=len(updated), participants_added=len(joining)
            )
            _import_record(plan, result, by=by)
    except IntegrityError as error:
        raise ImportConflict(str(error)) from error
    return result


def _import_record(plan: ImportPlan, result: ImportResult, *, by: User | None) -> None:
    audit_record(
        AuditEntry.Event.PEOPLE_IMPORTED,
        by=by,
        target=Person if plan.cohort is None else plan.cohort,
        programme=None if plan.cohort is None else plan.cohort.programme,
        changes={
            "people added": ("", result.created),
            "people updated": ("", result.updated),
            "participants added": ("", result.participants_added),
        },
    )


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
    header, header_line, records = _read_records(text)
    while header and not header[-1]:
        header.pop()  # trailing empty cells some exports add
    columns = [_column_name(h) for h in header]
    problems = _check_header(header, columns, header_line)
    if not records:
        problems.append(Problem(None, "", "the file has a header but nobody in it"))
    return columns, records, problems


def _read_records(text: str) -> tuple[list[str], int, list[tuple[int, list[str]]]]:
    """The header, the line it is on, and the records after it; reading stops at the first
    record past MAX_ROWS rather than checking a file that will be refused."""
    first_line = text.lstrip("\r\n").partition("\n")[0]
    # Excel writes ";" where the decimal separator is a comma, and some exports use tabs.
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    header_line = line = 1
    try:
        for cells in reader:
            starts_on, line = line, reader.line_num + 1
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            if header is None:
                header, header_line = cells, starts_on
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
    return header, header_line, records


def _check_header(header: list[str], columns: list[str], header_line: int) -> list[Problem]:
    """Unknown and repeated columns are problems to fix; a header with no known column, or
    without a required one, makes the file unreadable as people."""
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
    return problems
