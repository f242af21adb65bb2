"""Certificate serial numbers: the largest one (RFC 5280 4.1.2.2), the registry's hex form, and
the one reader of a serial a person types or a file gives (the status page, the counter, the
renewal, ``certhall ca revoke``, the refund imports, the printed application forms)."""

from __future__ import annotations

import re

from certhall.errors import InvalidInput, quoted
from certhall.pki.identity import fold_width

MAX_SERIAL = (1 << 159) - 1  # 20 octets, positive (RFC 5280 section 4.1.2.2)


def serial_hex(serial: int) -> str:
    return format(serial, "x")


#: How much of a serial typed by a person a refusal repeats: 20 bytes in hex with colons.
SERIAL_TEXT_LENGTH = 59


#: A typed serial once folded, without blanks and in lower case: hex digits, an optional ``0x``,
#: groups separated by single colons (as the certificate helper and openssl show them).
_TYPED_SERIAL = re.compile(r"(?:0x)?[0-9a-f]+(?::[0-9a-f]+)*")

#: 20 octets read unsigned (``parse_serial(..., unsigned=True)``).
_MAX_OCTETS = (1 << 160) - 1


def parse_serial(text: str, *, unsigned: bool = False) -> str:
    """Normalise a serial typed by a person: hex digits of either case, leading zeros, an
    optional ``0x``, colons between groups and blanks anywhere; full-width characters folded
    (``identity.fold_width``). Refused: anything else ``int(text, 16)`` would take (a
    sign, ``_``, other scripts' digits), zero, and a value past :data:`MAX_SERIAL`
    (RFC 5280 4.1.2.2: a positive DER INTEGER of at most 20 octets, the sign bit among them,
    so at most 159 bits; the platform signs only such, ``pki.issuance.check_serial``, and its own
    have 127, ``pki.issuance.new_serial``).

    ``unsigned``: another CA's serial as its file gives it (the refund imports): the 20 octets
    read unsigned, so that a non-conforming negative serial exported as its bytes (160 bits,
    the top one set) still passes (docs/refunds.md, "Serials"). Nothing the registry holds
    has 160 bits, so a look-up never needs it."""
    cleaned = "".join(fold_width(text).split()).lower()
    if not _TYPED_SERIAL.fullmatch(cleaned):
        raise InvalidInput(
            code="serial_invalid", variant="hex", text=quoted(text, SERIAL_TEXT_LENGTH)
        )
    value = int(cleaned.removeprefix("0x").replace(":", ""), 16)
    if not 0 < value <= (_MAX_OCTETS if unsigned else MAX_SERIAL):
        raise InvalidInput(code="serial_invalid", text=quoted(text, SERIAL_TEXT_LENGTH))
    return serial_hex(value)
