"""Writing many rows at once, below the ORM: PostgreSQL's COPY, SQLite's ``executemany``.

For imports and rebuilds of tens of thousands of rows, where building a model instance and an
INSERT per row costs more than the database's work (``refunds.imports``: 10k rows/s through
``bulk_create``); and :func:`insert_row` for the one row every operation of a kind writes (an
audit event, a registry row). The caller has checked every value already; the database still
enforces its constraints. Runs inside the caller's transaction.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from queue import Full, Queue
from typing import Any

from django.db import connection, models

from certhall.reads import prepared_cursor


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in the order of ``columns``, database column names) into
    ``model``'s table. Datetimes go in as ``connection.ops.adapt_datetimefield_value`` gives
    them (SQLite stores naive UTC text)."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    # The driver's own errors (COPY's unique violation) reach the caller as Django's.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            raw: Any = cursor.cursor  # psycopg 3
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))  # noqa: S608


def insert_row(model: type[models.Model], columns: Sequence[str], values: Sequence[Any]) -> int:
    """Insert one row of already checked ``values`` (in the order of ``columns``, database
    column names) and return its primary key: one precompiled ``INSERT ... RETURNING id``
    (PostgreSQL, SQLite 3.35+), for rows written on every operation of their kind."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(insert_sql(model, columns), values)
        key: int = cursor.fetchone()[0]
    return key


def insert_sql(model: type[models.Model], columns: Sequence[str]) -> str:
    """The ``INSERT ... RETURNING id`` of :func:`insert_row`, for a statement that writes more."""
    return _insert_returning(connection.vendor, model, tuple(columns))


@cache
def _insert_returning(vendor: str, model: type[models.Model], columns: tuple[str, ...]) -> str:
    q = connection.ops.quote_name
    names = ", ".join(q(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {q(model._meta.db_table)} ({names}) VALUES ({marks}) RETURNING id"  # noqa: S608


def keys_by(model: type[models.Model], column: str, values: Sequence[Any]) -> dict[Any, int]:
    """The primary keys of rows just written, by a unique ``column``: what ``insert_rows``
    cannot hand back (COPY returns nothing). One statement per thousand values."""
    table = connection.ops.quote_name(model._meta.db_table)
    name = connection.ops.quote_name(column)
    found: dict[Any, int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(values), 1000):
            chunk = values[start : start + 1000]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT {name}, id FROM {table} WHERE {name} IN ({marks})", chunk)  # noqa: S608
            found.update(cursor.fetchall())
    return found


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def ahead[T](items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items``, produced by a thread up to ``depth`` steps ahead of the consumer: preparing
    the next chunk in Python overlaps with the database writing this one (the GIL is free while
    the database works). The producer must not use the database. An exception of the producer
    is raised in the consumer; a consumer that stops early stops the producer."""
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            with contextlib.suppress(Full):
                queue.put(item, timeout=0.1)
                return

    def produce() -> None:
        try:
            for item in items:
                put(item)
                if stop.is_set():
                    return
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))
        else:
            put(_END)

    thread = threading.Thread(target=produce, name="certhall-ahead", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
