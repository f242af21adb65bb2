"""The processes the crash tests of money and the CA start (and kill, with
``CERTHALL_CRASH_PAUSE`` set): ``python -m tests.support.crash_scenario COMMAND`` against an
instance home (``CERTHALL_HOME``, set up with ``certhall setup --demo``). What the ``certhall``
command does itself (``refund batch``, ``payments reconcile``, ``ca revoke`` ...) the tests run
as it is; this module does what only a web request or a gateway would, and looks.

Payments:

* ``pay-prepare N``: N online 新办 applications of the demo enterprise, submitted, their orders
  paid at the sandbox gateway's cashier (``sandbox.pay``: the trade recorded on the gateway's
  side, its notification not yet delivered); prints ``[{number, reference, amount, trade}]``;
* ``notify TRADE``: the gateway's notification of trade TRADE, as ``POST
  /payments/notify/<gateway>`` handles it; prints the outcome;
* ``refund NUMBER``: the clerk refunds application NUMBER (退款: application and order);
* ``pay-inspect NUMBER...``: JSON of each application, its order and its payments;
* ``refund-send [REFERENCE...]``: the jobs' online refunds through the gateway
  (``refunding.send_due``), or only those orders' (``refunding.send``, what the job does for
  each); prints how many were sent;
* ``refund-send-later``: the jobs' round once a call's lease is over (``CALL_LEASE`` from
  now: what a killed call leaves is asked again then);
* ``refund-hand REFERENCE`` / ``refund-stop REFERENCE`` / ``refund-retry REFERENCE``: the demo
  clerk records the order's refund by hand, stops its automatic refund, or asks again at once
  (立即重试); prints ``ok`` or the refusal's code;
* ``refund-failed REFERENCE``: the order as a refused call leaves it (one attempt, its error),
  for 立即重试;
* ``refund-sent-inspect REFERENCE``: JSON of the order's refund record and of the sandbox
  gateway's refunds of it;
* ``pay-also REFERENCE GATEWAY``: the demo enterprise pays the (still pending) order at a
  second cashier too (``sandbox.pay``); prints the trade;
* ``surplus-return REFERENCE`` / ``surplus-hand REFERENCE``: the demo clerk sends the order's
  多余到账 back through its gateway (原路退回) or records it sent back by hand; prints ``ok`` or
  the refusal's code;
* ``surplus-resume-later``: the jobs' round of lost 原路退回 calls once the lease is over;
  prints how many were recorded;
* ``surplus-inspect REFERENCE``: JSON of the order's 多余到账 rows and the sandbox gateway's
  refunds of their trades;
* ``events ACTION``: how many events of ACTION the audit chain holds (result ``ok``).

With ``CERTHALL_TEST_AUDIT_VERIFY`` set (``Home.json(..., audit=True)``), a command is followed
in the same process by :func:`verify_audit`: what ``certhall audit verify`` checks, without a
process of its own after each look.

Refund programme:

* ``refund-prepare``: the demo programme's two applications, entered at the counter (the demo
  enterprise's certificate lost, the other enterprise deregistered) and approved; prints their
  numbers;
* ``refund-release NUMBER USERNAME`` / ``refund-cancel NUMBER USERNAME``: the refund officer
  releases (复核放行) or cancels (撤销批次) payout batch NUMBER, as the console does; prints
  ``ok`` or the refusal's code;
* ``refund-inspect``: JSON of the programme's applications and payout batches (with their
  states and who released them).

CA:

* ``ca-inspect``: JSON of the issuing CA's CRLs (number, entries, serials), its CRL number, the
  registry and the stored OCSP answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from datetime import timedelta

PHONE = "13800138000"  # the demo handler's (and tests.hall's)


def _setup() -> None:
    import django

    django.setup()


def verify_audit() -> None:
    """With ``CERTHALL_TEST_AUDIT_VERIFY`` set: the whole audit chain checked by the function
    ``certhall audit verify`` runs (``certhall.audit.services.verify``, its checkpoints
    included); a break exits 1 naming its row, as that command does."""
    if not os.environ.get("CERTHALL_TEST_AUDIT_VERIFY"):
        return
    from certhall.audit.services import verify

    result = verify()
    if not result.ok:
        raise SystemExit(f"audit log broken at row {result.seq}: {result.problem}")


def pay_prepare(count: int) -> None:
    from certhall.accounts.models import Handler, User
    from certhall.hall import services
    from certhall.hall.models import Application
    from certhall.payments import sandbox
    from certhall.payments.models import Order
    from tests.hall.conftest import HANDLER_ID, online_draft

    applicant = User.objects.get(username="demo-applicant")
    handler, _ = Handler.objects.get_or_create(
        organization=applicant.organization,
        id_number=HANDLER_ID,
        defaults={"name": "李四", "id_kind": Handler.IdKind.RESIDENT_ID, "phone": PHONE},
    )
    prepared = []
    for _ in range(count):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        application = Application.objects.get(number=draft.number)
        order = Order.objects.get(reference=application.payment_reference)
        trade = sandbox.pay(applicant, order.reference, "alipay")
        prepared.append(
            {
                "number": draft.number,
                "reference": order.reference,
                "amount": str(order.amount),
                "trade": trade.pk,
            }
        )
    print(json.dumps(prepared))


def notify(trade_pk: str) -> None:
    from urllib.parse import urlencode

    from certhall.payments import notify as notify_module
    from certhall.payments import sandbox
    from certhall.payments.models import SandboxTrade

    trade = SandboxTrade.objects.get(pk=int(trade_pk))
    body = urlencode(sandbox.notification(trade)).encode("utf-8")
    print(notify_module.handle(trade.gateway, body, source="127.0.0.1").result)


def refund(number: str) -> None:
    from certhall.accounts.models import User
    from certhall.hall import payment

    payment.refund_application(User.objects.get(username="demo-clerk"), number, "申请撤回，退款")


def pay_inspect(*numbers: str) -> None:
    from certhall.hall.models import Application
    from certhall.payments.models import Order, Payment

    seen = {}
    for number in numbers:
        application = Application.objects.get(number=number)
        order = Order.objects.get(reference=application.payment_reference)
        seen[number] = {
            "state": application.state,
            "order": order.status,
            "payments": [
                [p.channel, str(p.amount), p.transaction_id]
                for p in Payment.objects.filter(order=order).order_by("pk")
            ],
        }
    print(json.dumps(seen))


def refund_send(*references: str) -> None:
    from certhall import clock
    from certhall.payments import refunding
    from certhall.payments.models import Order

    now = clock.now()
    if not references:
        print(refunding.send_due(now))
        return
    print(sum(refunding.send(Order.objects.get(reference=r), now) for r in references))


def refund_send_later() -> None:
    from certhall import clock
    from certhall.payments import refund_state, refunding

    print(refunding.send_due(clock.now() + refund_state.CALL_LEASE + timedelta(seconds=1)))


def refund_by_finance(what: str, reference: str) -> None:
    from certhall.accounts.models import User
    from certhall.payments import refunding, services

    clerk = User.objects.get(username="demo-clerk")
    calls = {
        "hand": lambda: services.record_refund_sent(clerk, reference, "HAND-1"),
        "stop": lambda: refunding.stop(clerk, reference, "改为人工退款"),
        "retry": lambda: refunding.retry_now(clerk, reference),
    }
    _say(calls[what])


def _say(call: Callable[[], object]) -> None:
    """``ok``, or the code of the refusal."""
    from certhall.errors import CerthallError

    try:
        call()
    except CerthallError as error:
        print(error.code)
        return
    print("ok")


def refund_failed(reference: str) -> None:
    from certhall.payments.models import Order

    Order.objects.filter(reference=reference).update(
        refund_attempts=1, refund_last_error="余额不足"
    )


def refund_sent_inspect(reference: str) -> None:
    from certhall.payments.models import Order, SandboxRefund

    order = Order.objects.get(reference=reference)
    print(
        json.dumps(
            {
                "status": order.status,
                "sent": order.refund_sent_at is not None,
                "sent_reference": order.refund_sent_reference,
                "sent_by": order.refund_sent_by.username if order.refund_sent_by else "",
                "attempts": order.refund_attempts,
                "gateway_refunds": [
                    [r.out_request_no, str(r.refund_amount), r.refund_id]
                    for r in SandboxRefund.objects.filter(trade__out_trade_no=reference)
                ],
            }
        )
    )


def pay_also(reference: str, gateway: str) -> None:
    from certhall.accounts.models import User
    from certhall.payments import sandbox

    applicant = User.objects.get(username="demo-applicant")
    print(sandbox.pay(applicant, reference, gateway).pk)


def surplus_by_finance(what: str, reference: str) -> None:
    from certhall.accounts.models import User
    from certhall.payments import surplus
    from certhall.payments.models import SurplusPayment

    clerk = User.objects.get(username="demo-clerk")
    (row,) = SurplusPayment.objects.filter(order__reference=reference)
    calls = {
        "return": lambda: surplus.send_back(clerk, row.pk),
        "hand": lambda: surplus.record_by_hand(clerk, row.pk, "HAND-1"),
    }
    _say(calls[what])


def surplus_resume_later() -> None:
    from certhall import clock
    from certhall.payments import refund_state, surplus

    print(surplus.resume_due(clock.now() + refund_state.CALL_LEASE + timedelta(seconds=1)))


def surplus_inspect(reference: str) -> None:
    from certhall.payments.models import SandboxRefund, SurplusPayment

    rows = SurplusPayment.objects.filter(order__reference=reference).order_by("pk")
    print(
        json.dumps(
            {
                "rows": [
                    {
                        "gateway": row.gateway,
                        "trade_no": row.trade_no,
                        "amount": str(row.amount),
                        "status": row.status,
                        "returned_reference": row.returned_reference,
                        "attempts": row.return_attempts,
                    }
                    for row in rows
                ],
                "gateway_refunds": [
                    [r.out_request_no, str(r.refund_amount), r.refund_id]
                    for r in SandboxRefund.objects.filter(
                        trade__trade_no__in=[row.trade_no for row in rows]
                    ).order_by("pk")
                ],
            }
        )
    )


def events(action: str) -> None:
    from certhall.audit.models import AuditEvent

    print(AuditEvent.objects.filter(action=action, result="ok").count())


def refund_prepare() -> None:
    from certhall.accounts.models import User
    from certhall.refunds import counter, review
    from certhall.refunds.demo import DEMO, DEMO_ORG_NAME, DEMO_ORG_USCC, GONE_NAME, GONE_USCC
    from certhall.refunds.services import BankAccount
    from tests.refunds.conftest import counter_code

    clerk = User.objects.get(username="demo-clerk")
    officers = [User.objects.get(username=f"demo-refund-officer{s}") for s in ("", "-2")]
    numbers = []
    # Both at the counter: the demo enterprise's certificate lost, the other one deregistered.
    for case, uscc, name in (
        ("lost", DEMO_ORG_USCC, DEMO_ORG_NAME),
        ("deregistered", GONE_USCC, GONE_NAME),
    ):
        needed = counter.required_items(case, False)
        entry = counter.OfflineEntry(
            uscc=uscc,
            enterprise_name=name,
            special_case=case,
            person_name="李四",
            id_kind="resident_id",
            id_number="440301199001011234",
            phone=PHONE,
            account=BankAccount("李四", "6222020200007654321", "测试银行深圳分行"),
            received=frozenset(needed),
            signed=frozenset(needed),
            code=counter_code(PHONE),  # the representative's phone proven at the desk
        )
        number = counter.enter_offline(clerk, DEMO, entry).number
        for officer in officers:
            if review.approve(officer, number).state == "approved":
                break
        numbers.append(number)
    print(json.dumps(numbers))


def refund_batch_step(what: str, number: str, username: str) -> None:
    from certhall.accounts.models import User
    from certhall.refunds import payout

    officer = User.objects.get(username=username)
    step = payout.release if what == "release" else payout.cancel
    _say(lambda: step(officer, number))


def refund_inspect() -> None:
    from certhall.refunds.demo import DEMO
    from certhall.refunds.models import PayoutBatch, RefundApplication

    print(
        json.dumps(
            {
                "applications": dict(
                    RefundApplication.objects.filter(programme__slug=DEMO).values_list(
                        "number", "state"
                    )
                ),
                "batches": [
                    {
                        "number": batch.number,
                        "state": batch.state,
                        "released_by": batch.released_by.username if batch.released_by else None,
                        "count": batch.count,
                        "total": str(batch.total),
                        "sha256": batch.sha256,
                        "items": [
                            [item.line, item.application.number, str(item.amount), item.result]
                            for item in batch.items.select_related("application").order_by("line")
                        ],
                    }
                    for batch in PayoutBatch.objects.filter(programme__slug=DEMO).order_by("pk")
                ],
            }
        )
    )


def ca_inspect() -> None:
    from cryptography import x509

    from certhall.ca.models import CRL, Certificate, OCSPResponse
    from certhall.ca.services import active_issuing_ca

    ca = active_issuing_ca()
    crls = []
    for crl in CRL.objects.filter(ca=ca).order_by("number"):
        der = bytes(crl.der)
        parsed = x509.load_der_x509_crl(der)
        crls.append(
            {
                "number": crl.number,
                "entries": crl.entries,
                "sha256": hashlib.sha256(der).hexdigest(),
                "serials": sorted(f"{r.serial_number:x}" for r in parsed),
            }
        )
    ca.refresh_from_db()
    print(
        json.dumps(
            {
                "crl_number": ca.crl_number,
                "crls": crls,
                # serials as the CRL's: hex of the number, no leading zeros
                "certificates": {
                    f"{int(serial, 16):x}": status
                    for serial, status in Certificate.objects.filter(ca=ca).values_list(
                        "serial", "status"
                    )
                },
                "ocsp": {
                    f"{int(serial, 16):x}": status
                    for serial, status in OCSPResponse.objects.filter(ca=ca).values_list(
                        "serial", "status"
                    )
                },
            }
        )
    )


if __name__ == "__main__":
    _setup()
    command, *args = sys.argv[1:]
    commands = {
        "pay-prepare": lambda: pay_prepare(int(args[0])),
        "notify": lambda: notify(*args),
        "refund": lambda: refund(*args),
        "pay-inspect": lambda: pay_inspect(*args),
        "refund-send": lambda: refund_send(*args),
        "refund-sent-inspect": lambda: refund_sent_inspect(*args),
        "refund-send-later": refund_send_later,
        "refund-hand": lambda: refund_by_finance("hand", *args),
        "refund-stop": lambda: refund_by_finance("stop", *args),
        "refund-retry": lambda: refund_by_finance("retry", *args),
        "refund-failed": lambda: refund_failed(*args),
        "pay-also": lambda: pay_also(*args),
        "surplus-return": lambda: surplus_by_finance("return", *args),
        "surplus-hand": lambda: surplus_by_finance("hand", *args),
        "surplus-resume-later": surplus_resume_later,
        "surplus-inspect": lambda: surplus_inspect(*args),
        "events": lambda: events(*args),
        "refund-prepare": refund_prepare,
        "refund-release": lambda: refund_batch_step("release", *args),
        "refund-cancel": lambda: refund_batch_step("cancel", *args),
        "refund-inspect": refund_inspect,
        "ca-inspect": ca_inspect,
    }
    if command not in commands:
        raise SystemExit(f"unknown command {command}")
    commands[command]()
    verify_audit()
