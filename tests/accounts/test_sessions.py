"""The session row and the session's user, read by prepared statements on every request: a
session lives until its expiry to the second, a deactivated or deleted user is logged out, and
the pages see the user the session names."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

from certhall.accounts import timeout
from certhall.accounts.backends import BACKEND
from certhall.accounts.models import User
from certhall.accounts.sessions import SessionStore
from tests.accounts.conftest import Clock


def test_the_one_backend_is_what_login_records(registered: User) -> None:
    assert settings.AUTHENTICATION_BACKENDS == [BACKEND]
    client = Client()
    client.force_login(registered)
    assert client.get("/accounts/profile/").status_code == 200
    assert SessionStore(client.session.session_key)[SESSION_KEY] == str(registered.pk)


def test_a_session_ends_at_its_expiry(registered: User, clock: Clock) -> None:
    client = Client()
    client.force_login(registered)
    key = client.session.session_key
    stored = SessionStore(key)
    stored[timeout.IDLE] = 24 * 3600  # the row's own expiry alone (idle ends: test_session_timeout)
    stored.save()
    expiry = Session.objects.get(session_key=key).expire_date
    clock.advance((expiry - clock.now()).total_seconds() - 1)
    assert SessionStore(key).load() != {}  # (a request now would write it again, further on)
    clock.advance(1)  # the second of the expiry: no session any more
    assert SessionStore(key).load() == {}
    assert client.get("/accounts/profile/").status_code == 302


def test_a_deactivated_or_unknown_user_is_logged_out(registered: User) -> None:
    client = Client()
    client.force_login(registered)
    User.objects.filter(pk=registered.pk).update(is_active=False)
    assert client.get("/accounts/profile/").status_code == 302
    User.objects.filter(pk=registered.pk).update(is_active=True)
    client.force_login(registered)
    session = SessionStore(client.session.session_key)
    session[SESSION_KEY] = str(registered.pk + 1000)  # a user that does not exist
    session.save()
    assert client.get("/accounts/profile/").status_code == 302


def test_an_unknown_session_key_is_no_session(db: None) -> None:
    assert SessionStore("x" * 32).load() == {}
