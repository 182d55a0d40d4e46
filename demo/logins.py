"""The demo's sign-ins, as `manage.py demo` prints them: who each is and what they see."""

from typing import NamedTuple

from demo import organisation, second_programme


class Login(NamedTuple):
    role: str
    username: str
    password: str
    name: str
    sees: str


def _login(role: str, account: tuple[str, str, str], sees: str) -> Login:
    username, password, name = account
    return Login(role, username, password, name, sees)


LOGINS = [
    _login(
        "Organisation administrator",
        organisation.ORG_ADMIN,
        "every programme in the admin, the organisation settings (load cap, minimum group); "
        "names managers and sponsors",
    ),
    _login(
        "Programme manager",
        organisation.MANAGER,
        "Northwind Reverse Mentoring only, in the admin: pairs, at-risk queue, KPIs, matching",
    ),
    _login(
        "Programme manager",
        second_programme.MANAGER,
        "Northwind Digital Champions only, in the admin: its first cohort, not yet invited",
    ),
    _login(
        "Sponsor",
        organisation.SPONSOR,
        "Northwind Reverse Mentoring's monthly status (/sponsor/), no one's answers",
    ),
    _login(
        "Sponsor",
        second_programme.SPONSOR,
        "Northwind Digital Champions' status (no figures until its cohort runs)",
    ),
]
USERNAMES = tuple(login.username for login in LOGINS)
PROGRAMME_SLUGS = (organisation.PROGRAMME_SLUG, second_programme.SLUG)
