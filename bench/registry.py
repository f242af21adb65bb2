"""Synthetic certificate registries: deterministic rows and a fast bulk insert.

Issuing 100,000 or 1,000,000 real certificates through the service would take far longer than
the benchmarks themselves, and the code under test (OCSP status lookup, CRL entries) only reads
``serial``, ``status``, ``revoked_at`` and ``revocation_reason`` of a registry row. So rows are
generated with realistic values for those (127-bit random serials with the top bit set, as
``pki.issuance.new_serial`` makes them; revocation times at whole seconds spread over two years;
a mix of reasons) and placeholder values elsewhere (a two-byte ``der``, a fingerprint derived
from the serial), and inserted with ``executemany`` in chunks inside transactions.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

#: Revocation reasons and their weights (names as stored in ``Certificate.revocation_reason``).
REASON_MIX: tuple[tuple[str, int], ...] = (
    ("superseded", 35),
    ("cessationOfOperation", 35),
    ("keyCompromise", 10),
    ("affiliationChanged", 10),
    ("unspecified", 10),
)
#: openssl's index.txt spells the reasons the same way (apps/lib/apps.c crl_reasons).
SPAN = timedelta(days=730)


@dataclass(frozen=True)
class Row:
    serial: int
    revoked_at: datetime | None  # None: valid
    reason: str  # "" when valid


def generate(n: int, revoked_fraction: float, seed: int, now: datetime) -> list[Row]:
    """``n`` rows, ``revoked_fraction`` of them revoked, the same for the same arguments."""
    rng = random.Random(seed)
    total = sum(w for _, w in REASON_MIX)
    cumulative: list[tuple[float, str]] = []
    acc = 0
    for name, weight in REASON_MIX:
        acc += weight
        cumulative.append((acc / total, name))
    base = int((now.replace(microsecond=0) - SPAN).timestamp())
    span_s = int(SPAN.total_seconds())
    fromtimestamp = datetime.fromtimestamp
    rows: list[Row] = []
    seen: set[int] = set()
    while len(rows) < n:
        serial = (1 << 126) | rng.getrandbits(126)
        if serial in seen:  # pragma: no cover - 2^-100
            continue
        seen.add(serial)
        if rng.random() < revoked_fraction:
            at = fromtimestamp(base + rng.randrange(span_s), UTC)
            pick = rng.random()
            reason = next(name for limit, name in cumulative if pick < limit)
            rows.append(Row(serial, at, reason))
        else:
            rows.append(Row(serial, None, ""))
    return rows


def crl_entries(rows: Sequence[Row]) -> Iterator[tuple[int, datetime, Any]]:
    """The ``pki.crl.build_crl`` entries of the revoked rows, as ``ca.crls._entries`` gives."""
    from cryptography import x509

    # The names of ca.services.REASONS (kept Django-free here).
    reasons = {
        "unspecified": x509.ReasonFlags.unspecified,
        "keyCompromise": x509.ReasonFlags.key_compromise,
        "affiliationChanged": x509.ReasonFlags.affiliation_changed,
        "superseded": x509.ReasonFlags.superseded,
        "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    }
    for row in rows:
        if row.revoked_at is not None:
            yield row.serial, row.revoked_at, reasons[row.reason]


def insert(rows: Sequence[Row], ca_id: int, actor_id: int | None, chunk: int = 50_000) -> None:
    """INSERT the rows into ``ca_certificate`` (in a Django process)."""
    from django.db import connection, transaction

    from certhall.ca.models import Certificate
    from certhall.ca.reasons import REASONS
    from certhall.pki.crl import encode_entry

    table = Certificate._meta.db_table
    now = datetime.now(UTC).replace(microsecond=0)
    if connection.vendor == "sqlite":
        # What Django's adapt_datetimefield_value gives for an aware UTC datetime, 10x faster.
        def adapt(value: datetime) -> Any:
            return str(value.astimezone(UTC).replace(tzinfo=None))
    else:
        adapt = connection.ops.adapt_datetimefield_value
    not_before, not_after = adapt(now - timedelta(days=30)), adapt(now + timedelta(days=335))
    created = adapt(now)
    columns = [
        "ca_id", "serial", "profile", "organization_id", "org_name", "uscc", "person_name",
        "id_number", "subject", "not_before", "not_after", "status", "revoked_at",
        "revocation_reason", "crl_entry", "der", "fingerprint_sha256", "issued_by_id",
        "created_at",
    ]  # fmt: skip
    # Table and column names come from the model; the values are parameters.
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {connection.ops.quote_name(table)} ({', '.join(columns)}) VALUES "  # noqa: S608
    sql += f"({placeholders})"
    placeholder_der = b"\x30\x00"
    if connection.vendor == "sqlite":
        # Five indexes, random keys: with SQLite's default 2 MB page cache the load thrashes.
        # A bigger cache and no fsync for this connection only; the data is the same.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1048576")  # 1 GiB, in KiB
            cursor.execute("PRAGMA synchronous = OFF")
    reasons = {name: REASONS.get(name) for name in (*REASONS, "")}

    def entry(row: Row) -> bytes:
        """The CRL entry ``ca.services.revoke`` stores with a revocation."""
        assert row.revoked_at is not None
        return encode_entry(row.serial, row.revoked_at, reasons[row.reason])

    # Unique placeholder fingerprints (the registry's unique index needs distinct values).
    salt = hashlib.sha256(str(now.timestamp()).encode()).hexdigest()[:24]
    for start in range(0, len(rows), chunk):
        params = []
        for i, row in enumerate(rows[start : start + chunk], start):
            serial = format(row.serial, "x")
            revoked = row.revoked_at is not None
            params.append(
                (
                    ca_id, serial, "org", None, "深圳市演示医疗科技有限公司", "91440300MA5XXXXXXX",
                    "", "", f"CN=bench {serial[:8]}", not_before, not_after,
                    "revoked" if revoked else "valid",
                    adapt(row.revoked_at) if row.revoked_at is not None else None,
                    row.reason, entry(row) if revoked else None, placeholder_der,
                    f"{salt}{i:040x}", actor_id, created,
                )
            )  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, params)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA cache_size = -2000")


def openssl_index_line(row: Row, expiry: datetime) -> str:
    """One line of an ``openssl ca`` / ``openssl ocsp -index`` database."""
    exp = expiry.strftime("%y%m%d%H%M%SZ")
    serial = format(row.serial, "X")
    if len(serial) % 2:
        serial = "0" + serial
    if row.revoked_at is None:
        return f"V\t{exp}\t\t{serial}\tunknown\t/CN=bench"
    rev = row.revoked_at.astimezone(UTC).strftime("%y%m%d%H%M%SZ")
    return f"R\t{exp}\t{rev},{row.reason}\t{serial}\tunknown\t/CN=bench"
