"""The checks a people import makes, row by row: first each row alone, then the rows against
each other and the directory, then the roles against the cohort. Every problem goes on its
row, by line and column; nothing here writes. ``programmes.imports`` reads the file and runs
these checks in that order.
"""

import re
import zoneinfo
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Field

from programmes.models import Cohort, Participant, Person, Role
from programmes.reporting_lines import find_loops

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

# Everyone in the directory by lower-cased e-mail: their id and the fields an import may change.
_Directory = dict[str, tuple[int, dict[str, Any]]]


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


# --- Each row alone ------------------------------------------------------------------------------


def read_row(line: int, cells: list[str], columns: list[str]) -> PlannedRow:
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
    _check_name_and_email(row)
    _check_lengths(row, values)
    row.job_title = values.get("job_title")
    row.department = values.get("department")
    _read_manager(row, values)
    _read_time_zone(row, values)
    _read_language(row, values)
    _read_role(row, values)
    _read_capacity(row, values)
    return row


def _check_name_and_email(row: PlannedRow) -> None:
    """Both are required: the e-mail is how a person is found again, the name what others see."""
    if not row.full_name:
        row.problem("full_name", "the name is missing")
    if not row.email:
        row.problem("email", "the e-mail address is missing")
    elif not _is_email(row.email):
        row.problem("email", f"“{row.email}” is not a valid e-mail address")


def _check_lengths(row: PlannedRow, values: dict[str, str]) -> None:
    """Caught here, a value too long for its column is named by its cell, not by the database."""
    for name in ("full_name", "email", "job_title", "department"):
        limit = cast(int, cast(Field, Person._meta.get_field(name)).max_length)
        if len(values.get(name, "")) > limit:
            row.problem(name, f"this is longer than {limit} characters")


def _read_manager(row: PlannedRow, values: dict[str, str]) -> None:
    """Only a file with the column touches managers; an empty cell there means no manager."""
    if "manager_email" not in values:
        return
    row.manager_email = values["manager_email"]
    if row.manager_email and not _is_email(row.manager_email):
        row.problem("manager_email", f"“{row.manager_email}” is not a valid e-mail address")
    elif row.manager_email and row.manager_email.lower() == row.email.lower():
        row.problem("manager_email", "someone cannot be their own manager")


def _read_time_zone(row: PlannedRow, values: dict[str, str]) -> None:
    """Accepted in any case, stored as the time-zone database spells it."""
    if zone := values.get("time_zone"):
        row.time_zone = _time_zones_by_lower_name().get(zone.lower())
        if row.time_zone is None:
            row.problem(
                "time_zone",
                f"“{zone}” is not a time zone we know: use a name such as Europe/London or "
                "America/New_York",
            )


def _read_language(row: PlannedRow, values: dict[str, str]) -> None:
    """Accepted by name or code in any case, stored as the code the site uses."""
    if language := values.get("language"):
        row.language = _languages().get(language.lower())
        if row.language is None:
            codes = ", ".join(code for code, _ in settings.LANGUAGES)
            row.problem("language", f"“{language}” is not a language we offer: use one of {codes}")


def _read_role(row: PlannedRow, values: dict[str, str]) -> None:
    """Spelt as people write it ("Reverse mentor", "mentor"), stored as the role's value."""
    if role := values.get("role"):
        row.role = _ROLES.get(re.sub(r"[\s\-]+", "_", role.lower()), "")
        if not row.role:
            row.problem("role", f"“{role}” is not a role: use mentee or reverse_mentor")


def _read_capacity(row: PlannedRow, values: dict[str, str]) -> None:
    """A capacity is how many partners a participant takes, so it needs a role beside it."""
    if capacity := values.get("capacity"):
        if not values.get("role"):
            row.problem("capacity", "a capacity is only for someone with a role")
        elif not (capacity.isascii() and capacity.isdigit() and 1 <= int(capacity) <= 5):
            row.problem("capacity", f"“{capacity}” is not a capacity: use a whole number 1 to 5")
        else:
            row.capacity = int(capacity)


@cache
def _time_zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@cache
def _languages() -> dict[str, str]:
    by_name = {name.lower(): code for code, name in settings.LANGUAGES}
    return by_name | {code.lower(): code for code, _ in settings.LANGUAGES}


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


# --- The rows against each other and the directory ----------------------------------------------


def check_against_each_other_and_the_directory(rows: list[PlannedRow]) -> None:
    """Duplicates, what happens to each person, managers and loops through the combined
    reporting lines of the directory and the file."""
    directory = _load_directory()
    first_line = _report_duplicates(rows)
    usable = [row for row in rows if row.readable and row.email]
    for row in usable:
        if row.email.lower() in directory:
            row.person_id, row.current = directory[row.email.lower()]
    _resolve_managers(usable, first_line, directory)

    managers: dict[Hashable, Hashable | None] = {
        pk: current["manager_id"] for pk, current in directory.values()
    }
    by_line = {row.line: row for row in rows}
    for row in usable:
        manager = _manager_node(row, by_line)
        managers[_node(row)] = manager
        _decide_action(row, manager)

    email_of: dict[Hashable, str] = {pk: email for email, (pk, _) in directory.items()}
    _report_loops(usable, managers, email_of)


def _load_directory() -> _Directory:
    """The whole directory in one query, however long the file."""
    return {
        email.lower(): (pk, dict(zip(PERSON_FIELDS, values, strict=True)))
        for pk, email, *values in Person.objects.order_by().values_list(
            "id", "email", *PERSON_FIELDS
        )
    }


def _report_duplicates(rows: list[PlannedRow]) -> dict[str, PlannedRow]:
    """The first line with an e-mail is that person's; later ones are duplicates, left out of
    the other checks. Returns each person's row by lower-cased e-mail."""
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
    return first_line


def _resolve_managers(
    usable: list[PlannedRow], first_line: dict[str, PlannedRow], directory: _Directory
) -> None:
    """Every manager named in the file, resolved before comparing values: a changed manager is
    a change even when nothing else is."""
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


def _node(row: PlannedRow) -> Hashable:
    """A person in the combined reporting lines: their id, or their line while they have none."""
    return row.person_id if row.person_id is not None else ("line", row.line)


def _manager_node(row: PlannedRow, by_line: dict[int, PlannedRow]) -> Hashable | None:
    """The manager the row will have after the import; without a manager column, the current
    one."""
    if row.manager_line is not None:
        return _node(by_line[row.manager_line])
    if row.manager_person_id is not None:
        return row.manager_person_id
    if row.manager_email is None and row.current:
        return row.current["manager_id"]
    return None


def _decide_action(row: PlannedRow, manager: Hashable | None) -> None:
    """New, update or unchanged; an update lists what it changes, for the preview."""
    if row.current is None:
        row.action = NEW
        return
    wanted = {
        "full_name": row.full_name,
        "job_title": row.job_title,
        "department": row.department,
        "time_zone": row.time_zone,
        "language": row.language,
    }
    row.changes = [
        PERSON_FIELDS[name]
        for name, value in wanted.items()
        if value is not None and value != row.current[name]
    ]
    if row.manager_email is not None and manager != row.current["manager_id"]:
        row.changes.append(PERSON_FIELDS["manager_id"])
    row.action = UPDATE if row.changes else UNCHANGED


def _report_loops(
    usable: list[PlannedRow],
    managers: dict[Hashable, Hashable | None],
    email_of: dict[Hashable, str],
) -> None:
    """A loop is reported on every row on it, each walking the loop from itself."""
    on_loop = find_loops(managers)
    line_of = {_node(row): row.line for row in usable}
    for row in usable:
        if _node(row) not in on_loop:
            continue
        # Named by line where the file has them, by e-mail for people only in the directory.
        steps = [f"line {row.line}"]
        current = managers[_node(row)]
        while current != _node(row):
            steps.append(f"line {line_of[current]}" if current in line_of else email_of[current])
            current = managers[current]
        steps.append(f"line {row.line}")
        row.problem("manager_email", "manager chain loops: " + " → ".join(steps))


# --- The roles against the cohort ---------------------------------------------------------------


def check_participants(rows: list[PlannedRow], cohort: Cohort | None) -> list[Problem]:
    """Who joins the cohort; a role in a file with no cohort chosen is a problem with the file."""
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
