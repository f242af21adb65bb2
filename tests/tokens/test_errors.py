"""The token layer's refusals: classes by outcome, words from the message catalogue."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from certhall import messages
from certhall.errors import TokenError
from certhall.tokens import errors

SRC = Path(__file__).resolve().parents[2] / "src" / "certhall"
CLASSES = {
    name: cls
    for name, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.TokenRefusal)
}


def _raise_sites() -> list[tuple[str, str, frozenset[str]]]:
    """(where, catalogue key, keyword names) of every construction of a refusal class in src/."""
    sites = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            cls = CLASSES.get(node.func.id)
            if cls is None or cls is errors.TokenRefusal:
                continue
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
            variant = keywords.pop("variant", None)
            # variant="x", or variant="x" if ... else None
            options = (
                [variant.body, variant.orelse] if isinstance(variant, ast.IfExp) else [variant]
            )
            variants = [o.value if isinstance(o, ast.Constant) else None for o in options]
            for value in variants:
                key = f"{cls.code}.{value}" if value else cls.code
                where = f"{path.relative_to(SRC.parent)}:{node.lineno}"
                sites.append((where, key, frozenset(keywords) | {"tries_left"}))
    return sites


SITES = _raise_sites()


def test_the_sites_are_found() -> None:
    keys = {key for _, key, _ in SITES}
    assert {"wrong_pin", "wrong_pin.uncounted", "pin_locked.now", "pin_length.so"} <= keys


@pytest.mark.parametrize(("where", "key", "keywords"), SITES, ids=[s[0] for s in SITES])
def test_every_refusal_has_its_words_in_the_catalogue(
    where: str, key: str, keywords: frozenset[str]
) -> None:
    assert key in messages.CATALOGUE, f"{where}: no {key!r} in certhall.messages"
    missing = messages.placeholders(key) - keywords
    assert not missing, f"{where}: parameters {sorted(missing)} missing for {key!r}"


def _code_keys(call: ast.Call) -> list[str]:
    """The catalogue keys a ``Cls(code="c", variant=...)`` call can use: ``c`` and ``c.v``."""
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg}
    code = keywords.get("code")
    if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
        return []
    variant = keywords.get("variant")
    options = [variant.body, variant.orelse] if isinstance(variant, ast.IfExp) else [variant]
    return [
        f"{code.value}.{o.value}" if isinstance(o, ast.Constant) and o.value else code.value
        for o in options
    ]


def test_every_token_message_is_used() -> None:
    from certhall.messages import tokens

    used = {key for _, key, _ in SITES} | {
        key  # TokenError(code="...") sites: tests/test_messages.py checks them
        for path in (SRC / "tokens").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Call)
        for key in _code_keys(node)
    }
    assert set(tokens.MESSAGES) <= used


def test_outcomes_keep_their_codes_and_say_them_in_chinese() -> None:
    wrong = errors.WrongPin(label="ukey", tries_left=3)
    assert isinstance(wrong, errors.PinError) and isinstance(wrong, TokenError)
    assert (wrong.code, wrong.tries_left, wrong.exit_code) == ("wrong_pin", 3, 7)
    assert wrong.message == "PIN码错误，还可以尝试 3 次；次数用完后Ukey将被锁定。"
    assert wrong.params == {"label": "ukey", "tries_left": 3}
    locked = errors.PinLocked(label="ukey", variant="now")
    assert (locked.code, locked.tries_left) == ("pin_locked", 0)
    assert locked.message.startswith("PIN码错误，次数已用完")
    assert errors.PinLengthInvalid(min_length=4, max_length=255).code == "pin_length"
    assert isinstance(errors.PinLengthInvalid(), errors.PinPolicyViolation)


def test_every_class_keeps_its_code() -> None:
    codes = {name: cls.code for name, cls in CLASSES.items()}
    assert codes == {
        "TokenRefusal": "token_error",
        "TokenInitFailed": "token_init_failed",
        "TokenNotFound": "token_not_found",
        "SessionFailed": "session_failed",
        "TokenBusy": "token_busy",
        "PinError": "token_error",
        "WrongPin": "wrong_pin",
        "PinLocked": "pin_locked",
        "PinChangeRequired": "pin_must_change",
        "PinExpired": "pin_expired",
        "PinNotInitialised": "pin_not_initialised",
        "PinPolicyViolation": "pin_policy",
        "PinLengthInvalid": "pin_length",
        "PinRejected": "pin_rejected",
        "WrongSoPin": "wrong_so_pin",
        "SoPinLocked": "so_pin_locked",
    }
    assert errors.PinLocked(label="ukey").tries_left == 0
    assert errors.PinExpired(label="ukey").tries_left is None
