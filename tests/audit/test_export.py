"""导出CSV (/console/audit/export.csv): the filtered list as a streamed UTF-8 CSV with a BOM,
Chinese headers, formula-looking cells neutralised, the same readers as the page, and the
export itself recorded as ``audit.export``."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime

import pytest
from django.http import StreamingHttpResponse
from django.test import Client

from certhall import spreadsheet
from certhall.accounts.models import Provider, Role, User
from certhall.audit import export
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.rules import SHANGHAI
from tests.hall.conftest import at

pytestmark = pytest.mark.django_db

EXPORT = "/console/audit/export.csv"
HEADERS = ["序号", "时间", "操作人", "操作", "对象类型", "对象", "结果", "变更前", "变更后", "哈希"]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(response: StreamingHttpResponse) -> list[list[str]]:
    body = b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_filtered_list_is_exported_newest_first(admin: User, auditor: User) -> None:
    with at(datetime(2026, 12, 5, 9, 30, tzinfo=SHANGHAI)):
        audit.record(admin, "refunds.approve", object_type="refund", object_id="R1",
                     before={"状态": "待审"}, after={"状态": "已批准"})  # fmt: skip
        audit.record(admin, "hall.submit", object_id="A1")
        audit.record(admin, "refunds.reject", object_id="R2", result=audit.REFUSED)
        response = _client(auditor).get(EXPORT + "?action=refunds.")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="audit-20261205-093000.csv"'
    rows = _rows(response)
    assert rows[0] == HEADERS
    assert [(r[0], r[3], r[6]) for r in rows[1:]] == [
        ("3", "refunds.reject", "拒绝"),
        ("1", "refunds.approve", "成功"),
    ]
    first = rows[2]
    assert first[1] == "2026-12-05 09:30:00" and first[2] == admin.label()
    assert first[4:6] == ["refund", "R1"]
    assert first[7:9] == ['{"状态":"待审"}', '{"状态":"已批准"}']
    assert first[9] == AuditEvent.objects.get(seq=1).hash


def test_cells_that_look_like_formulas_are_prefixed(admin: User, auditor: User) -> None:
    for value in ('=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok=1"):
        audit.record(admin, "test.step", object_id=value)
    rows = _rows(_client(auditor).get(EXPORT))
    ids = [r[5] for r in rows[1:8]][::-1]
    assert ids == ['\'=HYPERLINK("http://x")', "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok=1"]
    assert spreadsheet.as_text("-") == "'-" and spreadsheet.as_text("") == ""


def test_an_export_is_recorded_with_its_filters_and_rows(admin: User, auditor: User) -> None:
    for i in range(3):
        audit.record(admin, "test.step", object_id=i)
    response = _client(auditor).get(EXPORT + "?action=test.&since=2020-01-01&before=2")
    rows = _rows(response)
    assert len(rows) == 1 + 3  # the whole filtered list, not the page (``before`` is paging)
    event = AuditEvent.objects.get(action="audit.export")
    assert (event.actor_id, event.result, event.object_type) == (auditor.pk, "ok", "audit_chain")
    assert event.after == {
        "filters": {"action": "test.", "since": "2020-01-01"},
        "rows": 3,
        "upto": 3,
    }
    assert audit.verify().ok


def test_the_export_reads_in_chunks_and_stops_at_the_head(
    admin: User, auditor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CHUNK", 2)
    for i in range(5):
        audit.record(admin, "test.step", object_id=i)
    response = _client(auditor).get(EXPORT)
    audit.record(admin, "test.later")  # after the export began: not in it
    rows = _rows(response)
    assert [r[0] for r in rows[1:]] == ["5", "4", "3", "2", "1"]


def test_too_many_rows_are_refused(
    admin: User, auditor: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "LIMIT", 2)
    for i in range(3):
        audit.record(admin, "test.step", object_id=i)
    response = _client(auditor).get(EXPORT)
    assert response.status_code == 400
    assert "符合条件的记录超过2条" in response.content.decode()
    assert AuditEvent.objects.get(action="audit.export").result == "refused"
    assert _client(auditor).get(EXPORT + "?object_id=1").status_code == 200


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CA_ADMIN])
def test_the_readers_export(make_user: Callable[..., User], role: Role) -> None:
    client = _client(make_user(role))
    assert client.get(EXPORT).status_code == 200
    page = client.get("/console/audit/?action=refunds.&result=ok").content.decode()
    assert 'href="export.csv?action=refunds.&amp;result=ok"' in page and "导出CSV" in page


@pytest.mark.parametrize("role", [Role.CLERK, Role.APPLICANT, Role.REFUND_OFFICER, Role.ISSUER])
def test_other_roles_may_not_export(
    make_user: Callable[..., User], admin: User, role: Role
) -> None:
    audit.record(admin, "test.step")
    response = _client(make_user(role)).get(EXPORT)
    assert response.status_code == 403
    assert "test.step" not in response.content.decode()
    assert AuditEvent.objects.get(action="audit.export").result == "refused"


def test_another_providers_auditor_may_not_export(
    make_user: Callable[..., User], other_provider: Provider
) -> None:
    assert _client(make_user(Role.AUDITOR, provider=other_provider)).get(EXPORT).status_code == 403
    assert Client().get(EXPORT).status_code == 302  # anonymous: the login page


def test_bad_filters_are_refused(auditor: User) -> None:
    client = _client(auditor)
    assert client.get(EXPORT + "?result=maybe").status_code == 400
    assert client.get(EXPORT + "?since=2026-13-01").status_code == 400
    assert client.get(EXPORT + "?until=9999-12-31").status_code == 400
    assert client.post(EXPORT).status_code == 405
    assert not AuditEvent.objects.filter(action="audit.export", result="ok").exists()
