"""Form data for the PDF tests: one organisation, its handler and legal representative, and
certificate requests of both types. Identity numbers are valid (check digits) but invented."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from certhall.forms import Applicant, CertificateRequest, FormData, Handler, Holder
from certhall.rules import Business, CertType

ORG_NAME = "深圳市演示医疗科技有限公司"
USCC = "91350100M000100Y43"
LEGAL_REP_ID = "11010519491231002X"
HANDLER_ID = "44030519900101123X"
HANDLER_PHONE = "13800138000"
HOLDER_ID = "110101198001010037"
FORM_NUMBER = "SQ20261120-000123"


def applicant(**fields: Any) -> Applicant:
    values: dict[str, Any] = {
        "name": ORG_NAME,
        "uscc": USCC,
        "legal_representative": "张三",
        "address": "深圳市南山区科技园科兴路10号",
        "phone": "0755-86000000",
        "legal_rep_id_number": LEGAL_REP_ID,
    }
    values.update(fields)
    return Applicant(**values)


def handler(**fields: Any) -> Handler:
    values: dict[str, Any] = {
        "name": "李四",
        "id_kind": "resident_id",
        "id_number": HANDLER_ID,
        "phone": HANDLER_PHONE,
        "email": "lisi@example.com",
    }
    values.update(fields)
    return Handler(**values)


def holder(**fields: Any) -> Holder:
    values: dict[str, Any] = {
        "name": "王小明",
        "id_kind": "resident_id",
        "id_number": HOLDER_ID,
        "phone": "13900139000",
        "title": "法定代表人",
    }
    values.update(fields)
    return Holder(**values)


def org_new() -> CertificateRequest:
    return CertificateRequest(
        cert_type=CertType.ORG, business=Business.NEW, years=1, fee_yuan=Decimal("300")
    )


def personal_new(years: int = 3, **fields: Any) -> CertificateRequest:
    return CertificateRequest(
        cert_type=CertType.PERSONAL,
        business=Business.NEW,
        years=years,
        holder=fields.pop("holder", None) or holder(),
        fee_yuan=Decimal(150 * years),
        **fields,
    )


def form_data(*requests: CertificateRequest, **fields: Any) -> FormData:
    values: dict[str, Any] = {
        "form_number": FORM_NUMBER,
        "application_date": date(2026, 11, 20),
        "applicant": applicant(),
        "handler": handler(),
        "requests": requests or (org_new(),),
        "service_point": "科技园文化广场",
    }
    values.update(fields)
    return FormData(**values)


@pytest.fixture
def make_data() -> Callable[..., FormData]:
    return form_data
