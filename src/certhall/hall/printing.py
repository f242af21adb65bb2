"""The printed forms of an application: one mapping from the hall's records to the
dataclasses of :mod:`certhall.forms` (which validate and render 《单位数字证书申请表》,
《机构数字证书申请表》 and 《机构个人数字证书附页》). Applicant pages and staff console print
the same thing."""

from __future__ import annotations

from certhall import clock
from certhall.errors import InvalidInput
from certhall.forms import (
    FORM_FILES,
    Applicant,
    CertificateRequest,
    FormData,
    Handler,
    Holder,
)
from certhall.hall.items import REPLACE_CAUSES, REVOCATION_REASONS
from certhall.hall.models import Application, ApplicationItem, Business, CertType
from certhall.rules import default_catalog, local


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
    lines = list(application.items.select_related("target_certificate").order_by("pk"))
    if not lines:
        raise InvalidInput(code="no_items")
    person = application.handler
    if person is None:
        raise InvalidInput(code="handler_missing")
    organization = application.organization
    holders = [line for line in lines if line.cert_type == CertType.PERSONAL]
    legal_rep = organization.legal_representative or next((h.person_name for h in holders), "")
    if not legal_rep:
        raise InvalidInput(code="legal_representative_missing")
    # the 机构个人证书 is the 法人证书: its holder of that name is the legal representative, whose
    # ID number the application has then
    rep_id = next((h.person_id_number for h in holders if h.person_name == legal_rep), "")
    point = default_catalog().point(application.point).name if application.point else ""
    return FormData(
        form_number=application.number,
        application_date=local(application.created_at or clock.now()).date(),
        applicant=Applicant(
            name=organization.name,
            uscc=organization.uscc,
            legal_representative=legal_rep,
            legal_rep_id_number=rep_id,
        ),
        handler=Handler(
            name=person.name, id_kind=person.id_kind, id_number=person.id_number, phone=person.phone
        ),
        requests=tuple(_request(line) for line in lines),
        service_point=point,
        project=application.get_project_display(),
        postage_yuan=application.postage or None,
    )


def forms_offered(lines: list[ApplicationItem]) -> list[tuple[str, str]]:
    """The printed forms an application's lines need: (key, title), for the staff page."""
    types = {line.cert_type for line in lines}
    keys = (["unit_application"] if "org" in types else []) + (
        ["org_application", "personal_annex"] if "personal" in types else []
    )
    return [(key, FORM_FILES[key].removesuffix(".pdf")) for key in keys]
