"""A scratch PostgreSQL database for tests that start real processes (CI's server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def scratch_database(prefix: str, *, template_url: str | None = None) -> Iterator[str]:
    """The URL of a new database, dropped afterwards; skips without PostgreSQL. Empty, or made
    from ``template_url``'s (``CREATE DATABASE ... TEMPLATE``: a file copy, no connection may
    be open to the template)."""
    url = os.environ.get("CERTHALL_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("no PostgreSQL: set CERTHALL_TEST_POSTGRES_URL (CI does)")
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    template = f' TEMPLATE "{template_url.rsplit("/", 1)[1]}"' if template_url else ""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
