"""What goes on the printed forms: frozen dataclasses, checked when they are built.

The hall builds one :class:`FormData` per application (visit) from its own records and hands it
to the renderers in :mod:`certhall.forms.render`::

    FormData(
        form_number="SQ20261120-000123",
        application_date=date(2026, 11, 20),
        applicant=Applicant(name="深圳市演示医疗科技有限公司", uscc="91350100M000100Y43",
                            legal_representative="张三"),
        handler=Handler(name="李四", id_kind="resident_id", id_number="...", phone="13800138000"),
        requests=(CertificateRequest(cert_type="org", business="new", years=1),),
    )

Every object checks itself in ``__post_init__`` and raises :class:`~certhall.errors.InvalidInput`
(one line, zh-CN, never echoing an identity number) for a missing or malformed field, so a form
can never be printed half empty by mistake. Identity numbers are normalised with the validators
of :mod:`certhall.pki.identity`; enums accept their string values.

What is *allowed* (a 6-year certificate, an online 变更...) is not decided here: the hall asks
``certhall.rules.enforce`` before it prints anything. The only catalog facts used are structural
ones the form needs to print (a certificate type's name and term range, whether a business has a
term at all).

No Django; no logging (the data holds personal identity numbers).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from certhall import money
from certhall.errors import InvalidInput, bounded
from certhall.phones import mainland_mobile
from certhall.pki.identity import ID_DOCUMENT_KINDS, validate_id_document, validate_uscc
from certhall.pki.serials import parse_serial
from certhall.rules import Business, CertType, default_catalog

__all__ = [
    "DEFAULT_PROJECT",
    "Applicant",
    "CertificateRequest",
    "FormData",
    "Handler",
    "Holder",
    "blank_form_data",
    "id_kind_name",
]

#: The project (项目) every certificate of this platform is for.
DEFAULT_PROJECT = "深圳医保在线签约"

_PHONE = re.compile(r"[0-9+\-() ]{5,20}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{1,63}")
_FORM_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/]{0,39}")


def id_kind_name(kind: str) -> str:
    """The Chinese name of an identity document kind (``resident_id`` -> 居民身份证); empty
    for the empty kind of a blank form."""
    return ID_DOCUMENT_KINDS[kind] if kind else ""


def _text(value: object, what: str, *, limit: int, required: bool = True) -> str:
    """A single-line text field: NFC, surrounding and repeated blanks collapsed."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(code="form_field_type", what=what)
    cleaned = " ".join(unicodedata.normalize("NFC", value).split())
    if required and not cleaned:
        raise InvalidInput(code="form_field_missing", what=what)
    bounded(cleaned, limit, what)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in cleaned):
        raise InvalidInput(code="form_field_characters", what=what)
    return cleaned


def _id_document(kind: object, number: object, who: str) -> tuple[str, str]:
    if not isinstance(kind, str) or kind not in ID_DOCUMENT_KINDS:
        kinds = "、".join(ID_DOCUMENT_KINDS.values())
        raise InvalidInput(code="form_id_kind", who=who, kinds=kinds)
    if not isinstance(number, str) or not number.strip():
        raise InvalidInput(code="form_field_missing", what=f"{who}的证件号码")
    try:
        return kind, validate_id_document(kind, number)
    except InvalidInput:
        # The validators' messages are fine, but say whose number it is (never the number).
        raise InvalidInput(code="form_id_number", who=who, kind=ID_DOCUMENT_KINDS[kind]) from None


def _mobile(value: object, who: str, *, required: bool) -> str:
    phone = _text(value, f"{who}手机号码", limit=20, required=required)
    if not phone:
        return phone
    number = mainland_mobile(phone)
    if number is None:
        raise InvalidInput(code="form_phone", who=who)
    return number


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Applicant:
    """申请单位: the organisation. Address, telephone and the legal representative's identity
    document are optional (printed as blank lines to be filled in by hand)."""

    name: str
    uscc: str
    legal_representative: str
    address: str = ""
    phone: str = ""
    legal_rep_id_kind: str = "resident_id"
    legal_rep_id_number: str = ""

    def __post_init__(self) -> None:
        _set(self, "name", _text(self.name, "单位名称", limit=128))
        if not isinstance(self.uscc, str) or not self.uscc.strip():
            raise InvalidInput(code="form_field_missing", what="统一社会信用代码")
        try:
            _set(self, "uscc", validate_uscc(self.uscc))
        except InvalidInput:
            raise InvalidInput(code="form_uscc") from None
        _set(
            self,
            "legal_representative",
            _text(self.legal_representative, "法定代表人姓名", limit=64),
        )
        _set(self, "address", _text(self.address, "单位地址", limit=200, required=False))
        phone = _text(self.phone, "单位电话", limit=20, required=False)
        if phone and not _PHONE.fullmatch(phone):
            raise InvalidInput(code="form_phone", variant="org")
        _set(self, "phone", phone)
        if self.legal_rep_id_number:
            kind, number = _id_document(
                self.legal_rep_id_kind, self.legal_rep_id_number, "法定代表人"
            )
            _set(self, "legal_rep_id_kind", kind)
            _set(self, "legal_rep_id_number", number)
        elif self.legal_rep_id_kind not in ID_DOCUMENT_KINDS:
            raise InvalidInput(code="form_id_kind", variant="legal")


@dataclass(frozen=True)
class Handler:
    """经办人: the employee who brings the forms (identity document and mobile required)."""

    name: str
    id_kind: str
    id_number: str
    phone: str
    email: str = ""

    def __post_init__(self) -> None:
        _set(self, "name", _text(self.name, "经办人姓名", limit=64))
        kind, number = _id_document(self.id_kind, self.id_number, "经办人")
        _set(self, "id_kind", kind)
        _set(self, "id_number", number)
        _set(self, "phone", _mobile(self.phone, "经办人", required=True))
        email = _text(self.email, "经办人电子邮箱", limit=254, required=False)
        if email and not _EMAIL.fullmatch(email):
            raise InvalidInput(code="form_email")
        _set(self, "email", email)


@dataclass(frozen=True)
class Holder:
    """持证人 of an organisation-personal (法人) certificate: whose name the certificate bears."""

    name: str
    id_kind: str
    id_number: str
    phone: str = ""
    #: 职务, e.g. 法定代表人.
    title: str = ""

    def __post_init__(self) -> None:
        _set(self, "name", _text(self.name, "持证人姓名", limit=64))
        kind, number = _id_document(self.id_kind, self.id_number, f"持证人{self.name}")
        _set(self, "id_kind", kind)
        _set(self, "id_number", number)
        _set(self, "phone", _mobile(self.phone, f"持证人{self.name}", required=False))
        _set(self, "title", _text(self.title, "持证人职务", limit=32, required=False))

    @property
    def key(self) -> tuple[str, str]:
        return (self.id_kind, self.id_number)


@dataclass(frozen=True)
class CertificateRequest:
    """One business on one certificate.

    * ``years``: the term, for 新办 and 续期 only (within the certificate type's range);
    * ``holder``: required for a personal certificate, absent for an organisation certificate;
    * ``serial``: the existing certificate (hex) for 续期/变更/解锁/介质补办/吊销; optional
      (a blank line is printed), since a customer who lost the Ukey may not know it;
    * ``note``: 变更事项, 吊销原因 or any remark printed on the form;
    * ``fee_yuan``: the fee the hall quoted (``certhall.rules.quote``), a ``Decimal`` in yuan.
      Either every request of a :class:`FormData` has one or none has (blank fee line).
    """

    cert_type: CertType
    business: Business
    years: int | None = None
    holder: Holder | None = None
    serial: str = ""
    note: str = ""
    fee_yuan: Decimal | None = None

    def __post_init__(self) -> None:
        catalog = default_catalog()
        try:
            cert_type = CertType(self.cert_type)
        except ValueError:
            raise InvalidInput(code="form_cert_type") from None
        try:
            business = Business(self.business)
        except ValueError:
            raise InvalidInput(code="form_business") from None
        _set(self, "cert_type", cert_type)
        _set(self, "business", business)
        spec = catalog.cert_types[cert_type]
        if catalog.businesses[business].has_term:
            if isinstance(self.years, bool) or not isinstance(self.years, int):
                raise InvalidInput(code="form_field_missing", what=f"{spec.name}的证书年限")
            if not spec.min_years <= self.years <= spec.max_years:
                span = (
                    f"{spec.min_years}年"
                    if spec.min_years == spec.max_years
                    else f"{spec.min_years}-{spec.max_years}年"
                )
                raise InvalidInput(code="form_years", name=spec.name, span=span)
        elif self.years is not None:
            name = catalog.businesses[business].name
            raise InvalidInput(code="form_years", variant="none", name=name)
        if cert_type is CertType.PERSONAL and not isinstance(self.holder, Holder):
            raise InvalidInput(code="form_field_missing", variant="holder")
        if cert_type is CertType.ORG and self.holder is not None:
            raise InvalidInput(code="form_holder")
        serial = _text(self.serial, "证书序列号", limit=80, required=False)
        serial = parse_serial(serial) if serial else ""
        if serial and business is Business.NEW:
            raise InvalidInput(code="form_serial", variant="new")
        _set(self, "serial", serial)
        _set(self, "note", _text(self.note, "备注", limit=200, required=False))
        if self.fee_yuan is not None:
            _set(self, "fee_yuan", money.parse(self.fee_yuan, what="费用").yuan)

    @property
    def cert_type_name(self) -> str:
        return default_catalog().cert_types[self.cert_type].name

    @property
    def business_name(self) -> str:
        return default_catalog().businesses[self.business].name


@dataclass(frozen=True)
class FormData:
    """Everything printed on the forms of one application (one visit, one organisation)."""

    form_number: str
    application_date: date
    applicant: Applicant
    handler: Handler
    requests: tuple[CertificateRequest, ...]
    project: str = DEFAULT_PROJECT
    #: The service point's name when the forms are printed at a counter (optional).
    service_point: str = ""
    #: Set only by :func:`blank_form_data`: every field empty, to be filled in by hand.
    blank: bool = False
    #: The Ukey's postage when it is mailed (once an application, whatever the forms), yuan.
    postage_yuan: Decimal | None = None

    def __post_init__(self) -> None:
        number = self.form_number.strip() if isinstance(self.form_number, str) else ""
        if not number:
            raise InvalidInput(code="form_field_missing", what="表单编号")
        if not _FORM_NUMBER.fullmatch(number):
            raise InvalidInput(code="form_number")
        _set(self, "form_number", number)
        if isinstance(self.application_date, datetime) or not isinstance(
            self.application_date, date
        ):
            raise InvalidInput(code="form_field_missing", variant="date")
        if not isinstance(self.applicant, Applicant):
            raise InvalidInput(code="form_field_missing", what="申请单位信息")
        if not isinstance(self.handler, Handler):
            raise InvalidInput(code="form_field_missing", what="经办人信息")
        requests = tuple(self.requests) if isinstance(self.requests, (tuple, list)) else ()
        if not requests or not all(isinstance(r, CertificateRequest) for r in requests):
            raise InvalidInput(code="form_field_missing", variant="requests")
        if len(requests) > 50:
            raise InvalidInput(code="form_too_many")
        fees = {r.fee_yuan is None for r in requests}
        if len(fees) > 1:
            raise InvalidInput(code="form_fee")
        _set(self, "requests", requests)
        if self.postage_yuan is not None:
            _set(self, "postage_yuan", money.parse(self.postage_yuan, what="邮寄费").yuan)
        _set(self, "project", _text(self.project, "项目名称", limit=64))
        _set(self, "service_point", _text(self.service_point, "受理点", limit=64, required=False))

    def requests_of(self, cert_type: CertType) -> tuple[CertificateRequest, ...]:
        return tuple(r for r in self.requests if r.cert_type is cert_type)

    @property
    def cert_types(self) -> frozenset[CertType]:
        return frozenset(r.cert_type for r in self.requests)


def _unchecked[T](cls: type[T], **fields: object) -> T:
    """An instance without ``__post_init__``'s checks (which refuse empty fields)."""
    obj = object.__new__(cls)
    for name, field_value in fields.items():
        _set(obj, name, field_value)
    return obj


def blank_form_data() -> FormData:
    """What the blank forms print: no organisation, person, number, date, business or fee.

    One request of each certificate type stands for "some business" (none is ticked); the
    renderers check ``blank`` where a filled form would print something derived from the data
    (dates, counts, terms, the persons of the authorisation, the document checklist)."""
    nobody = {"name": "", "id_kind": "", "id_number": "", "phone": ""}
    holder = _unchecked(Holder, **nobody, title="")
    requests = tuple(
        _unchecked(
            CertificateRequest,
            cert_type=cert_type,
            business=None,
            years=None,
            holder=holder if cert_type is CertType.PERSONAL else None,
            serial="",
            note="",
            fee_yuan=None,
        )
        for cert_type in CertType
    )
    return _unchecked(
        FormData,
        form_number="",
        application_date=None,
        applicant=_unchecked(
            Applicant,
            name="",
            uscc="",
            legal_representative="",
            address="",
            phone="",
            legal_rep_id_kind="",
            legal_rep_id_number="",
        ),
        handler=_unchecked(Handler, **nobody, email=""),
        requests=requests,
        project=DEFAULT_PROJECT,
        service_point="",
        blank=True,
    )
