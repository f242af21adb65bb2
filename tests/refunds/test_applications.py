"""Online and counter applications, review and payout, through the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from certhall.refunds import payout, progress, review, services
from certhall.refunds.counter import OfflineEntry, enter_offline, required_items
from certhall.refunds.models import (
    PayoutBatch,
    PayoutItem,
    Programme,
    RefundApplication,
    certificate_holder,
)
from certhall.refunds.services import BankAccount
from certhall.refunds.states import State
from tests.refunds.conftest import (
    ACCOUNT,
    AFTER_WINDOW,
    GONE_NAME,
    GONE_USCC,
    LEGAL_REP_ID,
    NAME,
    OTHER_USCC,
    PHONE,
    USCC,
    counter_code,
    released_batch,
)

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)


@pytest.fixture
def records(fee: Callable[..., Any], use: Callable[..., Any]) -> None:
    fee("a1", IN, "300.00")
    fee("a2", IN, "400.00", ca="netca")
    fee("a3", IN, "50.00", business="unlock")
    fee("g1", IN, "300.00", uscc=GONE_USCC, name=GONE_NAME)
    for serial, ca in (("a1", "szca"), ("a2", "netca"), ("a3", "szca"), ("g1", "szca")):
        use(serial, IN, ca=ca)


def account(name: str = NAME) -> BankAccount:
    return BankAccount(name, ACCOUNT, "中国工商银行深圳分行")


def apply(actors: dict[str, User], programme: Programme) -> RefundApplication:
    return services.apply_online(actors["applicant"], programme.slug, account(), phone=PHONE)


@pytest.mark.usefixtures("records", "frozen")
def test_online_application_once_per_enterprise(
    actors: dict[str, User], open_programme: Programme
) -> None:
    application = apply(actors, open_programme)
    assert application.number.startswith("FH20220110-")
    assert application.amount == Decimal("700.00") and application.state == State.SUBMITTED
    assert sorted(line.fee.serial for line in application.lines.all()) == ["a1", "a2"]
    with pytest.raises(Conflict) as again:
        apply(actors, open_programme)
    assert again.value.code == "refund_already_applied"
    assert application.number in again.value.message
    submits = AuditEvent.objects.filter(action="refunds.application.submit").order_by("seq")
    assert [(e.object_id, e.result) for e in submits] == [
        (application.number, "ok"),
        (open_programme.slug, "refused"),  # the second one, audited with its code
    ]
    assert submits[1].after["error"] == "refund_already_applied"


@pytest.mark.usefixtures("records", "frozen")
def test_only_a_certificate_login_applies_online(
    actors: dict[str, User], open_programme: Programme
) -> None:
    password = actors["password_applicant"]  # the enterprise's USCC, typed at registration
    with pytest.raises(Forbidden) as refused:
        services.apply_online(password, open_programme.slug, account(), phone=PHONE)
    assert refused.value.code == "refund_no_organization"
    with pytest.raises(Forbidden):
        services.eligibility_for(password, open_programme.slug, USCC)
    assert certificate_holder(password) is None
    assert certificate_holder(actors["applicant"]) == actors["applicant"].organization
    assert not RefundApplication.objects.exists()


@pytest.mark.usefixtures("records", "frozen")
def test_account_name_must_be_the_enterprise(
    actors: dict[str, User], open_programme: Programme
) -> None:
    with pytest.raises(InvalidInput) as wrong:
        services.apply_online(
            actors["applicant"], open_programme.slug, account("张三"), phone=PHONE
        )
    assert wrong.value.code == "refund_account_name" and NAME in wrong.value.message
    # full-width and half-width forms of the same name are the same name
    folded = services.apply_online(
        actors["applicant"], open_programme.slug, account(f" {NAME} "), phone=PHONE
    )
    assert folded.account_name == NAME


@pytest.mark.usefixtures("records")
def test_outside_the_window_refused_with_the_dates(
    actors: dict[str, User], open_programme: Programme
) -> None:
    with time_machine.travel(AFTER_WINDOW, tick=False), pytest.raises(RuleViolation) as closed:
        apply(actors, open_programme)
    assert closed.value.code == "refund_window_closed"
    assert "2021年12月21日至2022年1月20日" in closed.value.message


@pytest.mark.usefixtures("frozen")
def test_nothing_eligible_refused(actors: dict[str, User], open_programme: Programme) -> None:
    with pytest.raises(RuleViolation) as nothing:
        apply(actors, open_programme)
    assert nothing.value.code == "refund_nothing_eligible"


@pytest.mark.usefixtures("records", "frozen")
def test_an_enterprise_sees_only_its_own(
    actors: dict[str, User], open_programme: Programme
) -> None:
    application = apply(actors, open_programme)
    with pytest.raises(NotFound):  # as one that does not exist (no 403 oracle)
        services.get_application(actors["other_applicant"], application.number)
    with pytest.raises(Forbidden):
        services.eligibility_for(actors["other_applicant"], open_programme.slug, USCC)
    with pytest.raises(Forbidden):  # online applications are no CA's
        services.get_application(actors["clerk"], application.number)
    with pytest.raises(Forbidden):
        services.get_application(actors["reviewer"], application.number)
    assert services.list_applications(actors["other_applicant"]) == []
    assert services.get_application(actors["officer"], application.number) == application


def offline_entry(**changes: Any) -> OfflineEntry:
    fields: dict[str, Any] = {
        "uscc": GONE_USCC,
        "enterprise_name": GONE_NAME,
        "special_case": "deregistered",
        "person_name": "李四",
        "id_kind": "resident_id",
        "id_number": LEGAL_REP_ID,
        "phone": PHONE,
        "account": account("李四"),
        "received": frozenset(required_items("deregistered", False)),
        "signed": frozenset(required_items("deregistered", False)),
    }
    fields.update(changes)
    if "code" not in changes:  # the code the representative reads out (tests.refunds.conftest)
        fields["code"] = counter_code(fields["phone"])
    return OfflineEntry(**fields)


@pytest.mark.usefixtures("records", "frozen")
def test_counter_application_for_a_deregistered_enterprise(
    actors: dict[str, User], open_programme: Programme
) -> None:
    with pytest.raises(InvalidInput) as missing:
        enter_offline(
            actors["clerk"], open_programme.slug, offline_entry(received=frozenset({"licence"}))
        )
    assert missing.value.code == "refund_checklist_missing"
    assert "注销或变更" in missing.value.message
    with pytest.raises(InvalidInput) as unsigned:
        enter_offline(actors["clerk"], open_programme.slug, offline_entry(signed=frozenset()))
    assert unsigned.value.code == "refund_checklist_unsigned"
    with pytest.raises(InvalidInput) as wrong_name:
        enter_offline(actors["clerk"], open_programme.slug, offline_entry(account=account()))
    assert wrong_name.value.code == "refund_account_name"
    with pytest.raises(InvalidInput):
        enter_offline(actors["clerk"], open_programme.slug, offline_entry(special_case="bored"))

    application = enter_offline(actors["clerk"], open_programme.slug, offline_entry())
    assert application.channel == "offline" and application.amount == Decimal("300.00")
    assert application.provider == actors["clerk"].provider
    assert application.checklist["id_number"] == LEGAL_REP_ID
    # staff of one CA see only their own CA's applications
    assert services.list_applications(actors["clerk"]) == [application]
    assert services.list_applications(actors["clerk_netca"]) == []
    with pytest.raises(Forbidden):
        services.get_application(actors["clerk_netca"], application.number)
    # of the CA's own staff, not those who work on certificates only (the application holds
    # the legal representative's ID and a bank account)
    with pytest.raises(Forbidden):
        services.get_application(actors["reviewer"], application.number)
    with pytest.raises(Forbidden):
        services.list_applications(actors["reviewer"])


@pytest.mark.usefixtures("records", "frozen")
def test_partnership_pays_into_the_applicant_account(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The announcement's items 2 and 3: such a partnership (its executive partner an
    institution, which has neither an ID nor a bank card) gives its delegate's ID instead of the
    legal representative's and its opening permit instead of the card; the refund goes to its
    own account."""
    items = frozenset(required_items("changed", True))
    assert items == {"licence", "change_proof", "delegate_id", "opening_permit"}
    entry = offline_entry(
        special_case="changed",
        partnership=True,
        person_name="",
        id_number="",
        delegate_name="王五",
        delegate_id_number=LEGAL_REP_ID,
        received=items,
        signed=items,
        account=account(GONE_NAME),
    )
    application = enter_offline(actors["clerk"], open_programme.slug, entry)
    assert application.payee_kind == "enterprise"
    assert application.checklist["delegate_name"] == "王五"
    assert "person_name" not in application.checklist
    # the delegate is the one person it cannot do without
    with pytest.raises(InvalidInput) as missing:
        enter_offline(
            actors["clerk"],
            open_programme.slug,
            replace(entry, uscc=OTHER_USCC, delegate_name=""),
        )
    assert "委派代表姓名" in missing.value.message
    # anyone else gives the legal representative's
    with pytest.raises(InvalidInput) as missing:
        enter_offline(
            actors["clerk"],
            open_programme.slug,
            offline_entry(uscc=OTHER_USCC, person_name="", id_number=""),
        )
    assert "法定代表人/负责人姓名" in missing.value.message


@pytest.mark.usefixtures("records", "frozen")
def test_review_with_a_second_officer_above_the_threshold(
    actors: dict[str, User], open_programme: Programme
) -> None:
    application = apply(actors, open_programme)  # 700.00 > 500.00
    first = review.approve(actors["officer"], application.number)
    assert first.state == State.FIRST_APPROVED
    with pytest.raises(Forbidden) as same:
        review.approve(actors["officer"], application.number)
    assert same.value.code == "refund_second_officer"
    second = review.approve(actors["officer2"], application.number)
    assert second.state == State.APPROVED and second.approved_by == actors["officer2"]
    with pytest.raises(Forbidden):
        review.approve(actors["applicant"], application.number)
    actions = list(
        AuditEvent.objects.filter(object_id=application.number)
        .order_by("seq")
        .values_list("action", "result", "actor_id")
    )
    # the first officer's second approval and the applicant's are audited as refused
    assert actions == [
        ("refunds.application.submit", "ok", actors["applicant"].pk),
        ("refunds.application.first_approve", "ok", actors["officer"].pk),
        ("refunds.application.approve", "refused", actors["officer"].pk),
        ("refunds.application.approve", "ok", actors["officer2"].pk),
        ("refunds.application.approve", "refused", actors["applicant"].pk),
    ]
    approved = AuditEvent.objects.get(
        object_id=application.number, action="refunds.application.approve", result="ok"
    )
    assert approved.after["second_officer"] == actors["officer2"].username


@pytest.mark.usefixtures("records", "frozen")
def test_reject_and_ask_for_more(actors: dict[str, User], open_programme: Programme) -> None:
    application = apply(actors, open_programme)
    with pytest.raises(InvalidInput):
        review.reject(actors["officer"], application.number, "  ")
    asked = review.ask_more(actors["officer"], application.number, "请补充开户许可证")
    assert asked.state == State.MORE_INFO and asked.note == "请补充开户许可证"
    with pytest.raises(NotFound):
        services.supply(actors["other_applicant"], application.number, "x")
    back = services.supply(actors["applicant"], application.number, "已补充")
    assert back.state == State.SUBMITTED
    rejected = review.reject(actors["officer"], application.number, "重复申领")
    assert rejected.state == State.REJECTED and rejected.note == "重复申领"
    with pytest.raises(Conflict):
        review.approve(actors["officer2"], application.number)


@pytest.mark.usefixtures("records", "frozen")
def test_correcting_an_account_is_no_way_round_review(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The account is corrected after a failed payout only: on an application still in review
    it would approve it (and above the threshold without the second officer)."""
    officer = actors["officer"]
    application = apply(actors, open_programme)  # 700.00: two officers
    corrected = BankAccount(NAME, "6222020000000000001", "某银行")
    for step in (None, "first approval"):
        if step:
            review.approve(officer, application.number)
        before = AuditEvent.objects.count()
        with pytest.raises(Conflict) as refused:
            review.correct_account(officer, application.number, corrected)
        assert refused.value.code == "refund_state"
        application.refresh_from_db()
        assert application.state == (State.FIRST_APPROVED if step else State.SUBMITTED)
        assert application.account_number == ACCOUNT
        refusal = AuditEvent.objects.get(seq__gt=before)  # the refusal only, nothing changed
        assert (refusal.action, refusal.result) == (
            "refunds.application.correct_account",
            "refused",
        )
    review.approve(actors["officer2"], application.number)
    with pytest.raises(Conflict):  # approved already: nothing to correct either
        review.correct_account(officer, application.number, corrected)


def bank_return(batch: Any, results: list[tuple[int, str]], amount: str | None = None) -> bytes:
    lines = ["batch,line,application,amount_yuan,result,bank_reference,message"]
    items = {i.line: i for i in batch.items.select_related("application")}
    for line, result in results:
        item = items[line]
        lines.append(
            f"{batch.number},{line},{item.application.number},{amount or item.amount},"
            f"{result},BR{line},{'账户不存在' if result == 'failed' else ''}"
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.usefixtures("records", "frozen")
def test_batch_settle_correct_and_batch_again(
    actors: dict[str, User], open_programme: Programme
) -> None:
    officer = actors["officer"]
    online = apply(actors, open_programme)
    offline = enter_offline(actors["clerk"], open_programme.slug, offline_entry())
    review.approve(officer, online.number)
    review.approve(actors["officer2"], online.number)
    review.approve(officer, offline.number)  # 300.00: one officer is enough
    single = AuditEvent.objects.get(object_id=offline.number, action="refunds.application.approve")
    assert "second_officer" not in single.after
    batch = payout.create_batch(officer, open_programme.slug)
    assert batch.count == 2 and batch.total == Decimal("1000.00")
    lines = batch.content.splitlines()
    assert lines[0].startswith("batch,line,application")
    assert lines[-2] == f"TOTAL,{batch.number},2,,,,1000.00"
    import hashlib

    body = "".join(line + "\n" for line in lines[:-1]).encode()
    assert lines[-1] == f"SHA256,{hashlib.sha256(body).hexdigest()}"
    with pytest.raises(RuleViolation):
        payout.create_batch(officer, open_programme.slug)  # nothing left to batch
    payout.release(actors["officer2"], batch.number)

    wrong = bank_return(batch, [(1, "paid")], "1.00")
    wrong_amount = payout.settle(officer, open_programme.slug, wrong)
    assert [r.reason for r in wrong_amount.refused] == ["bank_row_amount"]
    data = bank_return(batch, [(1, "paid"), (2, "failed")])
    report = payout.settle(officer, open_programme.slug, data)
    assert (report.paid, report.failed, report.unchanged, report.refused) == (1, 1, 0, [])
    again = payout.settle(officer, open_programme.slug, data)
    assert (again.paid, again.failed, again.unchanged) == (0, 0, 2)
    flipped = payout.settle(officer, open_programme.slug, bank_return(batch, [(1, "failed")]))
    assert [r.reason for r in flipped.refused] == ["bank_row_settled"]

    online.refresh_from_db()
    offline.refresh_from_db()
    assert online.state == State.PAID and online.paid_at is not None
    assert offline.state == State.FAILED and offline.note == "账户不存在"
    with pytest.raises(InvalidInput):
        review.correct_account(officer, offline.number, account("别人"))
    review.correct_account(officer, offline.number, BankAccount("李四", "6222000011112222", "建行"))
    review.approve(actors["officer2"], offline.number)  # the corrected account: a second officer
    second = released_batch(officer, actors["officer2"], open_programme.slug)
    assert second.count == 1 and "6222000011112222" in second.content
    payout.settle(officer, open_programme.slug, bank_return(second, [(1, "paid")]))
    offline.refresh_from_db()
    assert offline.state == State.PAID
    assert PayoutItem.objects.filter(application=online, result="paid").count() == 1
    with pytest.raises(Forbidden):
        payout.create_batch(actors["applicant"], open_programme.slug)


@pytest.mark.usefixtures("records", "frozen")
def test_a_batch_takes_at_most_the_banks_limit_oldest_first(
    actors: dict[str, User], open_programme: Programme, configure: Callable[..., Any]
) -> None:
    configure(refund_batch_max_lines=1)
    officer = actors["officer"]
    online = apply(actors, open_programme)  # 700.00, the older
    offline = enter_offline(actors["clerk"], open_programme.slug, offline_entry())  # 300.00
    review.approve(officer, offline.number)
    review.approve(officer, online.number)
    review.approve(actors["officer2"], online.number)
    assert payout.pending(open_programme.slug) == payout.Pending(2, Decimal("1000.00"), 1)
    console = Client()
    console.force_login(officer)
    page = f"/refunds/console/batches/?programme={open_programme.slug}"
    shown = console.get(page).content.decode()
    assert "待拨付（2 笔，合计 ¥1,000.00）" in shown and 'id="batch-limit"' in shown

    made = console.post("/refunds/console/batches/new", {"programme": open_programme.slug})
    first = PayoutBatch.objects.get()
    told = console.get(made["Location"]).content.decode()
    assert f"已生成拨付批次 {first.number}（1 笔），须由另一名返还审核员复核放行；" in told
    assert "还有 1 笔待拨付" in told
    assert first.count == 1 and first.items.get().application == online
    assert first.content.splitlines()[-2] == f"TOTAL,{first.number},1,,,,700.00"
    assert payout.pending(open_programme.slug) == payout.Pending(1, Decimal("300.00"), 1)
    second = payout.create_batch(officer, open_programme.slug)
    assert second.count == 1 and second.items.get().application == offline
    with pytest.raises(RuleViolation):
        payout.create_batch(officer, open_programme.slug)
    assert payout.pending(open_programme.slug).count == 0


@pytest.mark.usefixtures("records", "frozen")
def test_a_corrected_account_above_the_threshold_needs_the_second_officer(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """Above the threshold two officers approve, and the account is what they approve the money
    to. Correcting a failed payout's account put the application back to ``approved`` and
    into the next batch on one officer's word: the new account reached the bank unseen by a
    second officer. Now it waits for the second officer as a first approval does."""
    officer, officer2 = actors["officer"], actors["officer2"]
    application = apply(actors, open_programme)  # 700.00: two officers
    review.approve(officer, application.number)
    review.approve(officer2, application.number)
    batch = released_batch(officer, officer2, open_programme.slug)
    payout.settle(officer, open_programme.slug, bank_return(batch, [(1, "failed")]))
    new = BankAccount(NAME, "6222020000000000001", "某银行")
    corrected = review.correct_account(officer, application.number, new)
    assert corrected.state == State.FIRST_APPROVED
    assert corrected.first_approved_by_id == officer.pk
    assert corrected.account_number == "6222020000000000001"
    event = AuditEvent.objects.filter(action="refunds.application.correct_account").get()
    assert event.after["state"] == State.FIRST_APPROVED
    told = [step.label for step in progress.history(corrected)]
    assert told[-1] == "收款账户已更正，待另一名审核人员复核后重新拨付"  # not 待重新拨付 alone
    with pytest.raises(RuleViolation):  # not batched on one officer's word
        payout.create_batch(officer, open_programme.slug)
    with pytest.raises(Forbidden) as refused:
        review.approve(officer, application.number)
    assert refused.value.code == "refund_second_officer"
    assert review.approve(officer2, application.number).state == State.APPROVED
    again = payout.create_batch(officer, open_programme.slug)
    assert again.count == 1 and "6222020000000000001" in again.content
    assert progress.history(corrected)[-2].label == "审核通过"


@pytest.mark.usefixtures("records", "frozen")
def test_one_officer_alone_cannot_send_a_payout_to_an_account_they_typed(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """Below the threshold one officer approves the account the enterprise gave. The same
    officer could settle a failure (the bank's return file is an upload), type another account
    number and batch it: the money went where nobody else had looked. The corrected account
    is a first approval whatever the amount; another officer approves it."""
    officer, officer2 = actors["officer"], actors["officer2"]
    application = enter_offline(actors["clerk"], open_programme.slug, offline_entry())  # 300.00
    review.approve(officer, application.number)  # one officer is enough for the amount
    batch = released_batch(officer, officer2, open_programme.slug)
    payout.settle(officer, open_programme.slug, bank_return(batch, [(1, "failed")]))
    new = BankAccount("李四", "6222000099998888", "建行")
    corrected = review.correct_account(officer, application.number, new)
    assert (corrected.state, corrected.first_approved_by_id) == (State.FIRST_APPROVED, officer.pk)
    with pytest.raises(RuleViolation):  # nothing approved: not batched on one officer's word
        payout.create_batch(officer, open_programme.slug)
    with pytest.raises(Forbidden) as refused:
        review.approve(officer, application.number)
    assert refused.value.code == "refund_second_officer"
    assert review.approve(officer2, application.number).state == State.APPROVED
    assert "6222000099998888" in payout.create_batch(officer, open_programme.slug).content


@pytest.mark.usefixtures("records", "frozen")
def test_the_officer_who_typed_the_account_cannot_approve_it_after_asking_for_more(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The corrected account waits for a second officer; the corrector asking the counter for
    more material sent it back to review, where below the threshold one approval is enough:
    the corrector's own, to the account they typed. Whoever gave the first approval (or typed
    the account) does not give the next one."""
    officer, officer2 = actors["officer"], actors["officer2"]
    application = enter_offline(actors["clerk"], open_programme.slug, offline_entry())  # 300.00
    review.approve(officer, application.number)
    batch = released_batch(officer, officer2, open_programme.slug)
    payout.settle(officer, open_programme.slug, bank_return(batch, [(1, "failed")]))
    new = BankAccount("李四", "6222000099998888", "建行")
    review.correct_account(officer, application.number, new)
    review.ask_more(officer, application.number, "请补充开户许可证")
    services.supply(actors["clerk"], application.number, "已补交")
    with pytest.raises(Forbidden) as refused:
        review.approve(officer, application.number)
    assert refused.value.code == "refund_second_officer" and "您更正了" in refused.value.message
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert review.approve(officer2, application.number).state == State.APPROVED


@pytest.mark.usefixtures("records", "frozen")
def test_fees_claimed_elsewhere_are_already_refunded(
    actors: dict[str, User], open_programme: Programme, providers: dict[str, Any]
) -> None:
    from certhall.refunds.eligibility import explain
    from certhall.refunds.models import FeeRecord, ProgrammeCA, UsageRecord

    application = apply(actors, open_programme)
    rerun = Programme.objects.create(
        slug="sz-rerun",
        name="再次返还",
        apply_from=date(2022, 1, 1),
        apply_to=date(2022, 2, 1),
        business_from=open_programme.business_from,
        business_to=open_programme.business_to,
        businesses=list(open_programme.businesses),
    )
    ProgrammeCA.objects.create(programme=rerun, provider=providers["szca"])
    FeeRecord.objects.create(
        programme=rerun, provider=providers["szca"], serial="a1", uscc=USCC,
        enterprise_name=NAME, business="new", paid_on=IN, amount=Decimal("300.00"),
    )  # fmt: skip
    UsageRecord.objects.create(
        programme=rerun, provider=providers["szca"], serial="a1", platform="p", used_on=IN
    )
    (line,) = explain(rerun, USCC).lines
    assert line.reason == "already_refunded"
    assert explain(open_programme, USCC).amount.yuan == Decimal("700.00")  # its own claim
    review.reject(actors["officer"], application.number, "不符合条件")
    (line,) = explain(rerun, USCC).lines
    assert line.reason == ""  # a rejected application gives its records back


@pytest.mark.usefixtures("frozen")
def test_a_refused_batch_is_audited(
    actors: dict[str, User],
    open_programme: Programme,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A payout batch is a money operation: refused (nothing to batch, not an officer), from the
    console and from the command line, it leaves its event; none did."""
    from certhall.cli.main import main

    with pytest.raises(RuleViolation):
        payout.create_batch(actors["officer"], open_programme.slug)
    with pytest.raises(Forbidden):
        payout.create_batch(actors["clerk"], open_programme.slug)
    code = main(["refund", "batch", "--programme", open_programme.slug])
    assert code != 0 and capsys.readouterr().err
    refused = AuditEvent.objects.filter(action="refunds.batch.create").order_by("seq")
    assert [(e.result, e.object_id, e.after["error"], e.actor) for e in refused] == [
        ("refused", open_programme.slug, "refund_batch_empty", "refund_officer:officer1"),
        ("refused", open_programme.slug, "role_required", "clerk:clerk-szca"),
        ("refused", open_programme.slug, "refund_batch_empty", "system:system-root"),
    ]
