"""Django's database sessions, with the row every request reads fetched by a prepared statement
(``certhall.reads``: the ORM's compile of the lookup was most of its 0.47 ms of CPU)."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session

from certhall import clock
from certhall.reads import Prepared

_SESSION = Prepared(
    lambda key: Session.objects.filter(session_key=key), fields=("session_data", "expire_date")
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        row = _SESSION.first(key) if key else None
        if row is None or row.expire_date <= clock.now():  # an expired row is no session
            self._session_key = None
            return None
        return row
