"""网上营业厅 (``/hall/``), what every applicant page shares: the login decorator, the form
readers, the next step of an application, the catalog's texts.

The pages themselves: ``applicant_views`` (home, lists, the progress page), ``applicant_new``
(the online 新办 wizard), ``applicant_renew`` (online 续期).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from certhall import clock, money
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.errors import Forbidden, InvalidInput
from certhall.forms import FORM_FILES
from certhall.hall import documents, services
from certhall.hall.models import Application, ApplicationItem, Business, CertType, Delivery
from certhall.hall.renewal import CLOSING_STATES, ended_waiting
from certhall.hall.states import EDITABLE, IN_REVIEW, TONES, State, done_words, state_label
from certhall.messages import text
from certhall.rules import Business as RuleBusiness
from certhall.rules import Catalog, default_catalog
from certhall.rules import CertType as RuleCertType
from certhall.rules import Channel as RuleChannel
from certhall.web import paths
from certhall.web.errors import text_field

ViewFunc = Callable[..., HttpResponse]

#: The catalog's documents that are the printed forms (downloaded here, stamped, uploaded).
FORM_KINDS = frozenset({"org_form", "personal_form", "personal_annex"})

#: The wizard of an online 新办, in order: (key, title, url name or None).
STEPS = (
    ("details", "证书信息", "details"),
    ("handler", "经办人", "handler"),
    ("delivery", "领取方式", "delivery"),
    ("documents", "上传资料", "documents"),
    ("identity", "实名核验", "identity"),
    ("confirm", "确认提交", "confirm"),
    ("pay", "在线支付", None),
    ("progress", "审核与制证", None),
)
#: The path of an online application, as shown on the progress page: 新办 and 续期 pass the
#: same states (RENEWAL_LABELS names them for a renewal).
ONLINE_PATH = (
    State.DRAFT,
    State.AWAITING_PAYMENT,
    State.PAID,
    State.APPROVED,
    State.ISSUED,
    State.DELIVERED,
)
PATH_LABELS = {
    State.DRAFT: "填写申请",
    State.AWAITING_PAYMENT: "待付款",
    State.PAID: "已付款，待审核",
    State.APPROVED: "审核通过",
    State.ISSUED: "已制证",
    State.DELIVERED: "已办结",
}
RENEWAL_LABELS = {
    **PATH_LABELS,
    State.PAID: "已付款",
    State.APPROVED: "待在线更新",
    State.ISSUED: "新证书已签发",
}
#: Left out of the path of a free application (变更, 解锁, 吊销, an ODC 续期 at the counter):
#: nothing is paid, so 待付款 is no step of it (shown done until 12-06); its review step reads
#: 已提交，待审核.
FREE_SKIPPED = (State.AWAITING_PAYMENT,)
#: Where a state sits on the path (returned / resubmitted count as the review step).
PATH_POSITION = {
    State.SUBMITTED: State.PAID,
    State.RETURNED: State.PAID,
    State.RESUBMITTED: State.PAID,
    State.ISSUING: State.APPROVED,
}
#: The review step's words (catalogue codes) while the customer corrects the application and
#: after: 已付款，待审核 as the current step told a customer with a 退回补正 to wait.
REVIEW_STEP = {State.RETURNED: "path_returned", State.RESUBMITTED: "path_resubmitted"}
#: The current step of an online renewal the jobs' next round will close (``renewal_closing``),
#: by whether it was paid (its money goes back) or not (unpaid, or free: it is cancelled).
CLOSING_STEP = {True: "path_renewal_closing", False: "path_renewal_closing.cancel"}
#: The handler form's fields, the keywords of ``profile.add_handler``.
HANDLER_FIELDS = ("name", "id_kind", "id_number", "phone")
#: The history's wording where the state's own label reads oddly as an event.
HISTORY_LABELS = {
    State.DRAFT: "创建申请",
    State.AWAITING_PAYMENT: "提交申请，待付款",
    State.SUBMITTED: "提交申请，待审核",
    State.DELIVERED: "已交付，办结",
}


# --- plumbing --------------------------------------------------------------------------------


def applicant_page(view: ViewFunc) -> ViewFunc:
    """Logged-in enterprise accounts only (anonymous: to /accounts/login/), never cached."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User):  # pragma: no cover - login_required let only users in
            raise Forbidden(code="not_authenticated")
        try:
            require_role(user, Role.APPLICANT)
        except Forbidden:
            raise Forbidden(code="hall_applicants_only") from None
        return view(request, user, *args, **kwargs)

    return login_required(wrapper)


def to(name: str, number: str | None = None) -> HttpResponseRedirect:
    args = [number] if number else []
    return HttpResponseRedirect(reverse(f"hall-applicant:{name}", args=args))


def field(request: HttpRequest, name: str, limit: int = 200) -> str:
    return text_field(request.POST, name, limit)


def wizard_step(view: ViewFunc) -> ViewFunc:
    """A step of the 新办 wizard, given the applicant's application while it can still be
    changed (a draft, or one returned for correction). A submitted one opens its progress page
    and says why: the step's form would only be refused (the services check again)."""

    @wraps(view)
    def wrapper(request: HttpRequest, actor: User, number: str) -> HttpResponse:
        application = services.get_application(actor, number)
        if application.state not in EDITABLE:
            businesses = [line.business for line in application.items.all()]
            label = state_label(application.state, businesses)
            messages.info(request, text("application_not_editable_notice", state=label))
            return to("detail", application.number)
        return view(request, actor, application)

    return applicant_page(wrapper)


def draft_of(actor: User, number: str) -> Application:
    """The application read again, after a step's change was refused."""
    return services.get_application(actor, number)


# --- what the applicant sees about an application --------------------------------------------


@dataclass(frozen=True)
class NextAction:
    text: str
    url: str = ""
    button: str = ""
    #: The review deadline (Y-m-d) said after the text, ``estimate`` after it: the page keeps
    #: the date on one line (2026-12- | 09 at 390 px when it was part of the text).
    due: str = ""
    estimate: str = ""


def next_step_url(application: Application) -> str:
    """The first wizard step of a draft that still needs something."""
    number = application.number
    if application.handler_id is None:
        return paths.path("hall-applicant:handler", number)
    if application.mail_address_missing or application.pickup_point_missing:
        return paths.path("hall-applicant:delivery", number)
    lines = list(application.items.all())
    if documents.missing(application, lines, with_identity=False):
        return paths.path("hall-applicant:documents", number)
    if documents.missing(application, lines):
        return paths.path("hall-applicant:identity", number)
    return paths.path("hall-applicant:confirm", number)


def renewal_closing(application: Application, lines: list[ApplicationItem] | None = None) -> bool:
    """An online renewal the jobs' next round will close (``renewal.ended_waiting``: its
    certificate ended or was revoked before the helper renewed it). Its progress line, its
    state's chip and 我的申请's row say so from this one answer, not 去支付 / 待在线更新."""
    if not application.is_online_renewal or application.state not in CLOSING_STATES:
        return False
    lines = list(application.items.all()) if lines is None else lines
    return any(ended_waiting(application, line) for line in lines)


def next_action(application: Application, closing: bool | None = None) -> NextAction:
    """The application's next step (``closing``: :func:`renewal_closing`, when the caller
    already asked it)."""
    state = State(application.state)
    closing = renewal_closing(application) if closing is None else closing
    number = application.number
    detail = paths.path("hall-applicant:detail", number)
    estimate = "（预计）" if application.due_provisional and application.due_date else ""
    due = f"{application.due_date:%Y-%m-%d}" if application.due_date else ""
    if state == State.DRAFT:
        if application.is_online_renewal:
            return NextAction("续期申请尚未提交", detail, "查看")
        # Which step the draft still needs is worked out when the link is followed, not for
        # every row of every list (two queries a list: its documents and real-name checks).
        return NextAction(
            "申请尚未提交，请继续填写", paths.path("hall-applicant:continue", number), "继续填写"
        )
    if state == State.AWAITING_PAYMENT:
        if closing:  # no 去支付: paying is refused (renewal.require_payable)
            return NextAction(text("next_renewal_ended.unpaid"), detail, "查看")
        return NextAction(
            f"请支付 {money.grouped(application.total)} 元",
            f"/payments/orders/{application.payment_reference}",
            "去支付",
        )
    if state in IN_REVIEW:
        if application.is_online_renewal:  # approved by the hall itself once paid
            return NextAction("已付款，正在处理", detail, "查看进度")
        return NextAction("深圳CA审核中", detail, "查看进度", due=due, estimate=estimate)
    if state == State.RETURNED:
        return NextAction(
            "资料被退回，请补正后重新提交",
            paths.path("hall-applicant:documents", number),
            "补正资料",
        )
    if state in (State.APPROVED, State.ISSUING):
        if done_words(i.business for i in application.items.all()) is not None:
            return NextAction("审核通过，等待办理", detail, "查看进度")
        if application.is_online_renewal:
            if closing:
                # the page's notice says it will close: the line does not offer the helper
                words = "next_renewal_ended" if application.total else "next_renewal_ended.free"
                return NextAction(text(words), detail, "查看")
            paid = "已付款，" if application.total > 0 else ""
            return NextAction(f"{paid}请用证书助手在线更新证书", detail, "在线更新证书")
        return NextAction("审核通过，等待制证", detail, "查看进度")
    if state == State.ISSUED:
        if application.is_online_renewal:
            return NextAction("新证书已签发，请完成写入Ukey", detail, "在线更新证书")
        if application.delivery == Delivery.MAIL:
            return NextAction("证书已制作，等待邮寄", detail, "查看进度")
        return NextAction("证书已制作，请到受理点领取", detail, "查看进度")
    if state == State.DELIVERED:
        if application.tracking_number:
            return NextAction(
                f"已办结：Ukey已寄出（{application.carrier} {application.tracking_number}）",
                detail,
                "查看",
            )
        return NextAction("已办结", detail, "查看")
    return NextAction(str(state.label), detail, "查看")


def row(application: Application) -> dict[str, Any]:
    lines = list(application.items.all())
    closing = renewal_closing(application, lines)
    due = application.due_date
    return {
        "application": application,
        "url": paths.path("hall-applicant:detail", application.number),
        # Written here, not with the template's date filter: 20 us a date there, 40 a row.
        "created": f"{application.created_at.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M}",
        "due": f"{due:%Y-%m-%d}{'（预计）' if application.due_provisional else ''}" if due else "",
        "businesses": "、".join(
            f"{Business(i.business).label} {CertType(i.cert_type).label}"
            + (f" {i.years}年" if i.years else "")
            for i in lines
        )
        or "（尚未选择业务）",
        "next": next_action(application, closing),
        "closing": closing,
        "state_tone": "warn" if closing else TONES[application.state],
        "state_label": text("next_renewal_ended.state")
        if closing
        else applicant_state_label(
            application.state, [i.business for i in lines], application.is_online_renewal
        ),
    }


def applicant_state_label(state: str, businesses: list[str], online_renewal: bool = False) -> str:
    """What the applicant reads for a state (已办结 at the end; 已解锁 / 已吊销 for what makes no
    certificate)."""
    if done_words(businesses) is None and state == State.DELIVERED:
        return "已办结"
    return state_label(state, businesses, online_renewal and businesses == [Business.RENEW])


def history_label(state: str, businesses: list[str]) -> str:
    """A state as an event of the history."""
    if done_words(businesses) is not None:
        return state_label(state, businesses)
    return HISTORY_LABELS.get(State(state), str(State(state).label))


_catalog_shown: tuple[object, dict[str, Any]] = (None, {})


def catalog_context() -> dict[str, Any]:
    """What the hall home shows of the rules: businesses by channel, points, processing.
    Worked out once per catalog (0.28 ms a page otherwise); the same dict each time, which
    nobody changes."""
    global _catalog_shown
    catalog = default_catalog()
    if _catalog_shown[0] is not catalog:
        _catalog_shown = (catalog, _catalog_context(catalog))
    return _catalog_shown[1]


def _catalog_context(catalog: Catalog) -> dict[str, Any]:
    businesses = []
    for key, spec in catalog.businesses.items():
        online = [
            catalog.cert_types[cert_type].name
            for cert_type, offer in spec.offers.items()
            if RuleChannel.ONLINE in offer.channels
        ]
        businesses.append(
            {
                "key": key.value,
                "name": spec.name,
                "summary": spec.summary,
                "online": online,
                "fees": list(dict.fromkeys(offer.fee_text for offer in spec.offers.values())),
                "url": business_start(key, online=True) if online else "",
                # what to bring, the fee, the points and their hours (docs/hall.md)
                "guide": business_start(key, online=False),
                "rule": next((o.channel_rule for o in spec.offers.values() if o.channel_rule), ""),
            }
        )
    return {
        "businesses": businesses,
        "points": catalog.points,
        "weekend_rule": catalog.weekend_rule.text,
        "processing": [
            catalog.processing[c].text for c in (RuleChannel.ONSITE, RuleChannel.ONLINE)
        ],
        "renewal_rule": catalog.online_renewal,
        "payee": catalog.payee,
    }


#: The hall's pages that start a business online; the others start at a counter.
ONLINE_STARTS = {RuleBusiness.NEW: "hall-applicant:new", RuleBusiness.RENEW: "hall-applicant:renew"}


def business_start(
    business: RuleBusiness | str, *, online: bool, serial: str = "", cert_type: str = ""
) -> str:
    """Where a business starts: online, its page in the hall (续期 with the certificate's
    serial filled in); at a counter, its 办事指南 (what to bring, the fee, the points and their
    hours), naming the certificate (``serial``) and opened at its type's section. The hall's
    home and 我的证书's cards link here."""
    business = RuleBusiness(business)
    query = {"serial": serial} if serial else {}
    if online and business in ONLINE_STARTS:
        url = paths.path(ONLINE_STARTS[business])
        query = query if business == RuleBusiness.RENEW else {}
    else:
        url = paths.path("portal:guide-detail", business.value)
        if cert_type and serial:
            query["type"] = cert_type
    return (
        url
        + (f"?{urlencode(query)}" if query else "")
        + (f"#{cert_type}" if cert_type and not online else "")
    )


def years_choices() -> list[dict[str, Any]]:
    """The terms of a 机构个人证书 with their fees, from the rules catalog."""
    catalog = default_catalog()
    spec = catalog.cert_types[RuleCertType.PERSONAL]
    offer = catalog.offer(RuleBusiness.NEW, RuleCertType.PERSONAL)
    return [
        {"years": y, "fee": offer.fee_for(y)} for y in range(spec.min_years, spec.max_years + 1)
    ]


def form_links(application: Application) -> list[dict[str, str]]:
    if application.is_online_renewal or application.handler_id is None:
        return []
    types = {i.cert_type for i in application.items.all()}
    keys = []
    if CertType.ORG in types:
        keys.append("unit_application")
    if CertType.PERSONAL in types:
        keys += ["org_application", "personal_annex"]
    return [
        {
            "name": FORM_FILES[key].removesuffix(".pdf"),
            "url": reverse("hall-applicant:form-pdf", args=[application.number, key]),
        }
        for key in keys
    ]


def point_name(slug: str) -> str:
    if not slug:
        return ""
    try:
        return default_catalog().point(slug).name
    except InvalidInput:
        return slug
