"""The one lifecycle engine, walked over every pair of every table of the platform.

For each state machine (applications, orders, Ukeys, renewals, SMS codes, refund
applications and payout batches ...) and each (current, target) pair: an allowed change is
made and, when the lifecycle audits, recorded in one audit event; a forbidden one is a
Conflict naming the object in Chinese, and nothing changes. Then the engine's own promises: a
stale read loses the race, and a change outside a transaction is refused.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import models, transaction

from certhall import clock
from certhall.accounts.models import Organization, SmsCode, User
from certhall.accounts.services import home_provider
from certhall.audit.models import AuditEvent
from certhall.ca.models import CertificateAuthority
from certhall.errors import Conflict
from certhall.lifecycle import LIFECYCLES, Lifecycle, LostRace, transition
from certhall.messages import CATALOGUE

pytestmark = pytest.mark.django_db

# Importing the modules registers their lifecycles.
from certhall.accounts import codes  # noqa: E402
from certhall.ca import renewal  # noqa: E402
from certhall.hall import identity, states  # noqa: E402
from certhall.payments import lifecycle as payments  # noqa: E402
from certhall.portal import states as portal  # noqa: E402
from certhall.refunds import states as refunds  # noqa: E402
from certhall.ukeys import lifecycle as ukeys  # noqa: E402
from certhall.ukeys import writes  # noqa: E402

KINDS = [
    "application",
    "order",
    "ukey",
    "renewal",
    "sms_code",
    "token_write",
    "refund_application",
    "refund_batch",
    "notice",
    "question",
    "invoice",
    "identity_check",
    "surplus_payment",
    "gateway_discrepancy",
]

Factory = Callable[[str], models.Model]


def test_every_lifecycle_of_the_platform_is_walked() -> None:
    assert set(LIFECYCLES) == set(KINDS)
    assert LIFECYCLES["application"] is states.APPLICATIONS
    assert LIFECYCLES["order"] is payments.ORDERS
    assert LIFECYCLES["ukey"] is ukeys.UKEYS
    assert LIFECYCLES["renewal"] is renewal.RENEWALS
    assert LIFECYCLES["sms_code"] is codes.CODES
    assert LIFECYCLES["token_write"] is writes.TOKEN_WRITES
    assert LIFECYCLES["refund_application"] is refunds.APPLICATIONS
    assert LIFECYCLES["refund_batch"] is refunds.BATCHES
    assert LIFECYCLES["notice"] is portal.NOTICES
    assert LIFECYCLES["question"] is portal.QUESTIONS
    assert LIFECYCLES["invoice"] is payments.INVOICES
    assert LIFECYCLES["identity_check"] is identity.IDENTITY_CHECKS
    assert LIFECYCLES["surplus_payment"] is payments.SURPLUSES
    assert LIFECYCLES["gateway_discrepancy"] is payments.DISCREPANCIES


@pytest.mark.parametrize("kind", KINDS)
def test_every_table_is_well_formed(kind: str) -> None:
    lifecycle = LIFECYCLES[kind]
    assert lifecycle.refused in CATALOGUE and lifecycle.changed in CATALOGUE
    assert set(lifecycle.actions) <= {str(s) for s in lifecycle.states}
    # every state but the first can be reached from the first
    first = str(next(iter(lifecycle.states)))
    seen, todo = {first}, [first]
    while todo:
        for target in lifecycle.table[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert seen == {str(s) for s in lifecycle.states}


@pytest.fixture
def factories(
    admin: User, organization: Organization, request: pytest.FixtureRequest
) -> dict[str, Factory]:
    """One way to make an object of each kind in a given state (rows only, no tokens)."""
    counter = itertools.count(1)
    now = clock.now()
    renewal_certificate: list[Callable[[], models.Model]] = []

    def application(state: str) -> models.Model:
        from certhall.hall.models import Application, Channel

        return Application.objects.create(
            number=f"SQ20261120-{next(counter):06d}",
            provider=home_provider(),
            organization=organization,
            channel=Channel.ONLINE,
            entered_by=admin,
            state=state,
            created_at=now,
            updated_at=now,
        )

    def order(state: str) -> models.Model:
        from certhall.payments.models import Order

        return Order.objects.create(
            reference=f"ZF20261120-{next(counter):06d}",
            provider=home_provider(),
            organization=organization,
            purpose="tests.lifecycle",
            object_id=f"X{next(counter)}",
            amount="300.00",
            description="测试订单",
            status=state,
            created_by=admin,
            created_at=now,
            method="cash",  # what a paid order must have, harmless on the others
            paid_at=now,
        )

    def ukey(state: str) -> models.Model:
        from certhall.ukeys.models import Ukey

        n = next(counter)
        return Ukey.objects.create(
            serial=f"fake{n:012d}",
            model="SoftHSM v2",
            label=f"fake-{n}",
            provider=home_provider(),
            status=state,
            so_pin_sealed=b"sealed",
        )

    def renewal_row(state: str) -> models.Model:
        from certhall.ca.models import Certificate
        from certhall.certlogin.models import Renewal

        authority = CertificateAuthority.objects.filter(kind="issuing").first()
        if authority is None:
            request.getfixturevalue("ca")
            authority = CertificateAuthority.objects.get(kind="issuing")

        def certificate() -> Certificate:
            n = next(counter)
            return Certificate.objects.create(
                ca=authority,
                serial=f"{n:040x}",
                profile="org",
                subject="CN=测试",
                not_before=now,
                not_after=now + timedelta(days=365),
                der=b"\x30",
                fingerprint_sha256=f"{n:064x}",
            )

        renewal_certificate.append(certificate)
        return Renewal.objects.create(
            old_certificate=certificate(),
            new_certificate=None if state == Renewal.State.REQUESTED else certificate(),
            new_key_sha256="0" * 64,
            csr_der=b"\x30",
            years=1,
            state=state,
            fee_yuan="150.00",
            requested_by=admin,
        )

    def sms_code(state: str) -> models.Model:
        return SmsCode.objects.create(
            phone=f"138{next(counter):08d}",
            purpose=SmsCode.Purpose.LOGIN,
            code_hash="salt$hash",
            state=state,
            created_at=now,
            expires_at=now + timedelta(minutes=5),
        )

    def token_write(state: str) -> models.Model:
        from certhall.ukeys.models import TokenWrite

        return TokenWrite.objects.create(
            ukey=ukey("in_stock"),
            kind="stock",
            key_label=f"ukey-{next(counter)}",
            owner="host:1",
            state=state,
            created_at=now,
        )

    def refund_application(state: str) -> models.Model:
        from certhall.refunds.models import Channel, RefundApplication
        from tests.refunds.conftest import announced

        n = next(counter)
        return RefundApplication.objects.create(
            number=f"FH20261120-{n:06d}",
            programme=announced(),
            uscc=f"U{n:017d}",
            enterprise_name="测试企业",
            channel=Channel.ONLINE,
            state=state,
            amount="300.00",
            payee_kind="enterprise",
            account_name="测试企业",
            account_number="6222020200001234",
            bank_name="测试银行",
            phone="13800138000",
            entered_by=admin,
            created_at=now,
            updated_at=now,
        )

    def refund_batch(state: str) -> models.Model:
        from certhall.refunds.models import PayoutBatch
        from tests.refunds.conftest import announced

        n = next(counter)
        return PayoutBatch.objects.create(
            number=f"PB20261120-{n:06d}",
            programme=announced(),
            state=state,
            created_by=admin,
            created_at=now,
            count=0,
            total="0.00",
            sha256="",
            content="",
        )

    def notice(state: str) -> models.Model:
        from certhall.portal.models import Notice

        return Notice.objects.create(
            title=f"公告{next(counter)}",
            region="shenzhen",
            category="service",
            published_on=now.date(),
            state=state,
            created_at=now,
            updated_at=now,
        )

    def question(state: str) -> models.Model:
        from certhall.portal.models import Question

        return Question.objects.create(
            text=f"问题{next(counter)}", state=state, created_at=now, updated_at=now
        )

    def invoice(state: str) -> models.Model:
        from certhall.payments.models import Invoice

        return Invoice.objects.create(
            order=order("paid"),
            organization=organization,
            provider=home_provider(),
            kind="normal",
            title=organization.name,
            tax_number=organization.uscc,
            amount="300.00",
            email="finance@example.cn",
            status=state,
            requested_by=admin,
            requested_at=now,
            number="" if state in ("requested", "withdrawn") else f"{next(counter):08d}",
            issued_at=None if state in ("requested", "withdrawn") else now,
            reversal_number=f"{next(counter):08d}" if state == "reversed" else "",
            reversed_at=now if state == "reversed" else None,
        )

    def identity_check(state: str) -> models.Model:
        from certhall.accounts.models import Handler
        from certhall.hall.models import IdentityCheck

        handler, _ = Handler.objects.get_or_create(
            organization=organization,
            id_kind="resident_id",
            id_number="440301199001011234",
            defaults={"name": "李四", "phone": "13800138000"},
        )
        return IdentityCheck.objects.create(
            application=application("draft"),
            handler=handler,
            token=f"token-{next(counter)}",
            state=state,
            provider="sandbox",
            created_at=now,
            updated_at=now,
            expires_at=now,
        )

    def surplus_payment(state: str) -> models.Model:
        from certhall.payments.models import SurplusPayment

        returned = state == "returned"
        return SurplusPayment.objects.create(
            order=order("paid"),
            organization=organization,
            provider=home_provider(),
            gateway="wechat",
            trade_no=f"42000{next(counter):08d}",
            amount="300.00",
            paid_at=now,
            created_at=now,
            status=state,
            returned_at=now if returned else None,
            returned_reference="5000001" if returned else "",
        )

    def gateway_discrepancy(state: str) -> models.Model:
        from certhall.payments.models import GatewayDiscrepancy

        handled = state == "handled"
        return GatewayDiscrepancy.objects.create(
            gateway="alipay",
            day=now.date(),
            kind="refund_unrecorded",
            reference=f"2026112023001{next(counter):08d}",
            provider=home_provider(),
            organization=organization,
            created_at=now,
            status=state,
            handled_at=now if handled else None,
            note="已核实" if handled else "",
        )

    def needs(obj: models.Model, target: str) -> dict[str, object]:
        """What a change must also set for the row's constraints (a renewal that leaves
        ``requested`` has its new certificate; an issued invoice its number, a reversed one its
        red-letter invoice's)."""
        if getattr(obj, "new_certificate_id", 0) is None and target != "requested":
            return {"new_certificate": renewal_certificate[0]()}
        if getattr(obj, "tax_number", None) and target == "issued":
            return {"number": f"{next(counter):08d}", "issued_at": now}
        if getattr(obj, "tax_number", None) and target == "reversed":
            return {"reversal_number": f"{next(counter):08d}", "reversed_at": now}
        if getattr(obj, "trade_no", None) and target == "returned":
            return {"returned_reference": "5000002", "returned_at": now}
        if getattr(obj, "kind", None) == "refund_unrecorded" and target == "handled":
            return {"note": "已核实", "handled_at": now}
        return {}

    return {
        "needs": needs,  # type: ignore[dict-item]
        "application": application,
        "order": order,
        "ukey": ukey,
        "renewal": renewal_row,
        "sms_code": sms_code,
        "token_write": token_write,
        "refund_application": refund_application,
        "refund_batch": refund_batch,
        "notice": notice,
        "question": question,
        "invoice": invoice,
        "identity_check": identity_check,
        "surplus_payment": surplus_payment,
        "gateway_discrepancy": gateway_discrepancy,
    }


def _state(lifecycle: Lifecycle[Any], obj: models.Model) -> str:
    obj.refresh_from_db()
    return str(getattr(obj, lifecycle.state_field))


@pytest.mark.parametrize("kind", KINDS)
def test_every_pair_of_every_table(kind: str, admin: User, factories: dict[str, Factory]) -> None:
    lifecycle = LIFECYCLES[kind]
    names = [str(s) for s in lifecycle.states]
    for current, target in itertools.product(names, names):
        obj = factories[kind](current)
        events = AuditEvent.objects.count()
        if lifecycle.allowed(current, target):
            with transaction.atomic():
                transition(
                    admin,
                    lifecycle,
                    obj,
                    target,
                    action="test.change",
                    reason="测试",
                    fields=factories["needs"](obj, target),  # type: ignore[call-arg]
                )
            assert _state(lifecycle, obj) == target, (current, target)
            (event,) = AuditEvent.objects.order_by("seq")[events:]
            assert (event.action, event.object_type, event.object_id) == (
                "test.change",
                lifecycle.kind,
                lifecycle.key(obj),
            )
            assert event.after["reason"] == "测试"
        else:
            with pytest.raises(Conflict) as refused, transaction.atomic():
                transition(admin, lifecycle, obj, target, action="test.change")
            assert refused.value.code == lifecycle.refused
            message = refused.value.message
            assert lifecycle.key(obj) in message and lifecycle.label(current) in message
            assert message.isascii() is False and "{" not in message
            onward = lifecycle.next_states(current)  # where it can go, or that it has ended
            assert ("（已是最终状态）" in message) == (not onward), message
            assert all(lifecycle.label(s) in message for s in onward), message
            assert _state(lifecycle, obj) == current, (current, target)
            assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("kind", KINDS)
def test_the_lifecycle_own_actions_are_audited(
    kind: str, admin: User, factories: dict[str, Factory]
) -> None:
    """Without an explicit action, a lifecycle with actions audits with its own; SMS codes
    (no actions) change silently, their use being audited by the caller."""
    lifecycle = LIFECYCLES[kind]
    for current, targets in lifecycle.table.items():
        for target in targets:
            obj = factories[kind](current)
            events = AuditEvent.objects.count()
            with transaction.atomic():
                fields = factories["needs"](obj, target)  # type: ignore[call-arg]
                transition(admin, lifecycle, obj, target, fields=fields)
            recorded = list(AuditEvent.objects.order_by("seq")[events:])
            expected = lifecycle.actions.get(target)
            assert [e.action for e in recorded] == ([expected] if expected else [])


@pytest.mark.parametrize("kind", KINDS)
def test_a_stale_read_loses_the_race(kind: str, admin: User, factories: dict[str, Factory]) -> None:
    lifecycle = LIFECYCLES[kind]
    current, target = next((c, t) for c, ts in lifecycle.table.items() for t in sorted(ts))
    obj = factories[kind](current)
    stale = type(obj)._default_manager.get(pk=obj.pk)
    fields = factories["needs"](obj, target)  # type: ignore[call-arg]
    with transaction.atomic():
        transition(admin, lifecycle, obj, target, fields=fields)
    events = AuditEvent.objects.count()
    with pytest.raises(Conflict) as lost, transaction.atomic():
        # the stale copy still believes it may make the change
        transition(admin, lifecycle, stale, target, action="test.change", fields=fields)
    assert isinstance(lost.value, LostRace)
    assert lost.value.code == lifecycle.changed
    assert _state(lifecycle, obj) == target
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_a_change_outside_a_transaction_is_refused(
    admin: User, factories: dict[str, Factory]
) -> None:
    obj = factories["sms_code"]("active")
    with pytest.raises(RuntimeError, match="transaction"):
        transition(admin, codes.CODES, obj, "used")
    assert _state(codes.CODES, obj) == "active"


@pytest.mark.parametrize("kind", KINDS)
def test_only_from_narrows_a_target_with_several_ways_in(
    kind: str, admin: User, factories: dict[str, Factory]
) -> None:
    """Where a target has several ways in (a refund approved from review, or again after a
    failed payout), an action that names where it starts is refused from the others, though
    the table allows them, and passes from its own."""
    lifecycle = LIFECYCLES[kind]
    ways_in: dict[str, list[str]] = {}
    for current, targets in lifecycle.table.items():
        for target in targets:
            ways_in.setdefault(target, []).append(current)
    for target, sources in ways_in.items():
        if len(sources) < 2:
            continue
        own, other = sources[0], sources[1]
        obj = factories[kind](other)
        events = AuditEvent.objects.count()
        with pytest.raises(Conflict) as refused, transaction.atomic():
            transition(admin, lifecycle, obj, target, action="test.change", only_from={own})
        assert refused.value.code == lifecycle.refused
        assert _state(lifecycle, obj) == other and AuditEvent.objects.count() == events
        obj = factories[kind](own)
        with transaction.atomic():
            fields = factories["needs"](obj, target)  # type: ignore[call-arg]
            transition(admin, lifecycle, obj, target, only_from={own}, fields=fields)
        assert _state(lifecycle, obj) == target
