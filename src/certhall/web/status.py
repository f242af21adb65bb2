"""The public certificate status page (``/status/``) and its lookup service.

Anyone, without logging in, can look one of our certificates up by its serial number and see
what a relying party needs: the holder organisation, the certificate type, the validity period,
the status (有效 / 已吊销 with the date / 已过期 / 尚未生效) and the issuing CA. Personal data is
not shown: the person's name on a 机构个人证书 is masked to its first character (张三 -> 张*),
and the identity number (which the certificate carries) never appears. docs/forms.md explains
the choices.

Lookups are rate-limited per client (:func:`check_rate`, the platform's ``certhall.ratelimit``),
counted in the database so that every gunicorn worker shares the count; the JSON API
(``certhall.web.status_api``) uses the same service and the same limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from certhall import clock, config, ratelimit
from certhall.ca.models import Certificate
from certhall.errors import InvalidInput, NotFound, TooManyRequests, about
from certhall.messages import text
from certhall.pki.serials import parse_serial
from certhall.rules import CertType, default_catalog
from certhall.web.errors import attempt, form_page

log = logging.getLogger(__name__)

RATE_SCOPE = "status_lookup"
MAX_INPUT = 128


STATUS_NAMES = {
    "valid": "有效",
    "revoked": "已吊销",
    "expired": "已过期",
    "not_yet_valid": "尚未生效",
}


@dataclass(frozen=True)
class CertificateStatus:
    """What the public may know about one certificate (no identity numbers, masked names)."""

    serial: str
    cert_type: str
    cert_type_name: str
    organization: str
    holder: str
    not_before: datetime
    not_after: datetime
    status: str
    revoked_at: datetime | None
    issuer: str

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    def as_json(self) -> dict[str, Any]:
        def local(moment: datetime | None) -> str | None:
            return timezone.localtime(moment).isoformat() if moment else None

        return {
            "serial": self.serial,
            "cert_type": self.cert_type,
            "cert_type_name": self.cert_type_name,
            "organization": self.organization,
            "holder": self.holder or None,
            "not_before": local(self.not_before),
            "not_after": local(self.not_after),
            "status": self.status,
            "status_name": self.status_name,
            "revoked_at": local(self.revoked_at),
            "issuer": self.issuer,
        }


def mask_name(name: str) -> str:
    """The first character and one ``*`` per further character: 张三 -> 张*, 欧阳娜娜 -> 欧***.

    Latin names keep their spaces (``JOHN SMITH`` -> ``J*** *****``); a one-character name is
    shown as ``*``.
    """
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else ""
    return name[0] + "".join(ch if ch.isspace() else "*" for ch in name[1:])


def normalise_serial(text: str) -> str:
    """The registry form of a typed serial (`pki.serials.parse_serial`), in the page's words."""
    if len(text) > MAX_INPUT:
        raise InvalidInput(code="bad_serial")
    if not text.strip():
        raise InvalidInput(code="bad_serial", variant="empty")
    try:
        # full-width characters from Chinese input methods (０ｘ３Ｆ：Ａ２) are folded there
        return parse_serial(text)
    except InvalidInput:
        raise InvalidInput(code="bad_serial") from None


def certificate_status(serial_text: str, *, now: datetime | None = None) -> CertificateStatus:
    """Look one of our subscriber certificates up. NotFound for anything else (including the
    CA's own OCSP responder certificates, which are not a customer's business)."""
    with about("serial"):  # the page's field (web.refused)
        serial = normalise_serial(serial_text)
    now = now or clock.now()
    cert = (
        Certificate.objects.select_related("ca")
        .filter(serial=serial, profile__in=[t.value for t in CertType])
        .first()
    )
    if cert is None:
        raise NotFound(code="certificate_not_found", variant="status").naming("serial")
    if cert.status == Certificate.Status.REVOKED:
        status = "revoked"
    elif cert.not_after <= now:
        status = "expired"
    elif cert.not_before > now:
        status = "not_yet_valid"
    else:
        status = "valid"
    cert_type = CertType(cert.profile)
    return CertificateStatus(
        serial=cert.serial,
        cert_type=cert_type.value,
        cert_type_name=default_catalog().cert_types[cert_type].name,
        organization=cert.org_name,
        holder=mask_name(cert.person_name) if cert_type is CertType.PERSONAL else "",
        not_before=cert.not_before,
        not_after=cert.not_after,
        status=status,
        revoked_at=cert.revoked_at if status == "revoked" else None,
        issuer=cert.ca.name,
    )


# --- rate limit --------------------------------------------------------------------------------


def rate_limit() -> ratelimit.Limit:
    """``CERTHALL_STATUS_RATE_LIMIT`` look-ups per client (default 20 in any 60 seconds)."""
    setting = config.get().status_rate_limit
    return ratelimit.Limit(RATE_SCOPE, setting.events, setting.seconds)


def check_rate(client: str | None, *, now: datetime | None = None) -> None:
    """Count one lookup from the address ``client``; TooManyRequests (HTTP 429) over the
    limit."""
    limit = rate_limit()
    key = ratelimit.client_key(client)
    try:
        ratelimit.check(limit, key, now=now)
    except TooManyRequests as refusal:
        if refusal.first_refusal:
            log.warning(
                "status lookups rate-limited for %s (%d per %ds)",
                key,
                limit.max_events,
                limit.window,
            )
        raise


def lookup(
    serial_text: str, *, client: str | None, now: datetime | None = None
) -> CertificateStatus:
    """The service of the page and the API: count the lookup from the address ``client``, then
    answer it."""
    check_rate(client, now=now)
    return certificate_status(serial_text, now=now)


# --- the page ----------------------------------------------------------------------------------


@require_safe
def status_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("serial")
    # the hint states the serial's rule as the refusal does (messages.common.SERIAL_RULE)
    context: dict[str, Any] = {
        "query": (query or "").strip()[:MAX_INPUT],
        "hint": text("status_hint"),
    }
    error = None
    if query is not None:
        found, error = attempt(lambda: lookup(query, client=ratelimit.client_address(request)))
        context["result"] = found
    response = form_page(request, "web/status.html", context, error)
    response["X-Robots-Tag"] = "noindex"
    return response
