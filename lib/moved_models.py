"""For the migrations that move models from one app to another with their tables."""

from django.db import migrations


def relabel_content_types(*, models: list[str], old_app: str, new_app: str) -> migrations.RunPython:
    """Moves the content types of ``models`` (lower-case names) from ``old_app`` to
    ``new_app``, and back when the migration is reversed. Content types follow their models,
    so the permissions granted on them, the admin's log and generic relations to their rows
    (the outbox's ``Notification.about``) keep pointing at the same rows. A content type
    already made for the new app (by an earlier post_migrate) is left as it is."""

    def relabel(apps, schema_editor, *, source: str, target: str) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        for model in models:
            if content_type.objects.using(db).filter(app_label=target, model=model).exists():
                continue
            content_type.objects.using(db).filter(app_label=source, model=model).update(
                app_label=target
            )

    def forward(apps, schema_editor) -> None:
        relabel(apps, schema_editor, source=old_app, target=new_app)

    def backward(apps, schema_editor) -> None:
        relabel(apps, schema_editor, source=new_app, target=old_app)

    return migrations.RunPython(forward, backward)
