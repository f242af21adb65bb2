"""Kill it mid-step: the refund programme's payouts. ``certhall refund batch`` and ``certhall
refund settle`` SIGKILLed between two of their effects (``certhall.crashpoints``), in the shared
demo home; then the applications, the batches, the transfer file (none that pays what the
database does not hold, none left half-made), ``certhall audit verify``, and the run that
finishes the work. Nothing is paid twice.

Points: ``output.settled`` (the transfer file on the disk beside its target, the batch not yet
committed), ``output.committed`` (the batch committed, the file not yet renamed into place),
``refunds.settled_line`` (a bank return file's first line applied, its transaction open)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import CLI, Home

pytestmark = [pytest.mark.slow, pytest.mark.softhsm]


def _seen(home: Home) -> dict[str, Any]:
    seen: dict[str, Any] = home.json("refund-inspect")
    return seen


def _bank_return(path: Path, batch: dict[str, Any]) -> Path:
    lines = ["batch,line,application,amount_yuan,result,bank_reference,message"] + [
        f"{batch['number']},{line},{number},{amount},paid,BR{line},"
        for line, number, amount, _result in batch["items"]
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_payouts_killed_mid_step_pay_once(demo_home: Home, tmp_path: Path) -> None:
    home = demo_home
    numbers = home.json("refund-prepare")
    out = tmp_path / "bank"
    out.mkdir()
    transfers = str(out / "transfers.csv")
    batch = ("refund", "batch", "--programme", "demo", "--out", transfers)
    approved = dict.fromkeys(numbers, "approved")

    # Killed with the transfer file written beside its target, the batch not committed: no
    # batch, the applications still approved, no transfer file.
    home.kill_cli_at("output.settled", *batch)
    assert _seen(home) == {"applications": approved, "batches": []}
    assert not Path(transfers).exists()
    home.audit_verifies()

    # Killed with the batch committed, the file not yet in place: the batch holds both.
    home.kill_cli_at("output.committed", *batch)
    seen = _seen(home)
    (made,) = seen["batches"]
    assert seen["applications"] == dict.fromkeys(numbers, "batched")
    assert made["count"] == 2 and [i[3] for i in made["items"]] == ["pending", "pending"]
    assert not Path(transfers).exists()
    home.audit_verifies()
    # Running the batch again batches nothing twice; the batch's file is written again, as made.
    assert "没有待拨付的申请" in home.run(*CLI, *batch, status=None).stderr
    home.cli("refund", "batch-file", "--batch", made["number"], "--out", transfers)
    data = Path(transfers).read_text(encoding="utf-8")
    body, checksum = data.rsplit("SHA256,", 1)
    assert hashlib.sha256(body.encode()).hexdigest() == checksum.strip() == made["sha256"]
    # Of the two killed runs' temporary files nothing is left: only the file itself.
    assert [p.name for p in out.iterdir()] == ["transfers.csv"]
    assert _seen(home)["batches"] == [made]

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
    seen = _seen(home)
    assert seen["applications"] == dict.fromkeys(numbers, "batched")
    assert [i[3] for i in seen["batches"][0]["items"]] == ["pending", "pending"]
    home.audit_verifies()
    # Settled again: both paid, once; a third time changes nothing.
    assert "paid 2, failed 0, unchanged 0" in home.cli(*settle)
    assert "paid 0, failed 0, unchanged 2" in home.cli(*settle)
    seen = _seen(home)
    assert seen["applications"] == dict.fromkeys(numbers, "paid")
    assert [i[3] for i in seen["batches"][0]["items"]] == ["paid", "paid"]
    home.audit_verifies()
