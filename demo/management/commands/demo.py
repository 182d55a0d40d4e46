from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.build import (
    build_demo,
    demo_exists,
    demo_intake_links,
    demo_pair_links,
    demo_pulse_link,
    remove_demo,
)
from demo.logins import LOGINS


class Command(BaseCommand):
    help = "Load realistic demo data for one organisation and print the demo logins."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Remove the demo data first and build it anew."
        )
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Run even with DEBUG off (the demo logins have published passwords).",
        )

    def handle(self, *args: Any, reset: bool, allow_without_debug: bool, **options: Any) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "Refusing to load demo data with DEBUG off: its logins have published passwords. "
                "Pass --allow-without-debug if this really is a demo server."
            )
        if reset:
            remove_demo()
        if demo_exists():
            self.stdout.write("Demo data is already loaded (use --reset to rebuild it).")
        else:
            ctx = build_demo(today=timezone.localdate())
            for line in ctx.summary:
                self.stdout.write(f"  {line}")
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write("Demo logins (sign in at /accounts/login/ or /admin/):")
        for login in LOGINS:
            self.stdout.write(
                f"  {login.role}: {login.name}, username {login.username}, "
                f"password {login.password}\n    sees {login.sees}"
            )
        links = demo_intake_links()
        if links:
            self.stdout.write("Intake links of participants who have not finished theirs:")
            for participant, url in links:
                self.stdout.write(
                    f"  {participant.person} ({participant.get_role_display()}, "
                    f"{participant.cohort.name}):\n    {url}"
                )
        pair_links = demo_pair_links()
        if pair_links:
            self.stdout.write("Pair page links of one running pair (each side has its own):")
            for participant, url in pair_links:
                self.stdout.write(
                    f"  {participant.person} ({participant.get_role_display()}):\n    {url}"
                )
        pulse_link = demo_pulse_link()
        if pulse_link:
            participant, url = pulse_link
            self.stdout.write(
                "A pulse not answered yet, as the e-mail after the session links to it:\n"
                f"  {participant.person} ({participant.get_role_display()}):\n    {url}"
            )
