"""The PDFs: filled values in the text layer (pdftotext), the CJK font embedded and nothing else
(pdffonts), sensible page counts, reproducible bytes, and pages that rasterise (pdftoppm)."""

from __future__ import annotations

import logging
import re
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from certhall.errors import InvalidInput
from certhall.forms import (
    CertificateRequest,
    render_forms_for,
    render_org_application,
    render_personal_annex,
    render_unit_application,
)
from certhall.forms.render import SHARED_ELSEWHERE
from certhall.rules import Business, CertType
from tests.forms.conftest import (
    FORM_NUMBER,
    HANDLER_ID,
    HANDLER_PHONE,
    HOLDER_ID,
    LEGAL_REP_ID,
    ORG_NAME,
    USCC,
    applicant,
    form_data,
    holder,
    org_new,
    personal_new,
)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pages_of(text: str) -> list[str]:
    return text.split("\f")[:-1]


def squash(text: str) -> str:
    """pdftotext puts layout spaces between table cells: compare without blanks."""
    return re.sub(r"\s+", "", text)


def fonts_of(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:]]


def renewal(serial: str = "5f3a9c01") -> CertificateRequest:
    return CertificateRequest(
        cert_type=CertType.PERSONAL,
        business=Business.RENEW,
        years=2,
        holder=holder(name="张三", id_number=LEGAL_REP_ID),  # the legal representative
        serial=serial,
        fee_yuan=Decimal("300"),
    )


def test_unit_application_is_filled(tmp_path: Path) -> None:
    pdf = render_unit_application(form_data(org_new()))
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf, tmp_path)
    pages = pages_of(text)
    assert len(pages) == 2  # the application, the 个人信息授权书
    first, second = (squash(page) for page in pages)
    assert "单位数字证书申请表" in first
    for expected in (
        ORG_NAME,
        USCC,
        "深圳市南山区科技园科兴路10号",
        "张三",
        LEGAL_REP_ID,
        "李四",
        HANDLER_ID,
        HANDLER_PHONE,
        "lisi@example.com",
        "深圳医保在线签约",
        "机构证书(ODC证书)",
        "■新办□续期□变更□解锁□介质补办□吊销",
        "证书年限1年",
        "¥300.00（人民币叁佰元整）",
        "2026年11月20日",
        f"表单编号：{FORM_NUMBER}",
        "单位公章",
        "经办人签字",
        "以下由深圳CA填写",
        "科技园文化广场",
        "第1页共2页",
    ):
        assert expected in first, expected
    # the checklist from the rules catalog, with the counter's notes
    assert "□《单位数字证书申请表》一份(含个人信息授权书)" in first
    assert "单位新版营业执照复印件一份（核验原件）" in first
    assert "注2:现场办理时" in first
    assert "第一联" not in first  # one copy only
    assert "个人信息授权书" in second and "演示文本" in second
    assert "李四" in second and HANDLER_ID in second and LEGAL_REP_ID in second
    assert "第2页共2页" in second


def test_org_application_has_two_copies_of_application_and_agreement(tmp_path: Path) -> None:
    data = form_data(personal_new(years=3), renewal())
    text = text_of(render_org_application(data), tmp_path)
    pages = [squash(page) for page in pages_of(text)]
    assert len(pages) == 5
    application_ca, application_customer, agreement_ca, agreement_customer, authorisation = pages
    for page in (application_ca, application_customer):
        assert "机构数字证书申请表" in page
        assert "机构个人证书(法人证书)" in page
        assert "■新办■续期□变更□解锁□介质补办□吊销" in page
        assert "证书年限详见附页" in page  # 3 years and 2 years
        assert "2个（持证人详见附页）" in page
        assert "原证书序列号5f3a9c01" in page
        assert "¥750.00（人民币柒佰伍拾元整）" in page
        assert ORG_NAME in page and USCC in page and HANDLER_ID in page
        assert "□Ukey" in page  # 续期 at the counter brings the Ukey
    assert "第一联CA留存" in application_ca and "第二联客户留存" in application_customer
    for page in (agreement_ca, agreement_customer):
        assert "数字证书服务协议" in page and "演示文本" in page
        assert f"乙方（订户）：{ORG_NAME}" in page
        assert "第九条其他" in page
    assert "第一联CA留存" in agreement_ca and "第二联客户留存" in agreement_customer
    assert "个人信息授权书" in authorisation
    assert "第一联" not in authorisation and "第二联" not in authorisation  # one copy
    # everyone whose data the forms carry signs the authorisation once
    for name, number in (("李四", HANDLER_ID), ("王小明", HOLDER_ID), ("张三", LEGAL_REP_ID)):
        assert name in authorisation and number in authorisation
    assert authorisation.count(LEGAL_REP_ID) == 1  # legal representative and holder: one row
    assert "第5页共5页" in authorisation


def test_personal_annex_lists_each_holder(tmp_path: Path) -> None:
    data = form_data(personal_new(years=3), renewal())
    text = text_of(render_personal_annex(data), tmp_path)
    pages = pages_of(text)
    assert len(pages) == 1
    page = squash(pages[0])
    assert "机构个人数字证书附页" in page and ORG_NAME in page and USCC in page
    assert f"申请表编号{FORM_NUMBER}" in page
    first, second = page.split("持证人1")[1].split("持证人2")
    assert "王小明" in first and HOLDER_ID in first and "证书年限3年" in first
    assert "■新办□续期" in first
    assert (
        "张三" in second
        and LEGAL_REP_ID in second
        and "证书年限2年" in second
        and "□新办■续期" in second
    )
    assert "原证书序列号5f3a9c01" in second
    assert "持证人签字" in first and "单位公章" in page


def test_many_holders_flow_onto_more_pages(tmp_path: Path) -> None:
    ids = ["11010519491231002X", "110101198001010037", HANDLER_ID]
    people = [holder(name=f"持证人{i}号", id_number=number) for i, number in enumerate(ids)]
    passports = [
        holder(name=f"外籍{i}", id_kind="passport", id_number=f"E{i:08d}") for i in range(9)
    ]
    requests = [personal_new(years=1, holder=person) for person in people + passports]
    text = text_of(render_personal_annex(form_data(*requests)), tmp_path)
    pages = pages_of(text)
    assert 3 <= len(pages) <= 4
    squashed = squash(text)
    for number in range(1, 13):
        assert f"持证人{number}" in squashed
    assert all(f"表单编号：{FORM_NUMBER}" in squash(page) for page in pages)
    assert f"第{len(pages)}页共{len(pages)}页" in squash(pages[-1])


def test_both_types_give_three_forms_and_the_shared_copies_once(tmp_path: Path) -> None:
    data = form_data(org_new(), personal_new())
    forms = render_forms_for(data)
    assert list(forms) == ["unit_application", "org_application", "personal_annex"]
    unit = squash(text_of(forms["unit_application"], tmp_path))
    org = squash(text_of(forms["org_application"], tmp_path))
    marker = squash(SHARED_ELSEWHERE)
    assert marker not in unit
    for document in (
        "单位新版营业执照复印件一份",
        "法人有效身份证复印件一份",
        "经办人有效身份证复印件一份",
    ):
        assert document in unit
        assert org.count(f"{document}") == 2  # once per application copy ...
    assert org.count(marker) == 6  # ... each marked as shared: 3 documents x 2 copies

    only_personal = render_forms_for(form_data(personal_new()))
    assert list(only_personal) == ["org_application", "personal_annex"]
    assert marker not in squash(text_of(only_personal["org_application"], tmp_path))
    assert list(render_forms_for(form_data(org_new()))) == ["unit_application"]


def test_a_form_without_its_certificate_type_is_refused() -> None:
    with pytest.raises(InvalidInput, match="只用于机构证书"):
        render_unit_application(form_data(personal_new()))
    with pytest.raises(InvalidInput, match="只用于机构个人证书"):
        render_org_application(form_data(org_new()))
    with pytest.raises(InvalidInput, match="只用于机构个人证书"):
        render_personal_annex(form_data(org_new()))


def test_only_the_cjk_font_is_used_and_it_is_embedded(tmp_path: Path) -> None:
    for name, pdf in render_forms_for(form_data(org_new(), personal_new())).items():
        fonts = fonts_of(pdf, tmp_path)
        assert fonts, name
        for row in fonts:
            # name type encoding emb sub uni object ID
            assert "WenQuanYiMicroHei" in row[0], (name, row)
            assert row[1] == "TrueType" and row[3:6] == ["yes", "yes", "yes"], (name, row)


def test_invariant_output_is_reproducible() -> None:
    data = form_data(org_new(), personal_new())
    assert render_forms_for(data, invariant=True) == render_forms_for(data, invariant=True)
    other = render_unit_application(replace(data, form_number="SQ2"), invariant=True)
    assert other != render_unit_application(data, invariant=True)


def test_user_text_is_never_markup(tmp_path: Path) -> None:
    data = form_data(
        replace(org_new(), note='<font size="40">大</font> & <b>x</b>'),
        applicant=applicant(name="<b>深圳</b>&演示"),
    )
    text = squash(text_of(render_unit_application(data), tmp_path))
    assert "<b>深圳</b>&演示" in text
    assert '<fontsize="40">大</font>&<b>x</b>' in text


def test_rendering_logs_no_identity_numbers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    render_forms_for(form_data(org_new(), personal_new()))
    for number in (HANDLER_ID, LEGAL_REP_ID, HOLDER_ID):
        assert number not in caplog.text


def test_pages_rasterise(tmp_path: Path) -> None:
    """Each form's first page as PNG (60 dpi): A4-sized and carrying ink. (The layouts were
    checked by eye: see docs/forms.md.)"""
    forms = render_forms_for(form_data(org_new(), personal_new(), renewal()))
    for name, pdf in forms.items():
        source = tmp_path / f"{name}.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "60",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                str(source),
                str(tmp_path / name),
            ],
            check=True,
        )
        (png,) = tmp_path.glob(f"{name}-*.png")
        with Image.open(png) as image:
            assert image.size in {(496, 702), (497, 702)}  # A4 at 60 dpi (rounding)
            grey = image.convert("L")
            histogram = grey.histogram()
        dark = sum(histogram[:128]) / sum(histogram)
        assert 0.01 < dark < 0.25, (name, dark)


def test_online_forms_leave_out_the_counter_only_parts(tmp_path: Path) -> None:
    """Without a service point (the online hall) the checklist has no Ukey and no 核验原件; the
    CA box leaves 受理点 blank. The notes stay numbered as the seed's, 注2 too (it says itself
    that it is for 现场办理): 注1 then 注3 looked as if one were missing."""
    data = form_data(renewal(), service_point="")
    page = squash(pages_of(text_of(render_org_application(data), tmp_path))[0])
    assert "□Ukey" not in page and "（核验原件）" not in page
    assert "注1:以上资料均须加盖单位公章" in page and "注2:现场办理时" in page and "注3" in page
    assert "受理点受理人" in page
