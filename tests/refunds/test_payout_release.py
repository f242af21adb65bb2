"""Maker-checker on the payout batch: made by one refund officer, released to the bank by
another (复核放行) or cancelled before (撤销批次); the transfer file and the bank's return file
only for a released batch; every refusal audited (docs/refunds.md, "Release")."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from certhall.accounts.models import User
from certhall.accounts.services import system_actor
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, NotFound, RuleViolation
from certhall.refunds import payout, progress
from certhall.refunds.models import PayoutBatch, PayoutItem, Programme, RefundApplication
from certhall.refunds.states import State
from tests.refunds.test_applications import bank_return

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def refusals(action: str) -> list[tuple[str, str]]:
    """The refused events of ``action``: (object, error code), oldest first."""
    events = AuditEvent.objects.filter(action=action, result="refused").order_by("seq")
    return [(e.object_id, e.after["error"]) for e in events]


def test_a_batch_moves_money_only_once_a_second_officer_released_it(
    actors: dict[str, User], open_programme: Programme, two_approved: list[str]
) -> None:
    maker, checker = actors["officer"], actors["officer2"]
    batch = payout.create_batch(maker, open_programme.slug)
    assert (batch.state, batch.released_by) == ("pending_release", None)

    # the maker neither downloads it nor releases it; the bank's return cannot name it yet
    with pytest.raises(Conflict) as unreleased:
        payout.batch_file(maker, batch.number)
    assert unreleased.value.code == "refund_batch_not_released"
    assert unreleased.value.message == (
        f"拨付批次 {batch.number} 当前为“待复核”，复核放行后才能下载银行转账文件。"
    )
    with pytest.raises(RuleViolation) as own:
        payout.release(maker, batch.number)
    assert own.value.message == (
        f"拨付批次 {batch.number} 由您生成，须由另一名返还审核员复核放行，生成人不能放行。"
    )
    early = payout.settle(maker, open_programme.slug, bank_return(batch, [(1, "paid")]))
    assert [r.reason for r in early.refused] == ["bank_row_not_released"]
    assert "未复核放行的批次不能导入回盘" in early.refused[0].message
    assert set(RefundApplication.objects.values_list("state", flat=True)) == {State.BATCHED}
    assert not AuditEvent.objects.filter(action="refunds.batch.download").exclude(result="refused")

    released = payout.release(checker, batch.number)
    assert (released.state, released.released_by, released.created_by) == (
        "released",
        checker,
        maker,
    )
    event = AuditEvent.objects.get(action="refunds.batch.release", result="ok")
    assert (event.object_type, event.object_id, event.actor) == (
        "refund_batch",
        batch.number,
        "refund_officer:officer2",
    )
    assert (event.before["state"], event.after["state"]) == ("pending_release", "released")
    assert event.after["sha256"] == batch.sha256 and event.after["created_by"] == "officer1"

    assert payout.batch_file(maker, batch.number).content == batch.content
    data = bank_return(batch, [(1, "paid"), (2, "paid")])
    report = payout.settle(maker, open_programme.slug, data)
    assert (report.paid, report.refused) == (2, [])
    assert set(RefundApplication.objects.values_list("state", flat=True)) == {State.PAID}

    with pytest.raises(Conflict) as twice:  # released is final
        payout.release(checker, batch.number)
    assert twice.value.code == "refund_batch_state"
    with pytest.raises(Conflict):
        payout.cancel(checker, batch.number)
    # every refusal, in its own event
    assert refusals("refunds.batch.download") == [(batch.number, "refund_batch_not_released")]
    assert refusals("refunds.batch.release") == [
        (batch.number, "refund_batch_same_officer"),
        (batch.number, "refund_batch_state"),
    ]
    assert refusals("refunds.batch.cancel") == [(batch.number, "refund_batch_state")]
    settle_refused = AuditEvent.objects.filter(action="refunds.batch.settle", result="refused")
    assert [e.after["refused"] for e in settle_refused] == [1]


def test_a_cancelled_batch_gives_its_applications_back_to_be_batched_again(
    actors: dict[str, User], open_programme: Programme, two_approved: list[str]
) -> None:
    maker, checker = actors["officer"], actors["officer2"]
    batch = payout.create_batch(maker, open_programme.slug)
    cancelled = payout.cancel(maker, batch.number)  # its maker may cancel it too
    assert (cancelled.state, cancelled.cancelled_by) == ("cancelled", maker)
    assert set(RefundApplication.objects.values_list("state", flat=True)) == {State.APPROVED}
    assert set(PayoutItem.objects.values_list("result", flat=True)) == {"cancelled"}
    events = AuditEvent.objects.filter(object_id__in=[batch.number, *two_approved])
    assert sorted(events.filter(seq__gt=_created(batch)).values_list("action", flat=True)) == [
        "refunds.application.unbatch",
        "refunds.application.unbatch",
        "refunds.batch.cancel",
    ]
    application = RefundApplication.objects.get(number=two_approved[0])
    assert [s.label for s in progress.history(application)][-2:] == [
        "进入拨付批次",
        "拨付批次已撤销，待重新拨付",
    ]
    assert payout.pending(open_programme.slug).count == 2

    # nothing of a cancelled batch goes to the bank or comes back from it
    with pytest.raises(Conflict):
        payout.release(checker, batch.number)
    with pytest.raises(Conflict):
        payout.batch_file(checker, batch.number)
    stale = payout.settle(checker, open_programme.slug, bank_return(batch, [(1, "paid")]))
    assert "当前为“已撤销”" in stale.refused[0].message

    again = payout.create_batch(checker, open_programme.slug)
    assert again.count == 2 and again.number != batch.number
    payout.release(maker, again.number)  # the first officer checks the second's batch
    report = payout.settle(checker, open_programme.slug, bank_return(again, [(1, "paid")]))
    assert report.paid == 1
    assert refusals("refunds.batch.release") == [(batch.number, "refund_batch_state")]
    assert refusals("refunds.batch.download") == [(batch.number, "refund_batch_not_released")]


def _created(batch: PayoutBatch) -> int:
    return AuditEvent.objects.get(action="refunds.batch.create", object_id=batch.number).seq


def test_only_a_refund_officer_releases_or_cancels(
    actors: dict[str, User], open_programme: Programme, two_approved: list[str]
) -> None:
    """A clerk is no officer; nor is the command line's system actor the second person."""
    number = payout.create_batch(actors["officer"], open_programme.slug).number
    system = system_actor()
    for who in (actors["clerk"], system):
        with pytest.raises(Forbidden):
            payout.release(who, number)
        with pytest.raises(Forbidden):
            payout.cancel(who, number)
    with pytest.raises(Forbidden):
        payout.release(actors["applicant"], "PB20220110-999999")
    assert PayoutBatch.objects.get().state == "pending_release"
    assert [code for _, code in refusals("refunds.batch.release")] == ["role_required"] * 3
    assert [code for _, code in refusals("refunds.batch.cancel")] == ["role_required"] * 2
    with pytest.raises(NotFound) as unknown:
        payout.release(actors["officer2"], "PB20220110-999999")
    assert unknown.value.message == "没有编号为“PB20220110-999999”的拨付批次。"


def test_the_console_shows_who_made_and_who_released(
    actors: dict[str, User], open_programme: Programme, two_approved: list[str]
) -> None:
    maker, checker = Client(), Client()
    maker.force_login(actors["officer"])
    checker.force_login(actors["officer2"])
    page = f"/refunds/console/batches/?programme={open_programme.slug}"
    made = maker.post("/refunds/console/batches/new", {"programme": open_programme.slug})
    told = maker.get(made["Location"]).content.decode()
    batch = PayoutBatch.objects.get()
    assert f"已生成拨付批次 {batch.number}（2 笔），须由另一名返还审核员复核放行" in told
    # the maker: no 复核放行, told whom it waits for; 撤销批次 is theirs too; no download
    assert "待另一名审核员复核放行" in told and "复核放行</button>" not in told
    assert "撤销批次</button>" in told and f"{batch.number}.csv" not in told
    seen = checker.get(page).content.decode()
    assert "复核放行</button>" in seen and "撤销批次</button>" in seen and "待复核" in seen

    release = f"/refunds/console/batches/{batch.number}/release"
    refused = maker.post(release, {"programme": open_programme.slug}, follow=True)
    shown = refused.content.decode()
    assert refused.status_code == 200 and shown.count("生成人不能放行") == 1
    assert shown.count('class="flash flash-error"') == 1
    assert maker.get(page).content.decode().count("生成人不能放行") == 0  # shown once

    done = checker.post(release, {"programme": open_programme.slug}, follow=True).content.decode()
    assert f"拨付批次 {batch.number} 已复核放行" in done
    row = done[done.index(f'data-batch="{batch.number}"') :]
    row = row[: row.index("</tr>")]
    assert "已放行" in row and "放行：officer2" in row and "officer1" in row
    assert f"{batch.number}.csv" in row and "</button>" not in row
    assert checker.get(f"/refunds/console/batches/{batch.number}.csv").status_code == 200


def test_a_batch_made_before_release_existed_counts_as_released(
    actors: dict[str, User], open_programme: Programme, two_approved: list[str]
) -> None:
    """Migration 0006: a batch in flight stays downloadable and settles."""
    batch = payout.create_batch(actors["officer"], open_programme.slug)
    migration = importlib.import_module("certhall.refunds.migrations.0006_batch_release")
    migration.released_before(apps, None)
    batch.refresh_from_db()
    assert (batch.state, batch.released_by, batch.released_at) == (
        "released",
        None,
        batch.created_at,
    )
    assert payout.batch_file(actors["officer"], batch.number).sha256 == batch.sha256
    page = Client()
    page.force_login(actors["officer"])
    shown = page.get(f"/refunds/console/batches/?programme={open_programme.slug}")
    assert "上线前生成，视为已放行" in shown.content.decode()


def test_the_command_line_makes_a_batch_and_writes_it_once_released(
    actors: dict[str, User],
    open_programme: Programme,
    two_approved: list[str],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import errno
    import os

    from certhall.cli import output
    from certhall.cli.main import main

    assert main(["refund", "batch", "--programme", open_programme.slug]) == 0
    assert "waiting for a refund officer's release" in capsys.readouterr().out
    batch = PayoutBatch.objects.get()
    assert batch.state == "pending_release"
    out = tmp_path / "transfers.csv"
    written = ["refund", "batch-file", "--batch", batch.number, "--out", str(out)]
    assert main(written) != 0
    assert "复核放行后才能下载" in capsys.readouterr().err and not out.exists()

    payout.release(actors["officer"], batch.number)  # the system made it: any officer checks

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as disk:
        disk.setattr(output.os, "fsync", full)
        assert main(written) == 2 and "No space left on device" in capsys.readouterr().err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []
    assert main(written) == 0
    assert out.read_text(encoding="utf-8") == batch.content
