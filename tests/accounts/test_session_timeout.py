"""Sessions end after a while without a request (30 minutes for CA staff, 2 hours for an
enterprise) and 12 hours after the login whatever happens; the last request is noted at most
once a minute; a page then asks for a login with a notice, the API answers 401."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client

from certhall.accounts.models import Role, User
from certhall.rules import SHANGHAI

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
MINUTE = timedelta(minutes=1)


def session_row_written(client: Client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


@pytest.mark.parametrize(("role", "idle"), [(Role.CLERK, 30), (Role.APPLICANT, 120)])
def test_idle_sessions_end(make_user: Callable[..., User], role: Role, idle: int) -> None:
    user = make_user(role)
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        client.force_login(user)
        assert client.get("/accounts/profile/").status_code == 200
        clock.shift(idle * MINUTE - timedelta(seconds=1))
        assert client.get("/accounts/profile/").status_code == 200  # and noted: seen again
        clock.shift(idle * MINUTE)
        assert client.get("/accounts/profile/").status_code == 200  # idle just under the limit
        clock.shift(idle * MINUTE + timedelta(seconds=1))
        ended = client.get("/accounts/profile/")
        assert ended.status_code == 302 and ended["Location"].startswith("/accounts/login/")
        login = client.get(ended["Location"]).content.decode()
        assert "为安全起见已退出登录" in login
        assert client.get("/api/accounts/me").status_code == 401


def test_every_session_ends_twelve_hours_after_its_login(make_user: Callable[..., User]) -> None:
    user = make_user(Role.APPLICANT)
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        client.force_login(user)
        for _ in range(12 * 60 // 100):  # busy all day, a request every 100 minutes
            clock.shift(100 * MINUTE)
            assert client.get("/api/accounts/me").status_code == 200
        clock.shift(12 * 60 * MINUTE - 12 * 60 // 100 * 100 * MINUTE + MINUTE)
        assert client.get("/api/accounts/me").status_code == 401


def test_the_last_request_is_written_once_a_minute(make_user: Callable[..., User]) -> None:
    """The session row is not rewritten on every request (the hall's pages read it on each)."""
    user = make_user(Role.CLERK)
    with time_machine.travel(START, tick=False) as clock:
        client = Client()
        client.force_login(user)
        client.get("/accounts/profile/")
        written = session_row_written(client)
        clock.shift(timedelta(seconds=59))
        client.get("/accounts/profile/")
        assert session_row_written(client) == written
        clock.shift(timedelta(seconds=2))
        client.get("/accounts/profile/")
        assert session_row_written(client) > written
