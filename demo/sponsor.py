"""What the demo's sponsor reads: the manager's "what we need from you" line for last month
and this one (the status page and e-mail show the month's own)."""

from datetime import timedelta

from demo.context import DemoContext
from reporting.models import SponsorAsk

ASKS = [
    "Please mention the programme at next week's leadership meeting: two executives have "
    "cancelled twice, and a word from you that these sessions matter will help.",
    "We are recruiting reverse-mentors for Wave 3: please ask your directs to nominate one "
    "person each by the end of the month.",
]


def build(ctx: DemoContext) -> None:
    this_month = ctx.today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    manager = ctx.programme.managers.first()
    SponsorAsk.objects.bulk_create(
        SponsorAsk(programme=ctx.programme, month=month, text=text, written_by=manager)
        for month, text in zip((last_month, this_month), ASKS, strict=True)
    )
    ctx.summary.append("Sponsors: a 'what we need from you' line for last month and this one")
