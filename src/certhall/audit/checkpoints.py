"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "at this moment the chain had N events ending in hash H, keyed from K",
signed with the audit key (HMAC-SHA-256), one JSON object per line appended to
``<home>/audit-checkpoints.jsonl`` (0600). Operators copy the file, or the line that
``certhall audit checkpoint`` prints, somewhere the database's attacker cannot reach (before a
backup, say). Verification then catches what a keyed chain alone cannot: rows deleted from the
end with the head rewritten to match, and the keyed boundary moved.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from certhall import clock, config
from certhall.audit.models import AuditHead

#: The jobs write one when the chain grew and the last is older than this.
EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    keyed_from: int
    at: str
    mac: str = ""

    def body(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if k != "mac"}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def signed(self) -> Checkpoint:
        mac = hmac.new(audit_key(), self.body(), hashlib.sha256).hexdigest()
        return Checkpoint(self.seq, self.hash, self.keyed_from, self.at, mac)

    def genuine(self) -> bool:
        expected = hmac.new(audit_key(), self.body(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.mac)

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def audit_key() -> bytes:
    return config.get().audit_key.encode()


def read() -> list[Checkpoint | None]:
    """Every checkpoint in the file, in order; None for a line that is not one."""
    path = config.get().audit_checkpoints
    if not path.exists():
        return []
    found: list[Checkpoint | None] = []
    for text in path.read_text("utf-8").splitlines():
        try:
            found.append(Checkpoint(**json.loads(text)))
        except (ValueError, TypeError):
            found.append(None)
    return found


def write() -> Checkpoint:
    """Append a checkpoint of the chain as it is now; returns it."""
    head = AuditHead.objects.filter(pk=1).first()
    seq, digest, keyed_from = (head.seq, head.hash, head.keyed_from) if head else (0, "0" * 64, 0)
    checkpoint = Checkpoint(seq, digest, keyed_from, clock.now().isoformat()).signed()
    path = config.get().audit_checkpoints
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(checkpoint.line() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return checkpoint


def write_if_due(now: datetime | None = None) -> Checkpoint | None:
    """The jobs' checkpoint: when the chain grew since the last one and that is old enough."""
    now = now or clock.now()
    last = next((c for c in reversed(read()) if c is not None), None)
    head = AuditHead.objects.filter(pk=1).first()
    if head is None or (last is not None and last.seq == head.seq):
        return None
    if last is not None and now - datetime.fromisoformat(last.at) < EVERY:
        return None
    return write()
