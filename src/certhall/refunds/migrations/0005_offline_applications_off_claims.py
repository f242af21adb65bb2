"""Offline applications a counter attached to a registration's claim on their USCC (an
organisation whose licence nobody saw) are detached, as ``counter.enter_offline`` attaches
them since 12-05: the claimant could read them in the online hall and supply material in the
enterprise's name (docs/refunds.md, docs/security.md). Claims exist since 12-05, so there are
few; an application keeps its USCC, and its progress is still found by number, USCC and the
SMS code sent to its phone."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def detach(apps: Any, schema_editor: Any) -> None:
    applications = apps.get_model("refunds", "RefundApplication").objects
    applications.filter(channel="offline", organization__licence_unchecked=True).update(
        organization=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_organization_licence_unchecked"),
        ("refunds", "0004_records_without_constraints"),
    ]

    operations = [migrations.RunPython(detach, migrations.RunPython.noop)]
