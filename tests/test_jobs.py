"""The scheduled jobs run once per slot across every process on the database (certhall.jobs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from certhall import jobs
from certhall.ca.models import JobRound

NOW = datetime(2026, 12, 3, 10, 0, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    """The clock at NOW: a round's end and the pruning read the clock, not the slot's time
    (these tests failed once the real date was two days past NOW)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(jobs, "run_due_jobs", lambda: calls.append(1))
    return calls


@pytest.mark.django_db
def test_a_slot_runs_once_and_the_next_slot_runs_again(ran: list[int]) -> None:
    first = jobs.run_round(NOW)
    assert first is not None and first.slot == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert jobs.run_round(NOW + timedelta(seconds=20)) is None  # same minute: taken
    assert jobs.run_round(NOW + timedelta(seconds=40)) is not None  # the next minute
    assert len(ran) == 2
    assert JobRound.objects.filter(finished_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_running_round_holds_the_next_slot_until_it_is_stale(ran: list[int]) -> None:
    JobRound.objects.create(slot=NOW - timedelta(minutes=1), host="a", pid=1, started_at=NOW)
    assert jobs.run_round(NOW + timedelta(minutes=1)) is None
    assert jobs.run_round(NOW + jobs.STALE_ROUND + timedelta(minutes=1)) is not None
    assert len(ran) == 1


@pytest.mark.django_db
def test_a_failed_round_is_finished_and_does_not_block(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("CRL signing failed")

    monkeypatch.setattr(jobs, "run_due_jobs", broken)
    with pytest.raises(RuntimeError):
        jobs.run_round(NOW)
    assert JobRound.objects.get().finished_at is not None
    monkeypatch.setattr(jobs, "run_due_jobs", lambda: None)
    assert jobs.run_round(NOW + timedelta(minutes=1)) is not None


@pytest.mark.django_db
def test_old_rounds_are_pruned(ran: list[int]) -> None:
    JobRound.objects.create(
        slot=NOW - timedelta(days=3), host="a", pid=1, started_at=NOW - timedelta(days=3)
    )
    jobs.run_round(NOW)
    assert list(JobRound.objects.values_list("slot", flat=True)) == [
        datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    ]


@pytest.mark.django_db
def test_the_missing_calendar_is_logged_once_a_day(caplog: pytest.LogCaptureFixture) -> None:
    """Every round (a minute) logged it: make run's console was one warning a minute."""
    from datetime import date

    jobs._calendar_warned.clear()
    with caplog.at_level("WARNING", logger="certhall.jobs"):
        for _ in range(3):
            jobs.warn_calendar(date(2026, 12, 5))
        jobs.warn_calendar(date(2026, 12, 6))
    warned = [r for r in caplog.records if "2027年节假日安排尚未导入" in r.getMessage()]
    assert len(warned) == 2
