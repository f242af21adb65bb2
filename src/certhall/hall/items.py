"""Business lines (申请业务): what may be asked for, checked by the rules and the registry.

Every line is quoted by ``certhall.rules.enforce`` for the application's channel, service point
and the current moment, so what the rules forbid (an online 变更, a 6-year certificate, ODC
business on a weekend at a counter, an online renewal outside its window) is refused with the
rule's own words in every channel. The fee is the quote's, never computed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from certhall import clock
from certhall.accounts import validation
from certhall.ca import registry
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.certlogin.models import Renewal
from certhall.errors import Conflict, Forbidden, InvalidInput, about, renamed
from certhall.hall.models import Application, ApplicationItem, Business, CertType, Channel
from certhall.hall.states import FINAL
from certhall.pki.identity import validate_resident_id
from certhall.rules import Catalog, Quote, default_catalog, enforce, local, quote
from certhall.rules import CertType as RulesCertType
from certhall.rules import Channel as RulesChannel
from certhall.ukeys.lifecycle import Status as UkeyStatus
from certhall.ukeys.models import Ukey

#: Why a certificate is revoked at the customer's request (RFC 5280 names, see ca.services).
REVOCATION_REASONS = {
    "keyCompromise": "密钥泄露或Ukey遗失",
    "affiliationChanged": "单位信息变更",
    "superseded": "证书已被替换",
    "cessationOfOperation": "单位注销或停止使用",
    "privilegeWithdrawn": "授权撤销",
    "unspecified": "其他原因",
}
REPLACE_CAUSES = {"lost": "遗失", "damaged": "损坏"}
#: Businesses done on the customer's own Ukey (they bring it: the seed's "Ukey" document).
OWN_UKEY = frozenset({Business.RENEW, Business.CHANGE, Business.UNLOCK})
#: Businesses refused for an expired certificate (续期 renews it; 解锁 opens its Ukey for that).
NEEDS_UNEXPIRED = frozenset({Business.CHANGE, Business.REPLACE, Business.REVOKE})
#: Businesses that must be alone on their certificate within an application.
EXCLUSIVE = frozenset({Business.REPLACE, Business.REVOKE})


@dataclass(frozen=True)
class ItemRequest:
    business: str
    #: Required for 新办; for the other businesses it is the certificate's own type.
    cert_type: str | None = None
    #: The term (新办, 续期); the rules default it for the 1-year-only ODC.
    years: int | None = None
    #: 机构个人证书 新办: the person (the legal representative) and their resident ID number.
    person_name: str = ""
    person_id_number: str = ""
    #: The existing certificate of 续期 / 变更 / 解锁 / 介质补办 / 吊销.
    serial: str = ""
    #: 变更: the organisation's new name (defaults to the organisation's registered name).
    org_name: str = ""
    #: 吊销: one of REVOCATION_REASONS.
    revocation_reason: str = ""
    #: 介质补办: lost or damaged.
    replace_cause: str = ""


def parse_business(value: str) -> Business:
    try:
        return Business(value)
    except ValueError:
        names = "、".join(f"{b.value}（{b.label}）" for b in Business)
        raise InvalidInput(code="business", value=value, choices=names) from None


def parse_cert_type(value: str | None) -> CertType:
    if not value:
        raise InvalidInput(code="cert_type", variant="missing")
    try:
        return CertType(value)
    except ValueError:
        raise InvalidInput(code="cert_type", value=value) from None


def expiry_date(cert: Certificate) -> datetime:
    return local(cert.not_after)


def quote_item(
    application: Application,
    business: Business,
    cert_type: CertType,
    years: int | None,
    target: Certificate | None,
    at: datetime,
) -> Quote:
    """The rules' answer for one line now; QuoteRefused with the rules' words if forbidden,
    naming the line's inputs it is about (``rules.Refusal.inputs``: ``years``, ``business``,
    ``cert_type``) by the line's names: a line on a certificate names it by its ``serial``
    (the end the renewal window is about, the type the weekend rule is about: the certificate's
    own). The channel, the point and the moment are the application's and the clock's."""
    online = application.channel == Channel.ONLINE
    by_serial = {"cert_expiry"} if target is None else {"cert_expiry", "cert_type"}
    with renamed(lambda name: "serial" if name in by_serial else name):
        return enforce(
            business.value,
            cert_type.value,
            years=years if business in (Business.NEW, Business.RENEW) else None,
            channel=application.channel,
            point=None if online else application.point,
            at=at,
            cert_expiry=target.not_after
            if (online and business == Business.RENEW and target is not None)
            else None,
        )


def require_usable(business: Business, target: Certificate, at: datetime) -> None:
    """A line's certificate can take its business at ``at``: not revoked, and for a business
    that keeps its end date (变更, 介质补办) or ends it (吊销), not expired (the seed: 变更 "有效期
    内"; an expired one is renewed, or a new one issued). Checked when the line is entered and
    again at submission, before anything is paid."""
    refusal = unusable(business, target, at)
    if refusal is not None:
        raise refusal


def unusable(business: Business, target: Certificate, at: datetime) -> Conflict | None:
    """Why ``target`` cannot take ``business`` at ``at`` (:func:`require_usable`'s refusal), or
    None: the one answer the lines and 我的证书's cards (:func:`offered`) ask."""
    if target.status != Certificate.Status.VALID:
        return Conflict(code="revoked", serial=target.serial, label=business.label)
    if business in NEEDS_UNEXPIRED and target.not_after <= at:
        return Conflict(
            code="expired",
            variant="revoke" if business == Business.REVOKE else None,
            serial=target.serial,
            end=f"{expiry_date(target):%Y-%m-%d}",
            label=business.label,
        )
    return None


@dataclass(frozen=True)
class Offered:
    """A business the rules allow for a certificate now: ``online`` in the 网上营业厅 (the
    rules' online quote allows it), else at a counter (``Channel.ONSITE`` among its offer's
    channels)."""

    business: Business
    online: bool


def offered(cert: Certificate, at: datetime, catalog: Catalog | None = None) -> list[Offered]:
    """The businesses a customer may start for ``cert`` at ``at``, in the catalog's order:
    each business on an existing certificate that it can take (:func:`unusable`), by the way
    the rules allow it (an online 续期 only inside its window, :func:`rules.quote`); 新办 of
    its type in its place once it is revoked or past its end (docs/hall.md, "我的证书: every
    business from its card"). Neither a Ukey nor an open application is looked at here: the
    page shows an open application instead of these (``_check_combination``)."""
    catalog = catalog or default_catalog()
    cert_type = parse_cert_type(cert.profile)
    rules_type = RulesCertType(cert_type.value)
    ended = cert.status != Certificate.Status.VALID or cert.not_after <= at
    found = []
    for key, spec in catalog.businesses.items():
        business = Business(key.value)
        if business == Business.NEW and not ended:
            continue
        if business != Business.NEW and unusable(business, cert, at) is not None:
            continue
        years = catalog.cert_types[rules_type].min_years if spec.has_term else None
        expiry = cert.not_after if business == Business.RENEW else None
        online = quote(
            business.value,
            cert_type.value,
            years=years,
            channel="online",
            at=at,
            cert_expiry=expiry,
            catalog=catalog,
        ).allowed
        if online or RulesChannel.ONSITE in spec.offers[rules_type].channels:
            found.append(Offered(business, online))
    return found


def _holder_check(application: Application, cert: Certificate, serial: str) -> None:
    online = application.channel == Channel.ONLINE
    if not cert.belongs_to(application.organization):
        if online:  # the enterprise itself: as a serial unknown
            raise registry.unknown(serial)
        raise Forbidden(code="certificate_other_organization", variant="item")
    # the registry also holds other CAs' certificates (the refund programme's records): only
    # the CA that issued one renews, changes or revokes it
    if cert.ca.provider_id != application.provider_id:
        if online:
            raise registry.unknown(serial)
        raise Forbidden(code="certificate_other_provider")


def _ukey_of(cert: Certificate, statuses: tuple[str, ...]) -> Ukey | None:
    return cert.ukeys.filter(status__in=statuses).order_by("pk").first()


def build(application: Application, request: ItemRequest) -> ApplicationItem:
    """A checked, quoted, unsaved line for ``application``. A refusal about one of the
    request's inputs names it by its attribute's name, the counter's and the 续期 form's field
    too (``web.refused``), the rules' own refusals too (:func:`quote_item`)."""
    now = clock.now()
    with about("business"):
        business = parse_business(request.business)
    target: Certificate | None = None
    serial = request.serial.strip()
    if business != Business.NEW:
        if not serial:
            raise InvalidInput(code="serial_missing", label=business.label).naming("serial")
        with about("serial"):
            target = registry.get_certificate(serial)
            _holder_check(application, target, serial)
        cert_type = parse_cert_type(target.profile)
        if request.cert_type and request.cert_type != cert_type.value:
            raise InvalidInput(
                code="cert_type_mismatch", serial=target.serial, label=cert_type.label
            ).naming("cert_type")
    else:
        with about("cert_type"):
            cert_type = parse_cert_type(request.cert_type)
    answer = quote_item(application, business, cert_type, request.years, target, now)
    _check_combination(application, business, target)

    item = ApplicationItem(
        application=application,
        business=business,
        cert_type=cert_type,
        years=answer.years,
        fee=answer.fee_yuan,
        org_name=application.organization.name,
        uscc=application.organization.uscc,
        target_certificate=target,
        created_at=now,
    )
    if target is None:
        if cert_type == CertType.PERSONAL:
            with about("person_name"):  # the form's fields (web.refused)
                item.person_name = _person_name(request.person_name)
            with about("person_id_number"):
                item.person_id_number = validate_resident_id(request.person_id_number)
        return item

    with about("serial"):  # the certificate it names is revoked or expired
        require_usable(business, target, now)
    if business == Business.RENEW and answer.years:
        ca_services.renewal_end(target, answer.years, now)  # refused before anything is paid
    item.org_name, item.uscc = target.org_name, target.uscc
    item.person_name, item.person_id_number = target.person_name, target.id_number
    if business == Business.CHANGE:
        with about("org_name"):
            item.org_name = validation.org_name(
                request.org_name or application.organization.name, "变更后的单位名称"
            )
    if business == Business.REVOKE:
        if request.revocation_reason not in REVOCATION_REASONS:
            choices = "、".join(f"{k}（{v}）" for k, v in REVOCATION_REASONS.items())
            raise InvalidInput(code="revocation_reason", choices=choices).naming(
                "revocation_reason"
            )
        item.revocation_reason = request.revocation_reason
    if business == Business.REPLACE:
        if request.replace_cause not in REPLACE_CAUSES:
            raise InvalidInput(code="replace_cause").naming("replace_cause")
        item.replace_cause = request.replace_cause
        item.old_token = _ukey_of(
            target,
            (UkeyStatus.ISSUED, UkeyStatus.LOCKED, UkeyStatus.LOST, UkeyStatus.DAMAGED),
        )
        if item.old_token is None:
            raise Conflict(code="no_ukey", serial=target.serial)
    if business in OWN_UKEY and application.channel == Channel.ONSITE:
        item.token = _ukey_of(target, (UkeyStatus.ISSUED, UkeyStatus.LOCKED))
        if item.token is None:
            raise Conflict(
                code="no_ukey", variant="business", serial=target.serial, business=business.label
            )
    return item


def _person_name(name: str) -> str:
    return validation.person_name(name, "机构个人证书持证人（法定代表人）姓名")


def _issued_by_renewal(old: Certificate) -> Certificate | None:
    """The new certificate of ``old``'s online renewal, issued and not written to the Ukey."""
    renewal = (
        Renewal.objects.filter(old_certificate=old, state=Renewal.State.ISSUED)
        .select_related("new_certificate")
        .first()
    )
    return renewal.new_certificate if renewal is not None else None


def open_lines(certificates: Iterable[Certificate]) -> QuerySet[ApplicationItem]:
    """The lines on ``certificates`` of applications still open (not final): a certificate is
    in at most one open application (:func:`_check_combination` refuses a second)."""
    return ApplicationItem.objects.filter(target_certificate__in=list(certificates)).exclude(
        application__state__in=[s.value for s in FINAL]
    )


def _check_combination(
    application: Application, business: Business, target: Certificate | None
) -> None:
    """Several businesses in one visit, but each at most once per certificate; 介质补办 and
    吊销 alone on theirs; an online renewal alone in its application; and a certificate in at
    most one open application."""
    items = list(application.items.all())
    if application.channel == Channel.ONLINE:
        has_renewal = any(i.business == Business.RENEW for i in items)
        if (business == Business.RENEW and items) or has_renewal:
            raise Conflict(code="renewal_alone")
    if target is None:
        return
    same = [i for i in items if i.target_certificate_id == target.pk]
    if any(i.business == business for i in same):
        raise Conflict(code="duplicate", serial=target.serial, label=business.label)
    if same and (business in EXCLUSIVE or any(i.business in EXCLUSIVE for i in same)):
        raise Conflict(code="exclusive", serial=target.serial)
    elsewhere = (
        open_lines([target])
        .exclude(application=application)
        .select_related("application", "result_certificate")
        .first()
    )
    if elsewhere is None:
        return
    renewed = elsewhere.result_certificate or _issued_by_renewal(target)
    if elsewhere.is_online_renewal and renewed is not None:
        # issued online, not written to the Ukey: what the counter can do is the new one's
        raise Conflict(
            code="certificate_busy",
            variant="renewal",
            serial=target.serial,
            number=elsewhere.application.number,
            new=renewed.serial,
            end=f"{local(renewed.not_after):%Y-%m-%d}",
        )
    if elsewhere.is_online_renewal:
        # paid or not, nothing issued yet: the renewal must end first (cancel or refund)
        raise Conflict(
            code="certificate_busy",
            variant="renewal_pending",
            serial=target.serial,
            number=elsewhere.application.number,
            state=elsewhere.application.get_state_display(),
        )
    raise Conflict(
        code="certificate_busy", serial=target.serial, number=elsewhere.application.number
    )
