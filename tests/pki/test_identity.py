from __future__ import annotations

import sys
import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from certhall.errors import InvalidInput
from certhall.pki import identity
from certhall.pki.identity import (
    RESIDENT_ID_CHECK,
    USCC_ALPHABET,
    resident_id_birth_date,
    resident_id_check_character,
    uscc_check_character,
    validate_resident_id,
    validate_uscc,
)

TODAY = date(2026, 3, 3)

# --- 统一社会信用代码 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the widely published GB 32100 example
        "91110000802100433B",
    ],
)
def test_valid_uscc(code: str) -> None:
    assert validate_uscc(code) == code


def test_check_character_by_hand() -> None:
    # The arithmetic again, independently of the implementation's tables.
    body = "91350100M000100Y4"
    values = [USCC_ALPHABET.index(ch) for ch in body]
    weights = [pow(3, i, 31) for i in range(17)]  # GB 32100 weights are 3^i mod 31
    total = sum(v * w for v, w in zip(values, weights, strict=True))
    assert USCC_ALPHABET[(31 - total % 31) % 31] == "3" == uscc_check_character(body)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("91350100m000100y43", "91350100M000100Y43"),
        (" 9135 0100 M000 100Y 43 ", "91350100M000100Y43"),
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),  # full-width input method
        ("91350100M000100Y43\u3000", "91350100M000100Y43"),  # ideographic space
    ],
)
def test_uscc_is_normalised(typed: str, canonical: str) -> None:
    assert validate_uscc(typed) == canonical


@pytest.mark.parametrize(
    ("code", "error_code", "message"),
    [
        ("", "uscc_empty", "请填写"),
        ("   ", "uscc_empty", "请填写"),
        ("91350100M000100Y4", "uscc_length", "应为18位，现为17位"),
        ("91350100M000100Y433", "uscc_length", "应为18位，现为19位"),
        ("91350100I000100Y43", "uscc_characters", "第9位"),
        ("O1350100M000100Y43", "uscc_characters", "第1位"),
        ("91350100M000100Y4Z", "uscc_characters", "第18位"),
        ("9135010SM00010VY43", "uscc_characters", "第8、15位"),
        ("91350100M000100Y44", "uscc_check", "校验位不正确"),
        ("91350100M000100Y34", "uscc_check", "校验位不正确"),
    ],
)
def test_invalid_uscc(code: str, error_code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        validate_uscc(code)
    assert info.value.code == error_code


def test_wrong_check_character_message_does_not_reveal_the_expected_one() -> None:
    with pytest.raises(InvalidInput) as info:
        validate_uscc("91350100M000100Y40")
    assert "3" not in str(info.value).replace("USCC", "")


def test_uscc_check_character_refuses_bad_body() -> None:
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_character("91350100M000100Y")
    with pytest.raises(ValueError, match="17 characters"):
        uscc_check_character("91350100M000100I4")


uscc_bodies = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@given(uscc_bodies)
def test_any_body_with_its_check_character_validates(body: str) -> None:
    code = body + uscc_check_character(body)
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code


@given(uscc_bodies, st.integers(min_value=0, max_value=17), st.sampled_from(USCC_ALPHABET))
def test_changing_one_uscc_character_is_detected(body: str, position: int, new: str) -> None:
    code = body + uscc_check_character(body)
    assume(code[position] != new)
    changed = code[:position] + new + code[position + 1 :]
    with pytest.raises(InvalidInput) as info:
        validate_uscc(changed)
    assert info.value.code == "uscc_check"


@given(uscc_bodies, st.integers(min_value=0, max_value=17), st.sampled_from("IOSVZ*-#"))
def test_foreign_characters_are_refused(body: str, position: int, new: str) -> None:
    code = body + uscc_check_character(body)
    changed = code[:position] + new + code[position + 1 :]
    with pytest.raises(InvalidInput) as info:
        validate_uscc(changed)
    assert info.value.code == "uscc_characters"


# --- 居民身份证号码 ------------------------------------------------------------------------------


def test_valid_resident_id_from_the_standard() -> None:
    assert validate_resident_id("11010519491231002X", today=TODAY) == "11010519491231002X"
    assert resident_id_birth_date("11010519491231002X") == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("11010519491231002x", "11010519491231002X"),
        ("110105 19491231 002X", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
    ],
)
def test_resident_id_is_normalised(typed: str, canonical: str) -> None:
    assert validate_resident_id(typed, today=TODAY) == canonical


def _with_check(body: str) -> str:
    return body + resident_id_check_character(body)


@pytest.mark.parametrize(
    ("number", "error_code", "message"),
    [
        ("", "resident_id_empty", "请填写"),
        ("110105194912310", "resident_id_length", "现为15位"),
        ("11010519491231002X1", "resident_id_length", "现为19位"),
        ("1101051949123100AX", "resident_id_characters", "17位数字加1位数字或X"),
        ("11010519491231002Y", "resident_id_characters", "17位数字加1位数字或X"),
        (_with_check("11010519490231002"), "resident_id_birth_date", "不是有效日期"),
        (_with_check("11010519491301002"), "resident_id_birth_date", "不是有效日期"),
        (_with_check("11010520250229002"), "resident_id_birth_date", "不是有效日期"),
        (_with_check("11010520260304002"), "resident_id_birth_date", "晚于今天"),
        (_with_check("11010518991231002"), "resident_id_birth_date", "早于1900年"),
        ("110105194912310021", "resident_id_check", "校验位不正确"),
        ("11010519491231003X", "resident_id_check", "校验位不正确"),
    ],
)
def test_invalid_resident_id(number: str, error_code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        validate_resident_id(number, today=TODAY)
    assert info.value.code == error_code
    if number:
        assert number not in str(info.value)  # personal data is never echoed


def test_birthday_today_and_leap_day_are_fine() -> None:
    assert validate_resident_id(_with_check("44030520260303001"), today=TODAY)
    assert validate_resident_id(_with_check("44030520000229001"), today=TODAY)
    assert validate_resident_id(_with_check("44030519000101001"), today=TODAY)


def test_default_today_is_used() -> None:
    tomorrow = date.today() + timedelta(days=2)
    with pytest.raises(InvalidInput, match="晚于今天"):
        validate_resident_id(_with_check(f"440305{tomorrow:%Y%m%d}001"))


def test_resident_id_check_character_refuses_bad_body() -> None:
    with pytest.raises(ValueError, match="17 ASCII digits"):
        resident_id_check_character("1101051949123100")


@st.composite
def resident_bodies(draw: st.DrawFn) -> str:
    area = draw(st.integers(min_value=110000, max_value=829999))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(min_value=0, max_value=999))
    return f"{area}{born:%Y%m%d}{sequence:03d}"


@given(resident_bodies())
def test_any_resident_body_with_its_check_character_validates(body: str) -> None:
    number = _with_check(body)
    assert validate_resident_id(number, today=TODAY) == number
    assert number[-1] in RESIDENT_ID_CHECK


@given(resident_bodies(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_changing_one_resident_id_character_is_detected(body: str, position: int, new: str) -> None:
    number = _with_check(body)
    assume(number[position] != new)
    changed = number[:position] + new + number[position + 1 :]
    with pytest.raises(InvalidInput) as info:
        validate_resident_id(changed, today=TODAY)
    if new == "X" and position < 17:
        assert info.value.code == "resident_id_characters"
    elif 6 <= position <= 13:  # inside the birth date: maybe no longer a date, else the check
        assert info.value.code in {"resident_id_birth_date", "resident_id_check"}
    else:
        assert info.value.code == "resident_id_check"


@pytest.mark.parametrize(
    ("kind", "number", "normalised"),
    [
        ("resident_id", "11010519491231002x", "11010519491231002X"),
        ("hk_macau_permit", "H12345678", "H12345678"),
        ("hk_macau_permit", "m1234567801", "M1234567801"),
        ("taiwan_permit", "12345678", "12345678"),
        ("passport", "e 1234 5678", "E12345678"),
    ],
)
def test_id_documents_by_kind(kind: str, number: str, normalised: str) -> None:
    assert identity.validate_id_document(kind, number) == normalised


@pytest.mark.parametrize(
    ("kind", "number", "code"),
    [
        ("resident_id", "110105194912310021", "resident_id_check"),
        ("hk_macau_permit", "X12345678", "id_document_number"),
        ("hk_macau_permit", "H1234567", "id_document_number"),
        ("taiwan_permit", "1234567", "id_document_number"),
        ("taiwan_permit", "١٢٣٤٥٦٧٨", "id_document_number"),  # Arabic-Indic digits
        ("hk_macau_permit", "H١٢٣٤٥٦٧٨", "id_document_number"),
        ("passport", "E12", "id_document_number"),
        ("driving_licence", "123456", "id_document_kind"),
    ],
)
def test_bad_id_documents(kind: str, number: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        identity.validate_id_document(kind, number)
    assert error.value.code == code


def test_every_character_the_names_refuse_fails_the_quick_check() -> None:
    """``refuse_invisible`` passes text that ``str.isprintable`` passes without reading it
    character by character: that is only right while every refused character is one
    ``isprintable`` refuses too. Checked over all of Unicode, for this Python's tables."""
    refused = [
        ch
        for ch in map(chr, range(sys.maxunicode + 1))
        if ch in identity._BIDI or unicodedata.category(ch) in identity._REFUSED_CATEGORIES
    ]
    assert len(refused) > 900_000  # the unassigned code points among them
    assert not any(ch.isprintable() for ch in refused)


@pytest.mark.parametrize(
    ("text", "where", "char"),
    [
        ("深圳\u202e公司", 3, "U+202E"),
        ("深圳\x00", 3, "U+0000"),
        ("a\u3000b\u200bc", 4, "U+200B"),
        ("深\ufffd圳公司", 2, "U+FFFD"),  # what a GBK name read as UTF-8 leaves: shown, but broken
    ],
)
def test_invisible_characters_are_refused_by_position(text: str, where: int, char: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        identity.refuse_invisible(text, "单位名称")
    assert refused.value.code == "text_chars"
    assert (refused.value.params["where"], refused.value.params["char"]) == (where, char)
    identity.refuse_invisible("深圳市\u3000演示 (Demo) 公司", "单位名称")  # wide space: shown


def test_a_text_of_several_lines_keeps_its_line_breaks_and_tabs_and_nothing_else() -> None:
    """``lines=True`` (a body, an answer, a reason kept as typed): CR, LF and tab pass, in
    the places they were; every other character refused alone is refused there too."""
    identity.refuse_invisible("第一行\r\n\t第二行", "答复", lines=True)
    with pytest.raises(InvalidInput):
        identity.refuse_invisible("第一行\n第二行", "标题")  # one line: a line break refused
    for text, where in (("一\n二\u202e三", 4), ("一\t\x0b", 3), ("一\n\u2028", 3)):
        with pytest.raises(InvalidInput) as refused:
            identity.refuse_invisible(text, "答复", lines=True)
        assert refused.value.params["where"] == where, text


def test_visible_text_is_bounded_and_refuses_what_shows_nothing() -> None:
    """The services' one check of a typed text: its bound (never cut), then the characters."""
    assert identity.visible_text("第一行\n第二行", 7, "答复", lines=True) == "第一行\n第二行"
    with pytest.raises(InvalidInput) as long:
        identity.visible_text("八个字八个字八个", 7, "原因")
    assert long.value.code == "field_too_long" and "原因" in long.value.message
    with pytest.raises(InvalidInput) as hidden:
        identity.visible_text("顺丰\u200b速运", 32, "快递公司")
    assert hidden.value.code == "text_chars" and "快递公司" in hidden.value.message
    with pytest.raises(InvalidInput):  # a line break only where lines are kept
        identity.visible_text("第一行\n第二行", 32, "原因")


def test_marked_shows_what_the_rule_refuses_as_code_points() -> None:
    """A text the rule did not stop (a file's invalid line in a report) is shown without the
    effect of what it refuses; everything else, emoji and ideographic space included, as is."""
    assert identity.marked("深圳\u202e演示\u200b，\ufffd") == "深圳⟨U+202E⟩演示⟨U+200B⟩，⟨U+FFFD⟩"
    assert identity.marked("深圳　演示 😀") == "深圳　演示 😀"
    for odd in ("\x00", "\x1f", "\u2028", "\ue000", "\u2066"):
        with pytest.raises(InvalidInput):
            identity.refuse_invisible(f"甲{odd}乙", "字段")
        assert identity.marked(f"甲{odd}乙") == f"甲⟨U+{ord(odd):04X}⟩乙"


@pytest.mark.parametrize(
    ("typed", "prefix", "longer", "printed"),
    [
        ("ZF20261120-000123", "ZF", False, "ZF20261120-000123"),
        ("ｚｆ２０２６１１２０－０００１２３", "ZF", False, "ZF20261120-000123"),
        (" zf 20261120 000123 ", "ZF", False, "ZF20261120-000123"),
        ("ZF20261120-0001234", "ZF", False, None),  # an order's sequence has six digits
        ("FH20261120-0001234", "FH", True, "FH20261120-0001234"),  # an application's six or more
        ("FH20261120-00012", "FH", True, None),
        ("ZF20261120-000123", "FH", True, None),  # another kind's number
        ("ZF20261120——000123", "ZF", False, "ZF20261120-000123"),  # a Chinese IME's dash
        ("FH20261120–000042", "FH", True, "FH20261120-000042"),
        ("ZF20261120－000123", "ZF", False, "ZF20261120-000123"),
        ("ZF20261120---000123", "ZF", False, None),
        ("ZF2026112-0000123", "ZF", False, None),  # the hyphen is not moved
        ("ZF20261120-٠٠٠١٢٣", "ZF", False, None),  # other scripts' digits stay refused
        ("", "ZF", False, None),
    ],
)
def test_dated_number_reads_what_a_person_types(
    typed: str, prefix: str, longer: bool, printed: str | None
) -> None:
    assert identity.dated_number(typed, prefix, longer=longer) == printed
