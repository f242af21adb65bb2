"""审计日志: 校验审计链 rate-limited per reader and per provider (429 with Retry-After through
the error boundary), the last recorded verification shown on the page, and paging both ways."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.test import Client

from certhall.accounts.models import Role, User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.rules import SHANGHAI
from tests.audit.test_chain import _drop_triggers
from tests.hall.conftest import at

pytestmark = pytest.mark.django_db

LOG = "/console/audit/"
NOON = datetime(2026, 12, 5, 12, 0, tzinfo=SHANGHAI)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _verified() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="audit.verify").order_by("seq"))


def test_a_reader_verifies_once_in_ten_minutes(admin: User, auditor: User) -> None:
    audit.record(admin, "test.step")
    client = _client(auditor)
    with at(NOON):
        assert client.post(f"{LOG}verify").status_code == 303
    with at(NOON + timedelta(minutes=4)):
        again = client.post(f"{LOG}verify")
        assert again.status_code == 429
        assert again["Retry-After"] == "360"
        assert "每人每10分钟只能校验一次审计链，请6分钟后再试" in again.content.decode()
        assert client.post(f"{LOG}verify").status_code == 429
    # One verification and one refusal recorded (the first of the window), not one a press.
    ok, refused = _verified()
    assert ok.result == "ok" and ok.after["ok"] is True
    assert refused.result == "refused" and refused.after["error"] == "rate_limited"
    with at(NOON + timedelta(minutes=10, seconds=1)):
        assert client.post(f"{LOG}verify").status_code == 303
    assert [e.result for e in _verified()] == ["ok", "refused", "ok"]


def test_the_provider_verifies_six_times_an_hour(
    make_user: Callable[..., User], admin: User
) -> None:
    audit.record(admin, "test.step")
    readers = [make_user(Role.AUDITOR) for _ in range(6)] + [make_user(Role.CA_ADMIN)]
    with at(NOON):
        for reader in readers[:6]:
            assert _client(reader).post(f"{LOG}verify").status_code == 303
        refused = _client(readers[6]).post(f"{LOG}verify")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert "本机构每小时最多校验6次审计链" in refused.content.decode()
    with at(NOON + timedelta(hours=1, seconds=1)):
        assert _client(readers[6]).post(f"{LOG}verify").status_code == 303


def test_a_refused_role_uses_no_verification(make_user: Callable[..., User], auditor: User) -> None:
    clerk = _client(make_user(Role.CLERK))
    with at(NOON):
        for _ in range(3):
            assert clerk.post(f"{LOG}verify").status_code == 403
        reader = _client(auditor)
        assert reader.post(f"{LOG}verify").status_code == 303
        assert reader.post(f"{LOG}verify").status_code == 429  # the reader's own limit


def test_the_last_verification_is_shown_with_its_time_and_reader(
    admin: User, auditor: User
) -> None:
    client = _client(auditor)
    with at(NOON):
        audit.record(admin, "test.step")
        assert "尚未校验" in client.get(LOG).content.decode()
        client.post(f"{LOG}verify")
    page = client.get(LOG).content.decode()
    seq = _verified()[0].seq
    shown = (
        f"审计链完整（1条）。 · <time>2026-12-05 12:00:00</time> · <code>{auditor.label()}</code>"
        f' · <a href="/console/audit/{seq}/">第{seq}条</a>'
    )
    assert shown in page
    _drop_triggers()
    AuditEvent.objects.filter(seq=1).update(after={"i": 99})
    with at(NOON + timedelta(minutes=11)):
        client.post(f"{LOG}verify")
    page = client.get(LOG).content.decode()
    assert "审计链在第1条断开：第1条记录被改动。 · <time>2026-12-05 12:11:00</time>" in page


def test_a_refused_verification_is_not_the_last_one(admin: User, auditor: User) -> None:
    client = _client(auditor)
    with at(NOON):
        client.post(f"{LOG}verify")
        client.post(f"{LOG}verify")  # refused: the limit
    page = client.get(LOG).content.decode()
    assert "审计链完整（0条）。 · <time>2026-12-05 12:00:00</time>" in page


def _page(client: Client, query: str) -> tuple[list[int], dict[str, str]]:
    response = client.get(LOG + query)
    assert response.status_code == 200, response.content.decode()
    links = {k: response.context[k] for k in ("older", "newer", "newest") if k in response.context}
    return [e.seq for e in response.context["events"]], links


def test_paging_back_to_newer_rows(admin: User, auditor: User) -> None:
    for i in range(120):
        audit.record(admin, "test.step", object_id=i)
    client = _client(auditor)
    first, links = _page(client, "")
    assert first == list(range(120, 70, -1)) and links == {"older": "?before=71"}
    second, links = _page(client, "?before=71")
    assert second == list(range(70, 20, -1))
    assert links == {"older": "?before=21", "newer": "?after=70", "newest": LOG}
    third, links = _page(client, "?before=21")
    assert third == list(range(20, 0, -1))
    assert links == {"newer": "?after=20", "newest": LOG}
    back, links = _page(client, "?after=20")  # the 50 rows just newer than 20
    assert back == list(range(70, 20, -1))
    assert links == {"older": "?before=21", "newer": "?after=70", "newest": LOG}
    top, links = _page(client, "?after=70")
    assert top == list(range(120, 70, -1)) and links == {"older": "?before=71", "newest": LOG}
    html = client.get(LOG + "?before=71").content.decode()
    assert 'id="newer"' in html and 'id="newest"' in html and 'id="older"' in html


def test_paging_both_ways_keeps_the_filters(admin: User, auditor: User) -> None:
    for i in range(60):
        audit.record(admin, "test.step" if i % 2 else "other.step", object_id=i)
    client = _client(auditor)
    query = "?action=test.&result=ok"
    seqs, links = _page(client, query)  # 30 test.step rows: the even seqs
    assert seqs == list(range(60, 0, -2)) and links == {}
    for i in range(60, 100):
        audit.record(admin, "test.step", object_id=i)
    seqs, links = _page(client, query + "&before=61")
    assert seqs == list(range(60, 0, -2))
    assert links == {
        "newer": "?action=test.&result=ok&after=60",
        "newest": "?action=test.&result=ok",
    }
    newer, links = _page(client, query + "&after=60")
    assert newer == list(range(100, 60, -1))[:50]
    assert links["older"] == "?action=test.&result=ok&before=61"


def test_before_and_after_together_are_refused(auditor: User) -> None:
    response = _client(auditor).get(LOG + "?before=5&after=2")
    assert response.status_code == 400
    assert "不能同时向前和向后翻页" in response.content.decode()
