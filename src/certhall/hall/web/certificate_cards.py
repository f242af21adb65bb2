"""我的证书's cards: what a customer may do with each of the organisation's certificates.

Each card offers the businesses the rules allow for its certificate now (``hall.items.
offered``), each a link to where it starts (``applicant_base.business_start``): 在线续期 in the
hall with the serial filled in, the others at a counter through their 办事指南 naming the
certificate. A certificate in an open application offers nothing else (a second one would be
refused, ``items._check_combination``): the card shows that application's state and its next
step instead, an online 续期 under way among them (docs/hall.md, "我的证书: every business
from its card").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from certhall.ca.models import Certificate
from certhall.hall import items
from certhall.hall.models import Business
from certhall.hall.web.applicant_base import business_start, row
from certhall.rules import Catalog, default_catalog


@dataclass(frozen=True)
class Action:
    business: str
    label: str
    url: str
    online: bool


def actions(cert: Certificate, at: datetime, catalog: Catalog) -> list[Action]:
    """The card's links, one per business the rules allow for ``cert`` at ``at``."""
    found = []
    for offer in items.offered(cert, at, catalog):
        business = offer.business
        on_this = business != Business.NEW  # 新办 makes another certificate of its type
        found.append(
            Action(
                business=business.value,
                label=f"在线{business.label}" if offer.online else str(business.label),
                url=business_start(
                    business.value,
                    online=offer.online,
                    serial=cert.serial if on_this else "",
                    cert_type=cert.profile,
                ),
                online=offer.online,
            )
        )
    return found


def cards(
    certificates: list[Certificate], unwritten: Mapping[str, object], at: datetime
) -> dict[str, dict[str, Any]]:
    """Serial -> what its card offers: ``open`` (the row of the open application it is in, as
    我的申请 shows it) or ``actions``. A certificate with its part in an online renewal issued
    and not written to the Ukey (``unwritten``) offers neither: its card says what to do."""
    catalog = default_catalog()
    lines = (
        items.open_lines(certificates)
        .select_related("application")
        .prefetch_related("application__items__application")
    )
    open_ones = {line.target_certificate_id: line.application for line in lines}
    found: dict[str, dict[str, Any]] = {}
    for cert in certificates:
        card: dict[str, Any] = {"open": None, "actions": []}
        if cert.serial in unwritten:
            pass  # the page says what to do with the renewal issued and not written
        elif (application := open_ones.get(cert.pk)) is not None:
            card["open"] = row(application)
            card["open_businesses"] = "、".join(
                dict.fromkeys(Business(line.business).label for line in application.items.all())
            )
        else:
            card["actions"] = actions(cert, at, catalog)
        # the page's two rows: in the hall, then at a counter (said once, not on each button)
        card["online"] = [a for a in card["actions"] if a.online]
        card["onsite"] = [a for a in card["actions"] if not a.online]
        found[cert.serial] = card
    return found
