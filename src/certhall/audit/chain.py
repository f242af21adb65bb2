"""The hash of an audit event: HMAC-SHA-256 with the audit key (kept outside the database) over
the previous hash and canonical JSON of the row; plain SHA-256 for the events written before the
chain was keyed (``AuditHead.keyed_from``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(
    prev_hash: str,
    key: bytes | None,
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
    data = prev_hash.encode() + body.encode()
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()
