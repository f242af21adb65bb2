"""Kill it mid-step: issuance onto a stock Ukey, SIGKILLed at every step, then recovered.

A real instance home (a copy of the worker's ``certhall setup --demo`` home: CA, accounts,
SoftHSM stock Ukeys), a real process issuing an approved application, stopped at a crash point
and killed with SIGKILL; then ``certhall ukeys recover``. After each kill: no certificate the
registry does not hold (one that was signed is revoked, ``cessationOfOperation``), nothing left
on the token, the Ukey back in stock, the application approved again, the audit chain intact
(``certhall audit verify``'s check, in the process that looks); and the same application is
then issued cleanly onto the same Ukey. On SQLite, and on PostgreSQL when one answers
(``CERTHALL_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import CLI, Home

pytestmark = [pytest.mark.slow, pytest.mark.softhsm]

POINTS = ["hall.issuing", "ukey.begun", "ukey.key_made", "ukey.signed", "ukey.written"]
SIGNED = {"ukey.signed", "ukey.written"}


def _inspect(home: Home, number: str, serial: str, audit: bool = False) -> dict[str, object]:
    """What the registry, the Ukey and its token hold; with ``audit``, the audit chain is then
    verified in the same process (``certhall audit verify``'s check)."""
    seen: dict[str, object] = home.json("inspect", number, serial, audit=audit)
    return seen


@pytest.fixture(params=["sqlite", "postgresql"])
def home(request: pytest.FixtureRequest, tmp_path: Path, demo_templates: Any) -> Iterator[Home]:
    """A home of its own: a copy of the worker's ``certhall setup --demo`` home."""
    with demo_templates.copy(
        request.param, tmp_path / "home", "tests.ukeys.crash_scenario"
    ) as home:
        yield home


def test_a_look_that_verifies_the_audit_chain_fails_on_a_broken_one(
    tmp_path: Path, demo_templates: Any
) -> None:
    """``audit=True`` (the tests' check of the chain after each kill, in the process that looks)
    fails where ``certhall audit verify`` does: an event changed behind the chain's back."""
    scenario = "tests.support.crash_scenario"
    with demo_templates.copy("sqlite", tmp_path / "home", scenario) as home:
        with sqlite3.connect(home.path / "certhall.sqlite3") as db:
            db.execute("DROP TRIGGER audit_event_no_update")
            db.execute("UPDATE audit_auditevent SET actor = 'someone-else' WHERE seq = 2")
        with pytest.raises(AssertionError, match="audit log broken at row 2"):
            home.scenario("events", "accounts.login", audit=True)
        assert "audit log broken at row 2" in home.run(*CLI, "audit", "verify", status=1).stderr


def test_a_forked_command_is_a_process_of_its_own(tmp_path: Path, demo_templates: Any) -> None:
    """The homes' ``python -m``/``-c`` commands are forked from a zygote that imported the
    project once (``tests.support.forked``): each still gets the run's own environment, exit
    status, stdout and stderr, and pid, and the zygote is kept per environment."""
    code = (
        "import os, sys; from certhall import config;"
        "print(os.getpid(), config.get().crash_pause or '-');"
        "print('err', file=sys.stderr); sys.exit(int(sys.argv[1]))"
    )
    with demo_templates.copy("sqlite", tmp_path / "home", "tests.ukeys.crash_scenario") as home:
        first = home.run(sys.executable, "-c", code, "3", status=3)
        second = home.run(sys.executable, "-c", code, "0", CERTHALL_CRASH_PAUSE="x.y")
        assert first.stdout.split()[1] == "-" and second.stdout.split()[1] == "x.y"
        assert first.stdout.split()[0] != second.stdout.split()[0]
        assert first.stderr == second.stderr == "err\n"
        assert len(home.zygotes or {}) == 1  # the crash point is read per run
        home.env["SOFTHSM2_CONF"] = str(tmp_path / "other.conf")
        home.run(sys.executable, "-c", code, "0")
        assert len(home.zygotes or {}) == 2  # anything else: a zygote of its own
        zygotes = [zygote.process for zygote in (home.zygotes or {}).values()]
    assert all(process.returncode == 0 for process in zygotes)  # ended with the home


def _stock_serial(home: Home) -> str:
    rows = home.run(
        sys.executable,
        "-c",
        "import django; django.setup();"
        "from certhall.ukeys.models import Ukey;"
        "print(Ukey.objects.filter(status='in_stock').order_by('pk').first().serial)",
    ).stdout
    return rows.strip()


def test_issuance_killed_at_every_step_is_recovered(home: Home) -> None:
    numbers = home.json("prepare", str(len(POINTS)))
    serial = _stock_serial(home)
    # the demo's own certificate (near expiry, for online renewal) is there from the start
    demo = {s for s, _, _ in _inspect(home, numbers[0], serial)["certificates"]}  # type: ignore[attr-defined]
    signed: set[str] = set(demo)
    for point, number in zip(POINTS, numbers, strict=True):
        home.kill_at(point, "issue", number, serial)
        before = _inspect(home, number, serial)
        assert before["state"] == "issuing", point
        home.cli("ukeys", "recover")
        after = _inspect(home, number, serial, audit=True)
        assert after["state"] == "approved", (point, after)
        assert after["ukey"] == "in_stock" and after["on_ukey"] == [], (point, after)
        assert after["on_token"] == {"keys": 0, "certificates": 0}, (point, after)
        assert after["open_writes"] == 0, (point, after)
        certificates = {
            serial_: (status, reason) for serial_, status, reason in after["certificates"]
        }  # type: ignore[attr-defined]
        new = set(certificates) - signed
        if point in SIGNED:  # registered before it reached the token, revoked on recovery
            assert len(new) == 1, (point, after)
            assert certificates[new.pop()] == ("revoked", "cessationOfOperation")
        else:
            assert not new, (point, after)
        signed = set(certificates)
    # The last interrupted application is issued cleanly onto the same Ukey afterwards.
    home.scenario("issue", numbers[-1], serial)
    done = _inspect(home, numbers[-1], serial, audit=True)
    assert done["state"] == "issued" and done["ukey"] == "issued", done
    (fresh,) = done["on_ukey"]  # type: ignore[misc]
    statuses = {
        s: status
        for s, status, _ in done["certificates"]  # type: ignore[attr-defined]
        if s not in demo
    }
    assert statuses[fresh] == "valid"
    assert sum(1 for status in statuses.values() if status == "valid") == 1


def _certificates(seen: dict[str, object]) -> dict[str, tuple[str, str]]:
    return {s: (status, reason) for s, status, reason in seen["certificates"]}  # type: ignore[attr-defined]


#: 介质补办 on one application, killed at each step in turn: the claim, the old Ukey's
#: revocation and retirement (``ukey.replaced``), then every step of issuance onto the new one.
REPLACE_POINTS = ["hall.issuing", "ukey.replaced", *POINTS[1:]]


def test_media_replacement_killed_at_every_step_is_recovered(home: Home) -> None:
    prepared = home.json("prepare-replace")
    number, target = prepared["number"], prepared["target"]
    serial = _stock_serial(home)
    signed = set(_certificates(_inspect(home, number, serial)))
    for index, point in enumerate(REPLACE_POINTS):
        home.kill_at(point, "issue", number, serial)
        assert _inspect(home, number, serial)["state"] == "issuing", point
        home.cli("ukeys", "recover")
        after = _inspect(home, number, serial, audit=True)
        assert after["state"] == "approved", (point, after)
        assert after["ukey"] == "in_stock" and after["on_ukey"] == [], (point, after)
        assert after["on_token"] == {"keys": 0, "certificates": 0}, (point, after)
        assert after["open_writes"] == 0, (point, after)
        certificates = _certificates(after)
        # The lost Ukey's certificate is revoked with the old Ukey retired in one step, and that
        # stays (the customer reported it lost); before that step both are untouched.
        replaced = index >= REPLACE_POINTS.index("ukey.replaced")
        assert certificates[target] == (
            ("revoked", "keyCompromise") if replaced else ("valid", "")
        ), point
        assert after["old_ukey"] == ["retired" if replaced else "issued", None], (point, after)
        new = set(certificates) - signed
        if point in SIGNED:  # registered before it reached the token, revoked on recovery
            assert len(new) == 1, (point, after)
            assert certificates[new.pop()] == ("revoked", "cessationOfOperation")
        else:
            assert not new, (point, after)
        signed = set(certificates)
    # Issued cleanly afterwards, onto the same new Ukey, and handed over at the counter.
    home.scenario("issue", number, serial)
    done = _inspect(home, number, serial, audit=True)
    assert done["state"] == "delivered" and done["ukey"] == "issued", done
    (fresh,) = done["on_ukey"]  # type: ignore[misc]
    certificates = _certificates(done)
    assert certificates[fresh] == ("valid", "")
    assert [s for s, (status, _) in certificates.items() if status == "valid"] == [fresh]
    assert done["old_ukey"] == ["retired", serial]


def test_replacing_a_ukey_lost_before_its_renewal_was_written_is_all_or_nothing(
    home: Home,
) -> None:
    """An online renewal issued and never written; the Ukey is lost and the counter's 介质补办
    of the renewed certificate is killed at each step. The Ukey's revocations, the renewal's
    end and its application's happen in one transaction (``ukey.replaced`` is after its
    commit): before it nothing, from it all; the replacement keeps the renewed end date."""
    started = home.json("prepare-renewal")
    renewal_number, old = started["number"], started["serial"]
    home.scenario("request-renewal", renewal_number)
    issued = home.json("inspect-renewal", renewal_number)
    assert (issued["state"], issued["renewals"]) == ("issued", ["issued"]), issued
    renewed = issued["result"]
    number = home.json("prepare-replace", renewed)["number"]
    serial = _stock_serial(home)
    for index, point in enumerate(REPLACE_POINTS):
        home.kill_at(point, "issue", number, serial)
        home.cli("ukeys", "recover")
        after = home.json("inspect-renewal", renewal_number, audit=True)
        replaced = index >= REPLACE_POINTS.index("ukey.replaced")
        expected = ("delivered", ["replaced"]) if replaced else ("issued", ["issued"])
        assert (after["state"], after["renewals"]) == expected, (point, after)
        certificates = _certificates(after)
        both = ("revoked", "keyCompromise") if replaced else ("valid", "")
        assert certificates[old] == both and certificates[renewed] == both, (point, after)
    home.scenario("issue", number, serial)
    done = _inspect(home, number, serial, audit=True)
    assert done["state"] == "delivered" and done["ukey"] == "issued", done
    (fresh,) = done["on_ukey"]  # type: ignore[misc]
    assert _certificates(done)[fresh] == ("valid", "")
    ends = done["ends"]
    assert ends[fresh] == ends[renewed] and ends[fresh] > ends[old], done  # type: ignore[index]


def test_a_renewal_killed_after_issuance_then_its_ukey_replaced_is_ended_by_recovery(
    home: Home,
) -> None:
    """The helper's request is killed after the CA issued the renewed certificate and before
    the application recorded it (still ``issuing``, its process gone); the Ukey is then lost and
    the counter's 介质补办 of the renewed certificate leaves that application to its issuing
    process's recovery, which ends it: delivered, as if the replacement had ended it itself."""
    started = home.json("prepare-renewal")
    renewal_number, old = started["number"], started["serial"]
    home.kill_at("renewal.issued", "request-renewal", renewal_number)
    killed = home.json("inspect-renewal", renewal_number)
    assert (killed["state"], killed["renewals"]) == ("issuing", ["issued"]), killed
    (renewed,) = set(_certificates(killed)) - {old}
    number = home.json("prepare-replace", renewed)["number"]
    home.scenario("issue", number, _stock_serial(home))
    replaced = home.json("inspect-renewal", renewal_number)
    assert (replaced["state"], replaced["renewals"]) == ("issuing", ["replaced"]), replaced
    home.cli("ukeys", "recover")
    after = home.json("inspect-renewal", renewal_number, audit=True)
    assert (after["state"], after["renewals"], after["result"]) == (
        "delivered",
        ["replaced"],
        renewed,
    ), after
    certificates = _certificates(after)
    assert certificates[old] == certificates[renewed] == ("revoked", "keyCompromise"), after


#: Online renewal (网上续期) killed at each step in turn, with the state the application is in
#: after recovery: the claim; the new certificate signed but not committed; committed but the
#: application not yet issued; the helper's confirmation recorded but the old certificate not
#: yet revoked; the old one revoked but the application not yet delivered.
RENEWAL_POINTS = [
    ("renewal.issuing", "approved", []),
    ("renewal.signed", "approved", ["requested"]),
    ("renewal.issued", "approved", ["issued"]),
    ("renewal.installed", "issued", ["installed"]),
    ("renewal.completed", "issued", ["completed"]),
]


def test_online_renewal_killed_at_every_step_is_recovered(home: Home) -> None:
    prepared = home.json("prepare-renewal")
    number, old = prepared["number"], prepared["serial"]
    new_key = f"renew-{old}"
    renewed: str | None = None
    for point, state, renewals in RENEWAL_POINTS:
        home.kill_at(point, "renew", number)
        home.cli("ukeys", "recover")
        after = home.json("inspect-renewal", number, audit=True)
        assert after["state"] == state and after["renewals"] == renewals, (point, after)
        certificates = _certificates(after)
        new = set(certificates) - {old}
        # Never more than one new certificate, and none the registry does not hold: the one
        # signed in the killed transaction never left that process.
        if point in ("renewal.issuing", "renewal.signed"):
            assert not new, (point, after)
        else:
            (serial,) = new
            assert renewed in (None, serial), (point, after)  # a retry gets the same one
            renewed = serial
            assert certificates[serial] == ("valid", ""), (point, after)
        # The customer always holds a working certificate: the old one stays valid until the
        # new one is on the Ukey; the new key stays on the Ukey for the retry.
        completed = point == "renewal.completed"
        assert certificates[old] == (("revoked", "superseded") if completed else ("valid", ""))
        assert new_key in after["keys"] and old in after["on_token"], (point, after)
        installed = point in ("renewal.installed", "renewal.completed")
        assert (renewed in after["on_token"]) is installed, (point, after)
    # The helper's retry finishes it: delivered, the old certificate and key gone from the Ukey.
    home.scenario("renew", number)
    done = home.json("inspect-renewal", number, audit=True)
    assert done["state"] == "delivered" and done["renewals"] == ["completed"], done
    assert _certificates(done) == {old: ("revoked", "superseded"), renewed: ("valid", "")}
    assert done["result"] == renewed
    assert done["keys"] == [new_key] and done["on_token"] == [renewed], done


def test_an_unlock_killed_at_every_step_is_done_by_the_next(home: Home) -> None:
    """解锁 at the counter killed after its written-ahead event (the token untouched) and after
    the token's reset (a new PIN nobody was sent, the Ukey's record not yet written): the chain
    holds the SO PIN's use either way, no SMS went out, and the clerk's next unlock sends a PIN
    that logs in (to be changed first), the counter full again."""
    fresh = [False, 6, True]  # not locked, six tries, to be changed (set by the SO)
    before = home.json("inspect-unlock")
    assert (before["ukey"], before["events"], before["sms"]) == ("issued", [], 0), before
    assert (before["pin"], before["first_pin"]) == (fresh, "pin_must_change"), before
    home.kill_at("ukey.unlock_begun", "unlock")
    after = home.json("inspect-unlock", audit=True)
    assert (after["events"], after["sms"]) == (["ukey.unlock.begin"], 0), after
    assert (after["pin"], after["first_pin"]) == (fresh, "pin_must_change"), after  # untouched
    home.kill_at("ukey.pin_reset", "unlock")
    after = home.json("inspect-unlock", audit=True)
    assert (after["ukey"], after["events"], after["sms"]) == (
        "issued",
        ["ukey.unlock.begin"] * 2,
        0,
    ), after
    assert (after["pin"], after["first_pin"]) == (fresh, "wrong_pin"), after  # reset: unknown
    home.scenario("unlock")
    done = home.json("inspect-unlock", audit=True)
    assert done["events"] == ["ukey.unlock.begin"] * 3 + ["ukey.unlock"], done
    assert (done["ukey"], done["sms"], done["pin"]) == ("issued", 1, fresh), done
    assert (done["unlock_pin"], done["first_pin"]) == ("pin_must_change", "wrong_pin"), done


def test_putting_a_ukey_in_stock_killed_at_every_step_is_finished_by_recovery(
    home: Home,
) -> None:
    """入库 (``ukeys.prepare_stock``) killed after its write-ahead record (the token not yet
    formatted) and after the token's formatting (not yet recorded): recovery closes the first
    as abandoned and records the second in stock with its serial and the SO PIN written ahead,
    which then logs in as SO. Never a token no record holds; a second recovery changes nothing."""
    home.kill_at("ukey.stock_begun", "stock", "crash-begun")
    begun = home.json("inspect-stock", "crash-begun")
    assert (begun["token"], begun["ukeys"], begun["writes"]) == (None, [], [["open", None]]), begun
    home.kill_at("ukey.stock_formatted", "stock", "crash-formatted")
    formatted = home.json("inspect-stock", "crash-formatted")
    serial = formatted["token"]
    assert serial and formatted["ukeys"] == [] and formatted["writes"] == [["open", None]]
    assert formatted["unrecorded"] == [serial], formatted  # the one recovery will record
    assert home.cli("ukeys", "recover").splitlines() == [
        "abandoned: putting Ukey crash-begun in stock (no token of ours)",
        f"in stock: Ukey {serial} (crash-formatted)",
    ]
    begun = home.json("inspect-stock", "crash-begun", audit=True)
    assert (begun["token"], begun["ukeys"], begun["unrecorded"]) == (None, [], []), begun
    assert begun["writes"] == [["undone", None]], begun
    assert begun["events"] == [["ukey.stock.begin", "ok"], ["ukey.stock.abandon", "ok"]], begun
    formatted = home.json("inspect-stock", "crash-formatted", audit=True)
    assert formatted["ukeys"] == [[serial, "in_stock"]], formatted
    assert formatted["writes"] == [["done", serial]] and formatted["unrecorded"] == []
    assert formatted["events"] == [["ukey.stock.begin", "ok"], ["ukey.stock", "ok"]], formatted
    assert formatted["on_token"] == {"keys": 0, "certificates": 0}, formatted  # SO PIN opens it
    # Idempotent: nothing left to recover, nothing changed.
    assert home.cli("ukeys", "recover").strip() == "nothing to recover"
    assert home.json("inspect-stock", "crash-formatted", audit=True) == formatted
    assert home.json("inspect-stock", "crash-begun") == begun
    # The recovered Ukey is issued onto like any other; a clean 入库 closes its own record.
    (number,) = home.json("prepare", "1")
    home.scenario("issue", number, serial)
    done = _inspect(home, number, serial, audit=True)
    assert done["state"] == "issued" and done["ukey"] == "issued", done
    home.scenario("stock", "clean")
    clean = home.json("inspect-stock", "clean", audit=True)
    assert clean["ukeys"] == [[clean["token"], "in_stock"]] and clean["unrecorded"] == []
    assert clean["writes"] == [["done", clean["token"]]], clean


OPERATOR_SO_PIN = "operator-so-pin-1"
OPERATOR_PIN = "246810"


def test_token_init_killed_at_every_step_is_finished_by_recovery(
    home: Home, tmp_path: Path
) -> None:
    """``certhall token init`` (the operator's own SO PIN and user PIN) killed after its
    write-ahead record and after the token's formatting (not yet recorded), on the instance's
    Ukey store and on a store of the operator's (``--conf``). Before, nothing was written ahead:
    killed after formatting, the token had the operator's PINs and neither the inventory nor the
    audit chain said so. Now recovery closes the first as abandoned and records the formatted
    ones in stock, found where the record says they were made, with the operator's SO PIN
    sealed; both of the operator's PINs still open the token, which is empty; staff unlock it."""
    from certhall.tokens import write_softhsm_conf

    home.env.pop("SOFTHSM2_CONF", None)  # the default store: the instance's
    own = write_softhsm_conf(tmp_path / "operator" / "tokens", tmp_path / "operator" / "h.conf")
    pins = ("--so-pin", OPERATOR_SO_PIN, "--pin", OPERATOR_PIN)
    home.kill_cli_at("ukey.stock_begun", "token", "init", "--label", "init-begun", *pins)
    home.kill_cli_at("ukey.stock_formatted", "token", "init", "--label", "init-formatted", *pins)
    home.kill_cli_at(
        "ukey.stock_formatted", "token", "init", "--conf", str(own), "--label", "init-own", *pins
    )
    looks = {
        "init-begun": ("init-begun",),
        "init-formatted": ("init-formatted", "", OPERATOR_SO_PIN, OPERATOR_PIN),
        "init-own": ("init-own", str(own), OPERATOR_SO_PIN, OPERATOR_PIN),
    }
    begun = home.json("inspect-stock", *looks["init-begun"])
    assert (begun["token"], begun["ukeys"], begun["writes"]) == (None, [], [["open", None]]), begun
    serials = {}
    for label in ("init-formatted", "init-own"):
        killed = home.json("inspect-stock", *looks[label])
        serials[label] = serial = killed["token"]
        assert serial and killed["ukeys"] == [] and killed["writes"] == [["open", None]], killed
        assert killed["unrecorded"] == [serial], killed  # formatted, and nothing holds it...
        assert killed["events"] == [["ukey.stock.begin", "ok"]], killed  # ...but the record
    assert home.json("inspect-stock", *looks["init-own"])["store"] == [["", str(own.resolve())]]
    assert sorted(home.cli("ukeys", "recover").splitlines()) == sorted(
        [
            "abandoned: putting Ukey init-begun in stock (no token of ours)",
            f"in stock: Ukey {serials['init-formatted']} (init-formatted)",
            f"in stock: Ukey {serials['init-own']} (init-own)",
        ]
    )
    begun = home.json("inspect-stock", *looks["init-begun"], audit=True)
    assert (begun["token"], begun["ukeys"], begun["writes"]) == (None, [], [["undone", None]])
    assert begun["events"] == [["ukey.stock.begin", "ok"], ["ukey.stock.abandon", "ok"]], begun
    for label, serial in serials.items():
        after = home.json("inspect-stock", *looks[label], audit=True)
        assert after["ukeys"] == [[serial, "in_stock"]], (label, after)
        assert after["writes"] == [["done", serial]] and after["unrecorded"] == [], (label, after)
        assert after["events"] == [["ukey.stock.begin", "ok"], ["ukey.stock", "ok"]], after
        assert after["pins"] == {"user": "ok", "so": "ok", "sealed": True}, (label, after)
        assert after["on_token"] == {"keys": 0, "certificates": 0}, (label, after)
    assert home.cli("ukeys", "recover").strip() == "nothing to recover"
    # The recovered tokens are the inventory's: staff unlock them with the sealed SO PIN.
    out = home.cli("token", "unlock", "--conf", str(own), "--label", "init-own", "--new-pin",
                   "135790")  # fmt: skip
    assert f"(Ukey {serials['init-own']}) unlocked" in out
    out = home.cli("token", "unlock", "--label", "init-formatted", "--new-pin", "135790")
    assert f"(Ukey {serials['init-formatted']}) unlocked" in out
    home.audit_verifies()
