"""Recovery undoes an interrupted issuance in one transaction (certificate revoked, record
closed). A refused revocation used to write its event inside that transaction, which rolled
back with it: recovery stopped on a refusal the audit log never showed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from certhall import clock
from certhall.accounts.models import Provider, Role, User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.ca.models import Certificate
from certhall.ca.services import IssueRequest, issue
from certhall.errors import Forbidden
from certhall.ukeys import writes
from certhall.ukeys.lifecycle import Status
from certhall.ukeys.models import TokenWrite, Ukey
from tests.ca.test_services import PERSON, csr

pytestmark = pytest.mark.django_db


def test_a_refused_revocation_while_recovering_is_audited(  # type: ignore[no-untyped-def]
    admin: User,
    ca,
    make_ukey: Callable[..., Ukey],
    make_user: Callable[..., User],
    other_provider: Provider,
) -> None:
    cert = issue(admin, IssueRequest(csr=csr(), profile="personal", years=1, subscriber=PERSON))
    write = TokenWrite.objects.create(
        ukey=make_ukey(Status.ISSUED),
        kind=TokenWrite.Kind.REKEY,
        key_label="ukey-interrupted",
        certificate=cert,
        owner="another-host:1",
        created_at=clock.now() - timedelta(hours=1),
    )
    # the revocation refused: recovery run by another CA's administrator
    stranger = make_user(Role.CA_ADMIN, provider=other_provider)
    with pytest.raises(Forbidden):
        writes.recover(stranger)
    write.refresh_from_db()
    assert write.state == TokenWrite.State.OPEN
    assert Certificate.objects.get(pk=cert.pk).status == Certificate.Status.VALID
    # both attempts (the token's, then without it) refused, each audited after its rollback
    refused = AuditEvent.objects.filter(result=audit.REFUSED).order_by("seq")
    assert [(e.action, e.object_type, e.object_id, e.actor_id) for e in refused] == [
        ("ukey.write.undo", "token_write", str(write.pk), stranger.pk)
    ] * 2
    assert {e.after["error"] for e in refused} == {"other_provider"}
    assert audit.verify().ok
    # the jobs' own actor then undoes it
    writes.recover(admin)
    write.refresh_from_db()
    assert write.state == TokenWrite.State.UNDONE
    assert Certificate.objects.get(pk=cert.pk).status == Certificate.Status.REVOKED
    assert audit.verify().ok
