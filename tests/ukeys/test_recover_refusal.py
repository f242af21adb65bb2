"""Recovery undoes an interrupted issuance in one transaction (certificate revoked, record
closed). A refused revocation used to write its event inside that transaction, which rolled
back with it: recovery stopped on a refusal the audit log never showed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, transaction

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


def _interrupted(admin: User, make_ukey: Callable[..., Ukey]) -> tuple[Certificate, TokenWrite]:
    """A rekey of a customer's Ukey whose process died after the certificate was signed."""
    cert = issue(admin, IssueRequest(csr=csr(), profile="personal", years=1, subscriber=PERSON))
    write = TokenWrite.objects.create(
        ukey=make_ukey(Status.ISSUED),
        kind=TokenWrite.Kind.REKEY,
        key_label="ukey-interrupted",
        certificate=cert,
        owner="another-host:1",
        created_at=clock.now() - timedelta(hours=1),
    )
    return cert, write


@pytest.mark.django_db
def test_a_refused_revocation_while_recovering_is_audited(  # type: ignore[no-untyped-def]
    admin: User,
    ca,
    make_ukey: Callable[..., Ukey],
    make_user: Callable[..., User],
    other_provider: Provider,
) -> None:
    cert, write = _interrupted(admin, make_ukey)
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


def _when_waited_for(seconds: float = 10) -> None:
    """Until another connection waits for a lock this one holds."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("nobody waited")


def test_a_revocation_at_the_same_moment_as_recovery_is_audited(  # type: ignore[no-untyped-def]
    audit_flushable: None, admin: User, ca, make_ukey: Callable[..., Ukey]
) -> None:
    """Recovery read the certificate valid; a clerk's revocation committed before recovery's
    own: recovery's is refused (already_revoked). The next attempt undoes the write."""
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    cert, write = _interrupted(admin, make_ukey)
    holding = threading.Event()

    def clerk() -> None:
        try:
            with transaction.atomic():
                Certificate.objects.select_for_update().get(pk=cert.pk)
                holding.set()
                _when_waited_for()  # recovery's revocation waits for the row
                Certificate.objects.filter(pk=cert.pk).update(
                    status=Certificate.Status.REVOKED,
                    revoked_at=clock.now(),
                    revocation_reason="keyCompromise",
                )
        finally:
            connection.close()

    thread = threading.Thread(target=clerk)
    thread.start()
    assert holding.wait(10)
    undone = writes.recover(admin)
    thread.join()
    assert [w.pk for w in undone] == [write.pk]
    write.refresh_from_db()
    assert write.state == TokenWrite.State.UNDONE
    [refused] = AuditEvent.objects.filter(result=audit.REFUSED)
    assert (refused.action, refused.object_id) == ("ukey.write.undo", str(write.pk))
    assert refused.after["error"] == "already_revoked"
    assert audit.verify().ok
