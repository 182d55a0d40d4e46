"""The organisation's settings as everything else reads them: the load cap that matching
applies across programmes, and the smallest group a sponsor's figure may come from.

**The minimum group.** The organisation sets a floor and a programme may only make it stricter:
the minimum in force is the larger of the two (:func:`min_group_size_for`), and a programme's
form refuses a value below the organisation's (:func:`check_programme_min_group`). A floor a
programme manager could lower would let them narrow a figure down to two people they know;
a programme of a small network (thirty people of one minority, say) still needs to ask for
more than the organisation's default, and its manager knows that best. Raising the floor
lifts every programme below it at once, with nothing to migrate.
"""

from django.core.exceptions import ValidationError

from programmes.models import OrganisationSettings, Programme


def organisation_settings() -> OrganisationSettings:
    return OrganisationSettings.load()


def max_mentoring_load() -> int:
    """The most current pairs one person may hold as reverse-mentor, across programmes."""
    return organisation_settings().max_mentoring_load


def organisation_min_group() -> int:
    """The organisation's own minimum group: the floor every programme's stays above."""
    return organisation_settings().min_group_size


def min_group_size_for(programme: Programme) -> int:
    """The smallest group a sponsor's figure of ``programme`` may come from: the
    organisation's minimum, or the programme's own when it asks for more (never fewer)."""
    return max(organisation_min_group(), programme.min_group_size)


def check_programme_min_group(value: int) -> None:
    """Refuse a programme minimum below the organisation's, saying what the floor is."""
    floor = organisation_min_group()
    if value < floor:
        raise ValidationError(
            f"The organisation's minimum group is {floor}: a programme may ask for more, never "
            "fewer. An organisation administrator sets the organisation's minimum.",
            code="below_organisation_minimum",
        )
