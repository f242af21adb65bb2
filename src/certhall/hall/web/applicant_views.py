"""网上营业厅: the applicant's pages under ``/hall/`` (zh-CN, server-rendered).

Thin views over the same services the JSON API (``certhall.hall.api``) uses: read the form,
call the service, render or redirect. Permissions and rules live in the services
(``certhall.hall.access``, ``certhall.rules.enforce``); a refusal (``CerthallError``) is shown
on the page it came from, with its HTTP status. Object lookups go through
``services.get_application`` (``access.load``): another enterprise's application is a 403 or a
404 here exactly as in the API. Every POST is CSRF-checked by Django's middleware.

The online 新办 wizard: 证书信息 (project, type, term, holder) → 经办人 → 领取方式 → 上传资料 →
确认提交 → 支付 (the payments sandbox cashier) → the progress page. Online 续期: the serial →
the rules' window and fee → pay → 在线更新证书 through the certificate helper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhall import clock, money
from certhall.accounts import profile
from certhall.accounts.models import Handler, Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.certlogin import conf as certlogin_conf
from certhall.errors import CerthallError, Forbidden, InvalidInput, NotFound
from certhall.forms import FORM_FILES, render_forms_for
from certhall.hall import documents, renewal, services, storage
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application, Business, CertType, Delivery, Document
from certhall.hall.printing import form_data
from certhall.hall.states import EDITABLE, IN_REVIEW, TRANSITIONS, State
from certhall.rules import Business as RuleBusiness
from certhall.rules import CertType as RuleCertType
from certhall.rules import Channel as RuleChannel
from certhall.rules import default_catalog
from certhall.web.errors import form_page

ViewFunc = Callable[..., HttpResponse]
#: The catalog's documents that are the printed forms (downloaded here, stamped, uploaded).
FORM_KINDS = frozenset({"org_form", "personal_form", "personal_annex"})

#: The wizard of an online 新办, in order: (key, title, url name or None).
STEPS = (
    ("details", "证书信息", None),
    ("handler", "经办人", "handler"),
    ("delivery", "领取方式", "delivery"),
    ("documents", "上传资料", "documents"),
    ("confirm", "确认提交", "confirm"),
    ("pay", "在线支付", None),
    ("progress", "审核与制证", None),
)
#: The path of an online 新办, as shown on the progress page.
NEW_PATH = (
    State.DRAFT,
    State.AWAITING_PAYMENT,
    State.PAID,
    State.APPROVED,
    State.ISSUED,
    State.DELIVERED,
)
RENEWAL_PATH = (
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
#: Where a state sits on the path (returned / resubmitted count as the review step).
PATH_POSITION = {
    State.SUBMITTED: State.PAID,
    State.RETURNED: State.PAID,
    State.RESUBMITTED: State.PAID,
    State.ISSUING: State.APPROVED,
}
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
            raise Forbidden("请先登录。")
        try:
            require_role(user, Role.APPLICANT)
        except Forbidden:
            raise Forbidden("网上营业厅仅供单位账户使用；工作人员请使用受理台。") from None
        return view(request, user, *args, **kwargs)

    return never_cache(login_required(wrapper))


def _to(name: str, number: str | None = None) -> HttpResponseRedirect:
    args = [number] if number else []
    return HttpResponseRedirect(reverse(f"hall-applicant:{name}", args=args))


def _field(request: HttpRequest, name: str, limit: int = 200) -> str:
    return str(request.POST.get(name, "")).strip()[:limit]


def _int(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{what}应为整数。", code="not_a_number") from None


def _draft_of(actor: User, number: str) -> Application:
    """The application, for a wizard step (editable ones only; the services check again)."""
    return services.get_application(actor, number)


# --- what the applicant sees about an application --------------------------------------------


@dataclass(frozen=True)
class NextAction:
    text: str
    url: str = ""
    button: str = ""


def next_step_url(application: Application) -> str:
    """The first wizard step of a draft that still needs something."""
    number = application.number
    if application.handler_id is None:
        return reverse("hall-applicant:handler", args=[number])
    if application.mail_address_missing or application.pickup_point_missing:
        return reverse("hall-applicant:delivery", args=[number])
    if documents.missing(application, application.items.all()):
        return reverse("hall-applicant:documents", args=[number])
    return reverse("hall-applicant:confirm", args=[number])


def next_action(application: Application) -> NextAction:
    state = State(application.state)
    number = application.number
    detail = reverse("hall-applicant:detail", args=[number])
    estimate = "（预计）" if application.due_provisional else ""
    due = f"，审核期限 {application.due_date:%Y-%m-%d}{estimate}" if application.due_date else ""
    if state == State.DRAFT:
        if application.is_online_renewal:
            return NextAction("续期申请尚未提交", detail, "查看")
        return NextAction("申请尚未提交，请继续填写", next_step_url(application), "继续填写")
    if state == State.AWAITING_PAYMENT:
        return NextAction(
            f"请支付 {money.grouped(application.total)} 元",
            f"/payments/orders/{application.payment_reference}",
            "去支付",
        )
    if state in IN_REVIEW:
        return NextAction(f"深圳CA审核中{due}", detail, "查看进度")
    if state == State.RETURNED:
        return NextAction(
            "资料被退回，请补正后重新提交",
            reverse("hall-applicant:documents", args=[number]),
            "补正资料",
        )
    if state in (State.APPROVED, State.ISSUING):
        if application.is_online_renewal:
            return NextAction("已付款，请用证书助手在线更新证书", detail, "在线更新证书")
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


def _row(application: Application) -> dict[str, Any]:
    lines = list(application.items.all())
    return {
        "application": application,
        "businesses": "、".join(
            f"{Business(i.business).label} {CertType(i.cert_type).label}"
            + (f" {i.years}年" if i.years else "")
            for i in lines
        )
        or "（尚未选择业务）",
        "next": next_action(application),
        "state_class": _state_class(application.state),
    }


def _state_class(state: str) -> str:
    if state == State.DELIVERED:
        return "done"
    if state in (State.CANCELLED, State.REFUNDED):
        return "closed"
    if state in (State.RETURNED, State.AWAITING_PAYMENT):
        return "action"
    return "progress"


def _catalog_context() -> dict[str, Any]:
    """What the hall home shows of the rules: businesses by channel, points, processing."""
    catalog = default_catalog()
    businesses = []
    for key, spec in catalog.businesses.items():
        online = [
            catalog.cert_types[cert_type].name
            for cert_type, offer in spec.offers.items()
            if RuleChannel.ONLINE in offer.channels
        ]
        url = {
            RuleBusiness.NEW: reverse("hall-applicant:new"),
            RuleBusiness.RENEW: reverse("hall-applicant:renew"),
        }.get(key, "")
        businesses.append(
            {
                "key": key.value,
                "name": spec.name,
                "summary": spec.summary,
                "online": online,
                "fees": list(dict.fromkeys(offer.fee_text for offer in spec.offers.values())),
                "url": url if online else "",
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


# --- hall home and lists ---------------------------------------------------------------------


@require_GET
@applicant_page
def home(request: HttpRequest, actor: User) -> HttpResponse:
    mine = services.list_applications(actor, limit=10)
    context = {
        **_catalog_context(),
        "organization": actor.organization,
        "rows": [_row(a) for a in mine],
    }
    return render(request, "hall/applicant/home.html", context)


@require_GET
@applicant_page
def application_list(request: HttpRequest, actor: User) -> HttpResponse:
    state = request.GET.get("state") or None
    error: CerthallError | None = None
    rows: list[dict[str, Any]] = []
    try:
        rows = [_row(a) for a in services.list_applications(actor, state=state, limit=100)]
    except CerthallError as refusal:
        error = refusal
    context = {"rows": rows, "states": State.choices, "state": state or ""}
    return form_page(request, "hall/applicant/list.html", context, error)


# --- online 新办 ------------------------------------------------------------------------------


def start_online_new(actor: User, request: ItemRequest) -> Application:
    """A draft with its 新办 line, or nothing: the draft and the line commit together (the
    rules refuse an ODC or a 6-year term before any draft exists). The same two services as
    ``POST /api/hall/applications`` + ``POST …/items``; like ``renewal.start``."""
    with (
        audit.refusals_recorded(actor, "hall.application.start", object_type="application"),
        transaction.atomic(),
    ):
        draft = services.create_draft(actor)
        services.add_item(actor, draft.number, request)
        return draft


def _years_choices() -> list[dict[str, Any]]:
    """The terms of a 机构个人证书 with their fees, from the rules catalog."""
    catalog = default_catalog()
    spec = catalog.cert_types[RuleCertType.PERSONAL]
    offer = catalog.offer(RuleBusiness.NEW, RuleCertType.PERSONAL)
    return [
        {"years": y, "fee": offer.fee_for(y)} for y in range(spec.min_years, spec.max_years + 1)
    ]


def _new_context(form: dict[str, str]) -> dict[str, Any]:
    catalog = default_catalog()
    new = catalog.businesses[RuleBusiness.NEW]
    offers = {
        ct.value: {
            "name": catalog.cert_types[ct].name,
            "fee_text": offer.fee_text,
            "online": RuleChannel.ONLINE in offer.channels,
            "rule": offer.channel_rule or "",
        }
        for ct, offer in new.offers.items()
    }
    return {
        "form": form,
        "offers": offers,
        "years_choices": _years_choices(),
        "project": Application.Project.SZ_MEDICAL_INSURANCE,
        "notes": new.channels[RuleChannel.ONLINE].notes,
        "processing": catalog.processing[RuleChannel.ONLINE].text,
        "steps": _steps("details"),
    }


@require_http_methods(["GET", "POST"])
@applicant_page
def new_application(request: HttpRequest, actor: User) -> HttpResponse:
    fields = ("project", "cert_type", "years", "person_name", "person_id_number")
    form = {name: _field(request, name, 64) for name in fields} if request.POST else {}
    form.setdefault("cert_type", "personal")
    form.setdefault("years", "1")
    error: CerthallError | None = None
    if request.method == "POST":
        try:
            if form["project"] != Application.Project.SZ_MEDICAL_INSURANCE:
                raise InvalidInput("请选择办理的项目：深圳医保在线签约。", code="project")
            draft = start_online_new(
                actor,
                ItemRequest(
                    business="new",
                    cert_type=form["cert_type"] or None,
                    years=_int(form["years"], "证书年限"),
                    person_name=form["person_name"],
                    person_id_number=form["person_id_number"],
                ),
            )
        except CerthallError as refusal:
            error = refusal
        else:
            messages.success(request, f"已创建申请 {draft.number}，请选择经办人。")
            return _to("handler", draft.number)
    return form_page(request, "hall/applicant/new.html", _new_context(form), error)


def _steps(current: str, application: Application | None = None) -> list[dict[str, Any]]:
    keys = [key for key, _title, _url in STEPS]
    position = keys.index(current)
    rows = []
    for index, (_key, title, url_name) in enumerate(STEPS):
        url = ""
        if application is not None and url_name and application.state == State.DRAFT:
            url = reverse(f"hall-applicant:{url_name}", args=[application.number])
        rows.append(
            {
                "title": title,
                "n": index + 1,
                "state": "done" if index < position else "current" if index == position else "",
                "url": url,
            }
        )
    return rows


def _wizard(application: Application, step: str, **extra: Any) -> dict[str, Any]:
    return {
        "application": application,
        "row": _row(application),
        "steps": _steps(step, application),
        "editable": application.state in EDITABLE,
        **extra,
    }


@require_http_methods(["GET", "POST"])
@applicant_page
def handler_step(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    application = _draft_of(actor, number)
    form = {name: _field(request, name, 30) for name in HANDLER_FIELDS} if request.POST else {}
    error: CerthallError | None = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "add":
                added = profile.add_handler(
                    actor,
                    None,
                    name=form["name"],
                    id_kind=form["id_kind"],
                    id_number=form["id_number"],
                    phone=form["phone"],
                )
                handler_id: int | None = added.pk
            else:
                handler_id = _int(str(request.POST.get("handler_id", "")), "经办人")
                if handler_id is None:
                    raise InvalidInput("请选择经办人。", code="handler_missing")
            services.update_details(actor, number, services.Details(handler_id=handler_id))
        except CerthallError as refusal:
            error = refusal
        else:
            return _to("delivery", application.number)
    handlers = [
        {"handler": h, "masked_id": profile.mask_id_number(h.id_number)}
        for h in profile.list_handlers(actor)
    ]
    context = _wizard(
        application,
        "handler",
        handlers=handlers,
        form=form,
        id_kinds=Handler.IdKind.choices,
    )
    return form_page(request, "hall/applicant/handler.html", context, error)


@require_http_methods(["GET", "POST"])
@applicant_page
def delivery_step(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    application = _draft_of(actor, number)
    names = ("delivery", "recipient_name", "recipient_phone", "address", "pickup_point")
    error: CerthallError | None = None
    if request.method == "POST":
        form = {name: _field(request, name) for name in names}
        try:
            if form["delivery"] == Delivery.MAIL:
                details = services.Details(
                    delivery=Delivery.MAIL,
                    recipient_name=form["recipient_name"],
                    recipient_phone=form["recipient_phone"],
                    address=form["address"],
                )
            else:
                details = services.Details(
                    delivery=form["delivery"], pickup_point=form["pickup_point"]
                )
            services.update_details(actor, number, details)
        except CerthallError as refusal:
            error = refusal
        else:
            return _to("documents", application.number)
    else:
        handler = application.handler
        form = {
            "delivery": application.delivery or Delivery.MAIL,
            "recipient_name": application.recipient_name or (handler.name if handler else ""),
            "recipient_phone": application.recipient_phone or (handler.phone if handler else ""),
            "address": application.address,
            "pickup_point": application.pickup_point,
        }
    catalog = default_catalog()
    context = _wizard(
        application,
        "delivery",
        form=form,
        postage=catalog.postage.fee_yuan,
        points=catalog.points,
        mail_text=catalog.businesses[RuleBusiness.NEW].channels[RuleChannel.ONLINE].delivery.text,
    )
    return form_page(request, "hall/applicant/delivery.html", context, error)


def _documents_context(application: Application) -> dict[str, Any]:
    catalog = default_catalog()
    lines = list(application.items.all())
    have = documents.current(application)
    rows = []
    for kind in documents.required(application, lines):
        spec = catalog.documents.get(kind)
        rows.append(
            {
                "kind": kind,
                "name": documents.document_name(kind),
                "photo": kind in documents.HANDLER_PHOTOS,
                "form": spec is not None
                and kind in ("org_form", "personal_form", "personal_annex"),
                "document": have.get(kind),
                "returned": have.get(kind) is not None
                and have[kind].status == Document.Status.RETURNED,
            }
        )
    notes = [text for text, channels in catalog.document_notes if RuleChannel.ONLINE in channels]
    return {
        "rows": rows,
        "notes": notes,
        "limit_mb": storage.MAX_BYTES // (1024 * 1024),
        "missing": documents.missing(application, lines),
        "forms": _form_links(application),
    }


def _form_links(application: Application) -> list[dict[str, str]]:
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


@require_http_methods(["GET", "POST"])
@applicant_page
def documents_step(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    application = _draft_of(actor, number)
    error: CerthallError | None = None
    if request.method == "POST":
        kind = _field(request, "kind", 32)
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput("请选择要上传的文件（PDF、JPEG 或 PNG）。", code="file_missing")
            document = documents.upload(
                actor, number, kind, filename=upload.name or "", chunks=upload.chunks(64 * 1024)
            )
        except CerthallError as refusal:
            error = refusal
        else:
            messages.success(request, f"已上传：{documents.document_name(document.kind)}")
            return _to("documents", application.number)
        application = _draft_of(actor, number)
    context = _wizard(application, "documents", **_documents_context(application))
    return form_page(request, "hall/applicant/documents.html", context, error)


@require_http_methods(["GET", "POST"])
@applicant_page
def confirm_step(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    application = _draft_of(actor, number)
    error: CerthallError | None = None
    if request.method == "POST":
        try:
            submitted = services.submit(actor, number)
        except CerthallError as refusal:
            error = refusal
            application = _draft_of(actor, number)
        else:
            if submitted.state == State.AWAITING_PAYMENT:
                total = money.grouped(submitted.total)
                messages.success(request, f"申请已提交，请支付 {total} 元。")
            else:
                messages.success(request, "申请已提交，等待深圳CA审核。")
            return _to("detail", submitted.number)
    context = _wizard(
        application,
        "confirm",
        holder_ids={
            i.pk: profile.mask_id_number(i.person_id_number) for i in application.items.all()
        },
        handler_id_masked=profile.mask_id_number(application.handler.id_number)
        if application.handler
        else "",
        pickup_name=_point_name(application.pickup_point),
        **_documents_context(application),
    )
    return form_page(request, "hall/applicant/confirm.html", context, error)


def _point_name(slug: str) -> str:
    if not slug:
        return ""
    try:
        return default_catalog().point(slug).name
    except InvalidInput:
        return slug


# --- the application page (progress) ---------------------------------------------------------


def _path(application: Application) -> list[dict[str, Any]]:
    state = State(application.state)
    renewal_flow = application.is_online_renewal
    path = RENEWAL_PATH if renewal_flow else NEW_PATH
    labels = RENEWAL_LABELS if renewal_flow else PATH_LABELS
    if state in (State.CANCELLED, State.REFUNDED):
        return []
    position = path.index(PATH_POSITION.get(state, state))
    return [
        {
            "label": labels[s],
            "state": "done"
            if i < position or state == State.DELIVERED
            else "current"
            if i == position
            else "",
        }
        for i, s in enumerate(path)
    ]


@require_GET
@applicant_page
def detail(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    application = services.get_application(actor, number)
    lines = list(application.items.all())
    docs = [d for d in services.documents_of(application) if not d.superseded]
    renew_line = lines[0] if application.is_online_renewal and lines else None
    context: dict[str, Any] = {
        "application": application,
        "row": _row(application),
        "lines": lines,
        "holder_ids": {i.pk: profile.mask_id_number(i.person_id_number) for i in lines},
        "path": _path(application),
        "history": [
            {**event, "label": HISTORY_LABELS.get(event["state"], State(event["state"]).label)}
            for event in services.history(actor, application)
        ],
        "documents": [{"document": d, "name": documents.document_name(d.kind)} for d in docs],
        "returned": [
            {"name": documents.document_name(d.kind), "reason": d.review_reason}
            for d in docs
            if d.status == Document.Status.RETURNED
        ],
        "forms": _form_links(application),
        "pickup_name": _point_name(application.pickup_point),
        "can_cancel": application.paid_at is None
        and State.CANCELLED in _allowed_next(application.state),
        "renewal": renew_line,
        "show_renewal": renew_line is not None
        and application.state in (State.APPROVED, State.ISSUED),
        "agent_url": certlogin_conf.get().agent_url if renew_line is not None else "",
        "online_processing": default_catalog().processing[RuleChannel.ONLINE].text,
    }
    return render(request, "hall/applicant/detail.html", context)


def _allowed_next(state: str) -> frozenset[str]:
    return TRANSITIONS[State(state)]


@require_POST
@applicant_page
def cancel(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    services.get_application(actor, number)  # another enterprise's: 403/404, not a message
    try:
        services.cancel(actor, number, _field(request, "reason"))
    except CerthallError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"申请 {number} 已取消。")
    return _to("detail", number)


@require_POST
@applicant_page
def resubmit(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    services.get_application(actor, number)  # another enterprise's: 403/404, not a message
    try:
        services.resubmit(actor, number)
    except CerthallError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, "已重新提交，等待深圳CA审核。")
    return _to("detail", number)


@require_GET
@applicant_page
def form_pdf(request: HttpRequest, actor: User, number: str, key: str) -> HttpResponse:
    """《机构数字证书申请表》 etc., filled from the application, to print, stamp and upload."""
    application = services.get_application(actor, number)
    if key not in FORM_FILES:
        raise NotFound("没有这份表格。")
    if application.is_online_renewal:
        raise NotFound("网厅续期不需要打印申请表。")
    pdfs = render_forms_for(form_data(application))
    if key not in pdfs:
        raise NotFound("本申请不需要这份表格。")
    filename = FORM_FILES[key]
    response = HttpResponse(pdfs[key], content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{application.number}-{key}.pdf"; '
        f"filename*=UTF-8''{quote(application.number + '-' + filename)}"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- online 续期 ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@applicant_page
def renew(request: HttpRequest, actor: User) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    serial = str(source.get("serial", "")).strip()[:80]
    years_text = str(source.get("years", "")).strip()[:4]
    error: CerthallError | None = None
    found: renewal.Lookup | None = None
    if serial:
        try:
            years = _int(years_text, "续期年限")
            if request.method == "POST":
                started = renewal.start(actor, serial, years)
                messages.success(request, f"续期申请 {started.number} 已提交。")
                return _to("detail", started.number)
            found = renewal.lookup(actor, serial, years)
        except CerthallError as refusal:
            error = refusal
    catalog = default_catalog()
    context = {
        "serial": serial,
        "years": years_text,
        "found": found,
        "years_choices": _years_choices(),
        "rule": catalog.online_renewal,
        "how": catalog.businesses[RuleBusiness.RENEW].channels[RuleChannel.ONLINE].how,
        "steps": catalog.businesses[RuleBusiness.RENEW].channels[RuleChannel.ONLINE].notes,
        "today": clock.today(),
    }
    return form_page(request, "hall/applicant/renew.html", context, error)
