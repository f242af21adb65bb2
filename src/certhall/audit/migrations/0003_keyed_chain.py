"""Key the audit chain: the events written so far stay plain SHA-256 (they cannot be rewritten:
the log is append-only), every later one is keyed; the boundary is recorded on the head."""

from django.db import migrations, models


def mark_boundary(apps, schema_editor):  # type: ignore[no-untyped-def]
    head = apps.get_model("audit", "AuditHead")
    event = apps.get_model("audit", "AuditEvent")
    last = event.objects.order_by("-seq").values_list("at", flat=True).first()
    head.objects.filter(pk=1).update(keyed_from=models.F("seq"), at=last)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="audithead",
            name="keyed_from",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="audithead",
            name="at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(mark_boundary, migrations.RunPython.noop),
    ]
