"""The helper's PIN page tells a certificate's end as the hall does: the Shanghai date."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certhall.agent.pinpage import render_pin
from certhall.agent.requests import Request
from certhall.agent.ukey import UkeyCertificate


def test_the_end_is_the_shanghai_date_of_the_notafter() -> None:
    """notAfter 2026-12-31 21:00:00 UTC is 05:00 on 元旦 2027 in Shenzhen: the hall's pages say
    有效期至 2027-01-01, and so must the page where the customer types the Ukey's PIN (it said
    2026-12-31, the UTC date)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "王五")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5A1C)
        .not_valid_before(datetime(2026, 1, 1, 21, 0, tzinfo=UTC))
        .not_valid_after(datetime(2026, 12, 31, 21, 0, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    entry = UkeyCertificate("ukey-0001", "0001", "cert", b"\x01", cert, der, True)
    request = Request("r1", "t", "renew", "http://127.0.0.1:8000", entry, 0.0, years=1)
    page = render_pin(request)
    assert "<th>有效期至</th><td>2027-01-01</td>" in page
