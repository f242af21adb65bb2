"""办事指南: the six businesses × certificate types, read from the rules catalog.

Nothing here holds a fee, a document or an hour of its own: every word comes from
``certhall.rules.default_catalog()``, the catalog the hall quotes and enforces and that
``certhall rules`` prints. What the guide adds is presentation: the order of sections, the
online hall's entry point of each business, and a map link per service point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote as urlquote

from certhall import config
from certhall.errors import NotFound
from certhall.rules import Business, CertType, Channel, default_catalog
from certhall.rules.catalog import Catalog, ChannelSpec, Contact, Offer, Payee, ServicePoint

#: Where a business starts in this platform's online hall (only businesses the catalog allows
#: online have one).
HALL_ENTRY = {Business.NEW: "/hall/new/", Business.RENEW: "/hall/renew/"}

#: This platform's online hall. The seed's online steps send the customer to the CA's former
#: site (登录深圳CA网上营业厅https://wt.szca.net/index, the catalog's ``online_hall_url``); this
#: platform is that online hall, so the guide names its own address there instead, the seed's
#: words kept otherwise (docs/portal.md, 12-06).
HALL = "/hall/"

#: The map link of a service point: a search for its address (no key, no tracking parameter).
MAP_URL = "https://uri.amap.com/search?keyword={address}"

CHANNEL_NAMES = {Channel.ONSITE: "现场办理", Channel.ONLINE: "网上办理"}
FLOW = "查看相关办理指南--->选择证书办理途径--->提交资料--->缴费--->领取证书"


@dataclass(frozen=True)
class PointView:
    slug: str
    name: str
    address: str
    hours_text: str
    map_url: str


@dataclass(frozen=True)
class ChannelView:
    key: str
    name: str
    how: str
    steps: tuple[str, ...]
    delivery: str
    processing: str
    hall_url: str | None
    #: This platform's hall's address where ``how`` names the online hall ("" elsewhere).
    hall_address: str = ""
    #: What this channel asks instead of documents, and when it is open (the online renewal:
    #: signed with the certificate's own key, inside the catalog's window); "" otherwise.
    note: str = ""

    @property
    def takes_documents(self) -> bool:
        return not self.note

    @property
    def how_parts(self) -> tuple[str, str]:
        """``how`` before and after the hall's address (the page links it), or (how, "")."""
        if not self.hall_address or self.hall_address not in self.how:
            return self.how, ""
        before, _, after = self.how.partition(self.hall_address)
        return before, after


def hall_address() -> str:
    """The online hall's address on the platform's public origin (``CERTHALL_BASE_URL``)."""
    return config.get().base_url + HALL


@dataclass(frozen=True)
class OfferView:
    cert: str
    cert_name: str
    fee_text: str
    free: bool
    documents: tuple[str, ...]
    notes: tuple[str, ...]
    channels: tuple[ChannelView, ...]
    #: Why a channel is not offered for this type (the catalog's rule words), if one is not.
    channel_rule: str | None

    @property
    def documents_onsite_only(self) -> bool:
        """The documents are for the counter only (the other channel takes none)."""
        return any(not channel.takes_documents for channel in self.channels)


@dataclass(frozen=True)
class BusinessGuide:
    key: str
    name: str
    summary: str
    flow: str
    offers: tuple[OfferView, ...]
    document_notes: tuple[str, ...]
    points: tuple[PointView, ...]
    weekend_rule: str
    payee: Payee | None
    online: bool
    catalog_version: str

    @property
    def title(self) -> str:
        return f"{self.name}办事指南"

    @property
    def url(self) -> str:
        return f"/guide/{self.key}/"

    def plain_text(self) -> str:
        """The page's words, for the search index: its values under the headings and labels
        the page shows them with (guide_detail.html, _points.html), so that a visitor typing a
        heading of the seed (收费标准, 服务时间, 收款账户 …) finds the guide."""
        parts = ["业务说明", self.summary, "办理流程", self.flow]
        for offer in self.offers:
            parts += [offer.cert_name, "收费标准", offer.fee_text]
            parts += ["申请资料", *offer.documents, *offer.notes, "办理途径"]
            for channel in offer.channels:
                parts += [channel.name, channel.how, *channel.steps, channel.delivery]
                parts.append(channel.note)
                if channel.processing:
                    parts.append(f"办理时效：{channel.processing}")
            if offer.channel_rule:
                parts.append(offer.channel_rule)
        parts += ["资料说明", *self.document_notes, "受理点与服务时间"]
        for point in self.points:
            parts += [point.name, f"地址：{point.address}", f"服务时间：{point.hours_text}"]
        parts.append(self.weekend_rule)
        if self.payee:
            parts += ["收款账户", f"公司名称：{self.payee.company}"]
            parts += [f"开户行：{self.payee.bank}", f"账号：{self.payee.account}"]
        return "\n".join(parts)


def points(catalog: Catalog | None = None) -> tuple[PointView, ...]:
    """The service points with their addresses, hours and map links (the guide, 联系我们)."""
    return tuple(_point(point) for point in (catalog or default_catalog()).points)


#: Seed 001's 数字证书简介, shown on the guide's index page (``/guide/#introduction``) and
#: searched as a document of its own (12-07: 电子认证服务许可证, 资质 found nothing of it).
INTRODUCTION = (
    "深圳市电子商务安全证书管理有限公司（简称深圳CA），是经国家工业和信息化部批准获得"
    "《电子认证服务许可证》资质的电子认证服务商。深圳CA遵循国家颁布的《中华人民共和国电子签名法》、"
    "《电子认证服务管理办法》等法律法规，在电子认证领域提供权威、公正、可信的认证服务。"
    "由深圳CA与深圳市医保中心合作签发的数字证书作为主体身份确认的唯一合法标识，"
    "以确保网上签章的真实性、有效性及安全性。"
)


#: 联系我们 (``/contact/``, contact.html): its online section's line.
CONTACT_ONLINE = "无需登录即可提问，工作人员答复后凭编号和查询码查看答复。"


def contact_intro(contact: Contact | None) -> str:
    """联系我们's opening line: the service line first when the operator's catalog names one."""
    line = "拨打客服电话、" if contact else ""
    return f"办理中遇到问题，可{line}到受理点现场咨询和办理，或在线提交咨询。"


def index_text(guides: Sequence[BusinessGuide]) -> str:
    """办事指南's index page (``/guide/``, guide_index.html) for the search index: the fees its
    cards show under 收费标准, every business's on one page, which is what a visitor typing
    收费 asks for (12-07). Not the businesses' names and summaries: each business page is a
    document of its own, and a page naming all six would be the one hit of every query naming
    two businesses (续期 吊销, 证书吊销)."""
    fees = [offer.fee_text for page in guides for offer in page.offers]
    return "\n".join(["收费标准", *dict.fromkeys(fees)])


def contact_text(catalog: Catalog | None = None) -> str:
    """联系我们's words for the search index, under the words that lead there: every message
    that sends a customer on says 联系客服（见“联系我们”）(docs/portal.md, 12-07)."""
    catalog = catalog or default_catalog()
    parts = ["联系客服", contact_intro(catalog.contact)]
    if catalog.contact:
        parts += ["客服电话", f"电话：{catalog.contact.phone}"]
        parts.append(f"服务时间：{catalog.contact.hours}")
    parts.append("受理点与服务时间")
    for point in points(catalog):
        parts += [point.name, f"地址：{point.address}", f"服务时间：{point.hours_text}"]
    parts.append(catalog.weekend_rule.text)  # under the points, as _points.html shows it
    parts += ["在线咨询", CONTACT_ONLINE, "在线提交咨询", "常见问题"]
    return "\n".join(parts)


def _point(point: ServicePoint) -> PointView:
    return PointView(
        slug=point.slug,
        name=point.name,
        address=point.address,
        hours_text=point.hours_text,
        map_url=MAP_URL.format(address=urlquote(point.address)),
    )


#: An online update (网厅续期) takes no documents: the request is signed by the certificate's own
#: key in the certificate helper (``hall.documents.required``, docs/hall.md).
ONLINE_UPDATE_NOTE = (
    "无需提交资料：续期申请由原证书的私钥在证书助手中签名确认。{window}；{expired}。"
)


def _channel(catalog: Catalog, business: Business, spec: ChannelSpec) -> ChannelView:
    window = catalog.online_renewal
    update = spec.delivery.method == "online_update"
    address = hall_address() if catalog.online_hall_url in spec.how else ""
    return ChannelView(
        key=spec.channel.value,
        name=CHANNEL_NAMES[spec.channel],
        how=spec.how.replace(catalog.online_hall_url, address) if address else spec.how,
        hall_address=address,
        steps=spec.steps,
        # a delivery line the seed numbers among the steps is shown there, not again below
        delivery="" if spec.delivery.step else spec.delivery.text,
        # an online update is not reviewed: its delivery line (付款成功后即可在线更新证书) is its
        # time, not the online review's three working days
        processing="" if update else catalog.processing[spec.channel].text,
        hall_url=HALL_ENTRY.get(business) if spec.channel == Channel.ONLINE else None,
        note=ONLINE_UPDATE_NOTE.format(window=window.too_early_rule, expired=window.expired_rule)
        if update
        else "",
    )


def _offer(catalog: Catalog, business: Business, offer: Offer) -> OfferView:
    spec = catalog.businesses[business]
    channels = tuple(
        _channel(catalog, business, spec.channels[channel])
        for channel in (Channel.ONSITE, Channel.ONLINE)
        if channel in offer.channels
    )
    missing = any(channel not in offer.channels for channel in spec.channels)
    return OfferView(
        cert=offer.cert_type.value,
        cert_name=catalog.cert_types[offer.cert_type].name,
        fee_text=offer.fee_text,
        free=offer.fee_yuan == 0,
        documents=tuple(
            f"{doc.text}（仅现场办理时提供）" if doc.onsite_only else doc.text
            for doc in offer.documents
        ),
        notes=offer.notes,
        channels=channels,
        channel_rule=offer.channel_rule if missing or len(channels) < 2 else None,
    )


def business_guide(key: str, catalog: Catalog | None = None) -> BusinessGuide:
    catalog = catalog or default_catalog()
    try:
        business = Business(key)
    except ValueError:
        raise NotFound(code="guide_unknown") from None
    spec = catalog.businesses[business]
    offers = tuple(_offer(catalog, business, spec.offers[cert]) for cert in CertType)
    paid = any(not offer.free for offer in offers)
    return BusinessGuide(
        key=business.value,
        name=spec.name,
        summary=spec.summary,
        flow=FLOW,
        offers=offers,
        document_notes=tuple(text for text, _ in catalog.document_notes),
        points=points(catalog),
        weekend_rule=catalog.weekend_rule.text,
        payee=catalog.payee if paid else None,
        online=any(channel.key == Channel.ONLINE for o in offers for channel in o.channels),
        catalog_version=catalog.version,
    )


def all_guides(catalog: Catalog | None = None) -> list[BusinessGuide]:
    return [business_guide(business.value, catalog) for business in Business]
