"""On PostgreSQL: two officers batching at once put each application into one batch; settling
the same bank return file twice, and twice at once, pays each transfer once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db import connection

from certhall.accounts.models import Organization, Role, User
from certhall.refunds import payout, review, services
from certhall.refunds.models import PayoutItem, RefundApplication
from certhall.refunds.services import BankAccount
from certhall.refunds.states import State
from tests.refunds.conftest import ACCOUNT, IN_WINDOW, PHONE, announced, certificate_holder
from tests.refunds.test_applications import bank_return
from tests.support.threads import together

IN = date(2019, 6, 1)
USCCS = ["91440300MA5DEM0K1W", "91440300MA5FUND1RF", "91440300MA5XTHE3RF"]


def test_two_officers_at_once_pay_nothing_twice(
    audit_flushable: None, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    programme = announced()
    officers = [
        User.objects.create(username=f"officer-{n}", role=Role.REFUND_OFFICER) for n in (1, 2)
    ]
    numbers = []
    with time_machine.travel(IN_WINDOW, tick=False):
        for n, uscc in enumerate(USCCS):
            name = f"深圳市并发测试{n}有限公司"
            org = Organization.objects.create(name=name, uscc=uscc)
            applicant = certificate_holder(f"app-{n}", org)
            fee(f"c{n}", IN, "300.00", uscc=uscc, name=name)
            use(f"c{n}", IN)
            account = BankAccount(name, ACCOUNT, "测试银行")
            application = services.apply_online(applicant, programme.slug, account, phone=PHONE)
            review.approve(officers[0], application.number)
            numbers.append(application.number)

        batches = together(
            lambda: payout.create_batch(officers[0], programme.slug),
            lambda: payout.create_batch(officers[1], programme.slug),
        )
        made = [b for b in batches if isinstance(b, payout.PayoutBatch)]
        assert len(made) >= 1
        assert all(
            isinstance(b, payout.PayoutBatch) or b.code == "refund_batch_empty" for b in batches
        )
        assert PayoutItem.objects.count() == len(USCCS)
        assert sorted(PayoutItem.objects.values_list("application__number", flat=True)) == sorted(
            numbers
        )
        for b in made:  # each released by the officer who did not make it
            payout.release(next(o for o in officers if o.pk != b.created_by_id), b.number)
        files = [bank_return(b, [(i.line, "paid") for i in b.items.all()]) for b in made]
        first = [payout.settle(officers[0], programme.slug, data) for data in files]
        assert sum(r.paid for r in first) == len(USCCS)
        twice = together(
            *(
                lambda d=data, o=o: payout.settle(o, programme.slug, d)
                for data in files
                for o in officers
            )
        )
        assert sum(r.paid for r in twice) == 0
        assert sum(r.unchanged for r in twice) == 2 * len(USCCS)
    assert set(RefundApplication.objects.values_list("state", flat=True)) == {State.PAID}
    assert PayoutItem.objects.filter(result="paid").count() == len(USCCS)


def test_settling_at_once_counts_each_transfer_once(
    audit_flushable: None, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    programme = announced()
    officers = [
        User.objects.create(username=f"officer-{n}", role=Role.REFUND_OFFICER) for n in (1, 2)
    ]
    with time_machine.travel(IN_WINDOW, tick=False):
        uscc, name = USCCS[0], "深圳市并发测试有限公司"
        org = Organization.objects.create(name=name, uscc=uscc)
        applicant = certificate_holder("app", org)
        fee("s1", IN, "300.00", uscc=uscc, name=name)
        use("s1", IN)
        account = BankAccount(name, ACCOUNT, "测试银行")
        application = services.apply_online(applicant, programme.slug, account, phone=PHONE)
        review.approve(officers[0], application.number)
        batch = payout.release(officers[1], payout.create_batch(officers[0], programme.slug).number)
        data = bank_return(batch, [(1, "paid")])
        reports = together(
            lambda: payout.settle(officers[0], programme.slug, data),
            lambda: payout.settle(officers[1], programme.slug, data),
        )
    assert sorted((r.paid, r.unchanged) for r in reports) == [(0, 1), (1, 0)]
    assert PayoutItem.objects.get().result == "paid"


def test_release_and_cancel_at_once_leave_one_of_them(
    audit_flushable: None, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    """The checker releases while the maker cancels: one wins (the batch's row lock, then the
    lifecycle's conditional UPDATE), the other is told the batch changed; never a released
    batch whose applications went back to approved."""
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    programme = announced()
    officers = [
        User.objects.create(username=f"officer-{n}", role=Role.REFUND_OFFICER) for n in (1, 2)
    ]
    with time_machine.travel(IN_WINDOW, tick=False):
        uscc, name = USCCS[0], "深圳市并发测试有限公司"
        applicant = certificate_holder("app", Organization.objects.create(name=name, uscc=uscc))
        fee("r1", IN, "300.00", uscc=uscc, name=name)
        use("r1", IN)
        account = BankAccount(name, ACCOUNT, "测试银行")
        application = services.apply_online(applicant, programme.slug, account, phone=PHONE)
        review.approve(officers[0], application.number)
        number = payout.create_batch(officers[0], programme.slug).number
        outcomes = together(
            lambda: payout.release(officers[1], number),
            lambda: payout.cancel(officers[0], number),
        )
    won = [o for o in outcomes if isinstance(o, payout.PayoutBatch)]
    (lost,) = [o for o in outcomes if not isinstance(o, payout.PayoutBatch)]
    assert len(won) == 1 and lost.code in ("refund_batch_state", "refund_batch_changed")
    batch = won[0]
    batch.refresh_from_db()
    application.refresh_from_db()
    item = PayoutItem.objects.get()
    if batch.state == "released":
        assert (application.state, item.result) == (State.BATCHED, "pending")
    else:
        assert (batch.state, application.state, item.result) == (
            "cancelled",
            State.APPROVED,
            "cancelled",
        )
