"""JSON API of the refund programme (``/api/refunds/``): the same services the pages call.

Session-authenticated (``accounts.api.session``, CSRF on unsafe methods) except the programme
list and the offline progress query, which are public (the latter rate limited and opened by SMS
code, CSRF-checked by ``accounts.api.require_csrf``).
Errors are ``{"error", "message"}``, with ``fields`` when the refusal names inputs
(``certhall.api``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from certhall.accounts import codes
from certhall.accounts.api import require_csrf, session
from certhall.accounts.models import User
from certhall.errors import Forbidden
from certhall.hall.schemas import Out, one_of
from certhall.ratelimit import client_address
from certhall.refunds import counter, payout, progress, reports, review, services
from certhall.refunds.eligibility import REASONS
from certhall.refunds.models import Business, Channel, PayoutBatch, Programme, RefundApplication
from certhall.refunds.records import programme_summary
from certhall.refunds.services import BankAccount
from certhall.refunds.states import BatchState, State
from certhall.web.errors import raw_body, refusals

router = Router(tags=["refunds"])


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Forbidden(code="refund_no_organization")
    return user


class AccountIn(Schema):
    account_name: str
    account_number: str
    bank_name: str


class ApplyIn(AccountIn):
    phone: str


class CounterIn(Schema):
    uscc: str
    enterprise_name: str
    special_case: Literal["deregistered", "changed", "expired", "lost"]
    #: The legal representative's: may be left out for a partnership whose executive partner
    #: is an institution (its delegate's instead, counter.required_items).
    person_name: str = ""
    id_kind: Literal["resident_id", "hk_macau_permit", "taiwan_permit", "passport"] = "resident_id"
    id_number: str = ""
    phone: str
    account: AccountIn
    partnership: bool = False
    delegate_name: str = ""
    delegate_id_number: str = ""
    received: list[str] = []
    signed: list[str] = []
    #: The SMS code sent to ``phone`` (``POST .../counter-applications/phone-code``), read out
    #: by the person at the desk: the phone is proven before the application is stored.
    code: str = ""


class CounterPhoneIn(Schema):
    phone: str


class RefundReasonIn(Schema):
    reason: str


class ProgressCodeIn(Schema):
    number: str
    uscc: str


class ProgressOpenIn(ProgressCodeIn):
    code: str


StateCode = Annotated[str, one_of(State.values)]
#: a fee record's business, as the imports and the programmes name them
BusinessCode = Annotated[str, one_of(Business.values)]


class RefundStepOut(Out):
    at: str  # local time, ISO 8601
    label: str
    note: str


class RefundApplicationOut(Out):
    """What an enterprise is shown of its application (``progress.summary``): the programme's
    name, the channel's label, the account's bank and last four digits."""

    number: str
    programme: str
    enterprise_name: str
    uscc: str
    channel: str
    state: StateCode
    state_label: str
    amount_yuan: str
    note: str
    account: str
    history: list[RefundStepOut]


class RefundRowOut(Out):
    """A row of the list: the programme's slug and the channel's code."""

    number: str
    programme: str
    uscc: str
    enterprise_name: str
    channel: Annotated[str, one_of(Channel.values)]
    state: StateCode
    amount_yuan: str


class RefundCodeSentOut(Out):
    """The same whether or not a message was really sent (no oracle of a number's phone)."""

    sent: bool
    phone: str  # masked
    message: str


class RefundBatchOut(Out):
    """A payout batch: never its file (a second officer releases it, then downloads it)."""

    number: str
    state: Annotated[str, one_of(BatchState.values)]
    count: int
    total_yuan: str
    sha256: str
    created_by: str
    released_by: str | None


class RefundTallyOut(Out):
    label: str
    count: int
    amount_yuan: str


class RefundDashboardOut(Out):
    programme: str
    total: RefundTallyOut
    by_state: list[RefundTallyOut]
    by_ca: list[RefundTallyOut]
    by_day: list[RefundTallyOut]


class RefundCounterOut(Out):
    """Where a CA takes offline applications (``ProgrammeCA.counters``)."""

    name: str
    address: str
    hours: str


class RefundProgrammeCAOut(Out):
    slug: str
    name: str
    counters: list[RefundCounterOut]


class RefundProgrammeOut(Out):
    """A programme as ``records.programme_summary`` gives it (the CLI's ``programmes --json``):
    dates ISO 8601, the second review's threshold in yuan."""

    slug: str
    name: str
    apply_from: str
    apply_to: str
    business_from: str
    business_to: str
    businesses: list[BusinessCode]
    hotline: str
    second_review_above: str
    notice: int | None  # the portal notice announcing it (/notices/{id}/), or none
    cas: list[RefundProgrammeCAOut]


class RefundFeeLineOut(Out):
    """A fee record of the statement (``eligibility.Line.as_json``)."""

    serial: str
    ca: str
    ca_name: str
    business: BusinessCode
    paid_on: str
    amount_yuan: str


class RefundCountedLineOut(RefundFeeLineOut):
    first_use: str | None  # the certificate's first use on a platform in the window


class RefundExcludedLineOut(RefundFeeLineOut):
    reason: Annotated[str, one_of(list(REASONS))]
    reason_text: str


class RefundEligibilityOut(Out):
    """The explained amount (``eligibility.Eligibility.as_json``, the CLI's ``eligibility
    --json``): every fee record, counted or excluded with its reason."""

    programme: str
    uscc: str
    eligible: bool
    amount_yuan: str
    amount_grouped: str
    counted: list[RefundCountedLineOut]
    excluded: list[RefundExcludedLineOut]


class RefundLineRefusalOut(Out):
    """A refused line of a file (``imports.Refusal``): its number, reason code and words."""

    line: int
    reason: str
    message: str


class RefundSettlementOut(Out):
    """A bank return's report (``payout.SettleReport``): with a refused line nothing is
    counted (the file is applied whole or not at all)."""

    sha256: str
    paid: int
    failed: int
    unchanged: int
    refused: int
    refusals: list[RefundLineRefusalOut]


def _out(application: RefundApplication) -> dict[str, Any]:
    return progress.summary(application)


@router.get("/programmes", response=list[RefundProgrammeOut])
def list_programmes(request: HttpRequest) -> list[dict[str, Any]]:
    return [programme_summary(p) for p in Programme.objects.order_by("-apply_to", "slug")]


@router.get("/programmes/{slug}/eligibility", response=RefundEligibilityOut, auth=session)
def eligibility(request: HttpRequest, slug: str, uscc: str | None = None) -> dict[str, Any]:
    """The explained amount: an enterprise's own (``uscc`` optional), any for officers and the
    counters of participating CAs."""
    actor = _actor(request)
    code = uscc or (actor.organization.uscc if actor.organization else "")
    return services.eligibility_for(actor, slug, code).as_json()


@router.post("/programmes/{slug}/applications", response={201: RefundApplicationOut}, auth=session)
def apply(request: HttpRequest, slug: str, body: ApplyIn) -> Status[dict[str, Any]]:
    account = BankAccount(body.account_name, body.account_number, body.bank_name)
    application = services.apply_online(_actor(request), slug, account, phone=body.phone)
    return Status(201, _out(application))


@router.post(
    "/programmes/{slug}/counter-applications", response={201: RefundApplicationOut}, auth=session
)
def counter_apply(request: HttpRequest, slug: str, body: CounterIn) -> Status[dict[str, Any]]:
    data = body.dict()
    account = BankAccount(**data.pop("account"))
    entry = counter.OfflineEntry(
        **{k: v for k, v in data.items() if k not in ("received", "signed")},
        account=account,
        received=frozenset(body.received),
        signed=frozenset(body.signed),
    )
    return Status(201, _out(counter.enter_offline(_actor(request), slug, entry)))


def _code_sent(sent: codes.CodeSent) -> dict[str, Any]:
    return {"sent": True, "phone": sent.phone_masked, "message": sent.message}


@router.post(
    "/programmes/{slug}/counter-applications/phone-code",
    response=RefundCodeSentOut,
    auth=session,
    summary="Send the SMS code that proves a counter application's phone",
    openapi_extra=refusals(429),
)
def counter_phone_code(request: HttpRequest, slug: str, body: CounterPhoneIn) -> dict[str, Any]:
    sent = counter.request_phone_code(
        _actor(request), slug, body.phone, client=client_address(request)
    )
    return _code_sent(sent)


@router.get("/applications", response=list[RefundRowOut], auth=session)
def list_applications(
    request: HttpRequest, programme: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    rows = services.list_applications(_actor(request), programme, state)
    return [
        {
            "number": a.number,
            "programme": a.programme.slug,
            "uscc": a.uscc,
            "enterprise_name": a.enterprise_name,
            "channel": a.channel,
            "state": a.state,
            "amount_yuan": str(a.amount),
        }
        for a in rows
    ]


@router.get("/applications/{number}", response=RefundApplicationOut, auth=session)
def get_application(request: HttpRequest, number: str) -> dict[str, Any]:
    return _out(services.get_application(_actor(request), number))


@router.post("/applications/{number}/approve", response=RefundApplicationOut, auth=session)
def approve(request: HttpRequest, number: str) -> dict[str, Any]:
    return _out(review.approve(_actor(request), number))


@router.post("/applications/{number}/reject", response=RefundApplicationOut, auth=session)
def reject(request: HttpRequest, number: str, body: RefundReasonIn) -> dict[str, Any]:
    return _out(review.reject(_actor(request), number, body.reason))


@router.post("/applications/{number}/ask-more", response=RefundApplicationOut, auth=session)
def ask_more(request: HttpRequest, number: str, body: RefundReasonIn) -> dict[str, Any]:
    return _out(review.ask_more(_actor(request), number, body.reason))


@router.post("/applications/{number}/supply", response=RefundApplicationOut, auth=session)
def supply(request: HttpRequest, number: str, body: RefundReasonIn) -> dict[str, Any]:
    return _out(services.supply(_actor(request), number, body.reason))


@router.post("/applications/{number}/account", response=RefundApplicationOut, auth=session)
def correct_account(request: HttpRequest, number: str, body: AccountIn) -> dict[str, Any]:
    account = BankAccount(body.account_name, body.account_number, body.bank_name)
    return _out(review.correct_account(_actor(request), number, account))


def _batch_out(batch: PayoutBatch) -> dict[str, Any]:
    return {
        "number": batch.number,
        "state": batch.state,
        "count": batch.count,
        "total_yuan": str(batch.total),
        "sha256": batch.sha256,
        "created_by": batch.created_by.username,
        "released_by": batch.released_by.username if batch.released_by else None,
    }


@router.post("/programmes/{slug}/batches", response={201: RefundBatchOut}, auth=session)
def create_batch(request: HttpRequest, slug: str) -> Status[dict[str, Any]]:
    """Made pending release: the file is not in the answer (a second officer releases it)."""
    return Status(201, _batch_out(payout.create_batch(_actor(request), slug)))


@router.post("/batches/{number}/release", response=RefundBatchOut, auth=session)
def release_batch(request: HttpRequest, number: str) -> dict[str, Any]:
    return _batch_out(payout.release(_actor(request), number))


@router.post("/batches/{number}/cancel", response=RefundBatchOut, auth=session)
def cancel_batch(request: HttpRequest, number: str) -> dict[str, Any]:
    return _batch_out(payout.cancel(_actor(request), number))


@router.get("/batches/{number}/file", auth=session)
def batch_file(request: HttpRequest, number: str) -> HttpResponse:
    """A released batch's transfer file (audited as a download)."""
    batch = payout.batch_file(_actor(request), number)
    return HttpResponse(batch.content.encode("utf-8"), content_type="text/csv; charset=utf-8")


#: The settlement's request body in the OpenAPI document: the route reads the raw body (not a
#: schema ninja would parse), so it is described here; a request of another Content-Type is
#: refused with 415 (``web.errors.raw_body``; since 12-07, late: it was not checked).
SETTLEMENT_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "The bank's return file: CSV, UTF-8, a header line naming at least "
            f"{','.join(payout.RETURN_COLUMNS)} (optional bank_reference, message; more columns "
            "ignored), result paid or failed. Settled whole or not at all (docs/refunds.md). "
            "At most 2 MiB (413 request_too_large); the console's upload takes a larger file."
        ),
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": f"{','.join(payout.RETURN_COLUMNS)},bank_reference,message\n"
                "PB20261203-000001,1,FH20261203-000004,650.00,paid,B0001,\n",
            }
        },
    },
    **refusals(415),
}


@router.post(
    "/programmes/{slug}/settlements",
    response=RefundSettlementOut,
    auth=session,
    openapi_extra=SETTLEMENT_BODY,
)
def settle(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The bank's return file as the request body (``text/csv``: :data:`SETTLEMENT_BODY`;
    another Content-Type, or none, is refused with 415 before the file is read)."""
    body = raw_body(request, "text/csv")
    return payout.settle(_actor(request), slug, body).as_json()


@router.get("/programmes/{slug}/dashboard", response=RefundDashboardOut, auth=session)
def dashboard(request: HttpRequest, slug: str) -> dict[str, Any]:
    data = reports.dashboard(_actor(request), slug)

    def rows(items: list[reports.Row]) -> list[dict[str, Any]]:
        return [{"label": r.label, "count": r.count, "amount_yuan": str(r.amount)} for r in items]

    return {
        "programme": slug,
        "total": rows([data["total"]])[0],
        "by_state": rows(data["by_state"]),
        "by_ca": rows(data["by_ca"]),
        "by_day": rows(data["by_day"]),
    }


@router.post("/progress/code", response=RefundCodeSentOut, openapi_extra=refusals(429))
def progress_code(request: HttpRequest, body: ProgressCodeIn) -> dict[str, Any]:
    require_csrf(request)
    sent = progress.request_code(body.number, body.uscc, client=client_address(request))
    return _code_sent(sent)


@router.post("/progress", response=RefundApplicationOut, openapi_extra=refusals(429))
def progress_open(request: HttpRequest, body: ProgressOpenIn) -> dict[str, Any]:
    require_csrf(request)
    application = progress.open_progress(
        body.number, body.uscc, body.code, client=client_address(request)
    )
    return _out(application)
