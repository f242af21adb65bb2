"""The three printed forms of seed 001, as PDF bytes.

* 《单位数字证书申请表》(含个人信息授权书): for 机构证书 (ODC). The application page, then the
  个人信息授权书.
* 《机构数字证书申请表》(含申请表两联，服务协议两联，个人信息授权书一联): for 机构个人证书.
  申请表 第一联 CA留存 / 第二联 客户留存, 服务协议 第一联 / 第二联, then the 个人信息授权书.
* 《机构个人数字证书附页》: one block per 持证人 of the 机构个人证书 businesses.

``render_forms_for(data)`` picks the forms by the certificate types in ``data``; applying for
both types together gives all three, and the document checklist lists the shared copies
(营业执照、法人身份证、经办人身份证复印件, seed 注3) once, on the 《单位数字证书申请表》.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Table

from certhall import money
from certhall.errors import InvalidInput
from certhall.forms import texts
from certhall.forms.data import (
    CertificateRequest,
    FormData,
    Holder,
    blank_form_data,
    id_kind_name,
)
from certhall.forms.layout import (
    BLANK_DATE,
    GAP,
    UNCHECKED,
    DocumentInfo,
    Grid,
    PageKind,
    Section,
    Styles,
    build_pdf,
    checkbox_line,
    chinese_date,
    four_columns,
    gap,
    label,
    notes,
    signature_block,
    value,
)
from certhall.pdf.layout import CONTENT_WIDTH, LINE, SHADE, Heading, para, space, style_table
from certhall.rules import Business, CertType, default_catalog

__all__ = [
    "FORM_FILES",
    "render_blank_forms",
    "render_forms_for",
    "render_org_application",
    "render_personal_annex",
    "render_unit_application",
]

UNIT_TITLE = "单位数字证书申请表"
ORG_TITLE = "机构数字证书申请表"
ANNEX_TITLE = "机构个人数字证书附页"

#: Suggested file names for the forms ``render_forms_for`` returns.
FORM_FILES = {
    "unit_application": f"{UNIT_TITLE}.pdf",
    "org_application": f"{ORG_TITLE}.pdf",
    "personal_annex": f"{ANNEX_TITLE}.pdf",
}

#: Empty holder blocks on the blank 《机构个人数字证书附页》.
BLANK_HOLDERS = 3

#: Shared documents (注3) named on the personal-certificate form when both types are applied for.
SHARED_ELSEWHERE = "与机构证书共用，只需一份"


def _requests(data: FormData, cert_type: CertType, form: str) -> tuple[CertificateRequest, ...]:
    chosen = data.requests_of(cert_type)
    if not chosen:
        name = default_catalog().cert_types[cert_type].name
        raise InvalidInput(code="form_no_requests", form=form, name=name)
    return chosen


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _fee_text(requests: Sequence[CertificateRequest], postage: Decimal | None) -> str:
    """The certificates' fees; the postage said apart (one per application, where an application
    of both types prints two forms), so that the form and the order tell one story."""
    fees = [r.fee_yuan for r in requests]
    if any(fee is None for fee in fees):
        return ""
    total = sum((money.parse(fee) for fee in fees if fee is not None), money.Money(0))
    text = f"{money.with_symbol(total)}（人民币{money.in_words(total)}）"
    if postage:
        text += f"；Ukey邮寄费{money.with_symbol(money.parse(postage))}另计"
    return text


def _business_line(requests: Sequence[CertificateRequest]) -> str:
    chosen = {r.business for r in requests}
    catalog = default_catalog()
    return checkbox_line([(catalog.businesses[b].name, b in chosen) for b in Business])


def _years_text(requests: Sequence[CertificateRequest], *, annex: bool) -> str:
    years = _unique([f"{r.years}年" for r in requests if r.years is not None])
    if not years:
        return "—"
    if len(years) == 1:
        return years[0]
    return "详见附页" if annex else "、".join(years)


def _document_checklist(
    styles: Styles, data: FormData, cert_type: CertType, requests: Sequence[CertificateRequest]
) -> list[Flowable]:
    """The documents the catalog lists for these businesses, with boxes the clerk ticks."""
    catalog = default_catalog()
    onsite = bool(data.service_point) or data.blank
    both = data.cert_types == {CertType.ORG, CertType.PERSONAL} and not data.blank
    seen: dict[str, str] = {}
    # a blank form lists the documents of every business, to be ticked by the clerk
    businesses = list(Business) if data.blank else [r.business for r in requests]
    for business in businesses:
        for document in catalog.offer(business, cert_type).documents:
            if document.onsite_only and not onsite:
                continue
            text = document.text
            if both and cert_type is CertType.PERSONAL and document.shared_when_both_types:
                text = f"{text}（{SHARED_ELSEWHERE}）"
            elif onsite and document.original_checked_onsite:
                text = f"{text}（核验原件）"
            seen.setdefault(document.id, text)
    items = [f"{UNCHECKED} {text}" for text in seen.values()]
    # every note, numbered as the seed does: 注2 says itself that it is for 现场办理, and a form
    # with 注1 and 注3 only looked as if one were missing (as the pages, rules.quote)
    lines = [text for text, _channels in catalog.document_notes]
    grid = Grid(styles, (CONTENT_WIDTH,))
    grid.section("四、随附资料（受理人核对后在□内打√）")
    cell = [para(item, styles.value) for item in items]
    cell += notes(styles, lines)
    grid.row(value(_stack(cell)))
    return [grid.table()]


def _stack(flowables: list[Flowable]) -> Table:
    """Flowables stacked in one borderless cell."""
    table = Table([[f] for f in flowables], colWidths=[CONTENT_WIDTH - 8])
    style_table(
        table,
        [
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0.8),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0.8),
        ],
    )
    return table


def _party_grid(styles: Styles, data: FormData) -> Grid:
    applicant, handler = data.applicant, data.handler
    grid = Grid(styles, four_columns())
    grid.section("一、申请单位信息")
    grid.row(label("单位名称"), value(applicant.name, 3))
    grid.row(
        label("统一社会信用代码"), value(applicant.uscc), label("单位电话"), value(applicant.phone)
    )
    grid.row(label("单位地址"), value(applicant.address, 3))
    rep_document = ""
    if applicant.legal_rep_id_number:
        rep_document = (
            f"{id_kind_name(applicant.legal_rep_id_kind)} {applicant.legal_rep_id_number}"
        )
    grid.row(
        label("法定代表人"),
        value(applicant.legal_representative),
        label("证件及号码"),
        value(rep_document),
    )
    grid.section("二、经办人信息")
    grid.row(label("经办人姓名"), value(handler.name), label("手机号码"), value(handler.phone))
    grid.row(
        label("证件类型"),
        value(id_kind_name(handler.id_kind)),
        label("证件号码"),
        value(handler.id_number),
    )
    grid.row(label("电子邮箱"), value(handler.email, 3))
    return grid


def _ca_use(styles: Styles, data: FormData) -> Table:
    grid = Grid(styles, four_columns())
    grid.section(texts.CA_USE_TITLE)
    grid.row(label("受理点"), value(data.service_point), label("受理人"), value(""))
    grid.row(label("受理日期"), value(BLANK_DATE), label("审核人"), value(""))
    grid.row(
        label("审核结果"),
        value(f"{UNCHECKED} 通过{GAP}{UNCHECKED} 退回"),
        label("制证人"),
        value(""),
    )
    return grid.table()


def _application_page(
    styles: Styles,
    data: FormData,
    title: str,
    cert_type: CertType,
    requests: Sequence[CertificateRequest],
) -> list[Flowable]:
    personal = cert_type is CertType.PERSONAL
    catalog = default_catalog()
    grid = _party_grid(styles, data)
    grid.section("三、证书业务信息")
    grid.row(
        label("项目名称"),
        value(data.project),
        label("证书类型"),
        value(catalog.cert_types[cert_type].name),
    )
    grid.row(label("业务类型"), value(_business_line(requests), 3))
    count = (
        len({r.holder.key for r in requests if r.holder})
        if personal
        else len(_unique([r.serial or f"new-{i}" for i, r in enumerate(requests)]))
    )
    count_text = f"{'' if data.blank else count}个" + ("（持证人详见附页）" if personal else "")
    grid.row(
        label("证书年限"),
        value("" if data.blank else _years_text(requests, annex=personal)),
        label("证书数量"),
        value(count_text),
    )
    serials = _unique([r.serial for r in requests])
    grid.row(label("原证书序列号"), value("；".join(serials), 3))
    remarks = _unique(
        [
            f"{r.business_name}：{r.note}" if len(requests) > 1 else r.note
            for r in requests
            if r.note
        ]
    )
    grid.row(label("变更事项/备注"), value("；".join(remarks), 3))
    grid.row(
        label("费用合计"),
        value(_fee_text(requests, data.postage_yuan)),
        label("申请日期"),
        value(BLANK_DATE if data.blank else chinese_date(data.application_date)),
    )
    flowables: list[Flowable] = [
        Heading(title),
        gap(1),
        grid.table(),
        gap(2.5),
        *_document_checklist(styles, data, cert_type, requests),
        gap(2.5),
        para(texts.DECLARATION, styles.small),
        gap(1.5),
        KeepTogether([signature_block(styles, ["经办人签字", "法定代表人签字（或盖章）"])]),
        gap(2.5),
        _ca_use(styles, data),
    ]
    return flowables


def _authorisers(data: FormData, cert_type: CertType) -> list[tuple[str, str, str, str]]:
    """(role, name, id kind, id number) of everyone whose data the forms carry (on a blank
    form: empty rows for the roles of this form's certificate type)."""
    if data.blank:
        roles = ["经办人", "法定代表人"] + (["持证人"] if cert_type is CertType.PERSONAL else [])
        return [(role, "", "", "") for role in roles]
    rows: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    handler = data.handler
    rows.append(("经办人", handler.name, id_kind_name(handler.id_kind), handler.id_number))
    seen.add((handler.id_kind, handler.id_number))
    applicant = data.applicant
    rep_key = (applicant.legal_rep_id_kind, applicant.legal_rep_id_number)
    if not applicant.legal_rep_id_number or rep_key not in seen:
        rows.append(
            (
                "法定代表人",
                applicant.legal_representative,
                id_kind_name(applicant.legal_rep_id_kind),
                applicant.legal_rep_id_number,
            )
        )
        seen.add(rep_key)
    for holder in _holders(data.requests_of(CertType.PERSONAL)):
        if holder.key in seen:
            continue
        seen.add(holder.key)
        rows.append(("持证人", holder.name, id_kind_name(holder.id_kind), holder.id_number))
    return rows


def _authorisation_page(styles: Styles, data: FormData, cert_type: CertType) -> list[Flowable]:
    flowables: list[Flowable] = [
        Heading(texts.AUTHORISATION_TITLE),
        para(f"（{texts.DEMO_MARK}）", styles.subtitle),
        gap(4),
        para(texts.AUTHORISATION_ADDRESSEE, styles.body_plain),
        para(texts.AUTHORISATION_INTRO.format(project=data.project), styles.body),
    ]
    flowables += [para(clause, styles.body) for clause in texts.AUTHORISATION_CLAUSES]
    flowables.append(gap(4))
    header = ["身份", "姓名", "证件类型", "证件号码", "授权人签字", "签字日期"]
    rows: list[list[object]] = [[para(h, styles.label) for h in header]]
    for role, name, kind, number in _authorisers(data, cert_type):
        rows.append(
            [
                para(role, styles.label),
                para(name, styles.center),
                para(kind, styles.center),
                para(number, styles.center),
                "",
                para(f"{space(1.5)}年{space(1)}月{space(1)}日", styles.center),
            ]
        )
    widths = [22 * mm, 24 * mm, 34 * mm, 40 * mm, 28 * mm]
    widths.append(CONTENT_WIDTH - sum(widths))
    table = Table(rows, colWidths=widths, rowHeights=[8 * mm] + [12 * mm] * (len(rows) - 1))
    style_table(
        table,
        [
            ("GRID", (0, 0), (-1, -1), 0.6, LINE),
            ("BOX", (0, 0), (-1, -1), 1.2, LINE),
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("BACKGROUND", (0, 1), (0, -1), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
    )
    flowables += [
        table,
        gap(3),
        para(
            f"申请单位：{data.applicant.name}{GAP}统一社会信用代码：{data.applicant.uscc}",
            styles.small,
        ),
        para(f"表单编号：{data.form_number}{GAP}{texts.DEMO_NOTE}", styles.small_muted),
    ]
    return flowables


def _agreement_page(styles: Styles, data: FormData) -> list[Flowable]:
    applicant = data.applicant
    flowables: list[Flowable] = [
        Heading(texts.AGREEMENT_TITLE),
        para(f"（{texts.DEMO_MARK}）", styles.subtitle),
        gap(3),
        para(f"甲方（电子认证服务机构）：{texts.CA_NAME}", styles.body_plain),
        para(
            f"乙方（订户）：{applicant.name}{GAP}统一社会信用代码：{applicant.uscc}",
            styles.body_plain,
        ),
        gap(1.5),
        para(
            "乙方向甲方申请数字证书服务，双方经平等协商，就数字证书的申请与使用达成如下协议：",
            styles.body,
        ),
    ]
    for heading, clause in texts.AGREEMENT_CLAUSES:
        flowables.append(
            Paragraph(
                f"<u>{heading}</u>{space(1)}{escape(clause.format(project=data.project))}",
                styles.body,
            )
        )
    flowables.append(gap(4))
    font_style = styles.value
    rows = [
        [
            para(f"甲方：{texts.CA_NAME}", font_style),
            para(f"乙方：{applicant.name}", font_style),
        ],
        [para("（盖章）", styles.seal), para("（单位公章）", styles.seal)],
        [
            para("经办人签字：", font_style),
            para("法定代表人或授权代表签字：", font_style),
        ],
        [para(f"日期：{BLANK_DATE}", font_style), para(f"日期：{BLANK_DATE}", font_style)],
    ]
    half = CONTENT_WIDTH / 2
    table = Table(rows, colWidths=[half, half], rowHeights=[10 * mm, 30 * mm, 10 * mm, 9 * mm])
    style_table(
        table,
        [
            ("BOX", (0, 0), (0, -1), 0.8, LINE),
            ("BOX", (1, 0), (1, -1), 0.8, LINE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("VALIGN", (0, 1), (-1, 1), "BOTTOM"),
        ],
    )
    flowables += [
        KeepTogether([table]),
        gap(2),
        para(f"表单编号：{data.form_number}{GAP}{texts.DEMO_NOTE}", styles.small_muted),
    ]
    return flowables


def _holders(requests: Sequence[CertificateRequest]) -> list[Holder]:
    holders: dict[tuple[str, str], Holder] = {}
    for request in requests:
        if request.holder is not None:
            holders.setdefault(request.holder.key, request.holder)
    return list(holders.values())


def _info(data: FormData, key: str, title: str) -> DocumentInfo:
    return DocumentInfo(
        title=title,
        form_code=texts.FORM_CODES[key],
        form_number=data.form_number,
        subject=f"{data.project} · {data.applicant.name or '空白表'}",
        project=data.project,
    )


# --- the three forms ---------------------------------------------------------------------------


def render_unit_application(data: FormData, *, invariant: bool = False) -> bytes:
    """《单位数字证书申请表》(含个人信息授权书): the application, then the authorisation."""
    requests = _requests(data, CertType.ORG, UNIT_TITLE)
    styles = Styles()
    plain = PageKind()
    sections = [
        Section(plain, _application_page(styles, data, UNIT_TITLE, CertType.ORG, requests)),
        Section(
            PageKind(watermark=texts.DEMO_MARK), _authorisation_page(styles, data, CertType.ORG)
        ),
    ]
    return build_pdf(_info(data, "unit_application", UNIT_TITLE), sections, invariant=invariant)


def render_org_application(data: FormData, *, invariant: bool = False) -> bytes:
    """《机构数字证书申请表》: 申请表两联, 服务协议两联, 个人信息授权书一联."""
    requests = _requests(data, CertType.PERSONAL, ORG_TITLE)
    styles = Styles()
    sections = []
    for copy in (texts.COPY_CA, texts.COPY_CUSTOMER):
        sections.append(
            Section(
                PageKind(copy_label=copy),
                _application_page(styles, data, ORG_TITLE, CertType.PERSONAL, requests),
            )
        )
    for copy in (texts.COPY_CA, texts.COPY_CUSTOMER):
        sections.append(
            Section(
                PageKind(copy_label=copy, watermark=texts.DEMO_MARK),
                _agreement_page(styles, data),
            )
        )
    authorisation = _authorisation_page(styles, data, CertType.PERSONAL)
    sections.append(Section(PageKind(watermark=texts.DEMO_MARK), authorisation))
    return build_pdf(_info(data, "org_application", ORG_TITLE), sections, invariant=invariant)


def _holder_block(
    styles: Styles, number: int, holder: Holder, requests: Sequence[CertificateRequest]
) -> Flowable:
    grid = Grid(styles, four_columns())
    grid.section(f"持证人 {number}")
    grid.row(label("姓名"), value(holder.name), label("手机号码"), value(holder.phone))
    grid.row(
        label("证件类型"),
        value(id_kind_name(holder.id_kind)),
        label("证件号码"),
        value(holder.id_number),
    )
    grid.row(
        label("职务"),
        value(holder.title),
        label("证书年限"),
        value("" if holder.key == ("", "") else _years_text(requests, annex=False)),
    )
    grid.row(label("业务类型"), value(_business_line(requests), 3))
    grid.row(label("原证书序列号"), value("；".join(_unique([r.serial for r in requests])), 3))
    remarks = _unique([r.note for r in requests])
    if remarks:
        grid.row(label("变更事项/备注"), value("；".join(remarks), 3))
    grid.row(label("持证人签字"), value(""), label("签字日期"), value(BLANK_DATE), height=11 * mm)
    return KeepTogether([grid.table(), gap(3)])


def render_personal_annex(data: FormData, *, invariant: bool = False) -> bytes:
    """《机构个人数字证书附页》: one block per 持证人, then the unit's seal."""
    requests = _requests(data, CertType.PERSONAL, ANNEX_TITLE)
    styles = Styles()
    applicant = data.applicant
    head = Grid(styles, four_columns())
    head.row(label("单位名称"), value(applicant.name, 3))
    head.row(
        label("统一社会信用代码"),
        value(applicant.uscc),
        label("申请表编号"),
        value(data.form_number),
    )
    flowables: list[Flowable] = [
        Heading(ANNEX_TITLE),
        para(f"项目：{data.project}{GAP}证书类型：机构个人证书(法人证书)", styles.subtitle),
        gap(3),
        head.table(),
        gap(3),
    ]
    holders = [requests[0].holder] * BLANK_HOLDERS if data.blank else _holders(requests)
    for number, holder in enumerate(filter(None, holders), start=1):
        mine = [r for r in requests if r.holder is not None and r.holder.key == holder.key]
        flowables.append(_holder_block(styles, number, holder, mine))
    flowables += [
        para(texts.ANNEX_DECLARATION, styles.small),
        gap(1.5),
        KeepTogether([signature_block(styles, ["经办人签字", "法定代表人签字（或盖章）"])]),
    ]
    return build_pdf(
        _info(data, "personal_annex", ANNEX_TITLE),
        [Section(PageKind(), flowables)],
        invariant=invariant,
    )


def render_blank_forms(*, invariant: bool = False) -> dict[str, bytes]:
    """The three forms with every field empty and every box unchecked, same layout, keyed as
    in :data:`FORM_FILES`: to print and fill in by hand."""
    return render_forms_for(blank_form_data(), invariant=invariant)


def render_forms_for(data: FormData, *, invariant: bool = False) -> dict[str, bytes]:
    """The forms this application needs, keyed as in :data:`FORM_FILES`:

    * only 机构证书 businesses: ``unit_application``;
    * only 机构个人证书 businesses: ``org_application`` and ``personal_annex``;
    * both: all three (each form once; the shared copies are listed once, see module doc).
    """
    forms: dict[str, bytes] = {}
    if CertType.ORG in data.cert_types:
        forms["unit_application"] = render_unit_application(data, invariant=invariant)
    if CertType.PERSONAL in data.cert_types:
        forms["org_application"] = render_org_application(data, invariant=invariant)
        forms["personal_annex"] = render_personal_annex(data, invariant=invariant)
    return forms
