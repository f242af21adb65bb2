"""Kill it mid-step, money and the CA: a gateway's payment notification, a refund payout batch
and a revocation, each in a real process SIGKILLed at a named point, then checked.

The engine's crash points (``lifecycle.transition`` stops after its change and audit event,
before the caller's transaction commits) and ``ca.revoked`` (a revocation committed, its CRL
not yet signed). After each kill: nothing half-written (the order still pending and no
payment; no batch, no transfer file, the application still approved), the audit chain
intact, and the same step then completes once (the notification delivered again pays the
order once; the batch made again holds the application; the jobs' round publishes the CRL the
killed revocation never did). On SQLite, and on PostgreSQL when one answers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ukeys.test_crash import Home, homes

pytestmark = [pytest.mark.slow, pytest.mark.softhsm]


class MoneyHome(Home):
    SCENARIO = "tests.ukeys.crash_money_ca"

    def look(self, number: str = "-", refund: str = "-") -> dict[str, object]:
        return json.loads(self.scenario("inspect", number, refund))  # type: ignore[no-any-return]

    def verify_audit(self) -> None:
        self.run(sys.executable, "-m", "certhall.cli.main", "audit", "verify")


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MoneyHome]:
    yield from homes(request, tmp_path, MoneyHome)


def _demo_serial(home: Home) -> str:
    code = (
        "import django; django.setup();"
        "from certhall.ca.models import Certificate;"
        "print(Certificate.objects.get(profile='personal', status='valid').serial)"
    )
    return home.run(sys.executable, "-c", code).stdout.strip()


def test_money_and_revocation_killed_mid_step(home: MoneyHome, tmp_path: Path) -> None:
    home.cli("setup", "--demo")

    # The gateway's notification, killed after the order turned paid, before the commit.
    number = json.loads(home.scenario("prepare-order"))
    home.kill_at("state.order.paid", "notify", number)
    seen = home.look(number)
    assert (seen["order"], seen["payments"]) == ("pending", 0), seen
    assert seen["application"] == "awaiting_payment", seen
    home.verify_audit()
    assert home.scenario("notify", number).strip() == "success"  # the gateway retries
    home.scenario("notify", number)  # and again: nothing twice
    seen = home.look(number)
    assert (seen["order"], seen["payments"], seen["application"]) == ("paid", 1, "paid"), seen

    # The payout batch, killed with the first application batched and its file written.
    refund = json.loads(home.scenario("prepare-refund"))
    out = tmp_path / "batch.csv"
    batch = ("cli", "refund", "batch", "--programme", "demo", "--out", str(out))
    home.kill_at("state.refund_application.batched", *batch)
    seen = home.look(refund=refund)
    assert (seen["refund"], seen["batches"]) == ("approved", []), seen
    assert not out.exists()  # no transfer file for a batch that is not there
    home.verify_audit()
    home.scenario(*batch)
    seen = home.look(refund=refund)
    assert seen["refund"] == "batched" and len(seen["batches"]) == 1, seen  # type: ignore[arg-type]
    assert refund in out.read_text(encoding="utf-8")

    # A revocation, killed after its commit and before its CRL.
    serial = _demo_serial(home)
    before = home.look()
    home.kill_at("ca.revoked", "cli", "ca", "revoke", serial, "--reason", "keyCompromise")
    seen = home.look()
    assert seen["crl_number"] == before["crl_number"], seen
    assert serial not in seen["crl_serials"], seen  # type: ignore[operator]
    home.verify_audit()
    home.cli("jobs")  # one round
    seen = home.look()
    assert serial in seen["crl_serials"], seen  # type: ignore[operator]
    home.verify_audit()
