"""How messages and pages name a staff user (a manager, a sponsor)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


def user_name(user: "AbstractUser") -> str:
    return user.get_full_name() or user.get_username()
