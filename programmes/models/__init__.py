"""The programmes app's models: programmes and cohorts (``programme.py``), the directory,
participants and their intake (``people.py``), the organisation's settings
(``organisation.py``)."""

from programmes.models.organisation import OrganisationSettings
from programmes.models.people import (
    BASELINE,
    Audience,
    Cadence,
    Intake,
    IntakeObjective,
    Participant,
    ParticipantAction,
    PasswordResetRequest,
    Person,
    Role,
)
from programmes.models.programme import Cohort, KeySkill, Programme, Topic

__all__ = [
    "BASELINE",
    "Audience",
    "Cadence",
    "Cohort",
    "Intake",
    "IntakeObjective",
    "KeySkill",
    "OrganisationSettings",
    "Participant",
    "ParticipantAction",
    "PasswordResetRequest",
    "Person",
    "Programme",
    "Role",
    "Topic",
]
