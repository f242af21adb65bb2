"""What the staff console reads from its forms (the printed forms: ``hall.printing``).

* :func:`item_request`, :func:`issue_choices`, :func:`return_reasons`: the POSTed fields as the
  hall services' own inputs (no rule is checked here: the services do that, in every channel).
"""

from __future__ import annotations

from collections.abc import Mapping

from certhall.errors import InvalidInput
from certhall.hall.items import ItemRequest
from certhall.web.errors import text_field, whole_number

FIELD_LIMIT = 200


def field(data: Mapping[str, str], name: str, limit: int = FIELD_LIMIT) -> str:
    return text_field(data, name, limit)


def _years(text: str) -> int | None:
    if not text:
        return None
    years = whole_number(text)
    if years is None or len(text) > 2:
        raise InvalidInput(code="years")
    return years


def item_request(data: Mapping[str, str]) -> ItemRequest:
    """A business line as typed at the counter (fields a business does not use are ignored by
    the service)."""
    return ItemRequest(
        business=field(data, "business", 16),
        cert_type=field(data, "cert_type", 16) or None,
        years=_years(field(data, "years", 4)),
        person_name=field(data, "person_name", 200),
        person_id_number=field(data, "person_id_number", 32),
        serial=field(data, "serial", 80),
        org_name=field(data, "org_name", 200),
        revocation_reason=field(data, "revocation_reason", 32),
        replace_cause=field(data, "replace_cause", 16),
    )


def issue_choices(data: Mapping[str, str]) -> tuple[dict[int, str], str | None]:
    """(line id -> Ukey serial from stock, the PIN typed by the customer or None)."""
    tokens: dict[int, str] = {}
    for key in data:
        line = whole_number(key[6:]) if key.startswith("token_") else None
        if line is not None:
            serial = field(data, key, 64)
            if serial:
                tokens[line] = serial
    pin = str(data.get("pin", "") or "")
    return tokens, (pin if pin else None)


def return_reasons(data: Mapping[str, str]) -> tuple[dict[int, str], str]:
    """(document id -> reason, general note) from the return form (empty reasons dropped)."""
    reasons: dict[int, str] = {}
    for key in data:
        document = whole_number(key[7:]) if key.startswith("reason_") else None
        if document is not None:
            text = field(data, key, 400)
            if text:
                reasons[document] = text
    return reasons, field(data, "note", 1000)


# --- the printed forms ---------------------------------------------------------------------
