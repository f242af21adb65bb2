"""Bank transfer reconciliation (对账): a bank statement against the pending orders.

Statement format (CSV, UTF-8 with or without BOM, or GB18030 as Chinese banks export):

    date,amount,payer,note[,serial]
    2026-11-18,300.00,深圳市演示医疗科技有限公司,ZF20261118-000001 证书费

* a header row first, with these names (or 日期,金额,付款人,附言[,流水号]);
* ``date``: ``YYYY-MM-DD`` (also ``YYYY/MM/DD`` and ``YYYYMMDD``), the value date;
* ``amount``: yuan, at most two decimals, ``1,200.00`` allowed; credits are positive; a zero or
  negative amount (a debit) is not a customer's payment and is reported as unmatched;
* ``payer``: the remitter's account name, as the bank prints it;
* ``note``: the transfer note (附言/摘要), where the customer wrote the order number;
* ``serial`` (optional): the bank's transaction serial number (流水号). Without it a line is
  identified by the SHA-256 of its date, amount, payer and note.

Each line is matched by the order number in its note (blanks, case and a missing hyphen are
forgiven) AND the amount. Outcomes per line: ``matched`` (payment recorded now),
``already_recorded`` (this very line was recorded before: importing a statement twice changes
nothing), ``duplicate`` (the order was already paid another way or by another line: the money
must go back), ``unmatched`` (no or unknown order number, wrong amount, order cancelled or
refunded, a debit), ``invalid`` (the line cannot be read, or a payer, note or serial is longer
than 100, 200 or 48 characters: refused, never cut), ``error`` (the payment was refused
while being recorded). A statement the csv module cannot read to the end (a field over its
limit) is refused whole before any line is matched (``statement_malformed``, naming the line).
A line whose payer, note or serial holds a character that shows nothing or changes how the
rest shows is ``invalid`` (``statement_text_chars``, naming the field and the character:
``pki.identity.refuse_invisible``): finance reads them, and the 附言 is whatever the payer
typed, so one transfer's note must not stop the statement's other lines.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db import transaction

from certhall import crashpoints, money
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import CerthallError, InvalidInput, bounded
from certhall.payments import gateways, services
from certhall.payments.lifecycle import Channel, Status
from certhall.payments.models import Order, Payment
from certhall.pki import identity
from certhall.rules import SHANGHAI

RECONCILE_ROLES = (Role.CA_ADMIN,)
MAX_STATEMENT = 10 * 1024 * 1024
MAX_LINES = 100_000
#: The longest payer, note and serial a line may have: a longer cell makes the line ``invalid``.
PAYER_LENGTH = 100
NOTE_LENGTH = 200
SERIAL_LENGTH = 48
HEADERS = (
    ("date", "amount", "payer", "note", "serial"),
    ("日期", "金额", "付款人", "附言", "流水号"),
)
#: An order number inside free text, hyphen, blanks and full-width dash forgiven.
IN_NOTE = re.compile(r"ZF\s*(\d{8})\s*[-－_—]?\s*(\d{6})(?!\d)", re.IGNORECASE)

MATCHED = "matched"
ALREADY_RECORDED = "already_recorded"
DUPLICATE = "duplicate"
UNMATCHED = "unmatched"
INVALID = "invalid"
ERROR = "error"
OUTCOMES = (MATCHED, ALREADY_RECORDED, DUPLICATE, UNMATCHED, INVALID, ERROR)
#: Outcomes that need a person.
ATTENTION = frozenset({DUPLICATE, UNMATCHED, INVALID, ERROR})


@dataclass(frozen=True)
class StatementLine:
    line: int
    date: date
    amount: Decimal
    payer: str
    note: str
    serial: str = ""

    @property
    def transaction_id(self) -> str:
        if self.serial:
            return f"serial:{self.serial}"
        return "line:" + self.sha256[:40]

    @property
    def sha256(self) -> str:
        text = f"{self.date.isoformat()}|{self.amount}|{self.payer}|{self.note}|{self.serial}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LineResult:
    line: int
    outcome: str
    reason: str
    date: str = ""
    amount: str = ""
    payer: str = ""
    note: str = ""
    reference: str = ""


@dataclass
class Report:
    statement_sha256: str
    results: list[LineResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {o: sum(1 for r in self.results if r.outcome == o) for o in OUTCOMES}

    @property
    def needs_attention(self) -> bool:
        return any(r.outcome in ATTENTION for r in self.results)

    def as_json(self) -> dict[str, object]:
        return {
            "statement_sha256": self.statement_sha256,
            "counts": self.counts(),
            "needs_attention": self.needs_attention,
            "lines": [asdict(r) for r in self.results],
        }


def _decode(data: bytes) -> str:
    if len(data) > MAX_STATEMENT:
        raise InvalidInput(code="statement_too_large", mib=MAX_STATEMENT // (1024 * 1024))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(code="statement_encoding")


def _date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise InvalidInput(code="statement_date", value=text)


#: The free texts of a line, after the date and the amount (their own formats are stricter).
TEXTS = ("付款人", "附言", "流水号")


def _refuse_invisible(cells: list[str]) -> None:
    """The line refused at a payer, note or serial holding an invisible character (a note's
    line breaks and tabs pass: a multi-line 附言 is the customer's, and harmless)."""
    for cell, what in zip(cells[2:], TEXTS, strict=False):
        try:
            identity.refuse_invisible(cell, what, lines=what == "附言")
        except InvalidInput as refused:
            raise InvalidInput(code="statement_text_chars", **refused.params) from None


def parse_statement(data: bytes) -> tuple[list[StatementLine], list[LineResult]]:
    """The readable lines, and a result for each line that cannot be read."""
    reader = csv.reader(io.StringIO(_decode(data)))
    try:
        rows = list(reader)
    except csv.Error:  # a field over the csv module's limit
        raise InvalidInput(
            code="statement_malformed", line=reader.line_num, limit=csv.field_size_limit()
        ) from None
    if not rows:
        raise InvalidInput(code="statement_empty")
    header = tuple(cell.strip().lower() for cell in rows[0])
    if not any(header in (names[:4], names) for names in HEADERS):
        raise InvalidInput(code="statement_header", got=",".join(rows[0]))
    if len(rows) - 1 > MAX_LINES:
        raise InvalidInput(code="statement_too_long", limit=MAX_LINES)
    width = len(header)
    lines: list[StatementLine] = []
    invalid: list[LineResult] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) != width:
                raise InvalidInput(code="statement_columns", want=width, got=len(row))
            cells = [cell.strip() for cell in row]
            _refuse_invisible(cells)
            lines.append(
                StatementLine(
                    line=number,
                    date=_date(cells[0]),
                    amount=money.parse(cells[1], negative=True).yuan,
                    # refused past its bound, never cut: a cut note hid a second order
                    # number, a cut serial read a new transfer as one recorded before
                    payer=bounded(cells[2], PAYER_LENGTH, "付款人"),
                    note=bounded(cells[3], NOTE_LENGTH, "附言"),
                    serial=bounded(cells[4], SERIAL_LENGTH, "流水号") if width == 5 else "",
                )
            )
        except InvalidInput as error:
            raw = identity.marked(",".join(row))  # an invisible character shown, not obeyed
            invalid.append(LineResult(number, INVALID, error.message, note=raw[:200]))
    return lines, invalid


def _result(line: StatementLine, outcome: str, reason: str, reference: str = "") -> LineResult:
    return LineResult(
        line.line,
        outcome,
        reason,
        date=line.date.isoformat(),
        amount=str(line.amount),
        payer=line.payer,
        note=line.note,
        reference=reference,
    )


def _reconcile_line(actor: User, line: StatementLine) -> LineResult:
    if line.amount <= 0:
        return _result(line, UNMATCHED, "不是入账金额（支出或零）")
    found = {f"ZF{m[1]}-{m[2]}" for m in IN_NOTE.finditer(line.note)}
    if not found:
        return _result(line, UNMATCHED, "附言中没有订单号")
    if len(found) > 1:
        return _result(line, UNMATCHED, "附言中有多个订单号：" + "、".join(sorted(found)))
    reference = found.pop()
    recorded = (
        Payment.objects.filter(channel=Channel.BANK, transaction_id=line.transaction_id)
        .select_related("order")
        .first()
    )
    if recorded is not None:
        return _result(
            line, ALREADY_RECORDED, f"此笔到账已入账（订单 {recorded.order.reference}）", reference
        )
    order = Order.objects.visible_to(actor).filter(reference=reference).first()
    if order is None:
        return _result(line, UNMATCHED, f"订单 {reference} 不存在", reference)
    if line.amount != order.amount:
        return _result(
            line,
            UNMATCHED,
            f"到账 {money.grouped(line.amount)} 元与订单金额 {money.grouped(order.amount)} 元不符",
            reference,
        )
    if order.status == Status.PAID:
        return _result(
            line,
            DUPLICATE,
            f"订单已支付（{order.get_method_display()}），此笔款项需退回付款人",
            reference,
        )
    if order.status != Status.PENDING:
        return _result(
            line,
            UNMATCHED,
            f"订单{order.get_status_display()}，此笔款项需退回付款人",
            reference,
        )
    try:
        with (
            audit.refusals_recorded(
                actor, "payments.bank.record", object_type="order", object_id=reference
            ),
            transaction.atomic(),
        ):
            services.apply_payment(
                actor,
                order,
                channel=Channel.BANK,
                method=gateways.BANK.method,
                transaction_id=line.transaction_id,
                amount=line.amount,
                received_at=datetime.combine(line.date, time(0, 0), tzinfo=SHANGHAI),
                source_sha256=line.sha256,
                details={
                    "payer": line.payer,
                    "note": line.note,
                    "date": line.date.isoformat(),
                    "serial": line.serial,
                    "statement_line": line.line,
                },
            )
    except services.AlreadyRecorded as error:
        return _result(line, ALREADY_RECORDED, error.message, reference)
    except CerthallError as error:
        return _result(line, ERROR, error.message, reference)
    return _result(line, MATCHED, "已入账", reference)


def reconcile(actor: User, data: bytes, *, source: str = "") -> Report:
    """Match a bank statement (the CSV above) against the pending orders of the actor's
    provider; record a payment for each matching line; report every line. Audited: each
    payment, each refusal, and one ``payments.reconcile`` event with the counts."""
    require_role(actor, *RECONCILE_ROLES)
    with audit.refusals_recorded(actor, "payments.reconcile", object_type="statement"):
        digest = hashlib.sha256(data).hexdigest()
        lines, invalid = parse_statement(data)
        report = Report(digest)
        report.results.extend(invalid)
        seen: dict[str, int] = {}
        for line in lines:
            first = seen.setdefault(line.transaction_id, line.line)
            if first != line.line:
                report.results.append(
                    _result(line, DUPLICATE, f"与第 {first} 行完全相同：请核实是否重复转账")
                )
                continue
            report.results.append(_reconcile_line(actor, line))
            crashpoints.reached("payments.reconciled_line")  # this line's payment committed
        report.results.sort(key=lambda r: r.line)
        audit.record(
            actor,
            "payments.reconcile",
            object_type="statement",
            object_id=digest[:32],
            after={
                "source": source[:200],
                "sha256": digest,
                "counts": report.counts(),
                "unmatched_lines": [r.line for r in report.results if r.outcome in ATTENTION],
            },
        )
    return report
