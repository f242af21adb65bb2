"""Portal fixtures: a frozen clock, an editor, the seeds' content indexed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from certhall.accounts.models import Role, User
from certhall.portal import indexing, seed

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def editor(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK)


@pytest.fixture
def seeded(clock: time_machine.Coordinates, admin: User) -> User:
    """The seeds' notices, questions and entries, and the index built over them."""
    seed.seed_demo(admin)
    indexing.reindex_all()
    return admin
