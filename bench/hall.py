"""Hall: applicant pages and JSON API under 200 concurrent simulated users (issue 4).

Target: p95 < 200 ms at >= 300 requests/s on 2 cores, PostgreSQL, 100,000 applications.

Setup (one worker process, on a fresh PostgreSQL instance):

* ``certhall setup`` in the instance's environment (migrate, collectstatic, ``init_ca``);
* a bulk insert (``bulk_create``, not timed): 5,000 organisations, each with one handler and one
  applicant account (all with the same Argon2 password hash, computed once); 100,000 online
  applications, 20 per organisation, created over two years, in realistic states (most
  delivered, some cancelled or refunded, the open ones recent) with their dates; 1 or 2 items
  each (新办, 机构证书 and in 30% a 机构个人证书 as well), two uploaded documents each, and the
  audit events of their state changes (3-6 per application, which the detail page and the API
  detail read as the history). The audit events have placeholder hashes at sequence numbers far
  above the real chain: the benchmark only reads them (``audit.services.verify()`` would not pass
  on this synthetic data);
* sessions: N applicant sessions (default 1,000, one per organisation) created **directly** as
  Django ``Session`` rows, with exactly what ``django.contrib.auth.login`` stores (user id,
  backend, session auth hash). The benchmark also logs one account in through the real password
  login (``POST /accounts/login/`` with its CSRF token) and checks that its cookie is served the
  same pages.

Server: ``certhall serve --workers 2 --no-jobs`` (granian, Django behind the gateway), on
127.0.0.1, as ``make run`` starts it.

Load, from separate processes, every request a random line of the request file: a user's session
cookie and one of five GETs, all on that user's own data, in equal shares: ``/hall/`` (home: my
latest applications), ``/hall/applications/`` (my applications, up to 100),
``/hall/applications/<number>/`` (detail page of one of mine), ``/api/hall/applications`` (JSON
list, 50) and ``/api/hall/applications/<number>`` (JSON detail).

* the target, an **open loop** (bench/openloop.py): requests arrive at a fixed rate (default
  300/s for 60 s) whatever the latency, latency counted from each request's due time; then a
  ladder of other rates (20 s each) for the highest rate with p95 < 200 ms and no errors;
* for reference, a closed loop: ``wrk -t2 -c200`` (200 connections without pauses: the
  capacity), and each of the five requests alone.

Before the load, a sample of answers is checked (status 200, the user's own organisation and
applications, not another one's; a real password login) and again after it. Before the server
starts, each request runs in-process (Django test client): time and SQL statements
(``--profile``: a cProfile as well).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import (
    BenchFailure,
    Server,
    django_setup,
    emit,
    free_port,
    handle_signals,
    instance,
    log,
    median,
    postgres_available,
    run_worker,
    spread,
)
from bench.ocsp import group_cpu_seconds

LUA = Path(__file__).with_name("hall_wrk.lua")
SEED = 4004
TARGET_P95_MS = 200.0
TARGET_RPS = 300.0
KINDS = ("home", "list", "detail", "api_list", "api_detail")
PASSWORD = "bench-Hall-2026!"  # noqa: S105 - the synthetic accounts' password
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("hall")
    g.add_argument("--hall-apps", type=int, default=100_000)
    g.add_argument("--hall-orgs", type=int, default=5_000)
    g.add_argument("--hall-users", type=int, default=1_000, help="simulated users (sessions)")
    g.add_argument("--hall-connections", type=int, default=200)
    g.add_argument("--hall-duration", type=float, default=30.0, help="seconds per wrk run")
    g.add_argument("--hall-warmup", type=float, default=10.0)
    g.add_argument("--hall-repeat", type=int, default=3)
    g.add_argument("--hall-kind-duration", type=float, default=8.0, help="per-request runs")
    g.add_argument("--hall-rate", type=float, default=300.0, help="open-loop arrivals per second")
    g.add_argument("--hall-open-duration", type=float, default=60.0, help="open-loop seconds")
    g.add_argument(
        "--hall-ladder",
        default="50,100,150,200,250",
        help="open-loop rates tried first, 20 s each, up to the first that misses p95 < 200 ms",
    )
    g.add_argument(
        "--hall-profile", action="store_true", help="cProfile the in-process requests as well"
    )


def quick(args: argparse.Namespace) -> None:
    args.hall_apps, args.hall_orgs, args.hall_users = 10_000, 500, 200
    args.hall_duration, args.hall_warmup, args.hall_repeat = 8.0, 3.0, 1
    args.hall_kind_duration = 3.0
    args.hall_open_duration, args.hall_ladder = 15.0, "50,150"


# --- data ------------------------------------------------------------------------------------

# (state, share, the path of states the application went through)
STATES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("delivered", 0.70, ("draft", "awaiting_payment", "paid", "approved", "issued", "delivered")),
    ("cancelled", 0.07, ("draft", "cancelled")),
    ("refunded", 0.02, ("draft", "awaiting_payment", "paid", "refunded")),
    ("issued", 0.03, ("draft", "awaiting_payment", "paid", "approved", "issued")),
    ("approved", 0.02, ("draft", "awaiting_payment", "paid", "approved")),
    ("paid", 0.04, ("draft", "awaiting_payment", "paid")),
    ("returned", 0.02, ("draft", "awaiting_payment", "paid", "returned")),
    ("awaiting_payment", 0.04, ("draft", "awaiting_payment")),
    ("draft", 0.06, ("draft",)),
)
OPEN = {"issued", "approved", "paid", "returned", "awaiting_payment", "draft"}


def uscc(i: int) -> str:
    from certhall.pki.identity import uscc_check_character

    body = f"91440300{i:09d}"
    return body + uscc_check_character(body)


def populate(n_apps: int, n_orgs: int, rng: random.Random) -> dict[str, Any]:
    """Bulk-insert organisations, applicants, applications, items, documents, audit events."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from certhall.accounts.models import Handler, Organization, Role, User
    from certhall.accounts.services import home_provider
    from certhall.audit import services as audit
    from certhall.audit.models import AuditEvent
    from certhall.hall.models import Application, ApplicationItem, Document

    t0 = time.perf_counter()
    password_hash = make_password(PASSWORD)  # once: every account shares it
    provider = home_provider()
    batch = 5000
    with transaction.atomic():
        orgs = Organization.objects.bulk_create(
            [
                Organization(
                    name=f"深圳市样本医疗机构{i:05d}号有限公司",
                    uscc=uscc(i),
                    legal_representative=f"法人{i:05d}",
                )
                for i in range(n_orgs)
            ],
            batch_size=batch,
        )
        handlers = Handler.objects.bulk_create(
            [
                Handler(
                    organization=o,
                    name=f"经办人{i:05d}",
                    id_kind="resident_id",
                    id_number=f"44030019800101{i:04d}"[:18],
                    phone=f"139{i:08d}",
                )
                for i, o in enumerate(orgs)
            ],
            batch_size=batch,
        )
        users = User.objects.bulk_create(
            [
                User(
                    username=f"applicant{i:05d}",
                    role=Role.APPLICANT,
                    organization=o,
                    password=password_hash,
                    phone=f"139{i:08d}",
                )
                for i, o in enumerate(orgs)
            ],
            batch_size=batch,
        )
        weights = [s[1] for s in STATES]
        apps: list[Application] = []
        paths: list[tuple[str, ...]] = []
        per_org = n_apps // n_orgs
        for k in range(n_apps):
            o = k % n_orgs
            state, _, path = rng.choices(STATES, weights)[0]
            days = rng.uniform(0, 30) if state in OPEN else rng.uniform(5, 730)
            created = NOW - timedelta(days=days, seconds=rng.randrange(86400))
            app = Application(
                number=f"SQ{created.strftime('%Y%m%d')}-{k + 1:06d}",
                provider=provider, organization=orgs[o], handler=handlers[o],
                channel="online", entered_by=users[o], state=state, created_at=created,
                updated_at=created, delivery=rng.choice(["mail", "pickup"]),
                fee_total=Decimal("300.00"), recipient_name=f"经办人{o:05d}",
                recipient_phone=f"139{o:08d}", address="深圳市福田区深南大道1号",
            )  # fmt: skip
            step = timedelta(hours=rng.uniform(1, 30))
            at = created
            for s in path[1:]:
                at += step
                if s in ("awaiting_payment", "submitted"):
                    app.submitted_at = at
                elif s == "paid":
                    app.paid_at = app.complete_at = at
                    app.payment_reference = f"P{k:010d}"
                    app.due_date = (at + timedelta(days=3)).date()
                elif s == "approved":
                    app.approved_at = at
                elif s == "issued":
                    app.issued_at = at
                elif s == "delivered":
                    app.delivered_at = at
                elif s in ("cancelled", "refunded"):
                    app.closed_at = at
            app.updated_at = at
            apps.append(app)
            paths.append(path)
        apps = Application.objects.bulk_create(apps, batch_size=batch)
        items: list[ApplicationItem] = []
        docs: list[Document] = []
        events: list[AuditEvent] = []
        seq = 10**12  # far above the real chain (see the module docstring)
        for app, path in zip(apps, paths, strict=True):
            o = app.organization
            items.append(ApplicationItem(
                application=app, business="new", cert_type="org", years=1,
                fee=Decimal("300.00"), org_name=o.name, uscc=o.uscc, created_at=app.created_at,
            ))  # fmt: skip
            if rng.random() < 0.3:
                items.append(ApplicationItem(
                    application=app, business="new", cert_type="personal", years=2,
                    fee=Decimal("0.00"), org_name=o.name, uscc=o.uscc,
                    person_name="张三", person_id_number="440301198001011234",
                    created_at=app.created_at,
                ))  # fmt: skip
            if app.state != "draft":
                for kind in ("licence_copy", "org_form"):
                    docs.append(Document(
                        application=app, kind=kind, medium="upload",
                        filename=f"{kind}.pdf", sha256=hashlib.sha256(
                            f"{app.number}{kind}".encode()).hexdigest(),
                        size=rng.randrange(50_000, 900_000), content_type="application/pdf",
                        status="returned" if app.state == "returned" and kind == "org_form"
                        else "accepted" if app.approved_at else "pending",
                        review_reason="盖章不清晰" if app.state == "returned" else "",
                        uploaded_by=app.entered_by, uploaded_at=app.created_at,
                    ))  # fmt: skip
            at = app.created_at
            before: str | None = None
            for s in path:
                seq += 1
                events.append(AuditEvent(
                    seq=seq, at=at, actor=app.entered_by.username,
                    actor_id=app.entered_by.pk, action=f"hall.application.{s}",
                    object_type="application", object_id=app.number,
                    before=None if before is None else {"state": before}, after={"state": s},
                    result=audit.OK, prev_hash="0" * 64, hash="0" * 64,
                ))  # fmt: skip
                before = s
                at += timedelta(hours=1)
        ApplicationItem.objects.bulk_create(items, batch_size=batch)
        Document.objects.bulk_create(docs, batch_size=batch)
        AuditEvent.objects.bulk_create(events, batch_size=batch)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    assert per_org > 0
    return {
        "orgs": len(orgs),
        "applications": len(apps),
        "items": len(items),
        "documents": len(docs),
        "audit_events": len(events),
        "seconds": time.perf_counter() - t0,
    }


def make_sessions(n_users: int, rng: random.Random) -> list[dict[str, Any]]:
    """Sessions as ``django.contrib.auth.login`` stores them, one per user, bulk-inserted."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils.crypto import get_random_string

    from certhall.accounts.models import Role, User
    from certhall.hall.models import Application

    users = list(
        User.objects.filter(role=Role.APPLICANT, organization__isnull=False)
        .select_related("organization")
        .order_by("pk")[:n_users]
    )
    numbers: dict[int, list[str]] = defaultdict(list)
    for org_id, number in Application.objects.filter(
        organization_id__in=[u.organization_id for u in users]
    ).values_list("organization_id", "number"):
        numbers[org_id].append(number)
    store = SessionStore()
    expire = datetime.now(UTC) + timedelta(days=1)
    rows, out = [], []
    backend = settings.AUTHENTICATION_BACKENDS[0]
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        mine = sorted(numbers[user.organization_id])
        out.append({
            "sid": key, "user": user.username, "user_id": user.pk, "org_id": user.organization_id,
            "org_name": user.organization.name, "numbers": mine, "pick": rng.choice(mine),
        })  # fmt: skip
    Session.objects.bulk_create(rows, batch_size=5000)
    return out


def paths_of(user: dict[str, Any]) -> dict[str, str]:
    n = user["pick"]
    return {
        "home": "/hall/",
        "list": "/hall/applications/",
        "detail": f"/hall/applications/{n}/",
        "api_list": "/api/hall/applications",
        "api_detail": f"/api/hall/applications/{n}",
    }


def write_requests(users: list[dict[str, Any]], path: Path, kinds: tuple[str, ...]) -> None:
    with path.open("w") as f:
        for u in users:
            for kind, p in paths_of(u).items():
                if kind in kinds:
                    f.write(f"{u['sid']}\t{kind}\t{p}\n")


# --- HTTP ------------------------------------------------------------------------------------


def get(
    port: int, path: str, sid: str | None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        h = dict(headers or {})
        if sid:
            h["Cookie"] = f"sessionid={sid}"
        conn.request("GET", path, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def real_login(port: int, username: str) -> str:
    """Log in through the real password login page; return the new session id."""
    status, headers, body = get(port, "/accounts/login/", None)
    if status != 200:
        raise RuntimeError(f"GET /accounts/login/: {status}")
    csrf_cookie = re.search(r"csrftoken=([^;]+)", headers.get("set-cookie", ""))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not csrf_cookie or not token:
        raise RuntimeError("no CSRF token on the login page")
    from urllib.parse import urlencode

    data = {
        "csrfmiddlewaretoken": token.group(1).decode(), "tab": "password", "next": "/hall/",
        "username": username, "password": PASSWORD, "action": "login",
    }  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST", "/accounts/login/", body=urlencode(data), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf_cookie.group(1)}",
                "Referer": f"http://127.0.0.1:{port}/accounts/login/",
            },
        )  # fmt: skip
        r = conn.getresponse()
        r.read()
        cookie = r.getheader("Set-Cookie") or ""
    finally:
        conn.close()
    sid = re.search(r"sessionid=([^;]+)", cookie)
    if r.status not in (302, 303) or not sid:
        raise RuntimeError(f"login of {username} failed: {r.status}")
    return sid.group(1)


def check_answers(port: int, users: list[dict[str, Any]], others: list[str]) -> list[str]:
    """Status 200 and the user's own data for a sample; another's application refused."""
    problems: list[str] = []
    for u in users:
        for kind, path in paths_of(u).items():
            status, _, body = get(port, path, u["sid"])
            text = body.decode("utf-8", "replace")
            if status != 200:
                problems.append(f"{u['user']} {path}: {status}")
                continue
            if kind in ("home", "list"):
                shown = set(re.findall(r"SQ\d{8}-\d{6}", text))
                if not shown or not shown <= set(u["numbers"]):
                    problems.append(f"{u['user']} {path}: applications {sorted(shown)[:3]}")
                if kind == "list" and len(shown) != len(u["numbers"]):
                    problems.append(f"{u['user']} {path}: {len(shown)} applications shown")
            elif kind == "detail":
                if u["pick"] not in text or u["org_name"] not in text:
                    problems.append(f"{u['user']} {path}: own data not on the page")
            elif kind == "api_list":
                rows = json.loads(body)
                if len(rows) != len(u["numbers"]) or any(
                    r["organization"]["id"] != u["org_id"] for r in rows
                ):
                    problems.append(f"{u['user']} {path}: {len(rows)} rows, wrong organisation")
            else:
                data = json.loads(body)
                own = data["number"] == u["pick"]
                if not own or (data["state"] != "draft" and not data["documents"]):
                    problems.append(f"{u['user']} {path}: wrong detail")
        for other in others[:2]:
            if other in u["numbers"]:
                continue
            for path in (f"/hall/applications/{other}/", f"/api/hall/applications/{other}"):
                status, _, _ = get(port, path, u["sid"])
                if status not in (403, 404):
                    problems.append(f"{u['user']} {path} (another organisation's): {status}")
    status, headers, _ = get(port, "/hall/", None)
    if status != 302 or "/accounts/login/" not in headers.get("location", ""):
        problems.append(f"/hall/ without a session: {status} (expected a redirect to the login)")
    return problems


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def wrk(
    port: int,
    requests: Path,
    duration: float,
    connections: int,
    pgid: int,
    think_ms: float = 0,
) -> dict[str, Any]:
    argv = [
        "wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "--latency",
        "-s", str(LUA), f"http://127.0.0.1:{port}", "--", str(requests), f"{think_ms:.0f}",
    ]  # fmt: skip
    cpu0 = group_cpu_seconds(pgid)
    busy0, total0 = machine_cpu()
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        proc = subprocess.Popen(argv, stdout=out_f, stderr=err_f, text=True)
        try:
            _, _status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        server_cpu = group_cpu_seconds(pgid) - cpu0
        busy1, total1 = machine_cpu()
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    line = next((x for x in out.splitlines() if x.startswith("WRK-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {err.strip()} {out[-500:]}")
    data: dict[str, Any] = json.loads(line[len("WRK-JSON ") :])
    seconds = data["duration_us"] / 1e6
    data["rps"] = data["requests"] / seconds if seconds else 0.0
    data["server_cpu_s"] = server_cpu
    data["wrk_cpu_s"] = usage.ru_utime + usage.ru_stime
    data["error_count"] = sum(data["errors"].values())
    data["machine_busy"] = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    data["think_ms"] = think_ms
    return data


def open_loop(port: int, requests: Path, rate: float, duration: float, pgid: int) -> dict[str, Any]:
    """One run of bench/openloop.py (a separate process) against the server."""
    argv = [
        sys.executable, "-m", "bench.openloop", str(requests), "--port", str(port),
        "--rate", f"{rate:g}", "--duration", f"{duration:g}",
    ]  # fmt: skip
    cpu0 = group_cpu_seconds(pgid)
    busy0, total0 = machine_cpu()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120)
    server_cpu = group_cpu_seconds(pgid) - cpu0
    busy1, total1 = machine_cpu()
    line = next((x for x in proc.stdout.splitlines() if x.startswith("OPENLOOP-JSON ")), None)
    if line is None:
        raise BenchFailure(f"open-loop load failed ({proc.returncode}): {proc.stderr[-1000:]}")
    data: dict[str, Any] = json.loads(line[len("OPENLOOP-JSON ") :])
    data["server_cpu_ms"] = server_cpu / max(1, data["answered"]) * 1000
    data["machine_busy"] = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    return data


def drain(port: int, user: dict[str, Any], limit: float = 300.0) -> None:
    """Wait until the server answers a page within a second again (after an overload)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            status, _, _ = get(port, "/hall/", user["sid"])
        except OSError:
            status = 0
        if status == 200 and time.perf_counter() - t0 < 1.0:
            return
        time.sleep(1)
    raise BenchFailure(f"the server did not recover within {limit:.0f} s of an overload")


def _open_text(d: dict[str, Any]) -> str:
    return (
        f"{d['answered']:,} answered, p50 {d['p50_ms']:.0f} ms, p95 {d['p95_ms']:.0f} ms, p99 "
        f"{d['p99_ms']:.0f} ms, non-200 {d['non200']}, errors {d['error_count']}, server CPU "
        f"{d['server_cpu_ms']:.1f} ms/request, machine {d['machine_busy']:.0%} busy"
    )


def _open_ok(d: dict[str, Any]) -> bool:
    return d["p95_ms"] < TARGET_P95_MS and not d["non200"] and not d["error_count"]


def profile_requests(users: list[dict[str, Any]], rounds: int = 40) -> str:
    """cProfile of the five requests, in-process, ``rounds`` each (after ``in_process``)."""
    import cProfile
    import io
    import pstats

    from django.test import Client

    prof = cProfile.Profile()
    client = Client(HTTP_HOST="127.0.0.1")  # one: a Client builds Django's handler anew
    for i in range(rounds):
        for kind in KINDS:
            u = users[i % len(users)]
            client.cookies.clear()
            client.cookies["sessionid"] = u["sid"]
            prof.enable()
            client.get(paths_of(u)[kind])
            prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(60)
    return out.getvalue()


def in_process(users: list[dict[str, Any]], rounds: int = 30) -> dict[str, Any]:
    """Each request through the Django test client (no HTTP server): time, SQL statements and
    the SQL that costs the most."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out: dict[str, Any] = {}
    # One client for all (a Client builds Django's handler anew, WhiteNoise's file scan included,
    # which a served request never pays); each request carries only its user's session cookie.
    client = Client(HTTP_HOST="127.0.0.1")
    for kind in KINDS:
        times, counts, sql_ms = [], [], []
        by_sql: Counter[str] = Counter()
        for i in range(rounds):
            u = users[i % len(users)]
            client.cookies.clear()
            client.cookies["sessionid"] = u["sid"]
            path = paths_of(u)[kind]
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, (path, r.status_code)
            counts.append(len(ctx.captured_queries))
            sql_ms.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
            for q in ctx.captured_queries:
                # A prepared read on PostgreSQL is logged as "QUERY = '...' - PARAMS = (...)"
                sql = re.sub(r"^QUERY = '(.*)' - PARAMS = .*$", r"\1", q["sql"], flags=re.S)
                shape = re.sub(r"'[^']*'|\b\d+\b", "?", sql)[:160]
                by_sql[shape] += float(q["time"]) * 1000 / rounds
        out[kind] = {
            "ms": median(times),
            "queries": median(counts),
            "sql_ms": median(sql_ms),
            "top_sql": by_sql.most_common(3),
        }
        log(f"hall: in-process {kind}: {out[kind]['ms']:.1f} ms, {out[kind]['queries']:.0f} "
            f"queries, SQL {out[kind]['sql_ms']:.1f} ms")  # fmt: skip
    return out


# --- worker ----------------------------------------------------------------------------------


REFUND_PAGE = "/refunds/sz-2021/"


def refund_records(users: list[dict[str, Any]], path: Path) -> None:
    """Fee and usage records of the announced refund programme for the users' organisations
    (five fees each, four of those certificates used in the window: 900.00 eligible), and a
    request file of the programme page, which shows a logged-in enterprise its explained
    amount."""
    from certhall.accounts.models import Organization
    from certhall.accounts.services import home_provider
    from certhall.bulk import insert_rows
    from certhall.certlogin.models import CertificateAccount
    from certhall.refunds.models import FeeRecord, Programme, UsageRecord

    programme = Programme.objects.get(slug="sz-2021")
    provider = home_provider().pk
    usccs = dict(
        Organization.objects.filter(pk__in=[u["org_id"] for u in users]).values_list("pk", "uscc")
    )
    fees, uses = [], []
    for u in users:
        for j in range(5):
            serial = f"{u['org_id']:x}{j:02x}"
            fees.append((
                programme.pk, provider, serial, usccs[u["org_id"]], u["org_name"],
                ("new", "renew", "change", "replace", "new")[j], f"2019-0{j + 1}-15",
                Decimal(150 * (1 + j % 2)), "import", "",
            ))  # fmt: skip
            if j:
                uses.append((programme.pk, provider, serial, "广东省政务服务网", "2020-06-01", ""))
    insert_rows(FeeRecord, imports_columns("fees"), fees)
    insert_rows(UsageRecord, imports_columns("usage"), uses)
    # The programme shows the amount to an enterprise that logged in with its certificate:
    # these users stand for such logins (certificate login makes the same row).
    CertificateAccount.objects.bulk_create(
        CertificateAccount(
            user_id=u["user_id"], organization_id=u["org_id"], holder_key=f"bench-{u['user_id']}"
        )
        for u in users
    )
    with path.open("w") as f:
        for u in users:
            f.write(f"{u['sid']}\trefund\t{REFUND_PAGE}\n")


def imports_columns(kind: str) -> tuple[str, ...]:
    from certhall.refunds.imports import DB_COLUMNS

    return DB_COLUMNS[kind]


def check_refund_pages(port: int, users: list[dict[str, Any]]) -> list[str]:
    problems = []
    for u in users:
        status, _, body = get(port, REFUND_PAGE, u["sid"])
        page = body.decode("utf-8", "replace")
        if status != 200 or u["org_name"] not in page or "900.00" not in page:
            problems.append(f"refund page of {u['user']}: {status}")
    return problems


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    add_arguments(ap)
    args = ap.parse_args(argv)
    rng = random.Random(SEED)
    home = Path(os.environ["CERTHALL_HOME"])
    log("hall: certhall setup (migrate, collectstatic, init_ca)")
    setup = subprocess.run(
        [sys.executable, "-m", "certhall.cli.main", "setup"], capture_output=True, text=True
    )
    if setup.returncode:
        raise RuntimeError(f"certhall setup failed: {setup.stderr[-2000:]}")
    django_setup(migrate=False)
    from django.db import connections

    log(f"hall: inserting {args.hall_apps:,} applications for {args.hall_orgs:,} organisations")
    data = populate(args.hall_apps, args.hall_orgs, rng)
    log(f"hall: inserted {data} ")
    users = make_sessions(args.hall_users, rng)
    others = [n for u in users[-3:] for n in u["numbers"][:1]]
    req_file = home / "hall-requests.tsv"
    write_requests(users, req_file, KINDS)
    breakdown = in_process(users)
    profile_text = ""
    if args.hall_profile:
        profile_text = profile_requests(users)
        print(profile_text, file=sys.stderr)
    connections.close_all()

    port = free_port()
    serve = [
        sys.executable, "-m", "certhall.cli.main", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "2", "--no-jobs",
    ]  # fmt: skip
    runs: list[dict[str, Any]] = []
    per_kind: dict[str, dict[str, Any]] = {}
    load_before = os.getloadavg()
    with Server("certhall", serve, port=port, log_path=home / "serve.log") as server:
        log("hall: checking answers (sample of users, every request kind, a real login)")
        sid = real_login(port, users[0]["user"])
        login_user = dict(users[0], sid=sid)
        problems = check_answers(port, [login_user, *users[1:20]], others)
        if problems:
            log(f"hall: {len(problems)} wrong answers: {problems[:5]}")
        log(f"hall: warm-up {args.hall_warmup:g} s")
        wrk(port, req_file, args.hall_warmup, args.hall_connections, server.pid)
        ladder = []
        for rate in [float(x) for x in args.hall_ladder.split(",") if x.strip()]:
            step = open_loop(port, req_file, rate, 20.0, server.pid)
            ladder.append(step)
            log(f"hall: open loop {rate:g}/s for 20 s: {_open_text(step)}")
            drain(port, users[0])
            if not _open_ok(step):
                break
        opened = open_loop(port, req_file, args.hall_rate, args.hall_open_duration, server.pid)
        ladder.append(opened)
        log(f"hall: open loop {args.hall_rate:g}/s for {args.hall_open_duration:g} s: "
            f"{_open_text(opened)}")  # fmt: skip
        drain(port, users[0])
        for rep in range(args.hall_repeat):
            d = wrk(port, req_file, args.hall_duration, args.hall_connections, server.pid)
            d["rep"] = rep
            runs.append(d)
            lat = d["latency_us"]
            log(f"hall: closed loop run {rep + 1}: {d['rps']:.0f} req/s, p50 "
                f"{lat['p50'] / 1000:.1f} ms, p95 {lat['p95'] / 1000:.1f} ms, non-200 "
                f"{d['non200']}, errors {d['error_count']}")  # fmt: skip
        for kind in KINDS:
            f = home / f"hall-{kind}.tsv"
            write_requests(users, f, (kind,))
            d = wrk(port, f, args.hall_kind_duration, args.hall_connections, server.pid)
            per_kind[kind] = d
            log(f"hall: {kind} alone: {d['rps']:.0f} req/s, p95 "
                f"{d['latency_us']['p95'] / 1000:.1f} ms, non-200 {d['non200']}")  # fmt: skip
        problems += [f"after the load: {p}" for p in check_answers(port, users[20:25], others)]
        # the refund programme's page under the same open loop (its last days are a rush)
        refund_file = home / "refund-requests.tsv"
        refund_records(users, refund_file)
        connections.close_all()
        problems += check_refund_pages(port, users[:5])
        drain(port, users[0])
        refund_open = open_loop(
            port, refund_file, args.hall_rate, args.hall_open_duration, server.pid
        )
        log(f"hall: refund page, open loop {args.hall_rate:g}/s: {_open_text(refund_open)}")
        refund_ladder = []
        for rate in (50.0, 100.0, 150.0):
            drain(port, users[0])
            step = open_loop(port, refund_file, rate, 20.0, server.pid)
            refund_ladder.append(step)
            log(f"hall: refund page, open loop {rate:g}/s for 20 s: {_open_text(step)}")
            if not _open_ok(step):
                break
    emit({
        "benchmark": "hall", "db": "postgresql", "data": data, "users": len(users),
        "connections": args.hall_connections, "duration": args.hall_duration, "runs": runs,
        "per_kind": per_kind, "in_process": breakdown, "problems": problems,
        "profile": profile_text, "open_loop": opened, "ladder": ladder,
        "load_before": load_before, "load_after": os.getloadavg(),
        "refund_open_loop": refund_open, "refund_ladder": refund_ladder,
    })  # fmt: skip
    return 0


# --- orchestration ---------------------------------------------------------------------------


def orchestrate(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    if shutil.which("wrk") is None:
        return ["hall[postgresql]: FAILED (wrk not installed: make bench installs it)"], []
    reason = postgres_available()
    if reason:
        return [f"hall[postgresql]: FAILED, PostgreSQL not reachable ({reason})"], []
    worker_args = [
        "--hall-apps", str(args.hall_apps), "--hall-orgs", str(args.hall_orgs),
        "--hall-users", str(args.hall_users), "--hall-connections", str(args.hall_connections),
        "--hall-duration", str(args.hall_duration), "--hall-warmup", str(args.hall_warmup),
        "--hall-repeat", str(args.hall_repeat), "--hall-kind-duration",
        str(args.hall_kind_duration), "--hall-rate", str(args.hall_rate),
        "--hall-open-duration", str(args.hall_open_duration), "--hall-ladder", args.hall_ladder,
    ]  # fmt: skip
    if args.profile:
        worker_args.append("--hall-profile")
    with instance("postgresql", "hall") as inst:
        run = run_worker("hall", worker_args, inst.env())
    if run.returncode or not run.results:
        return [f"hall[postgresql]: FAILED (worker exit code {run.returncode})"], []
    r = run.results[-1]
    return summarise(r), [r]


def summarise(r: dict[str, Any]) -> list[str]:
    runs = r["runs"]
    rps = median([x["rps"] for x in runs])
    p = {k: median([x["latency_us"][k] / 1000 for x in runs]) for k in ("p50", "p95", "p99")}
    non200 = sum(x["non200"] for x in runs)
    errors = sum(x["error_count"] for x in runs)
    total = sum(x["requests"] for x in runs)
    d = r["data"]
    o = r["open_loop"]
    fitting = [x["rate"] for x in r["ladder"] if _open_ok(x)]
    lines = [
        f"hall[postgresql, open loop]: {o['rate']:g} requests/s arriving for "
        f"{o['duration_s']:g} s: p50 {o['p50_ms']:.0f} ms, p95 {o['p95_ms']:.0f} ms, p99 "
        f"{o['p99_ms']:.0f} ms, non-200 {o['non200']}, errors {o['error_count']} (target p95 < "
        f"{TARGET_P95_MS:.0f} ms, no errors: {'met' if _open_ok(o) else 'MISSED'}); highest "
        f"rate tried with p95 < {TARGET_P95_MS:.0f} ms: "
        + (f"{max(fitting):g}/s" if fitting else "none"),
        "  open-loop rates: "
        + "; ".join(
            f"{x['rate']:g}/s p95 {x['p95_ms']:.0f} ms, server CPU "
            f"{x['server_cpu_ms']:.1f} ms/req, errors {x['error_count'] + x['non200']}"
            for x in sorted(r["ladder"], key=lambda x: x["rate"])
        ),
        f"  closed loop (wrk -c{r['connections']}, no think time: capacity, not the target): "
        f"{rps:.0f} req/s, p50 {p['p50']:.0f} ms, p95 {p['p95']:.0f} ms, p99 {p['p99']:.0f} ms",
        f"  {d['applications']:,} applications ({d['items']:,} items, {d['documents']:,} "
        f"documents, {d['audit_events']:,} audit events) of {d['orgs']:,} organisations; "
        f"{r['users']:,} users; wrk -t2 -c{r['connections']}, {len(runs)} x {r['duration']:g} s",
        f"  median of {len(runs)}: req/s {spread([x['rps'] for x in runs])}, p95 ms "
        f"{spread([x['latency_us']['p95'] / 1000 for x in runs])}; {total:,} requests, "
        f"non-200 {non200}, socket errors/timeouts {errors}",
        f"  server CPU {median([x['server_cpu_s'] / x['requests'] * 1e3 for x in runs]):.1f} "
        f"ms/request, wrk CPU {median([x['wrk_cpu_s'] / x['requests'] * 1e3 for x in runs]):.2f}"
        f" ms/request (PostgreSQL's CPU not included)",
        "  request alone         req/s  p50 ms  p95 ms  p99 ms  non-200 | in-process: ms  SQL"
        "  SQL ms",
    ]
    for kind in KINDS:
        k = r["per_kind"].get(kind)
        ip = r["in_process"][kind]
        if k is None:
            continue
        lat = k["latency_us"]
        lines.append(
            f"  {kind:20s} {k['rps']:7.0f}  {lat['p50'] / 1000:6.0f}  {lat['p95'] / 1000:6.0f}  "
            f"{lat['p99'] / 1000:6.0f}  {k['non200']:7d} | {ip['ms']:13.1f}  {ip['queries']:3.0f}"
            f"  {ip['sql_ms']:6.1f}"
        )
    lines.insert(
        4,
        f"  machine CPU busy during the runs: {median([x['machine_busy'] for x in runs]):.0%} "
        f"of 2 cores (server, PostgreSQL, wrk and anything else on the machine)",
    )
    for kind in KINDS:
        for sql, ms in r["in_process"][kind]["top_sql"][:2]:
            lines.append(f"    {kind}: {ms:6.2f} ms  {sql[:110]}")
    ro = r["refund_open_loop"]
    refund_fit = [x["rate"] for x in r["refund_ladder"] if _open_ok(x)]
    lines.append(
        f"refunds[pages, open loop]: the programme page with the explained amount, "
        f"{ro['rate']:g}/s for {ro['duration_s']:g} s: p50 {ro['p50_ms']:.0f} ms, p95 "
        f"{ro['p95_ms']:.0f} ms, non-200 {ro['non200']}, errors {ro['error_count']}, server CPU "
        f"{ro['server_cpu_ms']:.1f} ms/request; highest rate tried with p95 < "
        f"{TARGET_P95_MS:.0f} ms: " + (f"{max(refund_fit):g}/s" if refund_fit else "none")
    )
    for problem in r["problems"][:5]:
        lines.append(f"hall: FAILED: wrong answer: {problem}")
    return lines


if __name__ == "__main__":
    handle_signals()
    try:
        sys.exit(worker(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
