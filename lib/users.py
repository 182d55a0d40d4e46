"""How messages and pages name a staff user (a manager, a sponsor)."""

from django.contrib.auth.base_user import AbstractBaseUser


def user_name(user: AbstractBaseUser) -> str:
    return user.get_full_name() or user.get_username()
