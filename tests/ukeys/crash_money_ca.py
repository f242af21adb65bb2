"""The process the money and CA crash tests kill: ``python -m tests.ukeys.crash_money_ca
COMMAND`` against an instance home made by ``certhall setup --demo`` (``CERTHALL_HOME``).

* ``prepare-order``: an online 新办 of the demo enterprise, submitted, awaiting payment;
  the buyer pays it on the sandbox cashier (the sandbox's own trade record); prints the number;
* ``notify NUMBER``: the gateway's signed notification of that payment, handled as the notify
  URL handles it (``payments.notify.handle``);
* ``prepare-refund``: the demo enterprise's refund application to the demo programme, approved
  by both demo refund officers; prints its number;
* ``cli ARGS...``: a ``certhall`` command in this process (so a crash point can stop it);
* ``inspect NUMBER REFUND``: JSON of the application, its order, payments and sandbox trade,
  the refund application and its batches, and the newest CRL's serials.
"""

from __future__ import annotations

import json
import sys
from typing import Any

PHONE = "13800138000"


def _setup() -> None:
    import django

    django.setup()


def prepare_order() -> None:
    from certhall.accounts.models import Handler, User
    from certhall.hall import services
    from certhall.hall.models import Application
    from certhall.payments import sandbox
    from tests.hall.conftest import HANDLER_ID, online_draft

    applicant = User.objects.get(username="demo-applicant")
    handler, _ = Handler.objects.get_or_create(
        organization=applicant.organization,
        id_number=HANDLER_ID,
        defaults={"name": "李四", "id_kind": Handler.IdKind.RESIDENT_ID, "phone": PHONE},
    )
    draft = online_draft(applicant, handler)
    services.submit(applicant, draft.number)
    reference = Application.objects.get(pk=draft.pk).payment_reference
    sandbox.pay(applicant, reference, "alipay")  # the buyer's money is with the gateway
    print(json.dumps(draft.number))


def notify(number: str) -> None:
    from urllib.parse import urlencode

    from certhall.hall.models import Application
    from certhall.payments import notify as gateway_notify
    from certhall.payments import sandbox
    from certhall.payments.models import SandboxTrade

    reference = Application.objects.get(number=number).payment_reference
    trade = SandboxTrade.objects.get(out_trade_no=reference)
    body = urlencode(sandbox.notification(trade)).encode()
    print(gateway_notify.handle("alipay", body, source="127.0.0.1").answer)


def prepare_refund() -> None:
    from certhall.accounts.models import Organization, Role, User
    from certhall.certlogin.models import CertificateAccount
    from certhall.refunds import review, services
    from certhall.refunds.demo import DEMO, DEMO_ORG_USCC
    from certhall.refunds.services import BankAccount

    org = Organization.objects.get(uscc=DEMO_ORG_USCC)
    known = CertificateAccount.objects.filter(holder_key=org.uscc).first()
    if known is not None:
        holder = known.user
    else:  # as the demo enterprise's first certificate login makes it
        holder = User.objects.create(
            username="crash-certificate-holder", role=Role.APPLICANT, organization=org
        )
        CertificateAccount.objects.create(user=holder, organization=org, holder_key=org.uscc)
    account = BankAccount(org.name, "6222020200112233445", "中国工商银行深圳分行")
    application = services.apply_online(holder, DEMO, account, phone=PHONE)
    for officer in ("demo-refund-officer", "demo-refund-officer-2"):
        review.approve(User.objects.get(username=officer), application.number)
    print(json.dumps(application.number))


def cli(*args: str) -> None:
    from certhall.cli.main import main

    code = main(list(args))
    if code:
        raise SystemExit(code)


def inspect(number: str, refund: str) -> None:
    from cryptography import x509

    from certhall.ca.models import CRL, CertificateAuthority
    from certhall.hall.models import Application
    from certhall.payments.models import Order, Payment, SandboxTrade
    from certhall.refunds.models import PayoutItem, RefundApplication

    out: dict[str, Any] = {}
    if number != "-":
        application = Application.objects.get(number=number)
        reference = application.payment_reference
        trade = SandboxTrade.objects.get(out_trade_no=reference)
        out |= {
            "application": application.state,
            "order": Order.objects.get(reference=reference).status,
            "payments": Payment.objects.filter(order__reference=reference).count(),
            "trade_notified": trade.notified_at is not None,
        }
    if refund != "-":
        row = RefundApplication.objects.get(number=refund)
        items = PayoutItem.objects.filter(application=row)
        out |= {"refund": row.state, "batches": sorted({i.batch.number for i in items})}
    issuing = CertificateAuthority.objects.get(kind="issuing")
    newest = CRL.objects.filter(ca=issuing).order_by("-number").first()
    crl = x509.load_der_x509_crl(bytes(newest.der)) if newest else []
    out |= {
        "crl_number": newest.number if newest else None,
        "crl_serials": sorted(f"{entry.serial_number:x}" for entry in crl),
    }
    print(json.dumps(out))


def main(argv: list[str]) -> None:
    _setup()
    command, args = argv[0], argv[1:]
    if command == "prepare-order":
        prepare_order()
    elif command == "notify":
        notify(*args)
    elif command == "prepare-refund":
        prepare_refund()
    elif command == "cli":
        cli(*args)
    elif command == "inspect":
        inspect(*args)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
