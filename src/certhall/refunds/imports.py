"""Validating CSV imports of fee records (from the CAs) and usage records (from the platforms).

UTF-8 (a BOM is tolerated) with a header line; the columns of docs/refunds.md must be there,
more may follow and are ignored, in any order. ``--ca SLUG`` stands for the ``ca`` column of a
file without one. Every row is checked whole before anything is stored: a row is imported
whole or not at all, and the report names every refused row with its line and reason. A row
whose natural key (CA, serial, business and date for fees; CA, serial, platform and date for
usage) is already stored with the same data is *unchanged*, so importing the same file twice
changes nothing; with different data it is refused (``conflict``), never overwritten.

An enterprise's or a platform's name holding a character that shows nothing or changes how the
rest shows (``pki.identity.refuse_invisible``) refuses its row, naming the column and the
character (``text_chars``): officers and the enterprise read these names. A row, not the whole
file: the name was typed by an enterprise into a CA's records, and one such name must not keep
every other enterprise of that CA out of the programme.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction

from certhall import money
from certhall.accounts.models import Provider, Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.bulk import ahead, insert_rows
from certhall.errors import CerthallError, InvalidInput, quoted
from certhall.messages import text
from certhall.pki import identity
from certhall.pki.identity import validate_uscc
from certhall.pki.serials import SERIAL_TEXT_LENGTH, parse_serial
from certhall.refunds.models import Business, FeeRecord, Programme, Source, UsageRecord
from certhall.refunds.records import get_programme

KINDS = ("fees", "usage")
COLUMNS = {
    "fees": ("ca", "serial", "uscc", "enterprise_name", "business", "paid_on", "amount_yuan"),
    "usage": ("ca", "serial", "platform", "used_on"),
}
#: The stored columns, in the order :meth:`_Checker.build` gives the values.
DB_COLUMNS = {
    "fees": (
        "programme_id",
        "provider_id",
        "serial",
        "uscc",
        "enterprise_name",
        "business",
        "paid_on",
        "amount",
        "source",
        "source_ref",
    ),
    "usage": ("programme_id", "provider_id", "serial", "platform", "used_on", "source_ref"),
}
BUSINESSES = frozenset(Business.values)
IMPORTED = str(Source.IMPORT.value)  # a plain str: COPY writes what it is given
Row = tuple[Any, ...]
MAX_BYTES = 2 * 1024**3
CHUNK = 5000
#: Who imports: refund officers, and the command line's system actor.
IMPORT_ROLES = (Role.REFUND_OFFICER, Role.CA_ADMIN)


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "message": self.message}


@dataclass
class ImportReport:
    kind: str
    sha256: str
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sha256": self.sha256,
            "rows": self.rows,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "refused": len(self.refused),
            "refusals": [r.as_json() for r in self.refused],
        }


class _RowRefused(Exception):
    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def _date(value: str, what: str) -> date:
    try:
        if len(value.strip()) != 10:
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _RowRefused("date_invalid", what=what, value=value[:40]) from None


def csv_rows(
    data: bytes, needed: list[str], *, header_code: str
) -> Iterator[tuple[int, dict[str, str] | None]]:
    """The lines of a UTF-8 CSV file with a header naming at least ``needed`` (InvalidInput
    ``header_code`` otherwise): (line number, the row by column name, or None when the row has
    more or fewer fields than the header). Blank lines are skipped. A line the csv module
    cannot read (a field over its limit) refuses the whole file (InvalidInput
    ``refund_csv_malformed`` naming the line) when the reading reaches it."""
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(code="refund_import_encoding") from None
    reader = csv.reader(io.StringIO(decoded, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in needed if c not in header]
        if missing:
            raise InvalidInput(
                code=header_code, missing=",".join(missing), columns=",".join(needed)
            )
        for row in reader:
            if not "".join(row).strip():
                continue
            good = len(row) == len(header)
            yield reader.line_num, dict(zip(header, row, strict=True)) if good else None
    except csv.Error:
        raise InvalidInput(
            code="refund_csv_malformed", line=reader.line_num, limit=csv.field_size_limit()
        ) from None


def _visible(value: str, what: str) -> str:
    """``value`` as it is, or its row refused (``text_chars``). Read as written, before its
    blanks are collapsed: a U+2028 or a U+001C is "whitespace" to ``str.split`` and would
    vanish unseen; line breaks and tabs pass (collapsed as before)."""
    try:
        identity.refuse_invisible(value, what, lines=True)
    except InvalidInput as refused:
        raise _RowRefused("text_chars", **refused.params) from None
    return value


def _uscc(value: str, _column: str) -> str:
    try:
        return validate_uscc(value)
    except CerthallError:
        raise _RowRefused("uscc_invalid", value=value[:40]) from None


def _amount(value: str, column: str) -> Decimal:
    try:
        amount = money.parse(value, what=column).yuan
    except CerthallError:
        raise _RowRefused("amount_invalid", value=value[:40]) from None
    return amount


class _Checker:
    """Turns one CSV row into a model instance, or refuses it with a reason."""

    def __init__(self, programme: Programme, kind: str, ca: str | None) -> None:
        self.programme = programme
        self.kind = kind
        self.ca = ca
        self.providers = {p.slug: p.pk for p in Provider.objects.all()}
        self.memo: dict[tuple[str, str], Any] = {}
        if ca and ca not in self.providers:
            raise InvalidInput(code="refund_ca_unknown", ca=ca)

    def checked(self, column: str, value: str, check: Callable[[str, str], Any]) -> Any:
        """``check(value, column)``, each distinct value once: an enterprise has several records,
        a file has few distinct dates and amounts. Bounded, so that a file of a million
        enterprises does not keep them all."""
        memo = (column, value)
        result = self.memo.get(memo)
        if result is None:
            result = check(value, column)
            if len(self.memo) >= 100_000:
                self.memo.clear()
            self.memo[memo] = result
        return result

    def provider(self, row: dict[str, str]) -> int:
        slug = (row.get("ca") or "").strip() or (self.ca or "")
        if self.ca and slug != self.ca:
            raise _RowRefused("ca_mismatch", ca=slug, expected=self.ca)
        if slug not in self.providers:
            raise _RowRefused("ca_unknown", ca=slug)
        return self.providers[slug]

    def build(self, row: dict[str, str] | None, ref: str) -> tuple[tuple[Any, ...], Row]:
        """The row's natural key and its values in the order of :data:`DB_COLUMNS`."""
        if row is None:
            raise _RowRefused("columns")
        provider_id = self.provider(row)
        try:  # read as a typed serial is: RFC 5280 bounds other CAs' serials as it does ours,
            # but for a non-conforming negative one exported as its 20 octets (docs/refunds.md)
            serial = parse_serial(row["serial"], unsigned=True)
        except InvalidInput:
            value = quoted(row["serial"], SERIAL_TEXT_LENGTH)
            raise _RowRefused("serial_invalid", value=value) from None
        programme_id = self.programme.pk
        if self.kind == "usage":
            platform = " ".join(_visible(row["platform"], "平台名称").split())
            if not platform or len(platform) > 128:
                raise _RowRefused("platform_missing")
            used_on = self.checked("used_on", row["used_on"], _date)
            key = (provider_id, serial, platform, used_on)
            return key, (programme_id, provider_id, serial, platform, used_on, ref)
        uscc = self.checked("uscc", row["uscc"], _uscc)
        name = " ".join(_visible(row["enterprise_name"], "企业名称").split())
        if not name or len(name) > 128:
            raise _RowRefused("name_missing")
        business = row["business"].strip()
        if business not in BUSINESSES:
            raise _RowRefused("business_invalid", value=business[:20])
        paid_on = self.checked("paid_on", row["paid_on"], _date)
        amount = self.checked("amount_yuan", row["amount_yuan"], _amount)
        key = (provider_id, serial, business, paid_on)
        values = (programme_id, provider_id, serial, uscc, name, business, paid_on, amount)
        return key, (*values, IMPORTED, ref)


#: Where a stored fee record's data sits in its values (uscc, enterprise name, amount): a row
#: with the same key and the same data is unchanged, with other data a conflict.
_FEE_DATA = slice(3, 5), 7


def _same(kind: str, a: Row, b: Row) -> bool:
    if kind == "usage":
        return True  # the key is the whole record
    names, amount = _FEE_DATA
    return a[names] == b[names] and Decimal(a[amount]) == Decimal(b[amount])


def _existing(programme: Programme, kind: str, keys: list[tuple[Any, ...]]) -> dict[Any, Row]:
    """The stored records of these keys, as values in the order of :data:`DB_COLUMNS`: read per
    CA by (programme, CA, serial), the leading columns of both tables' unique keys, so a chunk
    costs the same in a table of a million rows as in an empty one."""
    model: Any = UsageRecord if kind == "usage" else FeeRecord
    by_provider: dict[int, set[str]] = {}
    for key in keys:
        by_provider.setdefault(key[0], set()).add(key[1])
    found: dict[Any, Row] = {}
    for provider_id, serials in by_provider.items():
        for values in _stored(model, kind, programme.pk, provider_id, list(serials)):
            # the natural key: CA, serial and business + date (fees) or platform + date (usage)
            key = (values[1], values[2], values[5], values[6]) if kind == "fees" else values[1:5]
            found[key] = values
    return found


def _stored(model: Any, kind: str, programme_id: int, provider_id: int, serials: list[str]) -> Any:
    if connection.vendor == "postgresql":
        # one array parameter: psycopg parses a query of 5,000 placeholders slowly
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(DB_COLUMNS[kind])} FROM {model._meta.db_table} "  # noqa: S608
                "WHERE programme_id = %s AND provider_id = %s AND serial = ANY(%s)",
                [programme_id, provider_id, serials],
            )
            return cursor.fetchall()
    fields = [c.removesuffix("_id") for c in DB_COLUMNS[kind]]
    rows = model.objects.filter(programme_id=programme_id, provider_id=provider_id)
    return rows.filter(serial__in=serials).values_list(*fields)


def import_records(
    actor: User,
    programme_slug: str,
    kind: str,
    data: bytes,
    *,
    ca: str | None = None,
    source: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a fee or usage file into a programme; the report of what happened (audited)."""
    require_role(actor, *IMPORT_ROLES)
    if kind not in KINDS:
        raise InvalidInput(code="refund_import_kind", kind=kind)
    if len(data) > MAX_BYTES:
        raise InvalidInput(code="refund_import_too_large")
    programme = get_programme(programme_slug)
    digest = hashlib.sha256(data).hexdigest()
    report = ImportReport(kind=kind, sha256=digest)
    checker = _Checker(programme, kind, ca)
    seen: dict[tuple[Any, ...], Row] = {}
    needed = [c for c in COLUMNS[kind] if not (c == "ca" and ca)]
    with transaction.atomic():
        # the next chunk is read and checked while the database stores this one
        for chunk in ahead(_chunks(data, needed, checker, digest)):
            report.rows += chunk.rows
            report.refused += chunk.refused
            _store(programme, kind, chunk.checked, seen, report)
            if progress:
                progress(report.rows)
        report.refused.sort(key=lambda refusal: refusal.line)  # conflicts are found per chunk
        audit.record(
            actor,
            "refunds.import",
            object_type="refund_programme",
            object_id=programme.slug,
            after={
                "kind": kind,
                "source": source,
                "ca": ca,
                **{k: v for k, v in report.as_json().items() if k != "refusals"},
            },
        )
    return report


@dataclass
class _Chunk:
    rows: int = 0
    checked: list[tuple[int, tuple[Any, ...], Row]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _chunks(data: bytes, needed: list[str], checker: _Checker, digest: str) -> Iterator[_Chunk]:
    """The file's rows checked, in chunks of :data:`CHUNK` (no database: runs ahead in a
    thread, :func:`certhall.bulk.ahead`)."""
    chunk = _Chunk()
    for line, row in csv_rows(data, needed, header_code="refund_import_header"):
        chunk.rows += 1
        try:
            key, record = checker.build(row, f"{digest[:16]}:{line}")
        except _RowRefused as refused:
            chunk.refused.append(_refusal(line, refused))
            continue
        chunk.checked.append((line, key, record))
        if len(chunk.checked) >= CHUNK:
            yield chunk
            chunk = _Chunk()
    yield chunk


def _refusal(line: int, refused: _RowRefused) -> Refusal:
    code = f"refund_row_{refused.reason}"
    return Refusal(line, refused.reason, text(code, line=line, **refused.params))


def _store(
    programme: Programme,
    kind: str,
    pending: list[tuple[int, tuple[Any, ...], Row]],
    seen: dict[tuple[Any, ...], Row],
    report: ImportReport,
) -> None:
    """Store a chunk: a key new to the file is inserted unless the table has it; a key the
    table or the file already has is unchanged with the same data, a conflict with other."""
    if not pending:
        return
    first: dict[tuple[Any, ...], Row] = {}
    again = []
    for line, key, record in pending:
        if key in seen or key in first:
            again.append((line, key, record))
        else:
            first[key] = record
    stored = _insert_new(programme, kind, first)
    for line, key, record in pending:
        if key in first and first[key] is record:
            if key in stored:  # compared like a repeat, against the stored record
                seen[key] = stored[key]
                again.append((line, key, record))
            else:
                seen[key] = record
                report.imported += 1
    again.sort(key=lambda item: item[0])
    for line, key, record in again:
        if _same(kind, seen[key], record):
            report.unchanged += 1
        else:
            report.refused.append(_refusal(line, _RowRefused("conflict")))


def _insert_new(
    programme: Programme, kind: str, records: dict[tuple[Any, ...], Row]
) -> dict[tuple[Any, ...], Row]:
    """Insert the records whose key the table does not have yet; the stored records of the
    others."""
    model = UsageRecord if kind == "usage" else FeeRecord
    if not records:
        return {}
    if connection.vendor == "postgresql":
        # Optimistic: a chunk the table has none of is the usual case (a new file), and then
        # the unique key's own probes during COPY are the only look-ups. If one is stored
        # already, the savepoint undoes the chunk and it is written as below.
        try:
            with transaction.atomic():
                insert_rows(model, DB_COLUMNS[kind], records.values())
            return {}
        except IntegrityError:
            pass
    stored = _existing(programme, kind, list(records))
    insert_rows(model, DB_COLUMNS[kind], (r for k, r in records.items() if k not in stored))
    return stored
