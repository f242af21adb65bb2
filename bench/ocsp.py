"""OCSP: responses per second and latency of the served ``POST /ocsp`` against ``openssl ocsp``.

Setup (in one worker process, on a fresh SQLite instance):

* a CA (``init_ca``, keys on SoftHSM2) and a registry of 100,000 certificates, 10% revoked
  (bench/registry.py bulk-inserts the rows: the responder reads only serial and status);
* the same CA for ``openssl ocsp``: ``-index`` with the same serials and statuses,
  ``-CA`` the issuing CA certificate, ``-rsigner``/``-rkey`` a delegated responder certificate
  that certhall's own ``pki.authority.build_ocsp_responder`` issues with the CA key on SoftHSM2
  to a software EC P-256 key written to a temporary PEM (certhall's responder key is also a
  software EC P-256 key);
* request bodies built once: DER OCSPRequests with one CertID (SHA-1, as browsers and openssl
  send) for serials drawn uniformly from the registry (so ~10% revoked) plus 5% unknown serials.
  Without nonce (RFC 5019 style): a pool of 2,000 distinct requests, so that certhall's
  per-process response cache is warm after the warm-up (the steady state of a responder serving
  its hot set; the registry row is still read on every request). With a nonce (every response
  signed fresh, informational): a pool of 10,000.

Servers, all on 127.0.0.1 and all started by the worker, which runs in a private network
namespace with only a loopback interface (``openssl ocsp -port`` can only bind the wildcard
address; inside the namespace that is reachable from the namespace only):

* ``certhall serve --workers 2 --threads 4 --no-jobs`` (gunicorn gthread, access log on);
* ``openssl ocsp -port`` single process, and ``-multi 2``; restarted for every run;
* what-ifs (bench/whatif_wsgi.py) under the same gunicorn settings: ``lean`` (POST /ocsp
  straight to ``ca.ocsp.respond``, no Django middleware) and ``floor`` (fixed answer).

Load: ``wrk -t1 -c16`` with bench/ocsp_wrk.lua (a random body from the pool per request,
Content-Type application/ocsp-request). openssl answers HTTP/1.0 and closes the connection
after every response, wrk reconnects; certhall is measured both with keep-alive and with
``Connection: close`` (one TCP connection per request, like-for-like with openssl). wrk's
latency excludes the TCP connect. Server and load generator share the machine's 2 cores:
wrk's and the server's CPU time are reported per run. Each configuration runs N times,
interleaved; figures are medians. Before the load, a sample of responses from every server is
checked (status, serial, revocation time and reason, nonce, signature, responder issued by the
CA).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import io
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
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

TARGET = 5.0
LUA = Path(__file__).with_name("ocsp_wrk.lua")
SEED = 6960


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("ocsp")
    g.add_argument("--ocsp-certs", type=int, default=100_000)
    g.add_argument("--ocsp-duration", type=float, default=8.0, help="seconds per wrk run")
    g.add_argument("--ocsp-repeat", type=int, default=3)
    g.add_argument("--ocsp-connections", type=int, default=16)
    g.add_argument("--ocsp-pool", type=int, default=2000, help="distinct nonce-less requests")
    g.add_argument(
        "--ocsp-allow-wildcard",
        action="store_true",
        help="run openssl ocsp even without a private network namespace (it binds *:port)",
    )


def quick(args: argparse.Namespace) -> None:
    args.ocsp_certs, args.ocsp_duration, args.ocsp_repeat = 20_000, 3.0, 1


# --- network isolation, CPU accounting, load -------------------------------------------------


def isolate_network() -> str | None:
    """Move this process into a new network namespace with only ``lo`` (up).

    Returns None on success, else why not (then nothing changed).
    """
    if not hasattr(os, "unshare"):
        return "os.unshare needs Python 3.12 on Linux"
    try:
        os.unshare(os.CLONE_NEWNET)
    except OSError as exc:
        return f"unshare(CLONE_NEWNET) failed: {exc} (needs root or user namespaces)"
    up = subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if up.returncode:
        raise RuntimeError(f"in the new network namespace, 'ip link set lo up' failed: {up.stderr}")
    return None


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
    port: int, bodies: Path, mode: str, duration: float, connections: int, pgid: int
) -> dict[str, Any]:
    argv = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "5s", "--latency",
        "-s", str(LUA), f"http://127.0.0.1:{port}/ocsp", "--", str(bodies), mode,
    ]  # fmt: skip
    cpu0 = group_cpu_seconds(pgid)
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        proc = subprocess.Popen(argv, stdout=out_f, stderr=err_f, text=True)
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # wrk's own CPU time, exactly
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        server_cpu = group_cpu_seconds(pgid) - cpu0
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    line = next((x for x in out.splitlines() if x.startswith("WRK-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip()} {out[-500:]}")
    data: dict[str, Any] = json.loads(line[len("WRK-JSON ") :])
    seconds = data["duration_us"] / 1e6
    data["rps"] = data["requests"] / seconds if seconds else 0.0
    data["server_cpu_s"] = server_cpu
    data["wrk_cpu_s"] = usage.ru_utime + usage.ru_stime
    data["error_count"] = sum(data["errors"].values())
    return data


# --- requests --------------------------------------------------------------------------------


def build_requests(
    rows: Sequence[Any], issuer_cert: Any, count: int, nonce: bool, rng: random.Random
) -> list[tuple[bytes, int, bytes | None]]:
    """``count`` (body, serial, nonce) tuples: 95% serials from ``rows``, 5% unknown."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp

    from certhall.pki.ocsp import issuer_hashes

    # SHA-1 CertIDs: what browsers and openssl send (RFC 5019 section 2.1.1).
    name_hash, key_hash = issuer_hashes(issuer_cert, hashes.SHA1())  # noqa: S303
    out = []
    known = {r.serial for r in rows}
    for i in range(count):
        if i % 20 == 19:
            serial = (1 << 126) | rng.getrandbits(126)
            while serial in known:  # pragma: no cover
                serial = (1 << 126) | rng.getrandbits(126)
        else:
            serial = rows[rng.randrange(len(rows))].serial
        builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            name_hash,
            key_hash,
            serial,
            hashes.SHA1(),  # noqa: S303
        )
        value = None
        if nonce:
            value = rng.randbytes(16)
            builder = builder.add_extension(x509.OCSPNonce(value), critical=False)
        out.append((builder.build().public_bytes(Encoding.DER), serial, value))
    return out


def write_bodies(path: Path, requests: Sequence[tuple[bytes, int, bytes | None]]) -> Path:
    path.write_text("".join(body.hex() + "\n" for body, _, _ in requests))
    return path


def post(port: int, body: bytes, timeout: float = 10) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/ocsp", body, {"Content-Type": "application/ocsp-request"})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        return data
    finally:
        conn.close()


def check_answers(
    port: int,
    sample: Sequence[tuple[bytes, int, bytes | None]],
    expected: dict[int, Any],
    issuer_cert: Any,
) -> list[str]:
    """Ask ``sample`` and check every answer; return the problems (empty: all correct)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import OCSPNonce, ocsp

    problems: list[str] = []
    for body, serial, nonce in sample:
        try:
            resp = ocsp.load_der_ocsp_response(post(port, body))
            if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
                raise ValueError(f"response status {resp.response_status}")
            if resp.serial_number != serial:
                raise ValueError("answer about another serial")
            want = expected.get(serial)
            if want is None:
                if resp.certificate_status != ocsp.OCSPCertStatus.UNKNOWN:
                    raise ValueError(f"unknown serial answered {resp.certificate_status}")
            else:
                revoked_at, reason = want
                if revoked_at is None:
                    if resp.certificate_status != ocsp.OCSPCertStatus.GOOD:
                        raise ValueError(f"good serial answered {resp.certificate_status}")
                else:
                    if resp.certificate_status != ocsp.OCSPCertStatus.REVOKED:
                        raise ValueError(f"revoked serial answered {resp.certificate_status}")
                    if resp.revocation_time_utc != revoked_at:
                        raise ValueError(f"revocation time {resp.revocation_time_utc}")
                    got = resp.revocation_reason.name if resp.revocation_reason else None
                    # certhall leaves unspecified out (RFC 5280 5.3.1), openssl encodes it.
                    allowed = (
                        {None, "unspecified"} if reason == "unspecified" else {_REASON_ATTR[reason]}
                    )
                    if got not in allowed:
                        raise ValueError(f"revocation reason {got} for {reason}")
            if nonce is not None:
                echoed = resp.extensions.get_extension_for_class(OCSPNonce).value.nonce
                if echoed != nonce:
                    raise ValueError("nonce not echoed")
            signer = resp.certificates[0]
            signer.verify_directly_issued_by(issuer_cert)
            assert resp.signature_hash_algorithm is not None
            public = signer.public_key()
            assert isinstance(public, ec.EllipticCurvePublicKey)
            public.verify(
                resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm)
            )
        except Exception as exc:
            problems.append(f"serial {serial:x}: {exc}")
    return problems


_REASON_ATTR = {
    "keyCompromise": "key_compromise",
    "superseded": "superseded",
    "cessationOfOperation": "cessation_of_operation",
    "affiliationChanged": "affiliation_changed",
}


# --- the worker ------------------------------------------------------------------------------


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.ocsp")
    add_arguments(ap)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)

    why_not_isolated = isolate_network()
    if why_not_isolated:
        log(f"ocsp: no private network namespace: {why_not_isolated}")
    else:
        log("ocsp: running in a private network namespace (loopback only)")
    home = Path(os.environ["CERTHALL_HOME"])
    certhall_port, lean_port, floor_port, openssl_port, persist_port = (
        free_port() for _ in range(5)
    )
    os.environ["CERTHALL_BASE_URL"] = f"http://127.0.0.1:{certhall_port}"
    django_setup()

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from django.db import connections

    from bench import registry
    from certhall.accounts.services import system_actor
    from certhall.ca import services, signers
    from certhall.pki import authority

    actor = system_actor("bench")
    _root, ca = services.init_ca(actor, "ec")
    issuer = signers.issuer_for(ca)
    now = datetime.now(UTC).replace(microsecond=0)
    rows = registry.generate(args.ocsp_certs, 0.10, SEED, now)
    t0 = time.perf_counter()
    registry.insert(rows, ca.pk, actor.pk)
    revoked = sum(r.revoked_at is not None for r in rows)
    log(
        f"ocsp: registry of {len(rows):,} certificates ({revoked:,} revoked) inserted in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    expected = {r.serial: (r.revoked_at, r.reason) for r in rows}
    rng = random.Random(SEED)
    plain = build_requests(rows, issuer.certificate, args.ocsp_pool, False, rng)
    nonced = build_requests(rows, issuer.certificate, max(10_000, args.ocsp_pool), True, rng)
    plain_file = write_bodies(home / "bodies-plain.hex", plain)
    nonce_file = write_bodies(home / "bodies-nonce.hex", nonced)

    # openssl's view of the same CA.
    ossl = home / "openssl"
    ossl.mkdir()
    (ossl / "issuing.pem").write_bytes(issuer.certificate.public_bytes(serialization.Encoding.PEM))
    responder_key = ec.generate_private_key(ec.SECP256R1())
    (ossl / "responder.key").write_bytes(
        responder_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (ossl / "responder.key").chmod(0o600)
    responder_cert = authority.build_ocsp_responder(
        issuer,
        responder_key.public_key(),
        x509.Name(
            [
                x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(x509.NameOID.COMMON_NAME, "bench openssl OCSP responder"),
            ]
        ),
        now,
        days=30,
    )
    (ossl / "responder.pem").write_bytes(responder_cert.public_bytes(serialization.Encoding.PEM))
    expiry = now + timedelta(days=335)
    (ossl / "index.txt").write_text(
        "".join(registry.openssl_index_line(r, expiry) + "\n" for r in rows)
    )
    (ossl / "index.txt.attr").write_text("unique_subject = no\n")
    connections.close_all()

    env = dict(os.environ)
    gunicorn_opts = [
        "--bind", "", "--workers", "2", "--worker-class", "gthread", "--threads", "4",
        "--error-logfile", "-", "--log-level", "warning", "--timeout", "60",
        "--graceful-timeout", "10",
    ]  # fmt: skip

    def gunicorn(app: str, port: int) -> list[str]:
        opts = list(gunicorn_opts)
        opts[1] = f"127.0.0.1:{port}"
        log_file = home / "log" / f"access-{app.rsplit(':', 1)[1]}.log"
        log_file.parent.mkdir(exist_ok=True)
        return [sys.executable, "-m", "gunicorn", *opts, "--access-logfile", str(log_file), app]

    certhall_argv = [
        sys.executable, "-m", "certhall.cli.main", "serve", "--host", "127.0.0.1",
        "--port", str(certhall_port), "--workers", "2", "--threads", "4", "--no-jobs",
    ]  # fmt: skip

    def openssl_argv(multi: int) -> list[str]:
        argv = [
            "openssl", "ocsp", "-port", str(openssl_port), "-index", str(ossl / "index.txt"),
            "-CA", str(ossl / "issuing.pem"), "-rsigner", str(ossl / "responder.pem"),
            "-rkey", str(ossl / "responder.key"), "-ndays", "1",
        ]  # fmt: skip
        if multi > 1:
            argv += ["-multi", str(multi)]
        return argv

    def answers(port: int) -> Callable[[], bool]:
        probe = plain[0][0]

        def ready() -> bool:
            return len(post(port, probe, timeout=2)) > 0

        return ready

    run_openssl = why_not_isolated is None or args.ocsp_allow_wildcard
    results: list[dict[str, Any]] = []
    checks: dict[str, list[str]] = {}
    sample = plain[:150] + nonced[:50]

    def measure(config: str, port: int, pgid: int, bodies: Path, mode: str, rep: int) -> None:
        data = wrk(port, bodies, mode, args.ocsp_duration, args.ocsp_connections, pgid)
        data |= {"config": config, "rep": rep}
        results.append(data)
        lat = data["latency_us"]
        log(
            f"ocsp: {config:34s} {data['rps']:7.0f}/s  p50 {lat['p50'] / 1000:6.2f} ms  "
            f"p99 {lat['p99'] / 1000:6.2f} ms  errors {data['error_count']}  "
            f"server CPU {data['server_cpu_s']:.1f} s, wrk CPU {data['wrk_cpu_s']:.1f} s"
        )

    with contextlib.ExitStack() as stack:
        log("ocsp: starting certhall serve and the what-if servers")
        certhall = stack.enter_context(
            Server("certhall", certhall_argv, env=env, port=certhall_port,
                   log_path=home / "certhall-serve.log", ready=answers(certhall_port))
        )  # fmt: skip
        lean = stack.enter_context(
            Server("lean", gunicorn("bench.whatif_wsgi:lean", lean_port), env=env,
                   port=lean_port, log_path=home / "lean.log", ready=answers(lean_port))
        )  # fmt: skip
        persist = stack.enter_context(
            Server("persistent", gunicorn("certhall.wsgi:application", persist_port),
                   env=env | {"DJANGO_SETTINGS_MODULE": "bench.whatif_settings"},
                   port=persist_port, log_path=home / "persistent.log",
                   ready=answers(persist_port))
        )  # fmt: skip
        floor = stack.enter_context(
            Server("floor", gunicorn("bench.whatif_wsgi:floor", floor_port), env=env,
                   port=floor_port, log_path=home / "floor.log")
        )  # fmt: skip
        checks["certhall"] = check_answers(certhall_port, sample, expected, issuer.certificate)
        checks["lean"] = check_answers(lean_port, sample, expected, issuer.certificate)
        if run_openssl:
            with Server(
                "openssl", openssl_argv(1), port=openssl_port, log_path=home / "openssl.log",
                ready=answers(openssl_port),
            ):  # fmt: skip
                checks["openssl"] = check_answers(
                    openssl_port, sample, expected, issuer.certificate
                )
        for name, problems in checks.items():
            status = "all correct" if not problems else f"{len(problems)} WRONG: {problems[:3]}"
            log(f"ocsp: {len(sample)} answers of {name} checked: {status}")

        # Warm the per-process response caches (the pool is small enough to be fully cached).
        warm = max(10.0, args.ocsp_duration)
        for name, server, port in (
            ("certhall", certhall, certhall_port),
            ("lean", lean, lean_port),
            ("persistent", persist, persist_port),
        ):
            log(f"ocsp: warming {name} for {warm:.0f} s")
            wrk(port, plain_file, "keepalive", warm, args.ocsp_connections, server.pid)

        configs: list[tuple[str, Any, int, Path, str]] = [
            ("certhall keep-alive", certhall, certhall_port, plain_file, "keepalive"),
            ("certhall close", certhall, certhall_port, plain_file, "close"),
            ("openssl single close", 1, openssl_port, plain_file, "close"),
            ("openssl -multi 2 close", 2, openssl_port, plain_file, "close"),
            ("certhall keep-alive nonce", certhall, certhall_port, nonce_file, "keepalive"),
            ("certhall close nonce", certhall, certhall_port, nonce_file, "close"),
            ("openssl single close nonce", 1, openssl_port, nonce_file, "close"),
            ("openssl -multi 2 close nonce", 2, openssl_port, nonce_file, "close"),
            ("what-if persistent-conn keep-alive", persist, persist_port, plain_file, "keepalive"),
            ("what-if lean keep-alive", lean, lean_port, plain_file, "keepalive"),
            ("what-if lean close", lean, lean_port, plain_file, "close"),
            ("what-if floor keep-alive", floor, floor_port, plain_file, "keepalive"),
            ("what-if floor close", floor, floor_port, plain_file, "close"),
        ]
        for rep in range(args.ocsp_repeat):
            log(f"ocsp: round {rep + 1}/{args.ocsp_repeat}")
            for config, server, port, bodies, mode in configs:
                if isinstance(server, int):
                    if not run_openssl:
                        continue
                    # A fresh openssl per run: a connection that wrk drops when it stops can
                    # leave openssl spinning (see ocsp_wrk.lua).
                    with Server(
                        "openssl", openssl_argv(server), port=port,
                        log_path=home / "openssl.log", ready=answers(port),
                    ) as ossl_server:  # fmt: skip
                        measure(config, port, ossl_server.pid, bodies, mode, rep)
                else:
                    measure(config, port, server.pid, bodies, mode, rep)
        certhall_log = certhall.tail(5)

    try:
        breakdown = per_request_breakdown(plain, nonced, certhall_port, args.profile)
    except Exception as exc:  # the load figures above still count
        log(f"ocsp: the in-process breakdown failed: {exc!r}")
        breakdown = {"us": {}, "profile": "", "error": repr(exc)}
    emit(
        {
            "bench": "ocsp",
            "certs": len(rows),
            "revoked": revoked,
            "pool_plain": len(plain),
            "pool_nonce": len(nonced),
            "duration_s": args.ocsp_duration,
            "connections": args.ocsp_connections,
            "isolated": why_not_isolated is None,
            "openssl": run_openssl,
            "checks": checks,
            "runs": results,
            "breakdown_us": breakdown["us"],
            "profile": breakdown["profile"],
            "breakdown_error": breakdown.get("error"),
            "certhall_log_tail": certhall_log,
        }
    )
    return 0


def per_request_breakdown(
    plain: Sequence[tuple[bytes, int, bytes | None]],
    nonced: Sequence[tuple[bytes, int, bytes | None]],
    port: int,
    profile: bool,
) -> dict[str, Any]:
    """Where one request's time goes, in this process (no server, no load generator)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections, connections

    from bench.whatif_wsgi import lean
    from certhall.ca import ocsp as ca_ocsp
    from certhall.ca.models import Certificate
    from certhall.ca.registry import serial_hex
    from certhall.pki import ocsp as pki_ocsp

    n = min(len(plain), 2000)
    bodies = [b for b, _, _ in plain[:n]]
    nonce_bodies = [b for b, _, _ in nonced[:n]]
    us: dict[str, float] = {}

    def timed(label: str, fn: Callable[[Any], Any], items: Sequence[Any]) -> None:
        for item in items[:50]:
            fn(item)
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        us[label] = (time.perf_counter() - t0) / len(items) * 1e6

    for body in bodies:  # fill this process's cache, as the warm-up did in the servers
        ca_ocsp.respond(body)
    handler = WSGIHandler()

    def environ(body: bytes) -> dict[str, Any]:
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/ocsp",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/ocsp-request",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(port),
            "HTTP_HOST": f"127.0.0.1:{port}",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(status)

    def via(app: Callable[..., Any]) -> Callable[[bytes], bytes]:
        def call(body: bytes) -> bytes:
            result = app(environ(body), start_response)
            try:
                return b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()  # request_finished: Django closes the SQLite connection

        return call

    timed("Django WSGI handler, POST /ocsp (cached answer)", via(handler), bodies)
    conn = connections["default"]
    conn.close()
    max_age = conn.settings_dict["CONN_MAX_AGE"]
    conn.settings_dict["CONN_MAX_AGE"] = 600  # the what-if: persistent SQLite connections
    timed("  the same with persistent SQLite connections (what-if)", via(handler), bodies)
    conn.close()
    conn.settings_dict["CONN_MAX_AGE"] = max_age
    timed("what-if lean WSGI, POST /ocsp (cached answer)", via(lean), bodies)
    close_old_connections()
    timed("ca.ocsp.respond (cached answer)", ca_ocsp.respond, bodies)
    timed("ca.ocsp.respond (nonce: signed every time)", ca_ocsp.respond, nonce_bodies)
    queries = [pki_ocsp.parse_request(b) for b in bodies]
    timed("  pki.ocsp.parse_request", pki_ocsp.parse_request, bodies)
    timed("  _find_ca (issuer hashes of every CA)", ca_ocsp._find_ca, queries)
    timed(
        "  registry row SELECT (ORM values_list().first())",
        lambda q: (
            Certificate.objects.filter(serial=serial_hex(q.serial))
            .values_list("ca_id", "status", "revoked_at", "revocation_reason")
            .first()
        ),
        queries,
    )
    ca_id = ca_ocsp._find_ca(queries[0])
    assert ca_id is not None
    now = datetime.now(UTC).replace(microsecond=0)
    responder = ca_ocsp._responder(ca_id, now)
    issuer_cert = next(cert for pk, cert in ca_ocsp._cas if pk == ca_id)
    timed(
        "  pki.ocsp.build_response, status good (sign, software EC key)",
        lambda q: pki_ocsp.build_response(
            q, status="good", revoked_at=None, reason=None, issuer_cert=issuer_cert,
            responder_cert=responder.certificate, responder_key=responder.key,
            this_update=now, next_update=now + timedelta(hours=24),
        ),
        [pki_ocsp.parse_request(b) for b in nonce_bodies],
    )  # fmt: skip
    profile_text = ""
    if profile:
        prof = cProfile.Profile()
        call = via(handler)
        prof.enable()
        for body in bodies:
            call(body)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(30)
        profile_text = out.getvalue()
        print(profile_text, file=sys.stderr)
    return {"us": us, "profile": profile_text}


# --- orchestration ---------------------------------------------------------------------------


def orchestrate(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    missing = [tool for tool in ("wrk", "openssl") if shutil.which(tool) is None]
    if missing:
        return [f"ocsp: SKIPPED ({', '.join(missing)} not installed)"], []
    worker_args = [
        "--ocsp-certs", str(args.ocsp_certs), "--ocsp-duration", str(args.ocsp_duration),
        "--ocsp-repeat", str(args.ocsp_repeat), "--ocsp-connections",
        str(args.ocsp_connections), "--ocsp-pool", str(args.ocsp_pool),
    ]  # fmt: skip
    if args.ocsp_allow_wildcard:
        worker_args.append("--ocsp-allow-wildcard")
    if args.profile:
        worker_args.append("--profile")
    with instance("sqlite", "ocsp") as inst:
        run = run_worker("ocsp", worker_args, inst.env())
    if run.returncode or not run.results:
        return [f"ocsp: FAILED (worker exit code {run.returncode})"], []
    r = run.results[-1]
    return summarise(r), [r]


def _stats(runs: list[dict[str, Any]], config: str) -> dict[str, float] | None:
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
        "spread": spread([x["rps"] for x in mine]),  # type: ignore[dict-item]
        "n": len(mine),
    }


def _fmt(s: dict[str, float]) -> str:
    return f"{s['rps']:.0f}/s (p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms)"


def summarise(r: dict[str, Any]) -> list[str]:
    runs = r["runs"]
    stats = {c: _stats(runs, c) for c in sorted({x["config"] for x in runs})}
    lines: list[str] = []

    def best_openssl(suffix: str) -> tuple[str, dict[str, float]] | None:
        found = [
            (c, s)
            for c, s in stats.items()
            if s is not None and c.startswith("openssl") and c.endswith(suffix)
        ]
        return max(found, key=lambda cs: cs[1]["rps"]) if found else None

    plain_base = best_openssl("close")
    nonce_base = best_openssl("close nonce")
    for label, mine, base in (
        ("no nonce, one connection per request", "certhall close", plain_base),
        ("no nonce, keep-alive", "certhall keep-alive", plain_base),
        ("with nonce (informational), one connection per request", "certhall close nonce",
         nonce_base),
        ("with nonce (informational), keep-alive", "certhall keep-alive nonce", nonce_base),
    ):  # fmt: skip
        s = stats.get(mine)
        if s is None:
            continue
        if base is None:
            lines.append(f"ocsp[{label}]: certhall {_fmt(s)}, no openssl baseline")
            continue
        ratio = s["rps"] / base[1]["rps"]
        lines.append(
            f"ocsp[{label}]: certhall {_fmt(s)}, {base[0].removesuffix(' nonce')} "
            f"{_fmt(base[1])}, ratio {ratio:.2f} (target >= {TARGET:g})"
        )
    lines.append(
        f"  {r['certs']:,} certificates ({r['revoked']:,} revoked); wrk -t1 -c{r['connections']}"
        f" {r['duration_s']:g} s per run, medians of {max(s['n'] for s in stats.values() if s)}"
        f"; pools: {r['pool_plain']:,} requests without nonce (cache warm), {r['pool_nonce']:,}"
        " with nonce"
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
    lines.append("  one request in-process (µs, no HTTP server, no load generator):")
    lines += [f"    {v:8.0f}  {k}" for k, v in r["breakdown_us"].items()]
    if r.get("breakdown_error"):
        lines.append(f"    FAILED: {r['breakdown_error']}")
    for name, problems in r["checks"].items():
        if problems:
            lines.append(f"  WARNING: {len(problems)} wrong answers from {name}: {problems[:2]}")
    if not r["openssl"]:
        lines.append("  openssl baseline not run: no private network namespace (see log)")
    return lines


if __name__ == "__main__":
    handle_signals()
    try:
        sys.exit(worker(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
