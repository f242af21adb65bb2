"""Certificates renewed online before the renewal recorded them on their Ukey: link each to the
Ukeys that hold the certificate it renewed (the new key was generated there), so that 介质补办
revokes them and the counter finds their Ukey."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def link_renewed(apps: Any, schema_editor: Any) -> None:
    Renewal = apps.get_model("certlogin", "Renewal")
    Ukey = apps.get_model("ukeys", "Ukey")
    renewed = Renewal.objects.filter(new_certificate__isnull=False).values_list(
        "old_certificate_id", "new_certificate_id"
    )
    for old_id, new_id in renewed:
        for medium in Ukey.objects.filter(certificates__pk=old_id):
            medium.certificates.add(new_id)


class Migration(migrations.Migration):
    dependencies = [
        ("ukeys", "0002_token_writes"),
        ("certlogin", "0002_drop_ratecounter"),
    ]

    operations = [migrations.RunPython(link_renewed, migrations.RunPython.noop)]
