"""网上营业厅: the online 新办 wizard: 证书信息 (project, type, term, holder) → 经办人 → 领取方式 →
上传资料 → 确认提交 → 支付 (the payments sandbox cashier) → the progress page."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from certhall import money
from certhall.accounts import profile
from certhall.accounts.models import Handler, User
from certhall.audit import services as audit
from certhall.errors import CerthallError, InvalidInput
from certhall.hall import access, documents, realname, services, storage
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application, ApplicationItem, Delivery, Document
from certhall.hall.states import State
from certhall.hall.web.applicant_base import (
    HANDLER_FIELDS,
    STEPS,
    applicant_page,
    draft_of,
    form_links,
    point_name,
    row,
    to,
    wizard_step,
    years_choices,
)
from certhall.messages import text
from certhall.rules import Business as RuleBusiness
from certhall.rules import Channel as RuleChannel
from certhall.rules import default_catalog
from certhall.web.errors import attempt, form_page, int_field, text_field, typed

ViewFunc = Callable[..., HttpResponse]

# --- online 新办 ------------------------------------------------------------------------------


def start_online_new(actor: User, request: ItemRequest, token: str = "") -> Application:
    """A draft with its 新办 line, or nothing: the draft and the line commit together (the
    rules refuse an ODC or a 6-year term before any draft exists). The same two services as
    ``POST /api/hall/applications`` + ``POST …/items``; like ``renewal.start``. ``token``: the
    form's, recorded on the draft (IntegrityError when this applicant's draft has it already:
    the same form posted at the same time)."""
    with (
        audit.refusals_recorded(actor, "hall.application.start", object_type="application"),
        transaction.atomic(),
    ):
        draft = services.create_draft(actor)
        services.add_item(actor, draft.number, request)
        if token:
            draft.form_token = token
            draft.save(update_fields=["form_token"])
        return draft


def change_online_new(actor: User, number: str, request: ItemRequest) -> Application:
    """证书信息 of a draft changed: its 新办 line replaced by the one now chosen, in one
    transaction (nothing changes when the rules refuse the new choice); the same line again
    changes nothing. Going back to the first step edits the draft it made, never a second.
    The draft is locked before its lines are read: two tabs posting at once changed the same
    line, and the later one's removal found it gone (a 404 page, 12-06)."""
    with access.locked(actor, number, "hall.item.change", editor=True) as draft:
        lines = [line for line in draft.items.all() if line.business == RuleBusiness.NEW.value]
        if any(_same_line(line, request) for line in lines):
            return draft
        for line in lines:
            services.remove_item(actor, number, line.pk)
        services.add_item(actor, number, request)
        return services.get_application(actor, number)


def _same_line(line: ApplicationItem, request: ItemRequest) -> bool:
    return (line.cert_type, line.years, line.person_name, line.person_id_number) == (
        request.cert_type,
        request.years,
        request.person_name,
        request.person_id_number,
    )


#: The session's record of the last draft the 证书新办 page made: /hall/new/ opened again while
#: it is still a draft opens its 证书信息 (the browser's back from 经办人). Which draft a form
#: made is recorded on the draft (``Application.form_token``), not in the session: a double tap
#: sends the form twice at once, and the second request reads the session before the first
#: has written it (12-06: two drafts, the first one's number forgotten).
LAST_DRAFT = "hall.new.last"


def _open_draft(actor: User, number: object) -> Application | None:
    """The draft ``number`` while it is still a draft of this applicant, else None."""
    if not isinstance(number, str):
        return None
    try:
        application = services.get_application(actor, number)
    except CerthallError:
        return None
    return application if application.state == State.DRAFT else None


def _made_with(actor: User, token: str) -> Application | None:
    """The application this applicant's 证书新办 form ``token`` made, if any."""
    if not token:
        return None
    return Application.objects.filter(entered_by=actor, form_token=token).first()


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
        "years_choices": years_choices(),
        "project": Application.Project.SZ_MEDICAL_INSURANCE,
        "notes": list(new.channels[RuleChannel.ONLINE].steps),
        "processing": catalog.processing[RuleChannel.ONLINE].text,
        "steps": steps_of("details"),
    }


#: The 证书信息 form's fields, named as a refusal names them; each at most 64 characters.
NEW_FIELDS = {
    "project": "办理项目",
    "cert_type": "证书类型",
    "years": "证书年限",
    "person_name": "姓名",
    "person_id_number": "居民身份证号码",
}
#: The 经办人 form's fields (``HANDLER_FIELDS``) as a refusal names them; at most 30 characters.
HANDLER_NAMES = {
    "name": "姓名",
    "id_kind": "证件类型",
    "id_number": "证件号码",
    "phone": "手机号码",
}
#: The 领取方式 form's fields as a refusal names them; at most 200 characters.
DELIVERY_FIELDS = {
    "delivery": "领取方式",
    "recipient_name": "收件人",
    "recipient_phone": "收件人手机",
    "address": "收件地址",
    "pickup_point": "自取受理点",
}


def _texts(data: QueryDict, names: dict[str, str], limit: int) -> dict[str, str]:
    """The form's fields, each refused past ``limit`` naming the field (never cut)."""
    return {name: text_field(data, name, limit, what=what) for name, what in names.items()}


def _new_request(data: QueryDict) -> ItemRequest:
    form = _texts(data, NEW_FIELDS, 64)
    if form["project"] != Application.Project.SZ_MEDICAL_INSURANCE:
        raise InvalidInput(code="project")
    return ItemRequest(
        business="new",
        cert_type=form["cert_type"] or None,
        years=int_field(form, "years", "证书年限"),
        person_name=form["person_name"],
        person_id_number=form["person_id_number"],
    )


@require_http_methods(["GET", "POST"])
@applicant_page
def new_application(request: HttpRequest, actor: User) -> HttpResponse:
    """证书新办's first step. Its form carries a token: posted again (a double tap, the page the
    browser showed again on 返回), it changes the draft it made instead of making another. Opened
    again while the draft this page made last is still a draft (the browser's back from 经办人
    reloads it), it opens that draft's 证书信息; ``?another=1`` (the link there) starts another."""
    if request.method == "GET" and not request.GET.get("another"):
        last = _open_draft(actor, request.session.get(LAST_DRAFT))
        if last is not None:
            messages.info(request, text("notice_new_draft_open", number=last.number))
            return to("details", last.number)
    form = typed(request.POST, NEW_FIELDS, 64) if request.POST else {}
    form.setdefault("cert_type", "personal")
    form.setdefault("years", "1")
    token = text_field(request.POST, "form_token", 64) if request.POST else ""
    error: CerthallError | None = None
    draft: Application | None = None
    if request.method == "POST":
        made = _made_with(actor, token)
        if made is not None and made.state == State.CANCELLED:
            made, token = None, ""  # its draft was cancelled: this form makes another
        if made is None:
            try:
                draft, error = attempt(
                    lambda: start_online_new(actor, _new_request(request.POST), token)
                )
            except IntegrityError:  # the same form's other request made the draft meanwhile
                made = _made_with(actor, token)
            else:
                if draft is not None:
                    messages.success(request, text("done_draft_created", number=draft.number))
        if made is not None and made.state != State.DRAFT:
            return to("details", made.number)  # it says why it cannot be changed any more
        if made is not None:
            number = made.number
            draft, error = attempt(
                lambda: change_online_new(actor, number, _new_request(request.POST))
            )
        if draft is not None:
            request.session[LAST_DRAFT] = draft.number
            return to("handler", draft.number)
    context = _new_context(form)
    context["form_token"] = token or secrets.token_urlsafe(16)
    context["action"] = reverse("hall-applicant:new")
    return form_page(request, "hall/applicant/new.html", context, error)


@require_http_methods(["GET", "POST"])
@wizard_step
def details_step(request: HttpRequest, actor: User, application: Application) -> HttpResponse:
    """证书信息 of a draft (the wizard's first step, reached back from 经办人 or from
    /hall/new/): the same form as 证书新办, changing the draft's 新办 line."""
    number = application.number
    if application.state != State.DRAFT:  # returned: the lines are frozen after submission
        return to("documents", number)
    error: CerthallError | None = None
    if request.method == "POST":
        form = typed(request.POST, NEW_FIELDS, 64)
        changed, error = attempt(
            lambda: change_online_new(actor, number, _new_request(request.POST))
        )
        if changed is not None:
            return to("handler", number)
    else:
        line = next(
            (i for i in application.items.all() if i.business == RuleBusiness.NEW.value), None
        )
        form = {
            "project": application.project,
            "cert_type": line.cert_type if line else "personal",
            "years": str(line.years or 1) if line else "1",
            "person_name": line.person_name if line else "",
            "person_id_number": line.person_id_number if line else "",
        }
    context = _new_context(form)
    context.update(
        application=application,
        steps=steps_of("details", application),
        action=reverse("hall-applicant:details", args=[number]),
        another=reverse("hall-applicant:new") + "?another=1",
    )
    return form_page(request, "hall/applicant/new.html", context, error)


def steps_of(current: str, application: Application | None = None) -> list[dict[str, Any]]:
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
        "row": row(application),
        "steps": steps_of(step, application),
        **extra,
    }


def _choose_handler(actor: User, number: str, data: QueryDict) -> None:
    """The handler chosen, or added and chosen (each service commits, and audits its refusals,
    in its own transaction)."""
    if data.get("action") == "add":
        added = profile.add_handler(actor, None, **_texts(data, HANDLER_NAMES, 30))
        handler_id: int | None = added.pk
    else:
        handler_id = int_field(data, "handler_id", "经办人")
        if handler_id is None:
            raise InvalidInput(code="handler_missing", variant="choose").naming("handler_id")
    services.update_details(actor, number, services.Details(handler_id=handler_id))


@require_http_methods(["GET", "POST"])
@wizard_step
def handler_step(request: HttpRequest, actor: User, application: Application) -> HttpResponse:
    number = application.number
    form = typed(request.POST, HANDLER_FIELDS, 30) if request.POST else {}
    error: CerthallError | None = None
    if request.method == "POST":
        _, error = attempt(lambda: _choose_handler(actor, number, request.POST))
        if error is None:
            return to("delivery", application.number)
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


def _deliver(actor: User, number: str, data: QueryDict) -> None:
    form = _texts(data, DELIVERY_FIELDS, 200)
    if form["delivery"] == Delivery.MAIL:
        details = services.Details(
            delivery=Delivery.MAIL,
            recipient_name=form["recipient_name"],
            recipient_phone=form["recipient_phone"],
            address=form["address"],
        )
    else:
        details = services.Details(delivery=form["delivery"], pickup_point=form["pickup_point"])
    application = services.update_details(actor, number, details)
    # Kept as typed, but the step is not done until the choice is complete: the customer
    # learns it here, not at 确认提交 four steps later.
    if application.mail_address_missing:
        mail = ("recipient_name", "recipient_phone", "address")
        missing = [name for name in mail if not getattr(application, name)]
        raise InvalidInput(code="address_missing").naming(*missing)
    if application.pickup_point_missing:
        raise InvalidInput(code="pickup_point_missing").naming("pickup_point")


@require_http_methods(["GET", "POST"])
@wizard_step
def delivery_step(request: HttpRequest, actor: User, application: Application) -> HttpResponse:
    number = application.number
    error: CerthallError | None = None
    if request.method == "POST":
        form = typed(request.POST, DELIVERY_FIELDS, 200)
        _, error = attempt(lambda: _deliver(actor, number, request.POST))
        if error is None:
            return to("documents", application.number)
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


def _documents_context(application: Application, *, with_identity: bool = True) -> dict[str, Any]:
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
    # all of 注1-注3, numbered as the seed does (注2 names 现场办理 itself)
    notes = [text for text, _channels in catalog.document_notes]
    return {
        "rows": rows,
        "notes": notes,
        "limit_mb": storage.MAX_BYTES // (1024 * 1024),
        # a photo over them is made smaller on the page before upload (web/file-pick.js)
        "limit_bytes": storage.MAX_BYTES,
        "limit_pixels": storage.MAX_PIXELS,
        "limit_side": storage.MAX_SIDE,
        "missing": documents.missing(application, lines, with_identity=with_identity),
        "forms": form_links(application),
        "identity_needed": realname.needed(application, lines),
    }


def _upload(actor: User, number: str, request: HttpRequest) -> Document:
    kind = text_field(request.POST, "kind", 32, what="资料类型")
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput(code="file_missing").naming("file")
    return documents.upload(
        actor, number, kind, filename=upload.name or "", chunks=upload.chunks(64 * 1024)
    )


@require_http_methods(["GET", "POST"])
@wizard_step
def documents_step(request: HttpRequest, actor: User, application: Application) -> HttpResponse:
    number = application.number
    error: CerthallError | None = None
    if request.method == "POST":
        document, error = attempt(lambda: _upload(actor, number, request))
        if document is not None:
            name = documents.document_name(document.kind)
            messages.success(request, text("done_document_uploaded", name=name))
            return to("documents", application.number)
        application = draft_of(actor, number)
    # the real-name check is the next step, not something missing here
    context = _wizard(
        application, "documents", **_documents_context(application, with_identity=False)
    )
    if error is not None:  # beside the row whose upload it refused (web.refused marks its file)
        posted = str(request.POST.get("kind", ""))
        if any(row["kind"] == posted for row in context["rows"]):
            context["refused_kind"] = posted
    return form_page(request, "hall/applicant/documents.html", context, error)


@require_http_methods(["GET", "POST"])
@wizard_step
def confirm_step(request: HttpRequest, actor: User, application: Application) -> HttpResponse:
    number = application.number
    error: CerthallError | None = None
    if request.method == "POST":
        submitted, error = attempt(lambda: services.submit(actor, number))
        if submitted is None:
            application = draft_of(actor, number)
        else:
            if submitted.state == State.AWAITING_PAYMENT:
                total = money.grouped(submitted.total)
                messages.success(request, text("done_submitted_pay", total=total))
            else:
                messages.success(request, text("done_submitted_review"))
            return to("detail", submitted.number)
    context = _wizard(
        application,
        "confirm",
        holder_ids={
            i.pk: profile.mask_id_number(i.person_id_number) for i in application.items.all()
        },
        handler_id_masked=profile.mask_id_number(application.handler.id_number)
        if application.handler
        else "",
        pickup_name=point_name(application.pickup_point),
        **_documents_context(application),
    )
    return form_page(request, "hall/applicant/confirm.html", context, error)
