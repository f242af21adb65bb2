"""A refusal on role is audited like every other refusal, in the CA, Ukey and outbox services
too (the role check ran before the audited block and left no trace)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.ca import batch
from certhall.ca import services as ca_services
from certhall.errors import Forbidden
from certhall.notify import services as notify_services
from certhall.pki.issuance import Subscriber
from certhall.ukeys import services as ukey_services

pytestmark = pytest.mark.django_db


def test_refusals_on_role_are_audited(make_user: Callable[..., User]) -> None:
    applicant = make_user(Role.APPLICANT)
    request = ca_services.IssueRequest(
        csr=b"", profile="org", years=1, subscriber=Subscriber(org_name="x", uscc="x")
    )
    attempts: dict[str, Callable[[], object]] = {
        "ca.init": lambda: ca_services.init_ca(applicant),
        "ca.certificate.issue": lambda: ca_services.issue(applicant, request),
        "ca.certificate.revoke": lambda: ca_services.revoke(applicant, "abcdef", "superseded"),
        batch.ACTION: lambda: batch.issue_batch(applicant, [request]),
        "notify.outbox.read": lambda: notify_services.list_outbox(applicant),
        "ukey.stock": lambda: ukey_services.prepare_stock(applicant, "ukey-refused"),
    }
    for action, attempt in attempts.items():
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert refused.value.code == "role_required", action
        event = AuditEvent.objects.filter(action=action, actor_id=applicant.pk).get()
        assert (event.result, event.after["error"]) == ("refused", "role_required"), action
