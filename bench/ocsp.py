"""OCSP: responses per second and latency of ``certhall serve`` (its OCSP listener, the
pre-signed answers' fast path) and of the shipped nginx cache, against ``openssl ocsp -multi 2``
in the same run.

Setup (one worker process, a fresh SQLite instance, a private network namespace with only
loopback, so ``openssl ocsp -port``, which binds the wildcard address, is reachable from the
namespace only):

* a CA (``init_ca``, keys on SoftHSM2) and a registry of 100,000 certificates, 10% revoked
  (bench/registry.py bulk-inserts the rows: the responders read only serial and status);
* every answer pre-signed as the jobs do (``ocsp_store.refresh_due``), timed;
* the same CA for ``openssl ocsp``: ``-index`` with the same serials and statuses, ``-CA`` the
  issuing CA certificate, ``-rsigner``/``-rkey`` a delegated responder certificate issued by
  ``pki.authority.build_ocsp_responder`` with the CA key to a software EC P-256 key (certhall's
  responder key is also a software EC P-256 key);
* requests built once: DER OCSPRequests with one SHA-1 CertID (what browsers and openssl send)
  for serials drawn uniformly from the registry plus 5% unknown serials; without nonce a pool of
  2,000 (POST bodies, and the same requests as ``GET /ocsp/<url-encoded base64>`` paths); with a
  nonce a pool of 10,000.

Servers, all started here and stopped by process group: ``certhall serve --workers 2 --no-jobs``
(what ``make run`` starts), measured on its OCSP listener (``--ocsp-port``, web/fast_listener.py)
and, for comparison, with POST on the site's port; ``openssl ocsp -multi 2`` (restarted for
every run: a dropped connection can leave it spinning); nginx with deploy/nginx.conf in front of
certhall (only the listen and upstream addresses replaced).

Load: ``wrk -t1 -c16`` with bench/ocsp_wrk.lua, a random request of the pool per request.
openssl answers HTTP/1.0 and closes every connection, so its runs use ``Connection: close``;
certhall and nginx are measured both with keep-alive and with close. Each configuration runs
N times, interleaved; figures are medians. Server and load generator share the 2 cores: the CPU
time of each per request is reported.

Correctness, before the load: a sample of answers from every server is verified (status,
serial, revocation time and reason, nonce echoed, signature, responder issued by the CA); and
revocation: ``ca.services.revoke`` of 5 certificates while certhall serves, then the time until
certhall's POST and nginx's GET answer "revoked". Any wrong answer, or a revocation not visible
within a second, fails the benchmark.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
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
    run_worker,
    spread,
)
from bench.ocsp_baselines import nginx_cache_seconds, nginx_files, openssl_files
from bench.ocsp_requests import (
    Request,
    build_requests,
    check_answer,
    check_answers,
    get,
    get_path,
    post,
    write_lines,
)

FLOOR = 2.0  # certhall without nonce >= 2 x openssl -multi 2 (issue 12)
AIM = 5.0  # with the nginx cache in front
LUA = Path(__file__).with_name("ocsp_wrk.lua")
SEED = 6960
VISIBLE_WITHIN_S = 1.0


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("ocsp")
    g.add_argument("--ocsp-certs", type=int, default=100_000)
    g.add_argument("--ocsp-duration", type=float, default=8.0, help="seconds per wrk run")
    g.add_argument("--ocsp-repeat", type=int, default=3)
    g.add_argument("--ocsp-connections", type=int, default=16)
    g.add_argument("--ocsp-pool", type=int, default=2000, help="distinct nonce-less requests")


def quick(args: argparse.Namespace) -> None:
    args.ocsp_certs, args.ocsp_duration, args.ocsp_repeat = 20_000, 3.0, 1


# --- network isolation, CPU accounting, load -------------------------------------------------


def isolate_network() -> None:
    """Move this process into a new network namespace with only ``lo`` (up), or fail."""
    if not hasattr(os, "unshare"):
        raise BenchFailure("os.unshare needs Python 3.12 on Linux")
    try:
        os.unshare(os.CLONE_NEWNET)
    except OSError as exc:
        raise BenchFailure(
            f"unshare(CLONE_NEWNET) failed: {exc}: openssl ocsp binds every address, so the "
            "benchmark runs it in a private network namespace (needs root or user namespaces)"
        ) from None
    up = subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if up.returncode:
        raise BenchFailure(f"in the new network namespace, 'ip link set lo up' failed: {up.stderr}")


_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of the live processes of process group ``pgid`` (a server)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def wrk(
    port: int, requests: Path, mode: str, duration: float, connections: int, pgids: Sequence[int]
) -> dict[str, Any]:
    """One wrk run; ``pgids``: the server process groups whose CPU time is counted."""
    argv = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "5s", "--latency",
        "-s", str(LUA), f"http://127.0.0.1:{port}/ocsp", "--", str(requests), mode,
    ]  # fmt: skip
    cpu0 = sum(group_cpu_seconds(g) for g in pgids)
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        proc = subprocess.Popen(argv, stdout=out_f, stderr=err_f, text=True)
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # wrk's own CPU time, exactly
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        server_cpu = sum(group_cpu_seconds(g) for g in pgids) - cpu0
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    line = next((x for x in out.splitlines() if x.startswith("WRK-JSON ")), None)
    if line is None:
        raise BenchFailure(f"wrk failed ({proc.returncode}): {err.strip()} {out[-500:]}")
    data: dict[str, Any] = json.loads(line[len("WRK-JSON ") :])
    seconds = data["duration_us"] / 1e6
    data["rps"] = data["requests"] / seconds if seconds else 0.0
    data["server_cpu_s"] = server_cpu
    data["wrk_cpu_s"] = usage.ru_utime + usage.ru_stime
    data["error_count"] = sum(data["errors"].values())
    return data


# --- the worker ------------------------------------------------------------------------------


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.ocsp")
    add_arguments(ap)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)

    isolate_network()
    log("ocsp: running in a private network namespace (loopback only)")
    home = Path(os.environ["CERTHALL_HOME"])
    certhall_port, openssl_port, nginx_port = free_port(), free_port(), free_port()
    ocsp_port = free_port()  # certhall serve's OCSP listener (web/fast_listener.py)
    os.environ["CERTHALL_BASE_URL"] = f"http://127.0.0.1:{certhall_port}"
    django_setup()

    from django.db import connections

    from bench import registry
    from certhall.accounts.services import system_actor
    from certhall.ca import ocsp_store, services, signers

    actor = system_actor("bench")
    _root, ca = services.init_ca(actor, "ec")
    issuer = signers.issuer_for(ca)
    now = datetime.now(UTC).replace(microsecond=0)
    rows = registry.generate(args.ocsp_certs, 0.10, SEED, now)
    t0 = time.perf_counter()
    registry.insert(rows, ca.pk, actor.pk)
    revoked = sum(r.revoked_at is not None for r in rows)
    log(
        f"ocsp: registry of {len(rows):,} ({revoked:,} revoked) in {time.perf_counter() - t0:.1f} s"
    )

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    presigned = ocsp_store.refresh_due(now)
    presign = {
        "answers": presigned,
        "s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - cpu0,
    }
    log(f"ocsp: {presigned:,} answers pre-signed in {presign['s']:.1f} s")
    if presigned < len(rows):
        raise BenchFailure(f"only {presigned} of {len(rows)} answers were pre-signed")

    expected: dict[int, Any] = {r.serial: (r.revoked_at, r.reason) for r in rows}
    rng = random.Random(SEED)
    plain = build_requests(rows, issuer.certificate, args.ocsp_pool, False, rng)
    nonced = build_requests(rows, issuer.certificate, max(10_000, args.ocsp_pool), True, rng)
    plain_file = write_lines(home / "plain.hex", [b.hex() for b, _, _ in plain])
    get_file = write_lines(home / "get.paths", [get_path(b) for b, _, _ in plain])
    nonce_file = write_lines(home / "nonce.hex", [b.hex() for b, _, _ in nonced])
    ossl = openssl_files(home, issuer, rows, now)
    nginx_prefix = nginx_files(home, nginx_port, certhall_port, ocsp_port)
    cleanup = contextlib.ExitStack()
    cleanup.callback(shutil.rmtree, nginx_prefix, True)
    connections.close_all()

    certhall_argv = [
        sys.executable, "-m", "certhall.cli.main", "serve", "--host", "127.0.0.1",
        "--port", str(certhall_port), "--ocsp-port", str(ocsp_port), "--workers", "2", "--no-jobs",
    ]  # fmt: skip
    nginx_argv = [
        "nginx", "-p", f"{nginx_prefix}/", "-c", str(nginx_prefix / "nginx.conf"),
        "-g", "daemon off;",
    ]  # fmt: skip

    def openssl_argv() -> list[str]:
        return [
            "openssl", "ocsp", "-port", str(openssl_port), "-index", str(ossl / "index.txt"),
            "-CA", str(ossl / "issuing.pem"), "-rsigner", str(ossl / "responder.pem"),
            "-rkey", str(ossl / "responder.key"), "-ndays", "1", "-multi", "2",
        ]  # fmt: skip

    # Ready: the last pre-signed answer is served byte for byte, i.e. from the store.
    from certhall.ca.models import OCSPResponse

    last = OCSPResponse.objects.order_by("-generation", "-pk").first()
    assert last is not None
    last_request = next(
        (b for b, s, _ in plain if format(s, "x") == last.serial), None
    ) or build_requests([registry.Row(int(last.serial, 16), None, "")], issuer.certificate, 1,
                        False, random.Random(1))[0][0]  # fmt: skip
    connections.close_all()

    def store_loaded() -> bool:
        return all(
            post(port, last_request, timeout=2) == bytes(last.der)
            for port in (certhall_port, ocsp_port)
            for _ in range(8)
        )

    def answers(port: int) -> Callable[[], bool]:
        def ready() -> bool:
            return len(post(port, plain[0][0], timeout=2)) > 0

        return ready

    results: list[dict[str, Any]] = []
    checks: dict[str, list[str]] = {}
    sample = plain[:150]
    nonce_sample = nonced[:50]
    cert = issuer.certificate

    with cleanup, contextlib.ExitStack() as stack:
        log("ocsp: starting certhall serve and nginx")
        certhall = stack.enter_context(
            Server("certhall", certhall_argv, port=certhall_port,
                   log_path=home / "certhall-serve.log", ready=store_loaded, start_timeout=120)
        )  # fmt: skip
        nginx = stack.enter_context(
            Server("nginx", nginx_argv, port=nginx_port, log_path=home / "nginx.log")
        )
        checks["certhall POST"] = check_answers(
            lambda b: post(ocsp_port, b), sample + nonce_sample, expected, cert
        )
        checks["certhall GET"] = check_answers(
            lambda b: get(ocsp_port, b)[1], sample, expected, cert
        )
        checks["certhall site port POST"] = check_answers(
            lambda b: post(certhall_port, b), sample + nonce_sample, expected, cert
        )
        headers = get(ocsp_port, sample[0][0])[0]
        missing = {"cache-control", "etag", "last-modified", "expires"} - set(headers)
        checks["certhall GET caching headers"] = [f"missing {sorted(missing)}"] if missing else []
        checks["nginx GET"] = check_answers(lambda b: get(nginx_port, b)[1], sample, expected, cert)
        checks["nginx GET (cached)"] = check_answers(
            lambda b: get(nginx_port, b)[1], sample, expected, cert
        )
        with Server(
            "openssl", openssl_argv(), port=openssl_port, log_path=home / "openssl.log",
            ready=answers(openssl_port),
        ):  # fmt: skip
            checks["openssl"] = check_answers(
                lambda b: post(openssl_port, b), sample + nonce_sample, expected, cert
            )
        for name, problems in checks.items():
            status = "all correct" if not problems else f"{len(problems)} WRONG: {problems[:3]}"
            log(f"ocsp: answers of {name} checked: {status}")
        if any(checks.values()):
            raise BenchFailure("wrong OCSP answers (above)")

        visibility = revocations(actor, rows, expected, ocsp_port, nginx_port, cert)

        def measure(config: str, port: int, groups: list[int], file: Path, mode: str) -> None:
            data = wrk(port, file, mode, args.ocsp_duration, args.ocsp_connections, groups)
            data["config"] = config
            results.append(data)
            lat = data["latency_us"]
            log(
                f"ocsp: {config:34s} {data['rps']:7.0f}/s  p50 {lat['p50'] / 1000:6.2f} ms  "
                f"p99 {lat['p99'] / 1000:6.2f} ms  errors {data['error_count']}"
            )

        log("ocsp: warming certhall and nginx")
        # Both pools, so that each run measures the steady state: the first request for an
        # unknown serial goes to the responder, later ones are served from memory.
        wrk(ocsp_port, plain_file, "post", 4, args.ocsp_connections, [certhall.pid])
        wrk(ocsp_port, nonce_file, "post", 3, args.ocsp_connections, [certhall.pid])
        wrk(nginx_port, get_file, "get", 3, args.ocsp_connections, [nginx.pid])
        both = [nginx.pid, certhall.pid]
        configs: list[tuple[str, Any, Path, str]] = [
            ("certhall POST keep-alive", certhall, plain_file, "post"),
            ("certhall site port POST keep-alive", "site", plain_file, "post"),
            ("certhall POST close", certhall, plain_file, "post-close"),
            ("certhall GET keep-alive", certhall, get_file, "get"),
            ("nginx cache GET keep-alive", nginx, get_file, "get"),
            ("nginx cache GET close", nginx, get_file, "get-close"),
            ("openssl -multi 2 close", None, plain_file, "post-close"),
            ("certhall POST nonce keep-alive", certhall, nonce_file, "post"),
            ("certhall POST nonce close", certhall, nonce_file, "post-close"),
            ("openssl -multi 2 close nonce", None, nonce_file, "post-close"),
        ]
        for rep in range(args.ocsp_repeat):
            log(f"ocsp: round {rep + 1}/{args.ocsp_repeat}")
            for config, server, file, mode in configs:
                if server is None:
                    # A fresh openssl per run: a connection that wrk drops when it stops can
                    # leave openssl spinning (see ocsp_wrk.lua).
                    with Server(
                        "openssl", openssl_argv(), port=openssl_port,
                        log_path=home / "openssl.log", ready=answers(openssl_port),
                    ) as ossl_server:  # fmt: skip
                        measure(config, openssl_port, [ossl_server.pid], file, mode)
                elif server is nginx:
                    measure(config, nginx_port, both, file, mode)
                elif server == "site":
                    measure(config, certhall_port, [certhall.pid], file, mode)
                else:
                    measure(config, ocsp_port, [certhall.pid], file, mode)
        certhall_log = certhall.tail(5)

    emit(
        {
            "bench": "ocsp",
            "certs": len(rows),
            "revoked": revoked,
            "presign": presign,
            "pool_plain": len(plain),
            "pool_nonce": len(nonced),
            "duration_s": args.ocsp_duration,
            "connections": args.ocsp_connections,
            "checks": checks,
            "visibility_ms": visibility,
            "nginx_cache_s": nginx_cache_seconds(),
            "runs": results,
            "lookup_us": lookup_cost(plain),
            "certhall_log_tail": certhall_log,
        }
    )
    return 0


def revocations(
    actor: Any,
    rows: Sequence[Any],
    expected: dict[int, Any],
    port: int,
    nginx_port: int,
    issuer_cert: Any,
    count: int = 5,
    through_nginx: int = 2,
) -> dict[str, list[float]]:
    """Revoke ``count`` valid certificates while the servers run; milliseconds from the return
    of ``revoke`` until certhall (POST) answers "revoked" 20 times in a row (new connections:
    every server process), and for the first ``through_nginx`` of them the nginx cache too
    (GET, cached as "good" just before the revocation)."""
    from cryptography.x509 import ocsp

    from certhall.ca import services
    from certhall.ca.models import Certificate

    valid = [r for r in rows if r.revoked_at is None][-count:]
    requests = build_requests(valid, issuer_cert, len(valid) * 2, False, random.Random(5019))
    by_serial = {serial: der for der, serial, _ in requests}
    out: dict[str, list[float]] = {"certhall POST": [], "nginx cache GET": []}
    limit = {"certhall POST": 10.0, "nginx cache GET": 2 * nginx_cache_seconds() + 10.0}
    for index, row in enumerate(valid):
        der = by_serial.get(row.serial)
        if der is None:
            continue
        get(nginx_port, der)  # cached as "good" by nginx
        serial = format(row.serial, "x")
        services.revoke(actor, serial, "keyCompromise")
        returned = time.perf_counter()
        stored = Certificate.objects.get(serial=serial)
        expected[row.serial] = (stored.revoked_at, "keyCompromise")
        probes: list[tuple[str, Callable[[], bytes]]] = [
            ("certhall POST", lambda d=der: post(port, d)),  # type: ignore[misc]
            ("nginx cache GET", lambda d=der: get(nginx_port, d)[1]),  # type: ignore[misc]
        ]
        for label, fetch in probes[: 2 if index < through_nginx else 1]:
            streak, first = 0, 0.0
            while streak < 20:
                if time.perf_counter() - returned > limit[label]:
                    raise BenchFailure(
                        f"{label}: {serial} not revoked {limit[label]:.0f} s after revoke()"
                    )
                status = ocsp.load_der_ocsp_response(fetch()).certificate_status
                if status == ocsp.OCSPCertStatus.REVOKED:
                    first = first or time.perf_counter()
                    streak += 1
                else:
                    streak, first = 0, 0.0
                    time.sleep(0.005 if label == "certhall POST" else 0.05)
            out[label].append((first - returned) * 1000)
            check_answer(fetch(), row.serial, None, expected[row.serial], issuer_cert)
        log(f"ocsp: revoked {serial[:12]}..., visible after (ms): {out}")
    return out


def lookup_cost(plain: Sequence[Request]) -> float:
    """µs per ``AnswerStore.lookup`` in this process (parse the request, find the answer)."""
    from certhall.ca.ocsp_serve import AnswerStore

    store = AnswerStore()
    while store.poll_once():
        pass
    now = time.time()
    bodies = [b for b, _, _ in plain]
    t0 = time.perf_counter()
    for _ in range(5):
        for body in bodies:
            store.lookup(body, now)
    return (time.perf_counter() - t0) / (5 * len(bodies)) * 1e6


# --- orchestration ---------------------------------------------------------------------------


def orchestrate(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    missing = [tool for tool in ("wrk", "openssl", "nginx") if shutil.which(tool) is None]
    if missing:
        return [
            f"ocsp: FAILED ({', '.join(missing)} not installed: `make bench` installs them with "
            "scripts/system-deps bench)"
        ], []
    worker_args = [
        "--ocsp-certs", str(args.ocsp_certs), "--ocsp-duration", str(args.ocsp_duration),
        "--ocsp-repeat", str(args.ocsp_repeat), "--ocsp-connections",
        str(args.ocsp_connections), "--ocsp-pool", str(args.ocsp_pool),
    ]  # fmt: skip
    with instance("sqlite", "ocsp") as inst:
        run = run_worker("ocsp", worker_args, inst.env())
    if run.returncode or not run.results:
        return [f"ocsp: FAILED (worker exit code {run.returncode}; see the log above)"], []
    r = run.results[-1]
    return summarise(r), [r]


def _stats(runs: list[dict[str, Any]], config: str) -> dict[str, Any] | None:
    mine = [x for x in runs if x["config"] == config]
    if not mine:
        return None
    return {
        "rps": median([x["rps"] for x in mine]),
        "p50_ms": median([x["latency_us"]["p50"] / 1000 for x in mine]),
        "p99_ms": median([x["latency_us"]["p99"] / 1000 for x in mine]),
        "errors": sum(x["error_count"] for x in mine),
        "server_cpu_us": median(
            [x["server_cpu_s"] / x["requests"] * 1e6 for x in mine if x["requests"]]
        ),
        "wrk_cpu_us": median([x["wrk_cpu_s"] / x["requests"] * 1e6 for x in mine if x["requests"]]),
        "spread": spread([x["rps"] for x in mine]),
        "n": len(mine),
    }


def _fmt(s: dict[str, Any]) -> str:
    return f"{s['rps']:,.0f}/s (p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms)"


def summarise(r: dict[str, Any]) -> list[str]:
    runs = r["runs"]
    stats = {c: _stats(runs, c) for c in dict.fromkeys(x["config"] for x in runs)}
    lines: list[str] = []
    base, base_nonce = stats["openssl -multi 2 close"], stats["openssl -multi 2 close nonce"]
    assert base is not None and base_nonce is not None

    def ratio_line(label: str, config: str, baseline: dict[str, Any], target: float) -> None:
        s = stats[config]
        assert s is not None
        ratio = s["rps"] / baseline["rps"]
        met = ratio >= target
        p99_ok = s["p99_ms"] <= baseline["p99_ms"]
        verdict = "met" if met else "MISSED"
        lines.append(
            f"ocsp[{label}]: {config} {_fmt(s)}; openssl -multi 2 {_fmt(baseline)}; "
            f"ratio {ratio:.2f} (target >= {target:g}: {verdict}; p99 "
            f"{'<=' if p99_ok else '>'} openssl's)"
        )

    ratio_line("no nonce", "certhall POST keep-alive", base, FLOOR)
    ratio_line("no nonce, one connection per request", "certhall POST close", base, FLOOR)
    ratio_line("no nonce, GET", "certhall GET keep-alive", base, FLOOR)
    ratio_line("no nonce, GET through the nginx cache", "nginx cache GET keep-alive", base, AIM)
    ratio_line("nginx cache, one connection per request", "nginx cache GET close", base, AIM)
    ratio_line("with nonce", "certhall POST nonce keep-alive", base_nonce, 1.0)
    ratio_line(
        "with nonce, one connection per request", "certhall POST nonce close", base_nonce, 1.0
    )
    vis = r["visibility_ms"]
    worst = max(vis["certhall POST"], default=float("nan"))
    worst_nginx = max(vis["nginx cache GET"], default=float("nan"))
    lines.append(
        f"ocsp[revocation visible]: at most {worst:.0f} ms after revoke() returned (certhall, "
        f"{len(vis['certhall POST'])} revocations; target <= {VISIBLE_WITHIN_S * 1000:.0f} ms: "
        f"{'met' if worst <= VISIBLE_WITHIN_S * 1000 else 'MISSED'}); through the nginx cache "
        f"at most {worst_nginx:.0f} ms ({len(vis['nginx cache GET'])} revocations; it keeps an "
        f"answer {r['nginx_cache_s']} s)"
    )
    p = r["presign"]
    lines.append(
        f"ocsp[pre-signing]: {p['answers']:,} answers in {p['s']:.1f} s "
        f"({p['answers'] / p['s']:,.0f}/s, CPU {p['cpu_s']:.1f} s): what the jobs spend on a "
        f"{r['certs']:,}-certificate registry every half validity"
    )
    lines.append(
        f"  {r['certs']:,} certificates ({r['revoked']:,} revoked); wrk -t1 -c{r['connections']}"
        f" {r['duration_s']:g} s per run, medians of {max(s['n'] for s in stats.values() if s)}"
        f"; pools: {r['pool_plain']:,} requests without nonce, {r['pool_nonce']:,} with nonce;"
        f" AnswerStore.lookup {r['lookup_us']:.1f} µs in-process"
    )
    lines.append(
        "  configuration                       req/s   p50 ms  p99 ms  server CPU/req  "
        "wrk CPU/req  errors  (req/s range)"
    )
    for config, s in stats.items():
        if s is None:
            continue
        lines.append(
            f"  {config:34s} {s['rps']:7.0f}  {s['p50_ms']:6.2f}  {s['p99_ms']:6.2f}  "
            f"{s['server_cpu_us']:9.0f} µs  {s['wrk_cpu_us']:8.0f} µs  {s['errors']:6.0f}  "
            f"({s['spread']})"
        )
    wrong = {name: problems for name, problems in r["checks"].items() if problems}
    for name, problems in wrong.items():
        lines.append(f"ocsp: FAILED: {len(problems)} wrong answers from {name}: {problems[:2]}")
    if not wrong:
        lines.append(
            "  every sampled answer verified: " + ", ".join(r["checks"]) + " (status, serial, "
            "revocation time and reason, nonce, signature, responder certificate)"
        )
    return lines


if __name__ == "__main__":
    handle_signals()
    try:
        sys.exit(worker(sys.argv[1:]))
    except BenchFailure as failure:
        log(f"ocsp: FAILED: {failure}")
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
