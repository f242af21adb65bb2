"""Batch issuance (``ca.batch.issue_batch``, ``certhall ca issue-batch``): all or nothing, one
audit event naming every serial, the chain still verifiable; the OCSP answers pre-signed by the
jobs' next round, as after a single issuance. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp as x509_ocsp
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.audit.services import verify
from certhall.ca import ocsp_store
from certhall.ca.batch import issue_batch
from certhall.ca.models import Certificate, OCSPResponse
from certhall.ca.ocsp_serve import AnswerStore, OCSPFastPath
from certhall.ca.services import IssueRequest, issue
from certhall.errors import Forbidden, InvalidInput
from certhall.pki.issuance import Subscriber
from tests.ca.test_ocsp_store import T0, request
from tests.ca.test_ocsp_store import ca as ca
from tests.ca.test_renew_cli import no_setup as no_setup
from tests.ca.test_renew_cli import run
from tests.ca.test_services import ORG, PERSON, csr

pytestmark = pytest.mark.django_db


def requests(n: int) -> list[IssueRequest]:
    out = []
    for i in range(n):
        if i % 2:
            out.append(IssueRequest(csr(), "personal", 3, PERSON))
        else:
            out.append(IssueRequest(csr(), "org", 1, ORG))
    return out


def test_a_batch_is_issued_in_order_with_one_audit_event_naming_every_serial(
    admin: User,
    ca,  # type: ignore[no-untyped-def]
) -> None:
    with time_machine.travel(T0, tick=False):
        rows = issue_batch(admin, requests(6))
    assert len(rows) == 6 and all(r.pk for r in rows)
    stored = {c.serial: c for c in Certificate.objects.filter(pk__in=[r.pk for r in rows])}
    for i, row in enumerate(rows):
        cert = x509.load_der_x509_certificate(bytes(stored[row.serial].der))
        assert format(cert.serial_number, "x") == row.serial
        assert row.profile == ("personal" if i % 2 else "org")
        assert row.status == Certificate.Status.VALID
    # one event for the batch, none per certificate
    assert not AuditEvent.objects.filter(action="ca.certificate.issue").exists()
    event = AuditEvent.objects.get(action="ca.certificate.issue_batch")
    assert event.result == "ok" and event.after["count"] == 6
    assert [c["serial"] for c in event.after["certificates"]] == [r.serial for r in rows]
    assert [c["sha256"] for c in event.after["certificates"]] == [
        r.fingerprint_sha256 for r in rows
    ]
    assert verify().ok


def test_one_bad_csr_refuses_the_whole_batch_and_names_it(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    batch = requests(4)
    batch[2] = IssueRequest(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", "org", 1, ORG)
    before = Certificate.objects.count(), OCSPResponse.objects.count()
    with time_machine.travel(T0, tick=False), pytest.raises(InvalidInput) as refused:
        issue_batch(admin, batch)
    assert refused.value.code == "batch_item"
    assert refused.value.message.startswith("第3项：")
    assert (Certificate.objects.count(), OCSPResponse.objects.count()) == before
    refusal = AuditEvent.objects.get(action="ca.certificate.issue_batch")
    assert refusal.result == "refused" and refusal.after["error"] == "batch_item"
    assert verify().ok


def test_a_subscriber_the_profile_refuses_refuses_the_batch(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    bad_uscc = Subscriber(org_name="某公司", uscc="91350100M000100Y44")
    batch = [*requests(2), IssueRequest(csr(), "org", 1, bad_uscc)]
    with time_machine.travel(T0, tick=False), pytest.raises(InvalidInput) as refused:
        issue_batch(admin, batch)
    assert refused.value.message.startswith("第3项：")
    assert not Certificate.objects.filter(profile__in=["org", "personal"]).exists()


def test_only_issuers_issue_batches_and_sizes_are_bounded(
    admin: User,
    ca,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(Forbidden):
        issue_batch(make_user(Role.AUDITOR), requests(1))
    with pytest.raises(InvalidInput) as refused:
        issue_batch(admin, [])
    assert refused.value.code == "batch_size"


def test_the_jobs_pre_sign_the_batch_and_the_fast_path_serves_it(
    admin: User,
    ca,  # type: ignore[no-untyped-def]
) -> None:
    _, issuing = ca
    with time_machine.travel(T0, tick=False):
        rows = issue_batch(admin, requests(5))
    assert not OCSPResponse.objects.filter(certificate__in=rows).exists()
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert ocsp_store.refresh_due(T0 + timedelta(seconds=30)) >= len(rows)
    answers = {a.certificate_id: a for a in OCSPResponse.objects.filter(certificate__in=rows)}
    assert set(answers) == {r.pk for r in rows}
    store = AnswerStore()
    fast = OCSPFastPath(store)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        while store.poll_once():
            pass
        for row in rows:
            reply = fast("POST", "/ocsp", request(row, issuing))
            assert reply is not None and reply.status == 200
            answer = x509_ocsp.load_der_ocsp_response(reply.body)
            assert answer.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
            assert answer.serial_number == int(row.serial, 16)
            assert isinstance(answer.hash_algorithm, hashes.SHA1)


def test_the_rows_come_back_as_stored(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """Written below the ORM: what the caller gets is what a query reads back."""
    with time_machine.travel(T0, tick=False):
        rows = issue_batch(admin, requests(4))
    fields = [f.attname for f in Certificate._meta.concrete_fields]
    for row in rows:
        stored = Certificate.objects.get(pk=row.pk)
        for field in fields:
            mine, theirs = getattr(row, field), getattr(stored, field)
            assert (bytes(mine) if field == "der" else mine) == (
                bytes(theirs) if field == "der" else theirs
            ), field
    assert rows[0].created_at == T0 and rows[0].not_before.tzinfo is not None


def test_statements_do_not_grow_with_the_batch(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    counts = []
    for n in (1, 2, 40):  # the first one also issues the OCSP responder's certificate
        batch = requests(n)
        with time_machine.travel(T0, tick=False), CaptureQueriesContext(connection) as queries:
            issue_batch(admin, batch)
        counts.append(len(queries))
    assert counts[1] == counts[2] <= 12


def test_single_issuance_reads_the_ca_row_once_per_process(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        issue(admin, IssueRequest(csr(), "org", 1, ORG))
        with CaptureQueriesContext(connection) as queries:
            issue(admin, IssueRequest(csr(), "org", 1, ORG))
    assert not [q for q in queries if "ca_certificateauthority" in q["sql"]]


def test_cli_issues_a_manifest(
    admin: User,
    ca,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,  # type: ignore[no-untyped-def]
) -> None:
    lines = []
    for i in range(3):
        (tmp_path / f"{i}.csr").write_bytes(csr())
        lines.append({"csr": f"{i}.csr", "profile": "org", "years": 1, **ORG.__dict__})
    lines[2] |= {"profile": "personal", "years": 2, **PERSON.__dict__}
    (tmp_path / "batch.jsonl").write_text(
        "\n".join(json.dumps({k: v for k, v in x.items() if v is not None}) for x in lines)
    )
    out = tmp_path / "certs.pem"
    with time_machine.travel(T0, tick=False):
        code, serials, err = run(
            capsys, "ca", "issue-batch", str(tmp_path / "batch.jsonl"), "--out", str(out)
        )
    assert (code, err) == (0, "")
    certs = x509.load_pem_x509_certificates(out.read_bytes())
    assert [format(c.serial_number, "x") for c in certs] == serials.split()
    assert Certificate.objects.filter(serial__in=serials.split()).count() == 3


def test_cli_refuses_a_bad_manifest_line_before_issuing(
    admin: User,
    ca,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / "a.csr").write_bytes(csr())
    good = {"csr": "a.csr", "profile": "org", "years": 1, **ORG.__dict__}
    good = {k: v for k, v in good.items() if v is not None}
    (tmp_path / "batch.jsonl").write_text(
        json.dumps(good) + "\n" + json.dumps(good | {"csr": "missing.csr"}) + "\n"
    )
    out = tmp_path / "certs.pem"
    code, _, err = run(
        capsys, "ca", "issue-batch", str(tmp_path / "batch.jsonl"), "--out", str(out)
    )
    assert code != 0 and "第2行" in err
    assert not out.exists()
    assert not Certificate.objects.filter(profile="org").exists()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b'"person_name": 5', "person_name 须为字符串"),  # was an AttributeError traceback
        (b'"org_name": 5', "org_name 须为字符串"),  # was issued to an organisation named "5"
        # GBK, or any byte that is not UTF-8: was issued as 深圳市\ufffd测试科技有限公司
        ('"org_name": "深圳市测试"'.encode("gb18030"), "不是UTF-8编码"),
    ],
)
def test_cli_refuses_manifest_values_that_are_not_text(
    admin: User,
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
    value: bytes,
    reason: str,
) -> None:
    (tmp_path / "a.csr").write_bytes(csr())
    good = {"csr": "a.csr", "profile": "org", "years": 1, **ORG.__dict__}
    good = {k: v for k, v in good.items() if v is not None}
    line = json.dumps(good).encode()
    bad = line[:-1] + b", " + value + b"}"  # the bad value last: it wins over the good one
    (tmp_path / "batch.jsonl").write_bytes(line + b"\n" + bad + b"\n")
    out = tmp_path / "certs.pem"
    with time_machine.travel(T0, tick=False):
        code, stdout, err = run(
            capsys, "ca", "issue-batch", str(tmp_path / "batch.jsonl"), "--out", str(out)
        )
    assert (code, stdout) == (2, "")
    assert err.splitlines() == [
        f"certhall: error: 批量清单 {tmp_path / 'batch.jsonl'} 第2行：{reason}"
    ]
    assert not out.exists()
    assert not Certificate.objects.filter(profile="org").exists()


def test_the_crl_lists_every_revocation_with_its_time_and_reason(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """The CRL's entries are read with one raw SQL statement: times and reasons survive it."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from certhall.ca import crls
    from certhall.ca.services import revoke

    _, issuing = ca
    with time_machine.travel(T0, tick=False):
        rows = issue_batch(admin, requests(4))
    reasons = ["keyCompromise", "superseded", "unspecified"]
    expected = {
        "keyCompromise": [x509.ReasonFlags.key_compromise],
        "superseded": [x509.ReasonFlags.superseded],
        "unspecified": [],  # left out (RFC 5280 5.3.1)
    }
    for i, (row, reason) in enumerate(zip(rows, reasons, strict=False)):
        with time_machine.travel(T0 + timedelta(minutes=i + 1, microseconds=250), tick=False):
            revoke(admin, row.serial, reason)
    crl = x509.load_der_x509_crl(bytes(crls.publish_crl(admin, issuing).der))
    public = x509.load_der_x509_certificate(bytes(issuing.certificate_der)).public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey) and crl.is_signature_valid(public)
    assert len(crl) == 3
    for i, (row, reason) in enumerate(zip(rows, reasons, strict=False)):
        entry = crl.get_revoked_certificate_by_serial_number(int(row.serial, 16))
        assert entry is not None
        assert entry.revocation_date_utc == T0 + timedelta(minutes=i + 1)
        listed = [e.value.reason for e in entry.extensions if isinstance(e.value, x509.CRLReason)]
        assert listed == expected[reason]
    assert crl.get_revoked_certificate_by_serial_number(int(rows[3].serial, 16)) is None
