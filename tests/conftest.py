"""Shared fixtures: actors for each role, and a freshly initialised CA per test."""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from certhall import config
from certhall.accounts.models import Organization, Provider, Role, User
from certhall.accounts.services import home_provider, system_actor

# Hypothesis's 200 ms deadline per example measures the machine, not the rules: on CI's two
# shared cores one example of tests/rules took 496 ms once (0.9 ms when run again).
hypothesis_settings.register_profile("certhall", deadline=None)
hypothesis_settings.load_profile("certhall")

DB_FIXTURES = {"db", "transactional_db", "django_db_setup"}


#: The marks of the tests that wait on other processes (killed commands, Chromium, servers),
#: in the order their modules start: the longest first.
HEAVY = ("slow", "browser", "interop")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches the database, so `make test` can run exactly those again
    on PostgreSQL (`-m database`); then put the modules of heavy tests first.

    The Makefile hands xdist whole modules (``--dist loadscope``) in this order: the crash
    tests and browser walks start at once on every worker, and the last minutes are left to
    modules of quick tests (before 12-07 one worker was left alone with them for minutes,
    docs/performance.md section 8)."""
    rank: dict[str, int] = {}
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & DB_FIXTURES or item.get_closest_marker("django_db"):
            item.add_marker(pytest.mark.database)
        module = item.nodeid.split("::")[0]
        marks = [i for i, mark in enumerate(HEAVY) if item.get_closest_marker(mark)]
        rank[module] = min(rank.get(module, len(HEAVY)), *marks, len(HEAVY))
    items.sort(key=lambda item: rank[item.nodeid.split("::")[0]])


@pytest.fixture(autouse=True)
def _no_page_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A browser test fails on a page's uncaught script error or console error
    (tests/browser/conftest.py ``PAGE_ERRORS``), but for those it provokes on purpose: each
    ``@pytest.mark.allow_page_error(pattern, why="...")`` allows the errors its regular
    expression finds (``tests.browser.conftest.refused`` writes one), and says why."""
    yield
    if request.node.get_closest_marker("browser") is None:
        return
    from tests.browser.conftest import PAGE_ERRORS

    marks = list(request.node.iter_markers("allow_page_error"))
    assert all(mark.kwargs.get("why") for mark in marks), "allow_page_error(pattern, why=...)"
    allowed = [mark.args[0] for mark in marks]
    errors = [e for e in PAGE_ERRORS if not any(re.search(pattern, e) for pattern in allowed)]
    PAGE_ERRORS.clear()
    if errors:
        pytest.fail("errors on the pages:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Iterator[None]:
    """A test's imported holiday arrangements roll back with its transaction: forget the
    process's cached copy of them too."""
    from certhall.hall import calendar

    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture(autouse=True)
def _no_audit_checkpoints() -> Iterator[None]:
    """The checkpoint file lives in the worker's home, the chain in the test's database: a
    test's checkpoints go with it."""
    path = config.get().audit_checkpoints
    path.unlink(missing_ok=True)
    yield
    path.unlink(missing_ok=True)


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Callable[..., config.Config]:
    """Change some of the instance's settings (``certhall.config``, read once and cached) for
    the rest of the test: ``configure(sms_backend="...")``."""

    def change(**changes: Any) -> config.Config:
        changed = dataclasses.replace(config.get(), **changes)
        monkeypatch.setattr(config, "get", lambda: changed)
        return changed

    return change


@pytest.fixture
def provider(db: None) -> Provider:
    return home_provider()


@pytest.fixture
def other_provider(db: None) -> Provider:
    return Provider.objects.create(slug="otherca", name="另一家电子认证服务机构")


@pytest.fixture
def organization(db: None) -> Organization:
    return Organization.objects.create(name="深圳市演示医疗科技有限公司", uscc="91350100M000100Y43")


@pytest.fixture
def make_user(db: None, provider: Provider, organization: Organization):  # type: ignore[no-untyped-def]
    counter = iter(range(10_000))

    def make(role: Role, **fields: object) -> User:
        defaults: dict[str, object] = {
            "provider": provider if role not in (Role.APPLICANT, Role.REFUND_OFFICER) else None,
            "organization": organization if role == Role.APPLICANT else None,
        }
        defaults.update(fields)
        return User.objects.create(username=f"{role.value}-{next(counter)}", role=role, **defaults)

    return make


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user(Role.AUDITOR)


@pytest.fixture
def audit_flushable(transactional_db: None):  # type: ignore[no-untyped-def]
    """Transactional tests end with a flush, which the append-only triggers refuse on SQLite
    (it deletes row by row; PostgreSQL truncates). Lift them just for the flush."""
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    triggers = importlib.import_module("certhall.audit.migrations.0002_append_only")
    with connection.cursor() as cursor:
        for sql in triggers.SQLITE_REVERSE:
            cursor.execute(sql)
        cursor.execute("DELETE FROM audit_auditevent")
        for sql in triggers.SQLITE:
            cursor.execute(sql)


@pytest.fixture
def admin(db: None) -> User:
    return system_actor("test")


@pytest.fixture
def ca(admin: User):  # type: ignore[no-untyped-def]
    """A new root and issuing CA (keys on the instance's SoftHSM token or in files)."""
    from certhall.ca import ocsp, signers
    from certhall.ca.services import init_ca

    signers.forget()
    ocsp.reset()
    root, issuing = init_ca(admin)
    yield root, issuing
    signers.forget()
    ocsp.reset()


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``certhall setup --demo`` once per worker and database kind, copied for each crash test's
    home (``tests.support.crash.Templates``)."""
    from tests.support.crash import Templates

    with ExitStack() as stack:
        yield Templates(tmp_path_factory.mktemp("demo-templates"), stack)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def demo_home(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_templates: Any
) -> Iterator[Any]:
    """One real instance home (a copy of ``certhall setup --demo``'s) per worker and database,
    shared by the crash tests of money and the CA (``tests.support.crash``): each uses its own
    objects in it."""
    path = tmp_path_factory.mktemp("demo-home") / "home"
    with demo_templates.copy(request.param, path, "tests.support.crash_scenario") as home:
        yield home
