"""The one lifecycle engine: every state machine of the platform is a :class:`Lifecycle` table.

A lifecycle names a model, its state field, the allowed transitions and what a change records.
:func:`transition` is the only place a state changes:

1. the table is checked (refused: :class:`~certhall.errors.Conflict` with the lifecycle's
   ``refused`` code, naming the current state and where it can go);
2. a conditional UPDATE changes the row only if its state is still the one read (two clerks at
   once: one change and one :class:`LostRace`, a Conflict with the ``changed`` code);
3. the object is refreshed and, when the lifecycle audits, one event records actor, action,
   before and after in the hash-chained audit log.

It insists on running inside a transaction, so the change, its side effects and its audit event
commit together or not at all. ``tests/test_lifecycle.py`` walks every pair of every table.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.apps import apps
from django.db import connection, models

from certhall import clock
from certhall.errors import Conflict
from certhall.messages import text

M = TypeVar("M", bound=models.Model)

#: Every lifecycle, by kind: what the exhaustive test walks.
LIFECYCLES: dict[str, Lifecycle[Any]] = {}


class LostRace(Conflict):
    """Someone else changed the state between the read and the UPDATE."""


def _no_snapshot(obj: models.Model) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, eq=False)
class Lifecycle[M: models.Model]:
    """One state machine.

    ``kind`` is the audit object type and the registry key; ``noun`` and ``key`` name the object
    in refusals (申请 SQ20261203-000001); ``actions`` gives the audit action of each target state
    (a lifecycle without actions does not audit: SMS codes, whose use is audited by the caller);
    ``touch`` names a timestamp field set to now on every change.
    """

    kind: str
    model: str
    states: type[models.TextChoices]
    table: Mapping[str, frozenset[str]]
    noun: str
    key: Callable[[M], str]
    refused: str
    changed: str
    state_field: str = "state"
    actions: Mapping[str, str] = field(default_factory=dict)
    snapshot: Callable[[M], dict[str, Any]] = _no_snapshot
    touch: str | None = None

    def __post_init__(self) -> None:
        values = {str(s) for s in self.states}
        if set(self.table) != values or not all(t <= values for t in self.table.values()):
            raise ValueError(f"lifecycle {self.kind}: the table must cover exactly its states")
        if self.kind in LIFECYCLES:
            raise ValueError(f"lifecycle {self.kind} defined twice")
        LIFECYCLES[self.kind] = self

    @property
    def model_class(self) -> type[M]:
        return apps.get_model(self.model)

    def allowed(self, current: str, target: str) -> bool:
        return str(target) in self.table[str(current)]

    def label(self, state: str) -> str:
        return str(self.states(state).label)

    def next_states(self, current: str) -> list[str]:
        """Where ``current`` can go, in the order the states are declared."""
        options = self.table[str(current)]
        return [str(s) for s in self.states if str(s) in options]

    def refusal(self, obj: M, target: str, *, code: str | None = None) -> Conflict:
        """The Conflict for a change the table does not allow (also for guards in services
        that refuse a change the table would allow, with their own ``code``)."""
        current = getattr(obj, self.state_field)
        possible = "、".join(self.label(s) for s in self.next_states(current))
        return Conflict(
            code=code or self.refused,
            noun=self.noun,
            key=self.key(obj),
            current=self.label(current),
            target=self.label(target),
            possible=possible,
            onward=text("lifecycle_onward", possible=possible)
            if possible
            else text("lifecycle_onward.final"),
        )


def transition[M: models.Model](
    actor: Any,
    lifecycle: Lifecycle[M],
    obj: M,
    target: str,
    *,
    action: str | None = None,
    reason: str | None = None,
    fields: Mapping[str, object] | None = None,
    extra_before: Mapping[str, object] | None = None,
    extra_after: Mapping[str, object] | None = None,
    only_from: Collection[str] | None = None,
) -> M:
    """Move ``obj`` to ``target`` if ``lifecycle`` allows it from the state it was read in.

    The caller holds the transaction. ``action`` overrides the lifecycle's action for this
    target; ``reason`` (when given) and ``extra_after`` go into the audit event's ``after``,
    ``extra_before`` into its ``before``. ``only_from`` narrows the table to the states this
    action starts from, where a target has several ways in with their own guards (a refund is
    approved from review by an officer, or again from a failed payout by correcting the account:
    the one must not pass for the other).
    """
    if not connection.in_atomic_block:
        raise RuntimeError(f"{lifecycle.kind}: a state change must run inside transaction.atomic()")
    name = lifecycle.state_field
    current = getattr(obj, name)
    if not lifecycle.allowed(current, target) or (
        only_from is not None and str(current) not in only_from
    ):
        raise lifecycle.refusal(obj, target)
    before = lifecycle.snapshot(obj)
    update: dict[str, object] = {name: target, **(fields or {})}
    if lifecycle.touch:
        update.setdefault(lifecycle.touch, clock.now())
    changed = type(obj)._default_manager.filter(pk=obj.pk, **{name: current}).update(**update)
    obj.refresh_from_db()
    if not changed:
        raise LostRace(
            code=lifecycle.changed,
            noun=lifecycle.noun,
            key=lifecycle.key(obj),
            current=lifecycle.label(getattr(obj, name)),
        )
    event = action or lifecycle.actions.get(str(target))
    if event:
        from certhall.audit import services as audit

        after = lifecycle.snapshot(obj)
        if reason is not None:
            after["reason"] = reason
        audit.record(
            actor,
            event,
            object_type=lifecycle.kind,
            object_id=lifecycle.key(obj),
            before={**before, **(extra_before or {})},
            after={**after, **(extra_after or {})},
        )
    return obj
