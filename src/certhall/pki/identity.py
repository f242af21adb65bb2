"""Chinese identities that go into certificates: numbers and names.

* 统一社会信用代码 (Unified Social Credit Code, USCC): GB 32100-2015, 18 characters from a
  31-character alphabet, the last one a mod-31 check character.
* 居民身份证号码 (resident identity card number): GB 11643-1999, 17 digits and an ISO 7064
  MOD 11-2 check character (0-9 or X), with the birth date in digits 7-14.

* Names and places (单位名称, 姓名, 省份, 城市): :func:`subject_text`, the CA's own rule (X.520
  length bounds, no control, format, private-use or unassigned characters). Every door that
  takes a name the CA will certify (registration, the hall, the counter, the API) calls the same
  function through :func:`org_name` / :func:`person_name`, so a name the CA cannot certify is
  refused at entry, in Chinese, and never after the customer paid.

The number validators normalise what people actually type (full-width characters from Chinese input
methods, spaces, lowercase) and return the canonical form. Error messages never echo the number:
it is personal data and messages end up in logs.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from certhall import clock
from certhall.errors import InvalidInput, bounded

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_CHARS = frozenset(USCC_ALPHABET)
#: Per position, each character's weighted value: the check sum is then one C-level ``map``
#: (imports check a million USCCs; the generator version cost 20 µs each).
_USCC_WEIGHTED = tuple({ch: v * w for ch, v in _USCC_VALUE.items()} for w in USCC_WEIGHTS)

#: X.520 upper bounds (characters).
UB_ORGANIZATION_NAME = 64
UB_COMMON_NAME = 64
UB_STATE_NAME = 128
UB_LOCALITY_NAME = 128

#: Unicode categories no certificate field (and no name anywhere) may hold, in words.
_REFUSED_CATEGORIES = {
    "Cc": "控制字符",
    "Cf": "不可见的格式字符",
    "Cs": "无效的代理字符",
    "Co": "私用区字符",
    "Cn": "未定义的字符",
    "Zl": "换行符",
    "Zp": "换段符",
}
#: Marks and overrides that change the direction of text (Trojan-Source style spoofing).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
RESIDENT_ID_LENGTH = 18
EARLIEST_BIRTH_YEAR = 1900


def fold_width(typed: str) -> str:
    """What a person typed, its full-width characters the ASCII ones (NFKC: ６２２２ is 6222, Ａ is
    A, the ideographic blank a blank), as a Chinese input method types digits innocently.

    The one normaliser of every number a person types (USCC, ID numbers, mobile numbers, SMS
    codes, bank account and invoice numbers, certificate serials): each folds first, then checks
    its own ASCII pattern, and keeps and writes the ASCII form. Other scripts' digits (٠١٢,
    ०१२) stay as they are, for those checks to refuse (docs/security.md, "Numbers people
    type")."""
    return typed if typed.isascii() else unicodedata.normalize("NFKC", typed)


def _normalise(text: str) -> str:
    """NFKC (full-width to ASCII), drop all whitespace, uppercase."""
    return "".join(fold_width(text).split()).upper()


#: A hyphen as people type it: ASCII, the Unicode hyphens and dashes (U+2010-2015: a Chinese
#: input method's —— is two U+2014), the minus sign; full width is folded to ASCII before.
_DASHES = "[-\u2010-\u2015\u2212]"


def dated_number(typed: str, prefix: str, *, longer: bool = False) -> str | None:
    """One of the platform's own numbers as a person types it (订单号 ``ZF20261120-000123``,
    费用返还申请编号 ``FH20261120-000042``): the prefix, the date in 8 digits, a hyphen and a
    6-digit sequence (``longer``: 6 digits or more). Full width folded, blanks, case and a
    missing hyphen forgiven, and the dashes a Chinese input method types for it (——, –, −);
    the printed form, or None for anything else."""
    match = re.fullmatch(
        rf"{re.escape(prefix)}([0-9]{{8}}){_DASHES}{{0,2}}([0-9]{{6{',' if longer else ''}}})",
        _normalise(typed),
    )
    return f"{prefix}{match[1]}-{match[2]}" if match else None


def uscc_check_character(body: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters ``body``.

    ``body`` must already be 17 characters of the USCC alphabet (ValueError otherwise).
    """
    if len(body) != USCC_LENGTH - 1 or not _USCC_CHARS.issuperset(body):
        raise ValueError("a USCC body is 17 characters of the USCC alphabet")
    total = sum(map(dict.__getitem__, _USCC_WEIGHTED, body))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Check a 统一社会信用代码 and return it normalised (uppercase, no spaces).

    Raises InvalidInput for a wrong length, characters outside the GB 32100 alphabet, or a wrong
    check character.
    """
    value = _normalise(code)
    if not value:
        raise InvalidInput(code="uscc_empty")
    if len(value) != USCC_LENGTH:
        raise InvalidInput(code="uscc_length", got=len(value))
    if not _USCC_CHARS.issuperset(value):
        bad = [i + 1 for i, ch in enumerate(value) if ch not in _USCC_VALUE]
        raise InvalidInput(code="uscc_characters", where="、".join(map(str, bad)))
    if uscc_check_character(value[:-1]) != value[-1]:
        raise InvalidInput(code="uscc_check")
    return value


def resident_id_check_character(body: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits ``body``."""
    if len(body) != RESIDENT_ID_LENGTH - 1 or not (body.isascii() and body.isdigit()):
        raise ValueError("a resident ID body is 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(body, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK[total % 11]


def resident_id_birth_date(number: str) -> date:
    """The birth date in a validated resident ID number (digits 7-14)."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def validate_resident_id(number: str, *, today: date | None = None) -> str:
    """Check an 18-digit 居民身份证号码 and return it normalised (uppercase X, no spaces).

    ``today`` (default: today in UTC+8, China Standard Time) bounds the birth date.
    Raises InvalidInput for a wrong length, wrong characters, a birth date that is not a real date,
    in the future or before 1900, or a wrong check character.
    """
    value = _normalise(number)
    if not value:
        raise InvalidInput(code="resident_id_empty")
    if len(value) != RESIDENT_ID_LENGTH:
        raise InvalidInput(code="resident_id_length", got=len(value))
    body, check = value[:-1], value[-1]
    if not (body.isascii() and body.isdigit()) or check not in "0123456789X":
        raise InvalidInput(code="resident_id_characters")
    try:
        born = resident_id_birth_date(value)
    except ValueError:
        raise InvalidInput(code="resident_id_birth_date") from None
    if today is None:
        today = clock.today()
    if born > today:
        raise InvalidInput(code="resident_id_birth_date", variant="future")
    if born.year < EARLIEST_BIRTH_YEAR:
        raise InvalidInput(code="resident_id_birth_date", variant="early")
    if resident_id_check_character(body) != check:
        raise InvalidInput(code="resident_id_check")
    return value


#: The identity documents a handler (经办人) or legal representative may present.
ID_DOCUMENT_KINDS = {
    "resident_id": "居民身份证",
    "hk_macau_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "passport": "护照",
}
# Permit numbers: H/M + 8 digits (+ 2-digit issue count on the 2012+ cards); Taiwan permits
# are 8 digits (2015+ cards) or 10 characters on the older booklets; passports 5-17 letters/digits.
# ASCII digits only: ``\d`` is true of other scripts' digits, which NFKC leaves as they are.
_PERMIT_PATTERNS = {
    "hk_macau_permit": re.compile(r"[HM][0-9]{8}([0-9]{2})?"),
    "taiwan_permit": re.compile(r"[0-9]{8}|[A-Z0-9]{10}"),
    "passport": re.compile(r"[A-Z0-9]{5,17}"),
}


def validate_id_document(kind: str, number: str) -> str:
    """Check an identity document number by kind and return it normalised.

    Mainland resident IDs get the full GB 11643-1999 check; the others a format check, since
    their numbers carry no check character."""
    if kind == "resident_id":
        return validate_resident_id(number)
    if kind not in _PERMIT_PATTERNS:
        kinds = "、".join(ID_DOCUMENT_KINDS.values())
        raise InvalidInput(code="id_document_kind", kinds=kinds)
    value = _normalise(number)
    if not _PERMIT_PATTERNS[kind].fullmatch(value):
        raise InvalidInput(code="id_document_number", kind=ID_DOCUMENT_KINDS[kind])
    return value


_REPLACEMENT = "\ufffd"


def refuse_invisible(text: str, what: str, *, lines: bool = False) -> None:
    """InvalidInput (``text_chars``, naming the field, the position and the kind) at the first
    character that shows nothing or changes how the rest shows: NUL and other control
    characters, right-to-left marks and overrides, zero-width and other format characters,
    private-use and unassigned code points, line and paragraph separators; and U+FFFD, the
    replacement character that only a failed decoding leaves (a GBK file read as UTF-8).

    The one rule of every text a person types that another reads (docs/security.md, "Invisible
    characters in typed text"). ``lines``: a text of several lines (a body, an answer, a
    reason kept as typed), whose line breaks (CR, LF) and tabs are its layout and pass."""
    # ``lines``: read as spaces, one for one (places still agree); ``str.replace``, as
    # ``str.translate`` took 17 ms of a 130,000-character body (replace: 0.2 ms in all)
    if lines:
        text = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    if _REPLACEMENT in text:
        raise InvalidInput(
            code="text_chars",
            what=what,
            where=text.index(_REPLACEMENT) + 1,
            char="U+FFFD",
            kind="乱码替换符（文字在编码转换时已损坏）",
        )
    if found := first_invisible(text):
        where, char, kind = found
        raise InvalidInput(code="text_chars", what=what, where=where, char=char, kind=kind)


def first_invisible(text: str) -> tuple[int, str, str] | None:
    """The first character :func:`refuse_invisible` refuses but U+FFFD: its place (from 1),
    its code point (``U+202E``) and what it is in Chinese; None when there is none. Also the
    rule of the names inside an archive an editor publishes (``hall.archives``)."""
    # Every refused character is one ``str.isprintable`` refuses too (categories C and Z but
    # the space): most text is passed at C speed, and only the rest is read one by one.
    if text.isprintable():
        return None
    for where, ch in enumerate(text, 1):
        if kind := _invisible(ch):
            return where, f"U+{ord(ch):04X}", kind
    return None


def _invisible(ch: str) -> str | None:
    """What ``ch`` is, in Chinese, when :func:`refuse_invisible` refuses it (U+FFFD aside)."""
    if ch in _BIDI:
        return "文字方向控制符"
    if ch == "\x00":
        return "空字符（NUL）"
    return _REFUSED_CATEGORIES.get(unicodedata.category(ch))


def marked(text: str) -> str:
    """``text`` with each character :func:`refuse_invisible` refuses written as its code point
    (``⟨U+202E⟩``): a text the rule did not stop (a line of a file reported as invalid) shown
    to a person without its effect."""
    if text.isprintable() and _REPLACEMENT not in text:
        return text
    return "".join(
        f"⟨U+{ord(ch):04X}⟩" if ch == _REPLACEMENT or _invisible(ch) else ch for ch in text
    )


def visible_text(text: str, limit: int, what: str, *, lines: bool = False) -> str:
    """``text`` a person typed for another to read (a reason, a note, an answer): at most
    ``limit`` characters (``field_too_long``, never cut) and nothing :func:`refuse_invisible`
    refuses; ``lines`` as there. The services' one check of such a field."""
    refuse_invisible(bounded(text, limit, what), what, lines=lines)
    return text


def subject_text(value: str | None, what: str, limit: int) -> str:
    """A name or place that goes into a certificate: trimmed, NFC, non-empty, at most ``limit``
    characters, nothing :func:`refuse_invisible` refuses. The one rule of the CA and the door."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if not text:
        raise InvalidInput(code="subject_missing", what=what)
    refuse_invisible(text, what)
    if len(text) > limit:
        raise InvalidInput(code="subject_too_long", what=what, limit=limit, got=len(text))
    return text


def org_name(value: str | None, what: str = "单位名称") -> str:
    """An organisation's name as its certificates will hold it (subject O and CN)."""
    return subject_text(value, what, UB_ORGANIZATION_NAME)


def person_name(value: str | None, what: str = "姓名") -> str:
    """A person's name as a certificate would hold it (subject CN); also used for people who
    are not certified (handlers, recipients), so that every name obeys one rule."""
    return subject_text(value, what, UB_COMMON_NAME)
