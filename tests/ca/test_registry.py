"""The typed form of a certificate serial (``pki.serials.parse_serial``): exactly the forms the
platform shows a serial in (lower case in JSON, upper case on the printed forms, bytes with
colons in the certificate helper and openssl), typed on any input method, and nothing else
``int(text, 16)`` would take."""

from __future__ import annotations

import pytest

from certhall.errors import InvalidInput
from certhall.messages import text
from certhall.pki.serials import parse_serial


@pytest.mark.parametrize(
    ("typed", "serial"),
    [
        ("3fa2", "3fa2"),
        ("3FA2", "3fa2"),
        ("0x3fa2", "3fa2"),
        ("0X3FA2", "3fa2"),
        ("00:3F:A2", "3fa2"),
        ("3f:a2", "3fa2"),
        (" 3f a2 ", "3fa2"),
        ("3f:\n    a2", "3fa2"),
        ("０ｘ３Ｆ：Ａ２", "3fa2"),  # a Chinese input method's full-width characters
        ("３ｆ\u3000ａ２", "3fa2"),  # and its ideographic blank
        ("0001", "1"),
    ],
)
def test_the_forms_a_serial_is_shown_in_are_taken(typed: str, serial: str) -> None:
    assert parse_serial(typed) == serial


@pytest.mark.parametrize(
    "typed",
    [
        "+ff",  # int() takes a sign
        "-ff",
        "f_f",  # and underscores between digits
        "٣٤",  # and other scripts' digits (Arabic-Indic)
        "३४",  # (Devanagari)
        "0x",
        ":ff",
        "ff:",
        "f::f",
        "0x0x1",
        "ff-01",
        "",
        "not hex",
    ],
)
def test_anything_else_is_refused_in_chinese(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_serial(typed)
    assert refused.value.code == "serial_invalid"
    assert str(refused.value) == text("serial_invalid.hex", text=f"{typed}")


def test_zero_and_over_twenty_bytes_are_not_serials() -> None:
    """RFC 5280 4.1.2.2: a positive DER INTEGER of at most 20 octets, the sign bit among them,
    so at most 159 bits: 40 hex digits from 8 up (160 bits) are refused too (they were taken)."""
    for typed in (
        "0",
        "00:00",
        "1" + "0" * 40,
        "f" * 40,
        "8" + "0" * 39,
        "80:" + "00:" * 18 + "00",
    ):
        with pytest.raises(InvalidInput, match="不是有效的证书序列号"):
            parse_serial(typed)
    assert parse_serial("7" + "f" * 39) == "7" + "f" * 39
    assert parse_serial("00:" + "7f:" * 19 + "ff") == "7f" * 19 + "ff"


def test_another_cas_serial_may_be_its_twenty_octets_read_unsigned() -> None:
    """The refund imports read other CAs' serials so (docs/refunds.md, "Serials"): a
    non-conforming negative serial exported as its bytes has 160 bits; 21 octets do not pass."""
    assert parse_serial("f" * 40, unsigned=True) == "f" * 40
    assert parse_serial("80:" + "00:" * 18 + "01", unsigned=True) == "8" + "0" * 38 + "1"
    for typed in ("0", "1" + "0" * 40):
        with pytest.raises(InvalidInput, match="不是有效的证书序列号"):
            parse_serial(typed, unsigned=True)
