"""Whether an application needs the handler's real-name check (实名核验), and whether it passed.

What the documents' completeness (``hall.documents.missing``) and the check's own steps
(``hall.identity``, which stores its photos through ``hall.documents``) both read: here, below
both, so that neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterable

from certhall.hall import liveness
from certhall.hall.models import Application, Business, Channel, Document, IdentityCheck

State = IdentityCheck.State
#: The two photos of the handler's ID card, by side: their document kinds.
SIDES = {"front": "handler_id_front", "back": "handler_id_back"}


def applies(application: Application, lines: Iterable[object]) -> bool:
    """An online 新办 has the handler's real-name check (the seed's online steps)."""
    return application.channel == Channel.ONLINE and any(
        getattr(line, "business", None) == Business.NEW for line in lines
    )


def needed(application: Application, lines: Iterable[object]) -> bool:
    """The check applies and can be made. Without a liveness provider the hall does not stop:
    the photos are uploaded with the other documents and the reviewer sees that nobody
    checked them (the original ID is then checked when the Ukey is handed over)."""
    return applies(application, lines) and liveness.available()


def verified(
    application: Application,
    current: dict[str, Document],
    checks: Iterable[IdentityCheck] | None = None,
) -> bool:
    """A passed check of exactly the current photos (new photos need a new check); from
    ``checks`` when given, else one query."""
    front, back = current.get(SIDES["front"]), current.get(SIDES["back"])
    if front is None or back is None:
        return False
    photos = {"front_sha256": front.sha256, "back_sha256": back.sha256}
    if checks is not None:
        return any(
            c.state == State.PASSED
            and c.front_sha256 == front.sha256
            and c.back_sha256 == back.sha256
            for c in checks
        )
    return application.identity_checks.filter(state=State.PASSED, **photos).exists()
