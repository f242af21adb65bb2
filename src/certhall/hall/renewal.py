"""网厅续期: online renewal through the hall, on the customer's own Ukey by the certificate helper.

Seed: "点击“续期” → ... 输入证书序列号 → 根据提示填写续期信息,并提交申请 → 在线使用支付宝、微信进行
缴费 → 付款成功后即可在线更新证书". So:

1. :func:`lookup`: the serial typed by the customer; the certificate must be the organisation's
   own; the rules answer the window and the fee (``certhall.rules``, via ``quote``);
2. :func:`start`: one application with one 续期 line, submitted at once (no documents: the
   renewal request is signed by the certificate's own key); with a fee it awaits payment;
3. payment (``certhall.payments``): the paid signal approves it automatically (no review);
4. :func:`ticket`: what the helper needs (old serial, term, payment reference);
   :func:`request_renewal`: the helper's signed request goes to ``certhall.ca.renewal.renew``
   with the payment reference; the application is ``issued`` with the new certificate;
5. :func:`confirm_installed`: the helper wrote it to the Ukey; the old certificate is revoked
   (``ca.renewal.confirm_installed``) and the application is ``delivered``.

A Ukey lost or damaged between 4 and 5 never gets there: the counter's 介质补办 of the new
certificate (the old one is busy in this application) revokes both, closes the renewal
(``ca.renewal.close_on_replacement``) and, through :func:`on_renewal_closed` in the same
transaction, ends the application ``issued -> delivered`` with what happened in its history;
the replacement certificate keeps the renewed end date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from certhall import clock, config, crashpoints
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.ca import registry
from certhall.ca import renewal as ca_renewal
from certhall.ca.models import Certificate
from certhall.certlogin.models import Renewal
from certhall.errors import CerthallError, Conflict, InvalidInput, about
from certhall.hall import access, notices, payment, services, workflow
from certhall.hall.items import ItemRequest, open_lines
from certhall.hall.models import Application, ApplicationItem, Business, Channel
from certhall.hall.states import APPLICATIONS, State
from certhall.lifecycle import transition
from certhall.messages import text
from certhall.payments.models import Order
from certhall.rules import CertType, Quote, default_catalog, local, quote
from certhall.ukeys import services as ukeys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lookup:
    certificate: Certificate
    quote: Quote
    #: An application already open for this certificate (pay or continue that one).
    open_application: str | None


@dataclass(frozen=True)
class Ticket:
    number: str
    old_serial: str
    years: int
    payment_reference: str
    fee_yuan: str
    origin: str
    state: str


def _own_certificate(actor: User, serial: str) -> Certificate:
    require_role(actor, Role.APPLICANT)
    with about("serial"):  # the 续期 form's field (web.refused)
        cert = registry.get_certificate(serial)
        if not cert.belongs_to(actor.organization) or cert.ca.provider_id != home_provider().pk:
            raise registry.unknown(serial)  # as for a serial that does not exist: no oracle
    return cert


def certificate_type(actor: User, serial: str) -> str:
    """The type (profile) of the applicant's own certificate ``serial``: which terms and fees
    the renewal page offers (another organisation's is answered as unknown, as by ``lookup``)."""
    return _own_certificate(actor, serial).profile


def _renewal_quote(cert: Certificate, years: int | None) -> Quote:
    """The rules' answer to renewing ``cert`` online for ``years`` now.

    Whether the term is offered is the quote's one check (its ``term`` refusal, which words it
    with the fee rule alone; a term below 1 it calls malformed, ``term_invalid``): a term not
    offered (a mangled link's years=9 or 0) is refused here naming the terms that are."""
    with about("years"):  # the 续期 form's field (web.refused)
        try:
            answer = quote(
                "renew",
                cert.profile,
                years=years,
                channel="online",
                at=clock.now(),
                cert_expiry=cert.not_after,
            )
        except InvalidInput as refused:
            if refused.code == "term_invalid" and type(years) is int:
                raise _not_offered(CertType(cert.profile), years) from None
            raise
        if answer.years is not None and any(r.rule == "term" for r in answer.refusals):
            raise _not_offered(answer.cert_type, answer.years)
    return answer


def _not_offered(cert_type: CertType, years: int) -> InvalidInput:
    spec = default_catalog().cert_types[cert_type]
    return InvalidInput(
        code="renewal_term_not_offered",
        variant="single" if spec.min_years == spec.max_years else None,
        years=years,
        cert_name=spec.name,
        min_years=spec.min_years,
        max_years=spec.max_years,
    )


def lookup(actor: User, serial: str, years: int | None = None) -> Lookup:
    """What renewing ``serial`` online would cost and whether the rules allow it now."""
    cert = _own_certificate(actor, serial)
    answer = _renewal_quote(cert, years)
    busy = open_lines([cert]).select_related("application").first()
    return Lookup(cert, answer, busy.application.number if busy else None)


def start(actor: User, serial: str, years: int | None = None) -> Application:
    """Create and submit the renewal application (an order when there is a fee)."""
    with audit.refusals_recorded(
        actor, "hall.renewal.start", object_type="certificate", object_id=serial
    ):
        require_role(actor, Role.APPLICANT)  # inside: a refusal on role is audited too
        _renewal_quote(_own_certificate(actor, serial), years)  # a term not offered, in words
        with transaction.atomic():
            draft = services.create_draft(actor)
            services.add_item(
                actor, draft.number, ItemRequest(business="renew", serial=serial, years=years)
            )
            return services.submit(actor, draft.number)


def _renewal_line(actor: User, number: str) -> tuple[Application, ApplicationItem]:
    application = access.load(actor, number)
    access.require_editor(actor, application)
    line = application.items.select_related("target_certificate", "result_certificate").first()
    if line is None or not line.is_online_renewal or line.target_certificate is None:
        raise Conflict(code="not_renewal", number=application.number)
    return application, line


def ticket(actor: User, number: str) -> Ticket:
    """What the certificate helper needs to renew: the old serial, the term, the payment."""
    application, line = _renewal_line(actor, number)
    assert line.target_certificate is not None  # noqa: S101 - checked by _renewal_line
    return Ticket(
        number=application.number,
        old_serial=line.target_certificate.serial,
        years=line.years or 1,
        payment_reference=application.payment_reference,
        fee_yuan=str(line.fee),
        origin=config.get().base_url,
        state=application.state,
    )


def request_renewal(
    actor: User, number: str, *, csr: bytes, signature: bytes, origin: str
) -> Renewal:
    """The helper's signed request: the new certificate is issued (``ca.renewal.renew``, with
    the payment reference) and the application becomes ``issued``. A retry with the same new
    key gives the same certificate."""
    with audit.refusals_recorded(
        actor, "hall.renewal.request", object_type="application", object_id=number
    ):
        application, line = _renewal_line(actor, number)
        assert line.target_certificate is not None  # noqa: S101 - checked by _renewal_line
        request = ca_renewal.RenewalRequest(
            old_serial=line.target_certificate.serial,
            csr=csr,
            years=line.years or 1,
            signature=signature,
            origin=origin,
            payment_ref=application.payment_reference,
        )
        if application.state in (State.ISSUED, State.DELIVERED):
            return ca_renewal.renew(actor, request)  # a retry: the same renewal back
        if application.state == State.AWAITING_PAYMENT:
            raise Conflict(code="payment_required", variant="renewal")
        if application.state != State.APPROVED:
            raise Conflict(
                code="application_state",
                variant="renewal",
                number=application.number,
                state=application.get_state_display(),
            )
        with workflow.issuing(
            actor, number, "renewal.issuing", "history_issue_failed.renewal"
        ) as application:
            renewal = ca_renewal.renew(actor, request)
        with transaction.atomic():
            application = access.load(actor, number, lock=True)
            ApplicationItem.objects.filter(pk=line.pk).update(
                result_certificate=renewal.new_certificate, done_at=clock.now()
            )
            serial = renewal.new_certificate.serial if renewal.new_certificate else None
            workflow.issued(actor, application, [serial], clock.now(), renewal=renewal.pk)
            # A Ukey's 介质补办 may have closed the renewal since it was issued: then it ends.
            end_if_replaced(actor, application)
    return renewal


def confirm_installed(actor: User, number: str) -> Application:
    """The helper wrote the new certificate to the Ukey: the old one is revoked and the
    application is delivered. Idempotent."""
    with audit.refusals_recorded(
        actor, "hall.renewal.install", object_type="application", object_id=number
    ):
        application, line = _renewal_line(actor, number)
        if application.state == State.DELIVERED:
            return application
        if application.state != State.ISSUED or line.result_certificate is None:
            raise Conflict(code="renewal_not_issued")
        renewal = Renewal.objects.filter(
            old_certificate=line.target_certificate, new_certificate=line.result_certificate
        ).first()
        if renewal is None:
            raise InvalidInput(code="renewal_record_missing")
        ca_renewal.confirm_installed(actor, renewal.pk)
        crashpoints.reached("renewal.completed")
        with transaction.atomic():
            application = access.load(actor, number, lock=True)
            workflow.delivered(
                actor,
                application,
                text("history_renewal_installed"),
                delivered_at=clock.now(),
            )
    return application


@dataclass(frozen=True)
class Replaced:
    """An online renewal's new certificate revoked before the helper wrote it."""

    certificate: Certificate
    #: The 介质补办 line of that certificate (None: not entered at the counter yet).
    replacement: ApplicationItem | None


def replaced_renewal(line: ApplicationItem | None) -> Replaced | None:
    """What the renewal page says when the Ukey's 介质补办 ended the renewal: the renewed
    certificate (revoked with the Ukey) and the replacement carrying its term. None, without
    a query, while the renewed certificate is valid."""
    renewed = line.result_certificate if line is not None else None
    if line is None or not line.is_online_renewal or renewed is None:
        return None
    if renewed.status == Certificate.Status.VALID:
        return None
    replacement = (
        ApplicationItem.objects.filter(business=Business.REPLACE, target_certificate=renewed)
        .exclude(application__state__in=[State.CANCELLED, State.REFUNDED])
        .select_related("application", "result_certificate")
        .order_by("-pk")
        .first()
    )
    return Replaced(renewed, replacement)


def on_renewal_closed(sender: object, renewal: Renewal, actor: User, **_: Any) -> None:
    """``ca.renewal.renewal_closed``, inside the transaction of a Ukey's 介质补办: the online
    renewal application still waiting for the helper to write the new certificate is over
    (:func:`_end_replaced`). One the helper's request holds ``issuing`` is left to that request's
    last step, or to recovery if its process is gone: both end it the same way."""
    line = (
        ApplicationItem.objects.filter(
            target_certificate_id=renewal.old_certificate_id,
            business=Business.RENEW,
            application__state__in=[State.APPROVED, State.ISSUING, State.ISSUED],
        )
        .select_related("application")
        .first()
    )
    if line is None or not line.is_online_renewal:
        return
    application = Application.objects.select_for_update().get(pk=line.application_id)
    if application.state != State.ISSUING:
        _end_replaced(actor, application, line, renewal)


def end_if_replaced(actor: User, application: Application) -> None:
    """After the helper's request recorded the new certificate, or after recovery put back an
    application whose request's process was gone: if a Ukey's 介质补办 closed its renewal
    meanwhile (``replaced``), the application is over too (:func:`_end_replaced`). Inside the
    caller's transaction, the application locked."""
    line = application.items.filter(business=Business.RENEW).first()
    if line is None or not line.is_online_renewal:
        return
    renewal = (
        Renewal.objects.select_related("new_certificate")
        .filter(old_certificate_id=line.target_certificate_id, state=Renewal.State.REPLACED)
        .first()
    )
    if renewal is not None:
        _end_replaced(actor, application, line, renewal)


def _end_replaced(
    actor: User, application: Application, line: ApplicationItem, renewal: Renewal
) -> None:
    """The renewal's new certificate revoked with its Ukey by a 介质补办: the application is
    ``delivered``, its history saying why. One put back to ``approved`` after its renewal was
    issued (a failure or a crash before the application recorded it) records the new
    certificate first (``-> issuing -> issued``). Idempotent."""
    new = renewal.new_certificate
    if new is None or line.result_certificate_id not in (None, new.pk):
        return
    now = clock.now()
    if application.state == State.APPROVED:
        transition(
            actor, APPLICATIONS, application, State.ISSUING, action="hall.application.issuing"
        )
        ApplicationItem.objects.filter(pk=line.pk).update(result_certificate=new, done_at=now)
        workflow.issued(actor, application, [new.serial], now, renewal=renewal.pk)
    if application.state != State.ISSUED:
        return
    reason = text(
        "history_renewal_replaced",
        cause=ukeys.replacement_cause(new.revocation_reason),
        serial=new.serial,
        end=f"{local(new.not_after):%Y-%m-%d}",
    )
    workflow.delivered(actor, application, reason, delivered_at=now)


def out_of_reach(cert: Certificate, now: datetime) -> datetime | None:
    """Since when the helper can no longer renew ``cert`` online: its revocation (by the CA,
    ``ca.services.revoke``, or any path that did not close the renewal itself) or its end,
    whichever came first; None while it still can."""
    since = cert.not_after
    if cert.status == Certificate.Status.REVOKED and cert.revoked_at is not None:
        since = min(since, cert.revoked_at)
    return since if since <= now else None


#: Where an online renewal stands when the jobs' round closes it (:func:`close_ended`).
CLOSING_STATES = (State.AWAITING_PAYMENT, State.APPROVED)


def _revoked_first(cert: Certificate) -> bool:
    return cert.revoked_at is not None and cert.revoked_at < cert.not_after


#: The words of an online renewal closed by :func:`close_ended` (paid, free, unpaid), by
#: whether its certificate was revoked before it ended.
_CLOSED_REASONS = {
    False: ("history_renewal_ended_paid", "history_renewal_ended_free", "history_renewal_ended"),
    True: (
        "history_renewal_revoked_paid",
        "history_renewal_revoked_free",
        "history_renewal_revoked",
    ),
}


def ended_reason(application: Application, cert: Certificate) -> str:
    """Why an online renewal whose certificate ``cert`` ended, or was revoked, before the helper
    renewed it was closed, and what to do (its history, the refund's reason, the SMS and the
    page's notice): paid, refunded; free (an ODC), cancelled; unpaid, cancelled with its order.
    An ended one is renewed at the counter; a revoked one cannot be renewed at all (a new
    certificate is applied for: ``items.require_usable``)."""
    revoked = _revoked_first(cert)
    at = cert.revoked_at if revoked and cert.revoked_at is not None else cert.not_after
    end = f"{local(at):%Y-%m-%d %H:%M}"
    paid, free, unpaid = _CLOSED_REASONS[revoked]
    if application.paid_at is not None:
        return text(paid, serial=cert.serial, end=end, amount=f"{application.total:.2f}")
    if not application.total:
        return text(free, serial=cert.serial, end=end)
    return text(unpaid, serial=cert.serial, end=end if revoked else end[:10])


def _ended_line(line: ApplicationItem | None) -> Certificate | None:
    """The certificate of an online renewal's line when it has ended or was revoked
    (:func:`out_of_reach`) and the line has no result (the helper did not record a new one),
    else None."""
    cert = line.target_certificate if line is not None and line.is_online_renewal else None
    if line is None or cert is None or line.result_certificate_id is not None:
        return None
    return cert if out_of_reach(cert, clock.now()) is not None else None


def ended_waiting(application: Application, line: ApplicationItem | None) -> Certificate | None:
    """The ended or revoked certificate of an open online renewal the jobs' next round will
    close (:func:`close_ended`): awaiting payment or approved (paid or free), its certificate
    out of reach, no new one issued for it (one issued but not recorded is the helper's to
    finish). None otherwise. The one predicate of "it will close": the page's notice
    (:func:`ended_notice`), its progress line and state (``applicant_base.next_action``,
    ``applicant_base.row``) and the refusal to start paying it (:func:`require_payable`) all ask
    it, so no line, chip or button offers a step the notice says is over."""
    cert = _ended_line(line)
    if cert is None or application.state not in CLOSING_STATES:
        return None
    if Renewal.objects.filter(old_certificate=cert, new_certificate__isnull=False).exists():
        return None
    return cert


def _waiting_words(application: Application, cert: Certificate) -> tuple[str, dict[str, str]]:
    """The catalogue code and parameters of what an online renewal :func:`ended_waiting` says
    until the round closes it: unpaid, it can no longer be paid (the refusal's words too);
    paid, the money goes back; free, it is cancelled. Worded for a revocation or an end."""
    since = out_of_reach(cert, clock.now()) or cert.not_after
    revoked = _revoked_first(cert)
    if application.state == State.AWAITING_PAYMENT:
        code = "renewal_not_payable.revoked" if revoked else "renewal_not_payable"
    elif application.total:
        code = "renewal_revoked_waiting" if revoked else "renewal_ended_waiting"
    else:
        code = "renewal_revoked_waiting.free" if revoked else "renewal_ended_waiting.free"
    return code, {"serial": cert.serial, "end": f"{local(since):%Y-%m-%d %H:%M}"}


def require_payable(application: Application) -> None:
    """Refuse starting the payment of an online renewal whose certificate is out of reach
    (:func:`ended_waiting`): the round cancels it within a minute, and paid before that it
    would only be refunded (12-07). Asked before the customer is shown a way to pay or pays at
    the cashier (``payments.signals.payment_starting``), never when a gateway's payment
    arrives: money already taken is recorded as today (the round refunds it, or
    ``payments.surplus`` once the order is cancelled)."""
    if application.state != State.AWAITING_PAYMENT or not application.is_online_renewal:
        return
    cert = ended_waiting(application, application.items.first())
    if cert is not None:
        code, params = _waiting_words(application, cert)
        base, _, variant = code.partition(".")
        raise Conflict(code=base, variant=variant or None, **params)


def on_payment_starting(sender: object, order: Order, **_: Any) -> None:
    """``payments.signals.payment_starting``: an application's order is about to be paid."""
    if order.purpose != payment.PURPOSE:
        return
    application = Application.objects.filter(number=order.object_id).first()
    if application is not None:
        require_payable(application)


def ended_notice(application: Application, line: ApplicationItem | None) -> str | None:
    """What an online renewal's page says once its certificate ended or was revoked before the
    helper renewed it: that it will close and cannot be paid or updated (until the jobs' next
    round) or why it was closed (refunded or cancelled by :func:`close_ended`), and what to do
    instead. None otherwise (one whose new certificate was issued: the helper finishes it)."""
    cert = _ended_line(line)
    since = out_of_reach(cert, clock.now()) if cert is not None else None
    if cert is None or since is None:
        return None
    if application.state in CLOSING_STATES:
        if ended_waiting(application, line) is None:
            return None
        code, params = _waiting_words(application, cert)
        return text(code, **params)
    closed = application.closed_at
    if application.state not in (State.REFUNDED, State.CANCELLED) or closed is None:
        return None
    if closed >= since:  # closed by close_ended (or by a clerk after the end or revocation)
        return ended_reason(application, cert)
    return None


def _out_of_reach_lines(now: datetime) -> QuerySet[ApplicationItem]:
    """The 续期 lines of open online renewals whose certificate ended or was revoked by ``now``
    (:func:`out_of_reach`) and whose new certificate was not issued."""
    issued = Renewal.objects.filter(
        old_certificate_id=OuterRef("target_certificate_id"), new_certificate__isnull=False
    )
    gone = Q(target_certificate__not_after__lte=now) | Q(
        target_certificate__status=Certificate.Status.REVOKED,
        target_certificate__revoked_at__lte=now,
    )
    return (
        ApplicationItem.objects.filter(
            gone,
            application__state__in=CLOSING_STATES,
            application__channel=Channel.ONLINE,
            business=Business.RENEW,
            result_certificate__isnull=True,
        )
        .exclude(Exists(issued))
        .select_related("application", "target_certificate")
        .order_by("application_id")
    )


def close_ended(now: datetime | None = None) -> list[str]:
    """Close the online renewals whose certificate has ended, or was revoked, before the helper
    renewed it (the jobs, every round; the hall's system actor), saying why
    (:func:`ended_reason`) in their history and by SMS (``notices.renewal_ended``). Returns
    their numbers.

    The helper can no longer renew an ended or revoked certificate (``ca.renewal`` refuses
    it), and an open application holds the certificate (``certificate_busy``: the counter's
    续期 of it was refused too). A revocation by the CA (``ca.services.revoke``) closes none
    itself: the next round does (12-06, h1; docs/hall.md). So:

    * one still awaiting payment is cancelled with its order: a gateway's payment for it after
      that is 多余到账 and goes back (``payments.surplus``). Before (12-06), one started on New
      Year's Eve for a certificate ending on 元旦 and paid after the holiday was taken, approved
      by the hall and then refused at the helper;
    * one paid (``approved``, the helper's step not done) is refunded through the clerk's refund
      (``payment.refund_application``: the order refunded, the gateway's refund sent by the
      jobs' next step, ``payments.refunding``); a free one (an ODC) is cancelled. Before (12-06
      evening), paid on New Year's Eve at 23:50 for a certificate ending at 00:30, the helper
      refused it after the holiday and the money stayed held until a clerk noticed;
    * one whose new certificate was issued but not recorded (put back to ``approved`` by a
      failure or recovery) is left alone: the helper's retry records it even after the end, and
      ``payment.require_nothing_done`` would refuse its refund anyway. Checked again under the
      application's lock: issued while the round closed the lines before it, a free one was
      cancelled from the stale read (12-06, h9)."""
    now = now or clock.now()
    # Read again under the application's lock: the helper's request may have issued one (and a
    # failure put the application back to approved) since the query above was read.
    issued_renewal = Renewal.objects.filter(new_certificate__isnull=False)
    closed: list[str] = []
    actor = workflow.hall_system()
    for line in _out_of_reach_lines(now):
        cert = line.target_certificate
        assert cert is not None  # noqa: S101 - filtered on its end or revocation
        number, state = line.application.number, line.application.state
        refund = line.application.paid_at is not None
        action = "hall.application.refund" if refund else "hall.application.cancel"
        try:
            with (
                audit.refusals_recorded(actor, action, object_type="application", object_id=number),
                transaction.atomic(),
            ):
                application = (
                    Application.objects.select_for_update()
                    .filter(pk=line.application_id, state=state)
                    .first()
                )
                if application is None:  # paid, renewed or closed meanwhile (another round)
                    continue
                if issued_renewal.filter(old_certificate=cert).exists():
                    continue  # issued since the query, then put back: the helper's retry
                reason = ended_reason(application, cert)
                if refund:
                    application = payment.refund_application(actor, number, reason)
                else:
                    services.withdraw(actor, application, reason, now)
                notices.renewal_ended(actor, application, reason)
        except CerthallError as refused:  # recorded; the next round tries again
            log.warning("online renewal %s not closed: %s", number, refused.message)
            continue
        closed.append(number)
    return closed
