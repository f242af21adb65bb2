"""导出CSV: the auditors' filtered list as a CSV file (``/console/audit/export.csv``).

The same readers as the page (``reading.require_reader``) and the same filters (not its
paging). The file holds the rows the filters keep up to the chain's head at the moment of the
export, newest first, at most :data:`LIMIT` (more is refused: narrow the dates), read in keyset
chunks of :data:`CHUNK` and written as they are read (never the whole list in memory).

UTF-8 with a byte order mark (Excel then opens the Chinese), the headers from the catalogue
(``audit_csv.*``), ``before``/``after`` as compact JSON. **CSV injection**: every cell goes
through ``spreadsheet.as_text`` (an actor's label or an object id are typed by customers).

**Recorded**: an export is a bulk read leaving the system, so it is written to the chain as
``audit.export`` (the filters and the number of rows) before the first row is sent; a refused
one as ``audit.export`` ``refused``. Viewing the list stays unrecorded (docs/security.md).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime

from django.db.models import QuerySet

from certhall import clock
from certhall.accounts.models import User
from certhall.audit import reading
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent, AuditHead
from certhall.errors import InvalidInput
from certhall.messages import text
from certhall.spreadsheet import as_text

ACTION = "audit.export"
LIMIT = 100_000
CHUNK = 1_000
COLUMNS = (
    "seq", "at", "actor", "action", "object_type", "object_id", "result", "before", "after",
    "hash",
)  # fmt: skip


def _json(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _cells(event: AuditEvent) -> list[str]:
    at = event.at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    result = text(f"audit_result.{event.result}") if event.result in reading.RESULTS else ""
    cells = [
        str(event.seq), at, event.actor, event.action, event.object_type, event.object_id,
        result or event.result, _json(event.before), _json(event.after), event.hash,
    ]  # fmt: skip
    return [as_text(cell) for cell in cells]


def filename(now: datetime) -> str:
    return f"audit-{now.astimezone(clock.SHANGHAI):%Y%m%d-%H%M%S}.csv"


def start(actor: User, filters: reading.Filters) -> Iterator[str]:
    """Check who exports and what, record the export, and return the file's lines (a
    generator reading the rows as it goes)."""
    with audit.refusals_recorded(actor, ACTION, object_type="audit_chain"):
        reading.require_reader(actor)
        head = AuditHead.objects.filter(pk=1).first()
        upto = head.seq if head else 0
        rows = reading.filtered(filters).filter(seq__lte=upto)
        count = rows[: LIMIT + 1].count()
        if count > LIMIT:
            raise InvalidInput(code="audit_export_too_many", limit=LIMIT)
    kept = {k: str(v) for k, v in asdict(filters).items() if v not in ("", None)}
    after = {"filters": kept, "rows": count, "upto": upto}
    audit.record(actor, ACTION, object_type="audit_chain", after=after)
    return _lines(rows)


def _lines(rows: QuerySet[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([text(f"audit_csv.{column}") for column in COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    before: int | None = None
    while True:
        chunk = rows if before is None else rows.filter(seq__lt=before)
        found = list(chunk[:CHUNK])
        if not found:
            return
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_cells(event) for event in found)
        yield buffer.getvalue()
        before = found[-1].seq
