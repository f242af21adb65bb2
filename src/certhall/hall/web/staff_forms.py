"""What the staff console reads from its forms, and what it prints.

* :func:`item_request`, :func:`issue_choices`, :func:`return_reasons`: the POSTed fields as the
  hall services' own inputs (no rule is checked here: the services do that, in every channel).
* :func:`form_data`: one application as :class:`certhall.forms.FormData` for the printed
  《单位数字证书申请表》, 《机构数字证书申请表》 and 《机构个人数字证书附页》 (filled from the
  records; the fees are the lines' quotes).
"""

from __future__ import annotations

from collections.abc import Mapping

from certhall.errors import InvalidInput
from certhall.forms import Applicant, CertificateRequest, FormData, Handler, Holder
from certhall.hall import clock
from certhall.hall.items import REPLACE_CAUSES, REVOCATION_REASONS, ItemRequest
from certhall.hall.models import Application, ApplicationItem, Business, CertType
from certhall.rules import default_catalog, local

FIELD_LIMIT = 200


def field(data: Mapping[str, str], name: str, limit: int = FIELD_LIMIT) -> str:
    return str(data.get(name, "") or "").strip()[:limit]


def _years(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 2:
        raise InvalidInput("证书年限须为1-5的整数。", code="years")
    return int(text)


def item_request(data: Mapping[str, str]) -> ItemRequest:
    """A business line as typed at the counter (fields a business does not use are ignored by
    the service)."""
    return ItemRequest(
        business=field(data, "business", 16),
        cert_type=field(data, "cert_type", 16) or None,
        years=_years(field(data, "years", 4)),
        person_name=field(data, "person_name", 64),
        person_id_number=field(data, "person_id_number", 32),
        serial=field(data, "serial", 80),
        org_name=field(data, "org_name", 128),
        revocation_reason=field(data, "revocation_reason", 32),
        replace_cause=field(data, "replace_cause", 16),
    )


def issue_choices(data: Mapping[str, str]) -> tuple[dict[int, str], str | None]:
    """(line id -> Ukey serial from stock, the PIN typed by the customer or None)."""
    tokens: dict[int, str] = {}
    for key in data:
        if key.startswith("token_") and key[6:].isdigit():
            serial = field(data, key, 64)
            if serial:
                tokens[int(key[6:])] = serial
    pin = str(data.get("pin", "") or "")
    return tokens, (pin if pin else None)


def return_reasons(data: Mapping[str, str]) -> tuple[dict[int, str], str]:
    """(document id -> reason, general note) from the return form (empty reasons dropped)."""
    reasons: dict[int, str] = {}
    for key in data:
        if key.startswith("reason_") and key[7:].isdigit():
            text = field(data, key, 400)
            if text:
                reasons[int(key[7:])] = text
    return reasons, field(data, "note", 1000)


# --- the printed forms ---------------------------------------------------------------------


def _note(line: ApplicationItem) -> str:
    if line.business == Business.CHANGE:
        return f"变更后单位名称：{line.org_name}"
    if line.business == Business.REVOKE and line.revocation_reason:
        return f"吊销原因：{REVOCATION_REASONS.get(line.revocation_reason, '')}"
    if line.business == Business.REPLACE and line.replace_cause:
        return f"Ukey{REPLACE_CAUSES.get(line.replace_cause, '')}"
    return ""


def _request(line: ApplicationItem) -> CertificateRequest:
    has_term = default_catalog().businesses[line.business].has_term  # type: ignore[index]
    holder = None
    if line.cert_type == CertType.PERSONAL:
        holder = Holder(
            name=line.person_name,
            id_kind="resident_id",
            id_number=line.person_id_number,
            title="法定代表人",
        )
    return CertificateRequest(
        cert_type=line.cert_type,  # type: ignore[arg-type]
        business=line.business,  # type: ignore[arg-type]
        years=(line.years or 1) if has_term else None,
        holder=holder,
        serial=line.target_certificate.serial if line.target_certificate else "",
        note=_note(line),
        fee_yuan=line.fee,
    )


def form_data(application: Application) -> FormData:
    """The printed forms' data of ``application`` (InvalidInput names what is missing)."""
    lines = list(application.items.all())
    if not lines:
        raise InvalidInput("申请中还没有业务，无法打印申请表。", code="no_items")
    person = application.handler
    if person is None:
        raise InvalidInput("请先选择经办人，再打印申请表。", code="handler_missing")
    organization = application.organization
    legal_rep = organization.legal_representative or next(
        (line.person_name for line in lines if line.cert_type == CertType.PERSONAL), ""
    )
    if not legal_rep:
        raise InvalidInput(
            "单位未登记法定代表人姓名：请在受理时填写，或手工填写申请表。",
            code="legal_representative_missing",
        )
    point = default_catalog().point(application.point).name if application.point else ""
    return FormData(
        form_number=application.number,
        application_date=local(application.created_at or clock.now()).date(),
        applicant=Applicant(
            name=organization.name, uscc=organization.uscc, legal_representative=legal_rep
        ),
        handler=Handler(
            name=person.name, id_kind=person.id_kind, id_number=person.id_number, phone=person.phone
        ),
        requests=tuple(_request(line) for line in lines),
        service_point=point,
    )
