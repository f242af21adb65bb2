"""The error hierarchy shared by every layer.

Framework-free on purpose: the cores (``pki``, ``tokens``, ``rules``) raise these, and exactly one
place per entry point translates them (HTTP status and page or JSON in ``certhall.web.errors``,
exit code in ``certhall.cli.main``).

Every error has a stable ``code``; the words a person reads come from the one message catalogue
(``certhall.messages``), filled with the error's ``params``::

    raise Conflict(code="application_state", number=number, current="已付款", target="草稿")

``variant=`` picks a second wording of the same code (catalogue key ``code.variant``).

A raise site that still passes its own text (``Conflict("...")``) is a site not yet moved to
the catalogue; ``tests/test_messages.py`` counts them down to zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from types import MappingProxyType
from typing import Any, Self


def quoted(text: object, limit: int) -> str:
    """An identifier someone sent (in a URL, a form, a JSON body), as a refusal or an audit
    event may repeat it: whole when it fits ``limit`` (the identifier's real maximum length),
    otherwise its first ``limit`` characters and "…". A megabyte sent as a serial is never
    echoed back or recorded whole."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}…"


class CerthallError(Exception):
    """Base class. ``code`` is a stable machine-readable identifier for API clients.

    ``for_audit`` is what the refusal's audit event records beyond the code and the words,
    and nobody who was refused is told (``accounts.visibility``: that a number that "does not
    exist" is another enterprise's)."""

    code = "error"
    http_status = 400
    exit_code = 1
    for_audit: Mapping[str, object] = MappingProxyType({})
    #: The inputs the refusal is about, by their names in the form that sent them (``phone``,
    #: ``uscc``), when it names any (:meth:`naming`): a page showing the refusal beside its
    #: form marks them invalid, described by the refusal (``certhall.web.refused``).
    fields: tuple[str, ...] = ()

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        variant: str | None = None,
        **params: Any,
    ) -> None:
        if code is not None:
            self.code = code
        self.params = params
        if message is None:
            from certhall.messages import text

            # ``code.variant``: a second wording of the same code (the code stays the API's).
            message = text(f"{self.code}.{variant}" if variant else self.code, **params)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def naming(self, *fields: str) -> Self:
        """This refusal, about the inputs ``fields`` (:attr:`fields`)."""
        self.fields = fields
        return self


class InvalidInput(CerthallError):
    """The caller sent something malformed: a bad CSR, a wrong check digit, an unknown option."""

    code = "invalid_input"
    http_status = 400
    exit_code = 2


class RuleViolation(CerthallError):
    """Well-formed, but a business rule forbids it (the message quotes the rule)."""

    code = "rule_violation"
    http_status = 422
    exit_code = 3


class NotFound(CerthallError):
    code = "not_found"
    http_status = 404
    exit_code = 4


class Conflict(CerthallError):
    """The current state does not allow it (already revoked, already paid, ...)."""

    code = "conflict"
    http_status = 409
    exit_code = 5


class Forbidden(CerthallError):
    code = "forbidden"
    http_status = 403
    exit_code = 6


class TokenError(CerthallError):
    """A PKCS#11 token refused or failed (wrong PIN, locked, removed)."""

    code = "token_error"
    http_status = 409
    exit_code = 7


class TooManyRequests(CerthallError):
    """A rate limit (``certhall.ratelimit``) refused the request: HTTP 429, and
    ``retry_after`` seconds until it is allowed again (the ``Retry-After`` header).

    The code clients see is always ``rate_limited``; ``message_code`` names the catalogue entry
    of the words when a limit has its own ("同一手机号每小时最多获取5次验证码..."). ``scope`` names
    the limit (the refusal's audit event says it: ``for_audit`` ``limit``); ``first_refusal`` is
    true for the first refusal of its window, the one worth an audit event or a log line (not
    every request of a flood)."""

    code = "rate_limited"
    http_status = 429
    exit_code = 9

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int,
        code: str | None = None,
        message_code: str | None = None,
        scope: str = "",
        first_refusal: bool = True,
        **params: Any,
    ) -> None:
        self.retry_after = max(1, int(retry_after))
        self.scope = scope
        self.first_refusal = first_refusal
        if scope:
            self.for_audit = MappingProxyType({"limit": scope})
        params["retry_after"] = self.retry_after
        if message is None and message_code is not None:
            from certhall.messages import text

            message = text(message_code, **params)
        super().__init__(message, code=code, **params)


class ConfigurationError(CerthallError):
    """The instance is not configured correctly; raised at start-up, never at first use."""

    code = "configuration_error"
    http_status = 500
    exit_code = 8


@contextmanager
def about(*fields: str) -> Iterator[None]:
    """Refusals raised inside are about the inputs ``fields`` (:attr:`CerthallError.fields`),
    unless they name their own: the service that knows its input's names says which field a
    check of a core (a USCC, an ID number), which knows none, refused."""
    try:
        yield
    except CerthallError as error:
        if not error.fields:
            error.fields = fields
        raise


@contextmanager
def renamed(rename: Callable[[str], str]) -> Iterator[None]:
    """Refusals raised inside name their fields ``rename(name)`` (once each): a caller holding
    another's inputs under names of its own (the rules' ``cert_expiry`` is a business line's
    ``serial``: ``hall.items``)."""
    try:
        yield
    except CerthallError as error:
        error.fields = tuple(dict.fromkeys(rename(name) for name in error.fields))
        raise


def prefixed(prefix: str) -> AbstractContextManager[None]:
    """Refusals raised inside name their fields with ``prefix`` ahead: a form holding another
    form's fields under names of its own (the counter's ``handler_phone`` for the handler
    form's ``phone``)."""
    return renamed(lambda name: prefix + name)


def bounded(text: str, limit: int, what: str = "") -> str:
    """``text`` when it has at most ``limit`` characters; refused (``field_too_long``) when
    longer, never cut: a cut value would be checked and stored as if it had been sent so.
    ``what`` names the field in the refusal (in Chinese: 原因, 快递公司 ...)."""
    if len(text) > limit:
        raise InvalidInput(
            code="field_too_long", variant="named" if what else None, max_length=limit, what=what
        )
    return text
