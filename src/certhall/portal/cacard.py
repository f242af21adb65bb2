"""The home page's 证书验证服务 card (``#ca-card``): each CA's certificate and 证书吊销列表
(CRL), and the OCSP address. One place for what the card shows and for its search document
(CRL, OCSP, 吊销列表 found nothing while the card was not indexed: 12-07)."""

from __future__ import annotations

from dataclasses import dataclass

from certhall.ca.models import CertificateAuthority
from certhall.ca.signers import urls_for
from certhall.portal import search

TITLE = "证书验证服务"
URL = "/#ca-card"


@dataclass(frozen=True)
class CaRow:
    ca: CertificateAuthority
    cert_url: str
    crl_url: str


def rows() -> list[CaRow]:
    """The card's rows: every CA, oldest first."""
    out = []
    for ca in CertificateAuthority.objects.order_by("pk"):
        crl, _, cert = urls_for(ca.slug)
        out.append(CaRow(ca, cert, crl))
    return out


def ocsp_url() -> str:
    return urls_for("x")[1]


def document() -> search.Document:
    """The card's words as a phone shows them: its labels (each cell's ``data-label``; the
    table's head says 证书吊销列表（CRL）, whose 证书吊销 would make the card the one strict
    hit of 证书吊销, the business), each CA's name, type and the names of its two files, the
    OCSP line. Current (``search.CURRENT``): it is the CA as it is today."""
    parts = ["CA证书与吊销列表（CRL）"]  # the table's head, also before any CA is made
    for row in rows():
        ca = row.ca
        parts.append(f"CA：{ca.name}，类型：{ca.get_kind_display()}，CA证书：{ca.slug}.crt，")
        parts.append(f"吊销列表：{ca.slug}.crl")
    parts.append(f"在线证书状态查询（OCSP）：{ocsp_url()}")
    return search.Document("ca", "ca-card", TITLE, "\n".join(parts), URL, search.CURRENT)
