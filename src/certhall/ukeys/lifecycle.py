"""The Ukey lifecycle: states and the one table of allowed transitions.

Modelled on Dogtag TPS's token states (``tokendb.allowedTransitions``)::

    in_stock --> issued <--> locked
        |          |           |
        |          +-> lost <--+---> retired
        +--------> damaged <---+---> retired

* ``in_stock`` (库存): formatted, SO PIN sealed, nobody holds it;
* ``issued`` (已发放): a certificate was issued onto it and it was handed over;
* ``locked`` (已锁定): the holder's PIN is locked (reported at the counter);
* ``lost`` / ``damaged`` (已遗失 / 已损坏): reported; media replacement follows;
* ``retired`` (已注销): out of service for good, its certificates revoked.

``in_stock -> damaged`` is there for faulty stock. Everything not in the table is refused.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from django.db import models

from certhall.lifecycle import Lifecycle

if TYPE_CHECKING:
    from certhall.ukeys.models import Ukey


class Status(models.TextChoices):
    IN_STOCK = "in_stock", "库存"
    ISSUED = "issued", "已发放"
    LOCKED = "locked", "已锁定"
    LOST = "lost", "已遗失"
    DAMAGED = "damaged", "已损坏"
    RETIRED = "retired", "已注销"


#: A Ukey's pill (web/site.css ``.state`` levels): in stock, with its holder, out of use.
TONES: dict[str, str] = {
    Status.IN_STOCK: "info",
    Status.ISSUED: "ok",
    Status.LOCKED: "error",
    Status.LOST: "error",
    Status.DAMAGED: "error",
    Status.RETIRED: "closed",
}

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.IN_STOCK: frozenset({Status.ISSUED, Status.DAMAGED}),
    Status.ISSUED: frozenset({Status.LOCKED, Status.LOST, Status.DAMAGED}),
    Status.LOCKED: frozenset({Status.ISSUED, Status.LOST, Status.DAMAGED}),
    Status.LOST: frozenset({Status.RETIRED}),
    Status.DAMAGED: frozenset({Status.RETIRED}),
    Status.RETIRED: frozenset(),
}

#: The audit action of each target state.
ACTIONS: dict[str, str] = {
    Status.ISSUED: "ukey.issue",
    Status.LOCKED: "ukey.lock",
    Status.LOST: "ukey.lost",
    Status.DAMAGED: "ukey.damaged",
    Status.RETIRED: "ukey.retire",
    Status.IN_STOCK: "ukey.stock",
}


UKEYS: Lifecycle[Ukey] = Lifecycle(
    kind="ukey",
    model="ukeys.Ukey",
    states=Status,
    table=TRANSITIONS,
    state_field="status",
    noun="Ukey",
    key=attrgetter("serial"),
    refused="ukey_transition",
    changed="ukey_changed",
    actions=ACTIONS,
    snapshot=lambda ukey: ukey.snapshot(),
    touch="updated_at",
)
