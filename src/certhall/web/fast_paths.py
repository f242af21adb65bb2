"""What a fast path is: a handler the serving processes ask before Django, on their event loop
(``web/gateway.py`` and ``web/fast_listener.py``), with the replies it can give."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Sequence[tuple[str, str]]  # may be shared between replies: never changed
    body: bytes


@dataclass(frozen=True)
class InPool:
    """A fast path's answer that needs blocking work (the database): run in the request
    threads, counted and shed as a Django request is, without Django's request handling."""

    work: Callable[[], Reply]


class FastPath(Protocol):
    def __call__(self, method: str, path: str, body: bytes) -> Reply | InPool | None: ...

    def start(self) -> None:
        """Called once per worker process before it serves (load caches, start pollers)."""


def plain_reply(status: int, message: str) -> Reply:
    return Reply(status, [("content-type", "text/plain; charset=utf-8")], message.encode())
