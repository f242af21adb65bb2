"""Payout: approved applications into bank transfer batches, and the bank's return file.

The transfer file (CSV, UTF-8)::

    batch,line,application,account_name,account_number,bank_name,amount_yuan
    PB20261203-000001,1,FH20261203-000004,深圳市某某有限公司,6222020200001234,某银行深圳分行,650.00
    ...
    TOTAL,PB20261203-000001,<count>,,,,<sum of amount_yuan>
    SHA256,<hex SHA-256 of every byte above this line>

The bank's return file (CSV, UTF-8, header line, more columns may follow)::

    batch,line,application,amount_yuan,result,bank_reference,message

``result`` is ``paid`` or ``failed``. A file is settled whole or not at all: it is read to the
end before any line is applied (a file the csv module cannot read is refused), then its lines
and the audit event are written in one transaction, which a refused line undoes (the report
names every refused line). Settling is idempotent: a line already settled with the
same result is *unchanged*, a different result for a settled line is refused. Nothing is ever
paid twice: an application is batched only from ``approved`` (a conditional UPDATE, so two
officers batching at once put it into one batch) and at most one pending or paid transfer per
application exists (a partial unique index). A failed one goes back to ``approved`` once an
officer corrected its account (``review.correct_account``) and is batched again.

A batch takes the oldest approved applications, at most ``CERTHALL_REFUND_BATCH_MAX_LINES``
(the bank's limit for one file); the rest wait for the next batch.

Maker-checker on the transfer file (``states.BATCHES``): a batch is made ``pending_release``;
a second refund officer, never its maker, releases it (:func:`release`), and only then is its
file downloaded (:func:`batch_file`) and its return file settled (a line naming a batch not
released is refused). Before release either officer may cancel it (:func:`cancel`): its
transfers end ``cancelled`` and its applications are ``approved`` again, in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum

from certhall import clock, config, crashpoints
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import CerthallError, Conflict, InvalidInput, NotFound, RuleViolation
from certhall.lifecycle import LostRace, transition
from certhall.messages import text
from certhall.pki import identity
from certhall.refunds import notices
from certhall.refunds.imports import Refusal, csv_rows
from certhall.refunds.models import PayoutBatch, PayoutItem, PayoutResult, RefundApplication
from certhall.refunds.records import get_programme
from certhall.refunds.states import APPLICATIONS, BATCHES, BatchState, State
from certhall.rules import local

HEADER = ["batch", "line", "application", "account_name", "account_number", "bank_name",
          "amount_yuan"]  # fmt: skip
RETURN_COLUMNS = ("batch", "line", "application", "amount_yuan", "result")


def _payout_actor(actor: User) -> None:
    """Refund officers, and the command line's system actor."""
    if not actor.is_system:
        require_role(actor, Role.REFUND_OFFICER)


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def render_file(batch_number: str, items: list[PayoutItem]) -> tuple[str, str]:
    """The transfer file and the SHA-256 of everything above its checksum line."""
    total = sum((item.amount for item in items), Decimal("0.00"))
    body = _csv(
        [HEADER]
        + [
            [
                batch_number,
                str(item.line),
                item.application.number,
                item.account_name,
                item.account_number,
                item.bank_name,
                f"{item.amount:.2f}",
            ]
            for item in items
        ]
        + [["TOTAL", batch_number, str(len(items)), "", "", "", f"{total:.2f}"]]
    )
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return body + _csv([["SHA256", digest]]), digest


@dataclass(frozen=True)
class Pending:
    """The approved applications of a programme waiting for a batch, and one batch's limit."""

    count: int
    total: Decimal
    batch_max: int


def pending(programme_slug: str) -> Pending:
    got = RefundApplication.objects.filter(
        programme__slug=programme_slug, state=State.APPROVED
    ).aggregate(count=Count("pk"), total=Sum("amount"))
    return Pending(
        got["count"], got["total"] or Decimal("0.00"), config.get().refund_batch_max_lines
    )


def create_batch(actor: User, programme_slug: str) -> PayoutBatch:
    """The programme's oldest approved applications, at most the bank's limit for one file,
    into one new batch (audited, a refusal too: nothing to batch, not an officer)."""
    with audit.refusals_recorded(
        actor, "refunds.batch.create", object_type="refund_programme", object_id=programme_slug
    ):
        return _create_batch(actor, programme_slug)


def _create_batch(actor: User, programme_slug: str) -> PayoutBatch:
    _payout_actor(actor)
    programme = get_programme(programme_slug)
    limit = config.get().refund_batch_max_lines
    now = clock.now()
    # The events of every line are written at the end (audit.deferred): the chain's lock, which
    # every audited operation of the platform takes, is held for one write, not the batch.
    with transaction.atomic(), audit.deferred():
        batch = PayoutBatch.objects.create(
            number=f"tmp-{secrets.token_hex(8)}",
            programme=programme,
            created_by=actor,
            created_at=now,
            count=0,
            total=Decimal("0.00"),
            sha256="",
            content="",
        )
        batch.number = f"PB{local(now):%Y%m%d}-{batch.pk:06d}"
        items: list[PayoutItem] = []
        candidates = RefundApplication.objects.filter(
            programme=programme, state=State.APPROVED
        ).order_by("pk")[:limit]  # one taken meanwhile by another officer's batch is skipped
        for application in candidates:
            try:  # a lost race raises before anything is written: no savepoint needed
                transition(
                    actor,
                    APPLICATIONS,
                    application,
                    State.BATCHED,
                    extra_after={"batch": batch.number},
                )
            except LostRace:
                continue  # another officer's batch took it
            items.append(
                PayoutItem.objects.create(
                    batch=batch,
                    line=len(items) + 1,
                    application=application,
                    amount=application.amount,
                    account_name=application.account_name,
                    account_number=application.account_number,
                    bank_name=application.bank_name,
                )
            )
            crashpoints.reached("refunds.batched_line")  # one batched, the batch not committed
        if not items:
            raise RuleViolation(code="refund_batch_empty")
        batch.content, batch.sha256 = render_file(batch.number, items)
        batch.count = len(items)
        batch.total = sum((i.amount for i in items), Decimal("0.00"))
        batch.save(update_fields=["number", "content", "sha256", "count", "total"])
        audit.record(
            actor,
            "refunds.batch.create",
            object_type="refund_batch",
            object_id=batch.number,
            after={
                "programme": programme.slug,
                "count": batch.count,
                "total": str(batch.total),
                "sha256": batch.sha256,
            },
        )
    return batch


@dataclass
class SettleReport:
    sha256: str
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "paid": self.paid,
            "failed": self.failed,
            "unchanged": self.unchanged,
            "refused": len(self.refused),
            "refusals": [r.as_json() for r in self.refused],
        }


class _LineRefused(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class _Undone(Exception):
    """Rolls back a file's lines when one of them was refused."""


def settle(actor: User, programme_slug: str, data: bytes) -> SettleReport:
    """Apply a bank return file whole or not at all: read to the end first (InvalidInput when
    it is not CSV, before anything changes), then every line under its transfer's row lock and
    the audit event in one transaction. A refused line undoes the others (the report counts
    nothing then, and names every refused line); settling the same file twice (or twice at
    once) changes nothing the second time."""
    sha256 = hashlib.sha256(data).hexdigest()
    # A file refused whole (not CSV, not UTF-8, the wrong columns) is audited as a line is.
    with audit.refusals_recorded(
        actor, "refunds.batch.settle", object_type="refund_programme", object_id=programme_slug
    ):
        _payout_actor(actor)
        programme = get_programme(programme_slug)
        rows = list(csv_rows(data, list(RETURN_COLUMNS), header_code="refund_bank_return_header"))
    report = SettleReport(sha256=sha256)
    with transaction.atomic():
        try:  # the lines' events written at the end, as create_batch's
            with transaction.atomic(), audit.deferred():
                _settle_lines(actor, programme.pk, rows, report)
                if report.refused:
                    raise _Undone
        except _Undone:
            report.paid = report.failed = report.unchanged = 0
        audit.record(
            actor,
            "refunds.batch.settle",
            object_type="refund_programme",
            object_id=programme.slug,
            after={k: v for k, v in report.as_json().items() if k != "refusals"},
            result=audit.REFUSED if report.refused else audit.OK,
        )
    return report


def batch_file(actor: User, number: str) -> PayoutBatch:
    """A released payout batch's transfer file, for the bank: it holds every account number in
    full, so each download is audited (with the file's hash), and so is a refused one."""
    with audit.refusals_recorded(
        actor, "refunds.batch.download", object_type="refund_batch", object_id=number[:24]
    ):
        _payout_actor(actor)
        batch = _batch(number)
        if batch.state != BatchState.RELEASED:
            raise Conflict(
                code="refund_batch_not_released",
                number=batch.number,
                state=BATCHES.label(batch.state),
            )
    audit.record(
        actor,
        "refunds.batch.download",
        object_type="refund_batch",
        object_id=batch.number,
        after={"sha256": batch.sha256, "count": batch.count},
    )
    return batch


def _batch(number: str, *, lock: bool = False) -> PayoutBatch:
    found = PayoutBatch.objects.select_for_update() if lock else PayoutBatch.objects
    batch = found.filter(number=number.strip()[:24]).first()
    if batch is None:
        raise NotFound(code="refund_batch_unknown", number=number[:24])
    return batch


@contextmanager
def _batch_step(actor: User, action: str, number: str) -> Iterator[PayoutBatch]:
    """A refund officer's step on a batch (release, cancel): the batch locked, the step, its
    events (at the end: ``audit.deferred``) in one transaction; a refusal audited as ``action``."""
    with audit.refusals_recorded(actor, action, object_type="refund_batch", object_id=number[:24]):
        require_role(actor, Role.REFUND_OFFICER)
        with transaction.atomic(), audit.deferred():
            yield _batch(number, lock=True)


def release(actor: User, number: str) -> PayoutBatch:
    """The second refund officer releases a batch to the bank: its file can be downloaded from
    now on. Its maker is refused (maker-checker), as is the command line's system actor (no
    person to be the second)."""
    with _batch_step(actor, "refunds.batch.release", number) as batch:
        if batch.state == BatchState.PENDING_RELEASE and batch.created_by_id == actor.pk:
            raise RuleViolation(code="refund_batch_same_officer", number=batch.number)
        released = transition(
            actor,
            BATCHES,
            batch,
            BatchState.RELEASED,
            fields={"released_by": actor, "released_at": clock.now()},
            extra_after={"created_by": batch.created_by.username},
        )
        crashpoints.reached("refunds.batch_released")  # released, not yet committed
    return released


def cancel(actor: User, number: str) -> PayoutBatch:
    """Either officer cancels a batch before its release: its transfers end ``cancelled`` and
    its applications are ``approved`` again (batched again by the next batch), the batch, its
    transfers, its applications and their events in one transaction."""
    with _batch_step(actor, "refunds.batch.cancel", number) as batch:
        cancelled = transition(
            actor,
            BATCHES,
            batch,
            BatchState.CANCELLED,
            fields={"cancelled_by": actor, "cancelled_at": clock.now()},
        )
        items = list(batch.items.select_related("application").order_by("line"))
        PayoutItem.objects.filter(batch=batch, result=PayoutResult.PENDING).update(
            result=PayoutResult.CANCELLED
        )
        for item in items:
            transition(
                actor,
                APPLICATIONS,
                item.application,
                State.APPROVED,
                action="refunds.application.unbatch",
                extra_after={"batch": batch.number},
                only_from={State.BATCHED},
            )
            crashpoints.reached("refunds.batch_cancelled_line")  # one given back, open
    return cancelled


def _settle_lines(
    actor: User,
    programme_id: int,
    rows: list[tuple[int, dict[str, str] | None]],
    report: SettleReport,
) -> None:
    items = _transfers(programme_id, rows)
    for line, row in rows:
        if row is not None and row["batch"].strip().upper() in ("TOTAL", "SHA256"):
            continue
        try:
            if row is None:
                raise _LineRefused("refund_bank_row_columns")
            outcome = _settle_line(actor, items, line, row)
        except _LineRefused as refused:
            message = text(refused.code, line=line, **refused.params)
            report.refused.append(Refusal(line, refused.code.removeprefix("refund_"), message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        crashpoints.reached("refunds.settled_line")  # one line settled, not yet committed


def _bounded(row: dict[str, str], column: str, what: str) -> str:
    """A text column of a bank return line, refused (the whole file with it) when longer than
    its field: never cut, so what is stored is what the bank wrote."""
    value = (row.get(column) or "").strip()
    limit: int = getattr(PayoutItem._meta.get_field(column), "max_length", 0)
    if len(value) > limit:
        raise _LineRefused("refund_bank_row_too_long", what=what, limit=limit)
    try:  # the 附言 is what the applicant reads of a failed transfer (its note)
        identity.refuse_invisible(value, what)
    except InvalidInput as refused:
        raise _LineRefused("refund_bank_row_text_chars", **refused.params) from None
    return value


def _transfers(
    programme_id: int, rows: list[tuple[int, dict[str, str] | None]]
) -> dict[tuple[str, int], PayoutItem]:
    """The transfers of the batches a return file names, by (batch, line), locked in one
    statement (in the order of their keys, as every settlement locks them)."""
    batches = {row["batch"].strip() for _, row in rows if row is not None}
    found = (
        # the transfers, their batches and applications; not the accounts or the programme
        PayoutItem.objects.select_for_update(of=("self", "batch", "application"))
        .select_related("batch", "application__programme", "application__entered_by")
        .filter(batch__programme_id=programme_id, batch__number__in=batches)
        .order_by("pk")
    )
    return {(item.batch.number, item.line): item for item in found}


def _settle_line(
    actor: User, items: dict[tuple[str, int], PayoutItem], line: int, row: dict[str, str]
) -> str:
    result = row["result"].strip().lower()
    if result not in (PayoutResult.PAID, PayoutResult.FAILED):
        raise _LineRefused("refund_bank_row_result", value=result[:20])
    batch, number = row["batch"].strip(), row["application"].strip()
    try:
        item_line = int(row["line"])
    except ValueError:
        item_line = -1
    # No savepoint of its own: a refused line undoes the whole file (settle).
    item = items.get((batch, item_line))
    if item is not None and item.application.number != number:
        item = None
    if item is None:
        raise _LineRefused("refund_bank_row_unknown", batch=batch, item=row["line"], number=number)
    if item.batch.state != BatchState.RELEASED:  # never sent to the bank: nothing to settle
        state = BATCHES.label(item.batch.state)
        raise _LineRefused("refund_bank_row_not_released", batch=batch, state=state)
    given = row["amount_yuan"].strip()
    try:
        same_amount = Decimal(given) == item.amount
    except ArithmeticError:
        same_amount = False
    if not same_amount:
        raise _LineRefused("refund_bank_row_amount", given=given[:20], expected=item.amount)
    if item.result != PayoutResult.PENDING:
        if item.result == result:
            return "unchanged"
        raise _LineRefused(
            "refund_bank_row_settled",
            result=PayoutResult(item.result).label,
            given=PayoutResult(result).label,
        )
    reference = _bounded(row, "bank_reference", "银行流水号")
    message = _bounded(row, "message", "银行附言")
    now = clock.now()
    PayoutItem.objects.filter(pk=item.pk).update(
        result=result, bank_reference=reference, message=message, settled_at=now
    )
    target = State.PAID if result == PayoutResult.PAID else State.FAILED
    fields: dict[str, object] = (
        {"paid_at": now} if target == State.PAID else {"note": message or "银行退回"}
    )
    # What the notice reads, read with the transfers: the state change's reload forgets them.
    programme, entered_by = item.application.programme, item.application.entered_by
    try:
        settled = transition(
            actor,
            APPLICATIONS,
            item.application,
            target,
            fields=fields,
            extra_after={"batch": batch, "bank_reference": reference, "message": message},
        )
    except CerthallError as error:
        raise _LineRefused("refund_bank_row_unknown", batch=batch, item=row["line"],
                           number=number) from error  # fmt: skip
    settled.programme, settled.entered_by = programme, entered_by
    notices.told(actor, settled)
    return "paid" if result == PayoutResult.PAID else "failed"
