"""What the staff console reads from its forms (the printed forms: ``hall.printing``).

* :func:`item_request`, :func:`issue_choices`, :func:`return_reasons`: the POSTed fields as the
  hall services' own inputs (no rule is checked here: the services do that, in every channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from certhall.errors import InvalidInput
from certhall.hall.counter import Customer, HandlerData
from certhall.hall.items import ItemRequest
from certhall.web.errors import int_field, text_field, whole_number

FIELD_LIMIT = 200


def field(data: Mapping[str, str], name: str, limit: int = FIELD_LIMIT) -> str:
    return text_field(data, name, limit)


def _years(text: str) -> int | None:
    if not text:
        return None
    years = whole_number(text)
    if years is None or len(text) > 2:
        raise InvalidInput(code="years").naming("years")
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
    pin = str(data.get("pin", "") or "")
    return _numbered(data, "token_", 64), (pin if pin else None)


def return_reasons(data: Mapping[str, str]) -> tuple[dict[int, str], str]:
    """(document id -> reason, general note) from the return form (empty reasons dropped)."""
    return _numbered(data, "reason_", 400), field(data, "note", 1000)


def _numbered(data: Mapping[str, str], prefix: str, limit: int) -> dict[int, str]:
    """The fields ``<prefix><id>`` (a table's row per id): id -> the text typed, empty ones
    left out; a field whose id is not a whole number is not one of them."""
    found: dict[int, str] = {}
    for key in data:
        number = whole_number(key[len(prefix) :]) if key.startswith(prefix) else None
        if number is not None:
            typed = field(data, key, limit)
            if typed:
                found[number] = typed
    return found


# --- the printed forms ---------------------------------------------------------------------


#: The 受理 form's fields (``counter_open``) shown again as typed when it is refused.
COUNTER_OPEN_FIELDS = (
    "handler_id",
    "name",
    "legal_representative",
    "handler_name",
    "handler_id_kind",
    "handler_id_number",
    "handler_phone",
)


def counter_open(data: Mapping[str, str]) -> dict[str, Any]:
    """The 受理 form as ``counter.open_application``'s keywords (the service checks them)."""
    chosen = field(data, "handler_id", 12)  # a handler's id, or "new"
    handler_id = None if chosen in ("", "new") else int_field(data, "handler_id", "经办人")
    return {
        "customer": Customer(
            uscc=field(data, "uscc", 32),
            name=field(data, "name"),
            legal_representative=field(data, "legal_representative"),
        ),
        "handler_id": handler_id,
        "handler": None
        if handler_id is not None
        else HandlerData(
            name=field(data, "handler_name"),
            id_kind=field(data, "handler_id_kind", 32),
            id_number=field(data, "handler_id_number", 32),
            phone=field(data, "handler_phone", 20),
        ),
    }
