"""The default wording of two messages showed free text the recipient's partner wrote (a
cancellation's reason, the agreement's "how to cancel"), which messages no longer offer
(notifications/kinds.py). Rows still holding those lines, seeded or edited, get the new
default's lines in their place; the rest of a manager's edit is kept. A row that reads such
text some other way still sends, with it empty, and the admin list flags it for an edit."""

from django.db import migrations

REPLACED = {
    "meeting_cancelled": [
        (
            "{% if meeting.cancel_reason %}\nTheir reason: {{ meeting.cancel_reason }}\n"
            "{% endif %}\nThe attached cancellation removes it from your calendar. You can "
            "book another time on your\npair page:",
            "\nThe attached cancellation removes it from your calendar. Your pair page lists "
            "the session,\nwith any reason they gave, and is where you can book another time:",
        ),
    ],
    "agreement_proposed": [
        (
            "- How to cancel: {{ agreement.cancellation }}",
            "- How to cancel: as {{ partner.full_name }} worded it, on your pair page",
        ),
    ],
}


def replace_lines(apps, schema_editor) -> None:
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for kind, replacements in REPLACED.items():
        for row in MessageTemplate.objects.filter(kind=kind):
            changed = False
            for field in ("body_text", "body_html"):
                text = getattr(row, field)
                for old, new in replacements:
                    text = text.replace(old, new)
                if text != getattr(row, field):
                    setattr(row, field, text)
                    changed = True
            if changed:
                row.save(update_fields=["body_text", "body_html"])


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(replace_lines, migrations.RunPython.noop)]
