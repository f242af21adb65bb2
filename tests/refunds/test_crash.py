"""Kill it mid-step: the refund programme's payouts. ``certhall refund batch``, a second officer's
release (复核放行) and a cancel (撤销批次), ``certhall refund batch-file`` and ``certhall refund
settle`` SIGKILLed between two of their effects (``certhall.crashpoints``), in the shared demo
home; then the applications, the batches, the transfer file (none that pays what the database
does not hold, none left half-made), the audit chain (``certhall audit verify``'s check, in the
process that looks, or that command), and the run that finishes the work. Nothing is paid twice.

Points: ``refunds.batched_line`` (a batch's first application batched, its transaction open),
``refunds.batch_cancelled_line`` (a cancelled batch's first application approved again, open),
``refunds.batch_released`` (the batch released, not yet committed), ``output.settled`` (the
transfer file on the disk beside its target) and ``output.committed`` (the file not yet renamed
into place), ``refunds.settled_line`` (a bank return file's first line applied, its transaction
open)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import CLI, Home

pytestmark = [pytest.mark.slow, pytest.mark.softhsm]

MAKER, CHECKER = "demo-refund-officer", "demo-refund-officer-2"


def _seen(home: Home, audit: bool = False) -> dict[str, Any]:
    """The programme's applications and batches; with ``audit``, the audit chain is then
    verified in the same process (``certhall audit verify``'s check)."""
    seen: dict[str, Any] = home.json("refund-inspect", audit=audit)
    return seen


def _bank_return(path: Path, batch: dict[str, Any]) -> Path:
    lines = ["batch,line,application,amount_yuan,result,bank_reference,message"] + [
        f"{batch['number']},{line},{number},{amount},paid,BR{line},"
        for line, number, amount, _result in batch["items"]
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _results(batch: dict[str, Any]) -> list[str]:
    return [item[3] for item in batch["items"]]


def test_payouts_killed_mid_step_pay_once(demo_home: Home, tmp_path: Path) -> None:
    home = demo_home
    numbers = home.json("refund-prepare")
    out = tmp_path / "bank"
    out.mkdir()
    transfers = str(out / "transfers.csv")
    batch = ("refund", "batch", "--programme", "demo")
    approved = dict.fromkeys(numbers, "approved")
    batched = dict.fromkeys(numbers, "batched")

    # Killed with the first application batched: no batch, the applications still approved.
    home.kill_cli_at("refunds.batched_line", *batch)
    assert _seen(home, audit=True) == {"applications": approved, "batches": []}
    home.cli(*batch)
    (first,) = _seen(home)["batches"]
    assert first["state"] == "pending_release" and _results(first) == ["pending", "pending"]

    # Cancelled, killed with the first application given back: all of it undone.
    home.kill_at("refunds.batch_cancelled_line", "refund-cancel", first["number"], MAKER)
    seen = _seen(home, audit=True)
    assert seen == {"applications": batched, "batches": [first]}
    assert home.scenario("refund-cancel", first["number"], MAKER).strip() == "ok"
    seen = _seen(home, audit=True)
    assert seen["applications"] == approved
    assert (seen["batches"][0]["state"], _results(seen["batches"][0])) == (
        "cancelled",
        ["cancelled", "cancelled"],
    )

    # Batched again; the file is refused before release; released, killed before the commit:
    # still waiting, still refused.
    home.cli(*batch)
    made = _seen(home)["batches"][1]
    assert made["state"] == "pending_release" and made["count"] == 2
    file = ("refund", "batch-file", "--batch", made["number"], "--out", transfers)
    assert "复核放行后才能下载" in home.run(*CLI, *file, status=None).stderr
    home.kill_at("refunds.batch_released", "refund-release", made["number"], CHECKER)
    assert _seen(home)["batches"][1] == made
    assert "复核放行后才能下载" in home.run(*CLI, *file, status=None).stderr
    home.audit_verifies()
    assert home.scenario("refund-release", made["number"], CHECKER).strip() == "ok"
    made = _seen(home)["batches"][1]
    assert (made["state"], made["released_by"]) == ("released", CHECKER)
    assert _seen(home, audit=True)["applications"] == batched

    # The file killed beside its target, then before its rename: no file either time, nothing
    # changed; written whole the third time, as made.
    for point in ("output.settled", "output.committed"):
        home.kill_cli_at(point, *file)
        assert not Path(transfers).exists()
        assert _seen(home, audit=True)["batches"][1] == made
    assert "没有待拨付的申请" in home.run(*CLI, *batch, status=None).stderr
    home.cli(*file)
    data = Path(transfers).read_text(encoding="utf-8")
    body, checksum = data.rsplit("SHA256,", 1)
    assert hashlib.sha256(body.encode()).hexdigest() == checksum.strip() == made["sha256"]
    # Of the killed runs' temporary files nothing is left: only the file itself.
    assert [p.name for p in out.iterdir()] == ["transfers.csv"]

    # The bank's return file, killed after its first line was applied: the file is settled
    # whole or not at all, so nothing is paid.
    returned = str(_bank_return(tmp_path / "return.csv", made))
    settle = ("refund", "settle", "--programme", "demo", "--bank-return", returned)
    # Meanwhile, on PostgreSQL, the rest of the platform's audited operations go on: the lines'
    # events wait for the end of the file (audit.deferred), so the chain's head is not held.
    # (On SQLite the stopped transaction holds the one write lock of the database.)
    download = ("refund", "batch-file", "--batch", made["number"], "--out", str(tmp_path / "b"))
    meanwhile = (lambda: home.cli(*download)) if "CERTHALL_DATABASE_URL" in home.env else None
    home.kill_cli_at("refunds.settled_line", *settle, meanwhile=meanwhile)
    seen = _seen(home, audit=True)
    assert seen["applications"] == batched
    assert _results(seen["batches"][1]) == ["pending", "pending"]
    # Settled again: both paid, once; a third time changes nothing.
    assert "paid 2, failed 0, unchanged 0" in home.cli(*settle)
    assert "paid 0, failed 0, unchanged 2" in home.cli(*settle)
    seen = _seen(home, audit=True)
    assert seen["applications"] == dict.fromkeys(numbers, "paid")
    assert _results(seen["batches"][1]) == ["paid", "paid"]
    assert _results(seen["batches"][0]) == ["cancelled", "cancelled"]
