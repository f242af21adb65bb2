"""The public certificate status page and API: valid, revoked, expired, unknown and malformed
serials, masked personal names, no identity numbers, and the per-client rate limit.

Certificates are issued by a fresh CA at a frozen moment (2026-11-20 10:00 Beijing time)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.test import Client

from certhall.accounts.models import RateLimitEvent, User
from certhall.ca import ocsp
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.ca.services import IssueRequest, issue, revoke
from certhall.config import RateSetting
from certhall.messages import text
from certhall.messages.common import SERIAL_RULE
from certhall.pki.issuance import Subscriber
from certhall.web.status import mask_name, rate_limit

NOT_FOUND = text("certificate_not_found.status")
BAD_SERIAL = text("bad_serial")

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
ORG_NAME = "深圳市演示医疗科技有限公司"
USCC = "91350100M000100Y43"
PERSON = "张三丰"
ID_NUMBER = "11010519491231002X"

pytestmark = pytest.mark.django_db


def csr() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(ISSUED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def certs(clock, admin: User, ca) -> dict[str, Certificate]:  # type: ignore[no-untyped-def]
    org = issue(
        admin,
        IssueRequest(
            csr=csr(), profile="org", years=1, subscriber=Subscriber(org_name=ORG_NAME, uscc=USCC)
        ),
    )
    personal = issue(
        admin,
        IssueRequest(
            csr=csr(),
            profile="personal",
            years=3,
            subscriber=Subscriber(
                org_name=ORG_NAME, uscc=USCC, person_name=PERSON, id_number=ID_NUMBER
            ),
        ),
    )
    return {"org": org, "personal": personal}


def page(client: Client, serial: str, address: str = "198.51.100.7"):  # type: ignore[no-untyped-def]
    return client.get("/status/", {"serial": serial}, REMOTE_ADDR=address)


def api(client: Client, serial: str, address: str = "198.51.100.7"):  # type: ignore[no-untyped-def]
    return client.get(f"/api/status/{serial}", REMOTE_ADDR=address)


def test_valid_organisation_certificate(client: Client, certs: dict[str, Certificate]) -> None:
    cert = certs["org"]
    response = page(client, cert.serial)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-status="valid"' in html
    assert ORG_NAME in html
    assert "机构证书(ODC证书)" in html
    assert ">有效<" in html
    assert cert.serial.upper() in html
    assert CertificateAuthority.objects.get(kind="issuing").name in html
    # validity in Beijing time
    assert "2026-11-20 10:00:00 至 2027-11-" in re.sub(r"</?time>", "", html)
    assert "持证人" not in html.split("查询结果")[1].split("</table>")[0]
    assert response["Cache-Control"] == "private, no-store"  # web.private.ALWAYS_PRIVATE

    data = api(client, cert.serial).json()
    assert data["status"] == "valid" and data["status_name"] == "有效"
    assert data["organization"] == ORG_NAME and data["cert_type"] == "org"
    assert data["cert_type_name"] == "机构证书(ODC证书)"
    assert data["holder"] is None and data["revoked_at"] is None
    assert data["serial"] == cert.serial
    assert datetime.fromisoformat(data["not_before"]) == cert.not_before
    assert data["not_before"].endswith("+08:00")
    assert datetime.fromisoformat(data["not_after"]) == cert.not_after


def test_personal_certificate_shows_a_masked_name_and_no_id_number(
    client: Client, certs: dict[str, Certificate]
) -> None:
    cert = certs["personal"]
    response = page(client, cert.serial)
    html = response.content.decode()
    assert "机构个人证书(法人证书)" in html
    assert "张**" in html
    assert PERSON not in html and PERSON[1:] not in html
    assert ID_NUMBER not in html and ID_NUMBER[6:14] not in html
    body = api(client, cert.serial).content.decode()
    data = json.loads(body)
    assert data["holder"] == "张**" and data["cert_type"] == "personal"
    assert PERSON not in body and ID_NUMBER not in body and ID_NUMBER[6:14] not in body


def test_revoked_certificate(
    client: Client, admin: User, certs: dict[str, Certificate], clock: time_machine.Coordinates
) -> None:
    cert = certs["org"]
    clock.move_to(datetime(2026, 11, 20, 15, 30, 5, tzinfo=SHANGHAI))
    revoke(admin, cert.serial, "keyCompromise")
    clock.move_to(datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI))
    html = page(client, cert.serial).content.decode()
    assert 'data-status="revoked"' in html
    assert "已吊销（吊销时间：2026-11-20 15:30:05）" in html
    data = api(client, cert.serial).json()
    assert data["status"] == "revoked" and data["status_name"] == "已吊销"
    assert data["revoked_at"] == "2026-11-20T15:30:05+08:00"


def test_expired_certificate_and_revocation_wins_over_expiry(
    client: Client, admin: User, certs: dict[str, Certificate], clock: time_machine.Coordinates
) -> None:
    org = certs["org"]
    clock.move_to(org.not_after - timedelta(seconds=1))
    assert api(client, org.serial).json()["status"] == "valid"
    clock.move_to(org.not_after)
    assert api(client, org.serial).json()["status"] == "expired"
    html = page(client, org.serial).content.decode()
    assert 'data-status="expired"' in html and "已过期（于 2027-11-" in html
    # a revoked certificate stays 已吊销 after its expiry
    clock.move_to(ISSUED_AT + timedelta(days=1))
    revoke(admin, certs["personal"].serial, "superseded")
    clock.move_to(certs["personal"].not_after + timedelta(days=1))
    assert api(client, certs["personal"].serial).json()["status"] == "revoked"


@pytest.mark.parametrize(
    "typed",
    [
        lambda s: s.upper(),
        lambda s: "0x" + s,
        lambda s: "0X" + s.upper(),
        lambda s: ":".join(s[i : i + 2] for i in range(0, len(s), 2)),
        lambda s: " ".join(s[i : i + 4] for i in range(0, len(s), 4)) + "  ",
        lambda s: "".join(chr(ord(c) + 0xFEE0) for c in s.upper()),  # full-width input
    ],
)
def test_tolerant_serial_input(client: Client, certs: dict[str, Certificate], typed) -> None:  # type: ignore[no-untyped-def]
    cert = certs["org"]
    serial = cert.serial if len(cert.serial) % 2 == 0 else "0" + cert.serial
    assert api(client, typed(serial)).json()["serial"] == cert.serial
    assert 'data-status="valid"' in page(client, typed(serial)).content.decode()


def test_unknown_serial(client: Client, certs: dict[str, Certificate]) -> None:
    response = page(client, "abcdef0123456789")
    assert response.status_code == 404
    html = response.content.decode()
    assert NOT_FOUND in html and "未找到该证书" in html and "status-result" not in html
    response = api(client, "abcdef0123456789")
    assert response.status_code == 404
    assert response.json() == {
        "error": "certificate_not_found",
        "message": NOT_FOUND,
        "fields": ["serial"],
    }


def test_ocsp_responder_certificates_are_not_customers(
    client: Client, certs: dict[str, Certificate]
) -> None:
    issuing = CertificateAuthority.objects.get(kind="issuing")
    ocsp.ensure_responder(issuing, ISSUED_AT)
    responder = Certificate.objects.get(profile="ocsp")
    assert api(client, responder.serial).status_code == 404


@pytest.mark.parametrize(
    "typed", ["xyz!", "0x", "12-34", "-1", "0", "f" * 41, "8" + "0" * 39, "1" * 200, "   "]
)
def test_malformed_serial(client: Client, db: None, typed: str) -> None:
    response = page(client, typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert "证书序列号" in html and "status-result" not in html
    response = api(client, typed)
    assert response.status_code in (400, 404)  # a blank path segment does not reach the view
    if response.status_code == 400:
        assert response.json()["error"] == "bad_serial"
        assert response.json()["message"] in (BAD_SERIAL, text("bad_serial.empty"))


@pytest.mark.parametrize("typed", ["3F00-A1", "f" * 41, "8" + "0" * 39])
def test_a_refused_serial_states_what_a_serial_is(client: Client, db: None, typed: str) -> None:
    """The refusal says what to type (it said hex digits, not how many): hex digits, at most
    40 (the first of 40 at most 7: RFC 5280's 20 octets), not 0, colons or blanks between."""
    rule = ("十六进制数字", "至多40位", "40位时首位为0-7", "不为0", "0x", "冒号或空格")
    html = re.sub(r"<[^>]+>", "", page(client, typed).content.decode())  # ranges kept whole
    message = api(client, typed).json()["message"]
    assert all(part in html and part in message for part in rule), message


def test_the_page_without_a_query_shows_the_form(client: Client, db: None) -> None:
    response = client.get("/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="serial"' in html and "status-result" not in html and "status-error" not in html
    assert not RateLimitEvent.objects.exists()  # only lookups count
    assert '<a href="/status/">证书查询</a>' in html  # the nav link


def test_the_hint_states_the_rule_the_refusal_states(client: Client, db: None) -> None:
    """Before anything is typed, the hint under the field says what a serial is as a refusal
    does, from the one entry (it said hexadecimal and nothing of the 40 digits until 12-07)."""
    html = client.get("/status/").content.decode()
    hint = re.search(r'<p class="hint" id="serial-hint">(.*?)</p>', html, re.S)
    assert hint is not None
    words = re.sub(r"<[^>]+>", "", hint.group(1))  # ranges kept whole in spans
    assert SERIAL_RULE in words and "至多40位" in words
    assert SERIAL_RULE in text("bad_serial")


def test_the_limit_is_twenty_a_minute_by_default() -> None:
    limit = rate_limit()
    assert (limit.max_events, limit.window) == (20, 60)


def test_rate_limit_per_client(
    client: Client,
    certs: dict[str, Certificate],
    clock: time_machine.Coordinates,
    configure: Callable[..., object],
) -> None:
    configure(status_rate_limit=RateSetting(3, 60))
    clock.move_to(datetime(2026, 11, 20, 12, 0, 10, tzinfo=SHANGHAI))
    serial = certs["org"].serial
    assert page(client, serial).status_code == 200
    assert api(client, "ffff").status_code == 404  # unknown serials count too
    assert api(client, "nonsense").status_code == 400  # and malformed ones
    refused = page(client, serial)
    assert refused.status_code == 429
    # until the first of the three lookups leaves the sliding 60-second window
    assert "操作过于频繁，请 60 秒后再试" in refused.content.decode()
    assert refused["Retry-After"] == "60"
    response = api(client, serial)
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    # another address is not affected; the same /64 of an IPv6 client is one client
    assert api(client, serial, address="203.0.113.9").status_code == 200
    for _ in range(3):
        assert api(client, serial, address="2001:db8:1:2::1").status_code == 200
    assert api(client, serial, address="2001:db8:1:2:ffff::7").status_code == 429
    # a minute after the first lookups, they have left the window
    clock.move_to(datetime(2026, 11, 20, 12, 1, 9, tzinfo=SHANGHAI))
    assert page(client, serial).status_code == 429
    clock.move_to(datetime(2026, 11, 20, 12, 1, 10, tzinfo=SHANGHAI))
    assert page(client, serial).status_code == 200


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        ("王", "*"),
        ("", ""),
        ("JOHN SMITH", "J*** *****"),
        ("  李四 ", "李*"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
