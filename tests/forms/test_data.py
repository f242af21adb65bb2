"""The form data checks itself: missing or malformed fields are InvalidInput (zh-CN, one line,
never echoing an identity number); accepted values come out normalised."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from certhall.errors import InvalidInput
from certhall.forms import CertificateRequest, FormData
from certhall.rules import Business, CertType
from tests.forms.conftest import (
    HANDLER_ID,
    LEGAL_REP_ID,
    applicant,
    form_data,
    handler,
    holder,
    org_new,
    personal_new,
)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: applicant(name=""), "单位名称不能为空"),
        (lambda: applicant(name="   "), "单位名称不能为空"),
        (lambda: applicant(uscc=""), "统一社会信用代码不能为空"),
        (lambda: applicant(uscc="91350100M000100Y44"), "统一社会信用代码不正确"),
        (lambda: applicant(legal_representative=""), "法定代表人姓名不能为空"),
        (lambda: applicant(name="深" * 129), "单位名称不能超过128个字"),
        (lambda: applicant(name="演示\x00公司"), "不可打印"),
        (lambda: applicant(phone="call me"), "单位电话格式不正确"),
        (lambda: applicant(legal_rep_id_number="11010519491231002Y"), "法定代表人的居民身份证号码"),
        (lambda: applicant(legal_rep_id_kind="driving_licence"), "法定代表人的证件类型"),
        (lambda: handler(name=""), "经办人姓名不能为空"),
        (lambda: handler(id_number=""), "经办人的证件号码不能为空"),
        (lambda: handler(id_kind="student_card"), "经办人的证件类型只能是"),
        (lambda: handler(id_number="440305199001011230"), "经办人的居民身份证号码不正确"),
        (lambda: handler(id_kind="passport", id_number="??"), "经办人的护照号码不正确"),
        (lambda: handler(phone=""), "经办人手机号码不能为空"),
        (lambda: handler(phone="12345"), "经办人手机号码应为11位"),
        (lambda: handler(phone="138٠٠١٣٨٠٠٠"), "经办人手机号码应为11位"),
        (lambda: handler(email="not-an-address"), "经办人电子邮箱格式不正确"),
        (lambda: holder(name=""), "持证人姓名不能为空"),
        (lambda: holder(id_number=""), "持证人王小明的证件号码不能为空"),
        (lambda: holder(phone="999"), "持证人王小明手机号码"),
    ],
)
def test_parties_refuse_missing_or_malformed_fields(build: Any, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build()
    assert words in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"cert_type": "server"}, "证书类型只能是"),
        ({"business": "suspend"}, "业务类型只能是"),
        ({"years": None}, "机构证书(ODC证书)的证书年限不能为空"),
        ({"years": 2}, "机构证书(ODC证书)的证书年限只能是1年"),
        ({"years": True}, "证书年限不能为空"),
        ({"business": "unlock"}, "解锁业务没有证书年限"),
        ({"holder": "王小明"}, "机构证书没有持证人"),
        ({"serial": "12", "years": 1}, "新办业务没有原证书序列号"),
        (
            {"business": "revoke", "years": None, "serial": "xyz"},
            "“xyz”不是证书序列号，应为十六进制",
        ),
        # the one reader of serials (pki.serials.parse_serial): zero, and past 20 octets
        ({"business": "revoke", "years": None, "serial": "0"}, "“0”不是有效的证书序列号"),
        ({"business": "revoke", "years": None, "serial": "8" + "0" * 39}, "至多40位"),
        ({"fee_yuan": 300.0}, "费用必须是精确的十进制数，不能是浮点数"),
        ({"fee_yuan": Decimal("-1")}, "费用不能为负数"),
        ({"fee_yuan": Decimal("0.001")}, "最多只能有两位小数"),
        ({"fee_yuan": Decimal("NaN")}, "费用“NaN”不是有效的金额"),
    ],
)
def test_org_request_refuses(fields: dict[str, Any], words: str) -> None:
    values: dict[str, Any] = {"cert_type": "org", "business": "new", "years": 1}
    values.update(fields)
    with pytest.raises(InvalidInput) as caught:
        CertificateRequest(**values)
    assert words in caught.value.message


def test_personal_request_needs_holder_and_a_term_within_range() -> None:
    with pytest.raises(InvalidInput, match="机构个人证书必须填写持证人"):
        CertificateRequest(cert_type=CertType.PERSONAL, business=Business.NEW, years=1)
    with pytest.raises(InvalidInput, match="只能是1-5年"):
        personal_new(years=6)
    with pytest.raises(InvalidInput, match="只能是1-5年"):
        personal_new(years=0)
    assert personal_new(years=5).years == 5


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"form_number": ""}, "表单编号不能为空"),
        ({"form_number": "SQ 2026"}, "表单编号只能由"),
        ({"form_number": "单号1"}, "表单编号只能由"),
        ({"application_date": None}, "申请日期"),
        ({"application_date": datetime(2026, 11, 20, 10)}, "申请日期"),
        ({"applicant": None}, "申请单位信息不能为空"),
        ({"handler": None}, "经办人信息不能为空"),
        ({"requests": ()}, "至少需要一项证书业务"),
        ({"requests": ("new",)}, "至少需要一项证书业务"),
        ({"project": ""}, "项目名称不能为空"),
    ],
)
def test_form_data_refuses(fields: dict[str, Any], words: str) -> None:
    values: dict[str, Any] = {
        "form_number": "SQ1",
        "application_date": date(2026, 11, 20),
        "applicant": applicant(),
        "handler": handler(),
        "requests": (org_new(),),
    }
    values.update(fields)
    with pytest.raises(InvalidInput) as caught:
        FormData(**values)
    assert words in caught.value.message


def test_fees_are_all_or_nothing() -> None:
    no_fee = CertificateRequest(cert_type="org", business="change", serial="1a")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="费用须全部填写或全部留空"):
        form_data(org_new(), no_fee)
    assert form_data(no_fee).requests[0].fee_yuan is None


def test_messages_never_echo_identity_numbers() -> None:
    bad = HANDLER_ID[:-1] + "0"
    with pytest.raises(InvalidInput) as caught:
        handler(id_number=bad)
    assert bad not in caught.value.message and HANDLER_ID[:10] not in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        applicant(legal_rep_id_number=LEGAL_REP_ID[:-1] + "1")
    assert LEGAL_REP_ID[:10] not in caught.value.message


def test_values_are_normalised() -> None:
    party = applicant(uscc=" 91350100m000100y43 ", name="  深圳市演示医疗科技  有限公司 ")
    assert party.uscc == "91350100M000100Y43"
    assert party.name == "深圳市演示医疗科技 有限公司"
    person = handler(id_number=HANDLER_ID.lower(), phone="+86 138-0013-8000")
    assert person.id_number == HANDLER_ID and person.phone == "13800138000"
    request = CertificateRequest(
        cert_type="personal",  # type: ignore[arg-type]
        business="renew",  # type: ignore[arg-type]
        years=2,
        holder=holder(),
        serial="０ｘ３Ｆ：Ａ２ 00:11",  # typed with a Chinese input method: folded
        fee_yuan=Decimal("300"),
    )
    assert request.cert_type is CertType.PERSONAL and request.business is Business.RENEW
    assert request.serial == "3fa20011"
    assert request.fee_yuan == Decimal("300.00") and str(request.fee_yuan) == "300.00"
    assert request.business_name == "续期" and request.cert_type_name == "机构个人证书(法人证书)"
    data = form_data(org_new(), request, form_number=" SQ-1 ")
    assert data.form_number == "SQ-1"
    assert data.cert_types == {CertType.ORG, CertType.PERSONAL}
    assert data.requests_of(CertType.PERSONAL) == (request,)


def test_optional_fields_may_be_blank() -> None:
    party = applicant(address="", phone="", legal_rep_id_number="")
    assert party.address == "" and party.legal_rep_id_number == ""
    assert handler(email="").email == ""
    assert holder(phone="", title="").phone == ""
