"""``manage.py risk_backtest --cohort <id>``: replay a cohort's history day by day with the
risk score and print, per pair, its first "watch" and "act" days, its lapse day and the lead
time, then the totals (risks/backtest.py)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from programmes.models import Cohort
from risks.backtest import backtest, report_lines


class Command(BaseCommand):
    help = "Replay a cohort's history with the risk score and report what it would have flagged."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cohort", type=int, required=True, help="The cohort's id.")

    def handle(self, *args: Any, **options: Any) -> None:
        cohort = Cohort.objects.select_related("programme").filter(pk=options["cohort"]).first()
        if cohort is None:
            raise CommandError(f"No cohort with id {options['cohort']}.")
        for line in report_lines(backtest(cohort)):
            self.stdout.write(line)
