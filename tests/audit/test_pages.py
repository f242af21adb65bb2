"""审计日志 (/console/audit/): who reads it, its filters and paging, refusals of bad input
beside the form, the verification button."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime

import pytest
from django.test import Client

from certhall.accounts.models import Provider, Role, User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.rules import SHANGHAI
from tests.audit.test_chain import _drop_triggers
from tests.hall.conftest import at

pytestmark = pytest.mark.django_db

LOG = "/console/audit/"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _seqs(client: Client, query: str = "") -> list[int]:
    response = client.get(LOG + query)
    assert response.status_code == 200, response.content.decode()
    return [e.seq for e in response.context["events"]]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CA_ADMIN])
def test_the_home_providers_auditor_and_ca_admin_read_the_log(
    make_user: Callable[..., User], admin: User, role: Role
) -> None:
    audit.record(admin, "test.step", object_type="thing", object_id="42")
    client = _client(make_user(role))
    response = client.get(LOG)
    page = response.content.decode()
    assert response.status_code == 200
    assert "审计日志" in page and "校验审计链" in page and "test.step" in page
    assert "成功" in page
    seq = AuditEvent.objects.get(action="test.step").seq
    assert client.get(f"{LOG}{seq}/").status_code == 200
    profile = client.get("/accounts/profile/").content.decode()
    assert 'href="/console/audit/"' in profile


@pytest.mark.parametrize(
    "role", [Role.CLERK, Role.APPLICANT, Role.REFUND_OFFICER, Role.REVIEWER, Role.ISSUER]
)
def test_other_roles_get_the_403_page(
    make_user: Callable[..., User], admin: User, role: Role
) -> None:
    audit.record(admin, "test.step")
    client = _client(make_user(role))
    for path in (LOG, f"{LOG}1/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "审计员" in response.content.decode()
    assert client.post(f"{LOG}verify").status_code == 403
    assert not AuditEvent.objects.filter(action="audit.verify", result="ok").exists()
    refused = AuditEvent.objects.get(action="audit.verify")
    assert refused.result == "refused"
    assert 'href="/console/audit/"' not in client.get("/accounts/profile/").content.decode()


def test_another_providers_auditor_gets_the_403_page(
    make_user: Callable[..., User], other_provider: Provider
) -> None:
    client = _client(make_user(Role.AUDITOR, provider=other_provider))
    assert client.get(LOG).status_code == 403
    assert client.post(f"{LOG}verify").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page() -> None:
    response = Client().get(LOG)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_newest_first_fifty_a_page_paged_by_seq(admin: User, auditor: User) -> None:
    for i in range(120):
        audit.record(admin, "test.step", object_id=i)
    client = _client(auditor)
    first = client.get(LOG)
    assert [e.seq for e in first.context["events"]] == list(range(120, 70, -1))
    assert first.context["older"] == "?before=71"
    assert _seqs(client, "?before=71") == list(range(70, 20, -1))
    last = client.get(f"{LOG}?before=21")
    assert [e.seq for e in last.context["events"]] == list(range(20, 0, -1))
    assert "older" not in last.context
    filtered = client.get(LOG + "?action=test.&result=ok")  # the next page keeps the filters
    assert filtered.context["older"] == "?action=test.&result=ok&before=71"


def test_the_filters_pick_their_rows(admin: User, auditor: User) -> None:
    with at(datetime(2026, 12, 3, 23, 30, tzinfo=SHANGHAI)):
        audit.record(admin, "refunds.approve", object_type="refund", object_id="R1")
    with at(datetime(2026, 12, 4, 0, 30, tzinfo=SHANGHAI)):  # 12-03 16:30 UTC
        audit.record(admin, "refunds.reject", object_id="R2", result=audit.REFUSED)
    with at(datetime(2026, 12, 5, 9, 0, tzinfo=SHANGHAI)):
        audit.record(auditor, "hall.submit", object_id="R1")
    client = _client(auditor)
    assert _seqs(client, "?action=refunds.") == [2, 1]
    assert _seqs(client, "?action=refunds.approve") == [1]
    assert _seqs(client, "?object_id=R1") == [3, 1]
    assert _seqs(client, "?object_id=R") == []  # exact, not a prefix
    assert _seqs(client, f"?actor={auditor.label()}") == [3]
    assert _seqs(client, "?result=refused") == [2]
    assert _seqs(client, "?result=ok") == [3, 1]
    # Shanghai dates: 00:30 on 12-04 is 12-04, though 12-03 in UTC
    assert _seqs(client, "?since=2026-12-04&until=2026-12-04") == [2]
    assert _seqs(client, "?until=2026-12-03") == [1]
    assert _seqs(client, "?since=2026-12-05") == [3]
    assert _seqs(client, "?action=refunds.&before=2") == [1]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("?result=maybe", "结果只能选择"),
        ("?since=2026-13-01", "日期格式应为"),
        ("?since=²", "日期格式应为"),
        ("?since=2026-12-05&until=2026-12-01", "开始日期不能晚于结束日期"),
        ("?until=9999-12-31", "日期应在 2000-01-01 至 2099-12-31 之间"),
        ("?since=0001-01-01", "日期应在 2000-01-01 至 2099-12-31 之间"),
        ("?before=abc", "序号应为整数"),
        ("?before=²", "序号应为整数"),
        ("?before=-1", "序号应为整数"),
        ("?before=" + "9" * 19, "序号应为整数"),
        ("?before=" + "9" * 30, "序号不能超过"),
        ("?action=" + "a" * 65, "操作不能超过"),
        ("?object_id=" + "x" * 129, "对象不能超过"),
        ("?actor=" + "x" * 151, "操作人不能超过"),
    ],
)
def test_bad_filter_input_is_refused_beside_the_form(
    auditor: User, admin: User, query: str, words: str
) -> None:
    audit.record(admin, "test.step")
    response = _client(auditor).get(LOG + query)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="form-error"' in page and words in page
    assert 'id="filter-form"' in page and 'id="verify-form"' in page


def test_the_biggest_numbers_are_answered_on_postgresql_too(admin: User, auditor: User) -> None:
    audit.record(admin, "test.step")
    client = _client(auditor)
    assert _seqs(client, "?before=" + "9" * 18) == [1]
    assert client.get(LOG + "?before=" + "9" * 19).status_code == 400
    assert client.get(f"{LOG}{'9' * 18}/").status_code == 404
    assert client.get(f"{LOG}{'9' * 40}/").status_code == 404  # past bigint: missing, no 500
    assert client.get(f"{LOG}0/").status_code == 404


def test_an_events_page_shows_its_fields_and_hashes(admin: User, auditor: User) -> None:
    event = audit.record(
        admin, "refunds.approve", object_type="refund", object_id="R1",
        before={"state": "submitted"}, after={"state": "approved", "名": "值"},
    )  # fmt: skip
    page = html.unescape(_client(auditor).get(f"{LOG}{event.seq}/").content.decode())
    for shown in ("refunds.approve", "R1", '"state": "submitted"', '"名": "值"'):
        assert shown in page
    assert event.hash in page and event.prev_hash in page
    assert _client(auditor).get(f"{LOG}99/").status_code == 404


def test_verify_reports_an_intact_chain_and_records_itself(admin: User, auditor: User) -> None:
    for i in range(3):
        audit.record(admin, "test.step", object_id=i)
    client = _client(auditor)
    response = client.post(f"{LOG}verify", follow=True)
    assert response.redirect_chain == [(LOG, 303)]
    assert "审计链完整（3条）" in response.content.decode()
    event = AuditEvent.objects.get(action="audit.verify")
    assert (event.actor_id, event.result) == (auditor.pk, "ok")
    assert event.after["ok"] is True and event.after["checked"] == 3
    assert audit.verify().ok  # the verification's own event is chained


def test_verify_reports_a_broken_chain(admin: User, auditor: User) -> None:
    for i in range(3):
        audit.record(admin, "test.step", object_id=i)
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).update(after={"i": 99})
    response = _client(auditor).post(f"{LOG}verify", follow=True)
    page = response.content.decode()
    assert "审计链在第2条断开：第2条记录被改动。" in page
    event = AuditEvent.objects.get(action="audit.verify")
    assert event.after["ok"] is False and event.after["seq"] == 2
    assert event.after["problem"] == "row 2 was modified"


def test_verify_reports_an_altered_checkpoint_file(admin: User, auditor: User) -> None:
    from certhall import config
    from certhall.audit import checkpoints

    for i in range(3):
        audit.record(admin, "test.step", object_id=i)
    checkpoints.write()
    path = config.get().audit_checkpoints
    path.write_text(path.read_text().replace('"seq":3', '"seq":2'))
    page = _client(auditor).post(f"{LOG}verify", follow=True).content.decode()
    assert "审计链校验未通过：校验点文件中的第1个校验点被改动。" in page
    assert AuditEvent.objects.get(action="audit.verify").after["ok"] is False


def test_the_verify_button_is_a_post_with_csrf(auditor: User) -> None:
    client = _client(auditor)
    assert client.get(f"{LOG}verify").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(auditor)
    assert strict.post(f"{LOG}verify").status_code == 403
    assert not AuditEvent.objects.filter(action="audit.verify").exists()


def test_the_head_and_the_last_checkpoint_are_shown(admin: User, auditor: User) -> None:
    from certhall.audit import checkpoints

    client = _client(auditor)
    assert "尚无记录" in client.get(LOG).content.decode()
    with at(datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)):
        audit.record(admin, "test.step")
        audit.record(admin, "test.step")
        checkpoints.write()
        audit.record(admin, "test.step")
    page = client.get(LOG).content.decode()
    assert "第3条 · <time>2026-12-05 10:00:00</time>" in page
    assert "第2条 · <time>2026-12-05 10:00:00</time>" in page


def test_every_problem_verification_names_is_in_the_catalogue() -> None:
    """The page shows ``Verification.message()``: each code the walk can set has its words,
    and every parameter its template uses is given."""
    import inspect
    import re

    from certhall.messages import CATALOGUE, placeholders

    source = inspect.getsource(audit)
    codes = set(re.findall(r'code="(\w+)"', source))
    codes |= set(re.findall(r'_broken\(seq, [^)]*?"(\w+)"\)', source))
    assert len(codes) == 9, codes
    given = {"number", "checked", "recorded", "written", "seq", "next", "previous"}
    for code in codes:
        assert f"audit_chain.{code}" in CATALOGUE, code
        assert placeholders(f"audit_chain.{code}") <= given, code
