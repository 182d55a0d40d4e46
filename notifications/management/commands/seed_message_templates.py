from typing import Any

from django.core.management.base import BaseCommand

from notifications.defaults import message_templates_seed


class Command(BaseCommand):
    help = (
        "Adds the default wording of every kind of message that has none yet (migrate does "
        "this too). Never changes a wording that exists."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        added = message_templates_seed()
        if added:
            self.stdout.write(f"Added the default wording of: {', '.join(added)}")
        else:
            self.stdout.write("Every kind of message has its default wording already.")
