"""The printed forms of an application: one small mapping from the hall's models to the
dataclasses of :mod:`certhall.forms` (which validate and render them)."""

from __future__ import annotations

from certhall.errors import InvalidInput
from certhall.forms import Applicant, CertificateRequest, FormData, Handler, Holder
from certhall.hall.models import Application, CertType
from certhall.rules import Business as RuleBusiness
from certhall.rules import CertType as RuleCertType
from certhall.rules import default_catalog, local


def form_data_for(application: Application) -> FormData:
    """《单位数字证书申请表》/《机构数字证书申请表》/《机构个人数字证书附页》 data of
    ``application`` (its organisation, handler and business lines, with the quoted fees).

    The legal representative is the organisation's registered one; when the account has none
    registered, the holder of the application's 机构个人证书 (法人证书 = the legal representative's
    certificate) is printed. InvalidInput when no handler was chosen yet (the forms name one).
    """
    handler = application.handler
    if handler is None:
        raise InvalidInput("请先选择经办人，申请表上须填写经办人信息。", code="handler_missing")
    lines = list(application.items.select_related("target_certificate").order_by("pk"))
    if not lines:
        raise InvalidInput("申请中还没有任何业务。", code="no_items")
    catalog = default_catalog()
    organization = application.organization
    holders = [line.person_name for line in lines if line.cert_type == CertType.PERSONAL]
    legal_rep = organization.legal_representative or (holders[0] if holders else "")
    requests = []
    for line in lines:
        business = RuleBusiness(line.business)
        holder = None
        if line.cert_type == CertType.PERSONAL:
            holder = Holder(
                name=line.person_name,
                id_kind="resident_id",
                id_number=line.person_id_number,
                title="法定代表人",
            )
        requests.append(
            CertificateRequest(
                cert_type=RuleCertType(line.cert_type),
                business=business,
                years=line.years if catalog.businesses[business].has_term else None,
                holder=holder,
                serial=line.target_certificate.serial if line.target_certificate else "",
                fee_yuan=line.fee,
            )
        )
    return FormData(
        form_number=application.number,
        application_date=local(application.created_at).date(),
        applicant=Applicant(
            name=organization.name, uscc=organization.uscc, legal_representative=legal_rep
        ),
        handler=Handler(
            name=handler.name,
            id_kind=handler.id_kind,
            id_number=handler.id_number,
            phone=handler.phone,
        ),
        requests=tuple(requests),
        project=application.get_project_display(),
    )
