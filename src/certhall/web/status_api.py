"""``GET /api/status/{serial}``: the public certificate status lookup as JSON.

The same service and rate limit as the ``/status/`` page (``certhall.web.status``). No login,
no session, no state change but the rate counter: safe without a CSRF token. Errors come out as
``{"error", "message"}`` (``fields`` too when the refusal names inputs): 400 ``bad_serial``,
404 ``certificate_not_found``, 429 ``rate_limited``.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from certhall.ratelimit import client_address
from certhall.web.errors import refusals
from certhall.web.status import lookup

router = Router(tags=["status"])


class CertificateStatusOut(Schema):
    serial: str
    cert_type: str
    cert_type_name: str
    organization: str
    holder: str | None
    not_before: datetime
    not_after: datetime
    status: str
    status_name: str
    revoked_at: datetime | None
    issuer: str


@router.get(
    "/{serial}",
    response=CertificateStatusOut,
    openapi_extra=refusals(429),
    auth=None,
    summary="证书状态查询",
    description="按序列号（十六进制）查询本平台签发的证书：持证单位、证书类型、有效期、状态、"
    "签发CA。个人证书的持证人姓名只显示首字，不返回证件号码。",
)
def certificate_status(
    request: HttpRequest, response: HttpResponse, serial: str
) -> dict[str, object]:
    response["Cache-Control"] = "no-store"
    return lookup(serial, client=client_address(request)).as_json()
