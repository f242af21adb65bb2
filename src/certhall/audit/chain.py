"""The hash of an audit event: SHA-256 over the previous hash and canonical JSON of the row."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor: str,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    before: Any,
    after: Any,
    result: str,
) -> str:
    body = json.dumps(
        [
            seq,
            at.isoformat(timespec="microseconds"),
            actor,
            actor_id,
            action,
            object_type,
            object_id,
            before,
            after,
            result,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(prev_hash.encode() + body.encode()).hexdigest()
