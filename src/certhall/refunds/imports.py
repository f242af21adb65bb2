"""Validating CSV imports of fee records (from the CAs) and usage records (from the platforms).

UTF-8 (a BOM is tolerated) with a header line; the columns of docs/refunds.md must be there,
more may follow and are ignored, in any order. ``--ca SLUG`` stands for the ``ca`` column of a
file without one. Every row is checked whole before anything is stored: a row is imported
whole or not at all, and the report names every refused row with its line and reason. A row
whose natural key (CA, serial, business and date for fees; CA, serial, platform and date for
usage) is already stored with the same data is *unchanged*, so importing the same file twice
changes nothing; with different data it is refused (``conflict``), never overwritten.
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

from django.db import transaction

from certhall import money
from certhall.accounts.models import Provider, Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import CerthallError, InvalidInput
from certhall.messages import text
from certhall.pki.identity import validate_uscc
from certhall.refunds.models import Business, FeeRecord, Programme, UsageRecord
from certhall.refunds.records import get_programme, normalise_serial

KINDS = ("fees", "usage")
COLUMNS = {
    "fees": ("ca", "serial", "uscc", "enterprise_name", "business", "paid_on", "amount_yuan"),
    "usage": ("ca", "serial", "platform", "used_on"),
}
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
    more or fewer fields than the header). Blank lines are skipped."""
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(code="refund_import_encoding") from None
    reader = csv.reader(io.StringIO(decoded, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in needed if c not in header]
    if missing:
        raise InvalidInput(code=header_code, missing=",".join(missing), columns=",".join(needed))
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        good = len(row) == len(header)
        yield reader.line_num, dict(zip(header, row, strict=True)) if good else None


class _Checker:
    """Turns one CSV row into a model instance, or refuses it with a reason."""

    def __init__(self, programme: Programme, kind: str, ca: str | None) -> None:
        self.programme = programme
        self.kind = kind
        self.ca = ca
        self.providers = {p.slug: p.pk for p in Provider.objects.all()}
        if ca and ca not in self.providers:
            raise InvalidInput(code="refund_ca_unknown", ca=ca)

    def provider(self, row: dict[str, str]) -> int:
        slug = (row.get("ca") or "").strip() or (self.ca or "")
        if self.ca and slug != self.ca:
            raise _RowRefused("ca_mismatch", ca=slug, expected=self.ca)
        if slug not in self.providers:
            raise _RowRefused("ca_unknown", ca=slug)
        return self.providers[slug]

    def build(self, row: dict[str, str] | None, ref: str) -> tuple[tuple[Any, ...], Any]:
        if row is None:
            raise _RowRefused("columns")
        provider_id = self.provider(row)
        try:
            serial = normalise_serial(row["serial"])
        except CerthallError:
            raise _RowRefused("serial_invalid", value=row["serial"][:80]) from None
        if self.kind == "usage":
            platform = " ".join(row["platform"].split())
            if not platform or len(platform) > 128:
                raise _RowRefused("platform_missing")
            used_on = _date(row["used_on"], "used_on")
            key = (provider_id, serial, platform, used_on)
            return key, UsageRecord(
                programme=self.programme,
                provider_id=provider_id,
                serial=serial,
                platform=platform,
                used_on=used_on,
                source_ref=ref,
            )
        try:
            uscc = validate_uscc(row["uscc"])
        except CerthallError:
            raise _RowRefused("uscc_invalid", value=row["uscc"][:40]) from None
        name = " ".join(row["enterprise_name"].split())
        if not name or len(name) > 128:
            raise _RowRefused("name_missing")
        business = row["business"].strip()
        if business not in Business.values:
            raise _RowRefused("business_invalid", value=business[:20])
        paid_on = _date(row["paid_on"], "paid_on")
        try:
            amount = money.parse(row["amount_yuan"], what="amount_yuan").yuan
        except CerthallError:
            raise _RowRefused("amount_invalid", value=row["amount_yuan"][:40]) from None
        if amount >= Decimal("1e10"):
            raise _RowRefused("amount_invalid", value=row["amount_yuan"][:40])
        key = (provider_id, serial, business, paid_on)
        return key, FeeRecord(
            programme=self.programme,
            provider_id=provider_id,
            serial=serial,
            uscc=uscc,
            enterprise_name=name,
            business=business,
            paid_on=paid_on,
            amount=amount,
            source_ref=ref,
        )


def _same(kind: str, a: Any, b: Any) -> bool:
    if kind == "usage":
        return True  # the key is the whole record
    return bool(
        a.uscc == b.uscc and a.enterprise_name == b.enterprise_name and a.amount == b.amount
    )


def _existing(programme: Programme, kind: str, keys: list[tuple[Any, ...]]) -> dict[Any, Any]:
    """The stored records of these keys."""
    found: dict[Any, Any] = {}
    serials = {k[1] for k in keys}
    model: Any = UsageRecord if kind == "usage" else FeeRecord
    rows = model.objects.filter(programme=programme, serial__in=serials)
    for row in rows:
        if kind == "usage":
            key = (row.provider_id, row.serial, row.platform, row.used_on)
        else:
            key = (row.provider_id, row.serial, row.business, row.paid_on)
        found[key] = row
    return found


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
    pending: list[tuple[int, tuple[Any, ...], Any]] = []
    seen: dict[tuple[Any, ...], Any] = {}
    with transaction.atomic():
        needed = [c for c in COLUMNS[kind] if not (c == "ca" and ca)]
        for line, row in csv_rows(data, needed, header_code="refund_import_header"):
            report.rows += 1
            try:
                key, record = checker.build(row, f"{digest[:16]}:{line}")
            except _RowRefused as refused:
                report.refused.append(_refusal(line, refused))
                continue
            pending.append((line, key, record))
            if len(pending) >= CHUNK:
                _store(programme, kind, pending, seen, report)
                pending = []
                if progress:
                    progress(report.rows)
        _store(programme, kind, pending, seen, report)
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


def _refusal(line: int, refused: _RowRefused) -> Refusal:
    code = f"refund_row_{refused.reason}"
    return Refusal(line, refused.reason, text(code, line=line, **refused.params))


def _store(
    programme: Programme,
    kind: str,
    pending: list[tuple[int, tuple[Any, ...], Any]],
    seen: dict[tuple[Any, ...], Any],
    report: ImportReport,
) -> None:
    if not pending:
        return
    stored = _existing(programme, kind, [key for _, key, _ in pending])
    new = []
    for line, key, record in pending:
        earlier = seen.get(key) or stored.get(key)
        if earlier is None:
            seen[key] = record
            new.append(record)
        elif _same(kind, earlier, record):
            report.unchanged += 1
        else:
            report.refused.append(_refusal(line, _RowRefused("conflict")))
    model: Any = UsageRecord if kind == "usage" else FeeRecord
    model.objects.bulk_create(new, batch_size=2000)
    report.imported += len(new)
