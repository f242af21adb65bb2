"""Issuance: certificates per second through ``ca.services.issue`` over the raw limit.

platform  ``services.issue(actor, IssueRequest(csr=PEM bytes, profile="org", years=1, ...))``:
          permission checks, CSR parsing and signature check, key policy, subscriber checks,
          build + sign with the CA key on SoftHSM2, INSERT of the registry row and the audit
          event (hash chain, head row locked), one commit per certificate.
raw       the same certificate (same subject, extensions, validity) built with a plain
          ``x509.CertificateBuilder`` and signed with the same CA key object, then serialised
          to DER: no database, no CSR parsing, no checks. The public keys are taken from the
          CSRs before the timing.

Both run sequentially in one process, in alternating batches (platform, raw, raw, platform,
...) so that noise on the shared machine hits both alike; the ratio reported is the median of
the per-round ratios. CSRs (EC P-256, one key each) are generated before any timing.

Worker: ``python -m bench.issuance [--rounds N] [--batch N] [--profile]`` inside an instance.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import pstats
import secrets
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import django_setup, emit, handle_signals, log, median, spread

TARGET = 0.5


def _valid_uscc(rng: secrets.SystemRandom) -> str:
    from certhall.pki.identity import USCC_ALPHABET, uscc_check_character

    body = "914403" + "".join(rng.choice(USCC_ALPHABET) for _ in range(11))
    return body + uscc_check_character(body)


def _csrs(n: int) -> list[bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    out = []
    for i in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"bench {i}")])
        csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
        out.append(csr.public_bytes(serialization.Encoding.PEM))
    return out


def raw_factory(issuer: Any, profile: Any, subscriber: Any, now: datetime) -> Callable[..., bytes]:
    """A function public_key -> certificate DER, built the plain ``cryptography`` way.

    Everything that does not depend on the key is computed once; per certificate there is the
    builder, the SubjectKeyIdentifier, a fresh serial, the signature and the DER.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall.pki import issuance
    from certhall.pki.keys import authority_key_identifier
    from certhall.pki.profiles import validity

    not_before, not_after = validity(profile, 1, now)
    subscriber = issuance.check_subscriber(profile, subscriber)
    subject = issuance.subject_name(profile, subscriber)
    issuer_name = issuer.certificate.subject
    fixed: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (profile.key_usage_extension(), True),
        (x509.ExtendedKeyUsage(list(profile.extended_key_usages)), False),
    ]
    after_ski: list[tuple[x509.ExtensionType, bool]] = [
        (authority_key_identifier(issuer.certificate), False),
        (issuance.crl_distribution_points(issuer.crl_url), False),
        (
            issuance.authority_information_access(
                ocsp_url=issuer.ocsp_url, ca_issuers_url=issuer.ca_issuers_url
            ),
            False,
        ),
        (x509.CertificatePolicies([x509.PolicyInformation(profile.policy_oid, None)]), False),
    ]
    after_ski += [(e.value, e.critical) for e in issuance.identity_extensions(profile, subscriber)]
    key = issuer.key
    sha256 = hashes.SHA256()

    def make(public_key: Any) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(public_key)
            .serial_number((1 << 126) | secrets.randbits(126))
            .not_valid_before(not_before)
            .not_valid_after(not_after)
        )
        for ext, critical in fixed:
            builder = builder.add_extension(ext, critical=critical)
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False
        )
        for ext, critical in after_ski:
            builder = builder.add_extension(ext, critical=critical)
        return builder.sign(key, sha256).public_bytes(Encoding.DER)

    return make


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("nan")


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench.issuance")
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--profile", action="store_true", help="cProfile one platform batch")
    args = ap.parse_args(argv)

    django_setup()
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from django.db import connection, connections, transaction
    from django.db.models import F

    from certhall.accounts.services import system_actor
    from certhall.audit import services as audit
    from certhall.audit.models import AuditEvent, AuditHead
    from certhall.ca import registry, services, signers
    from certhall.ca.models import Certificate
    from certhall.pki.csr import load_csr
    from certhall.pki.issuance import Subscriber, build_certificate, new_serial
    from certhall.pki.keys import sign
    from certhall.pki.profiles import get_profile

    actor = system_actor("bench")
    _root, ca = services.init_ca(actor, "ec")
    issuer = signers.issuer_for(ca)
    log(
        f"issuance[{args.db}]: CA key {type(issuer.key).__name__}, "
        f"database {connection.vendor} {connection.settings_dict['NAME']}"
    )
    rng = secrets.SystemRandom()
    warmup = 30
    per_round = args.batch
    n_platform = warmup + (args.rounds + 4) * per_round + (per_round if args.profile else 0)
    n_components = per_round
    t = time.perf_counter()
    csrs = _csrs(n_platform + n_components)
    log(f"issuance[{args.db}]: {len(csrs)} CSRs (EC P-256) in {time.perf_counter() - t:.1f} s")
    subscribers = [
        Subscriber(org_name=f"深圳市演示医疗科技有限公司第{i}分公司", uscc=_valid_uscc(rng))
        for i in range(64)
    ]
    profile = get_profile("org")
    public_keys = [x509.load_pem_x509_csr(c).public_key() for c in csrs]
    now = datetime.now(UTC).replace(microsecond=0)
    raw = raw_factory(issuer, profile, subscribers[0], now)
    csr_iter = iter(range(len(csrs)))

    last_cpu: dict[str, float] = {}  # CPU seconds of this process in the last batch

    def platform_batch(n: int) -> float:
        idx = [next(csr_iter) for _ in range(n)]
        requests = [
            services.IssueRequest(
                csr=csrs[i], profile="org", years=1, subscriber=subscribers[i % len(subscribers)]
            )
            for i in idx
        ]
        c0, t0 = time.process_time(), time.perf_counter()
        for request in requests:
            services.issue(actor, request)
        elapsed = time.perf_counter() - t0
        last_cpu["platform"] = time.process_time() - c0
        return elapsed

    def raw_batch(n: int) -> float:
        keys = [public_keys[rng.randrange(len(public_keys))] for _ in range(n)]
        c0, t0 = time.process_time(), time.perf_counter()
        for key in keys:
            raw(key)
        elapsed = time.perf_counter() - t0
        last_cpu["raw"] = time.process_time() - c0
        return elapsed

    def build_certificate_batch(n: int) -> float:
        keys = [public_keys[rng.randrange(len(public_keys))] for _ in range(n)]
        t0 = time.perf_counter()
        for i, key in enumerate(keys):
            build_certificate(
                issuer, key, profile, 1, subscribers[i % len(subscribers)], new_serial(), now
            ).public_bytes(Encoding.DER)
        return time.perf_counter() - t0

    platform_batch(warmup)
    raw_batch(warmup)
    build_certificate_batch(warmup)

    rounds: list[dict[str, float]] = []
    for r in range(args.rounds):
        if r % 2 == 0:
            p = platform_batch(per_round)
            w = raw_batch(per_round)
        else:
            w = raw_batch(per_round)
            p = platform_batch(per_round)
        b = build_certificate_batch(per_round)
        rounds.append(
            {
                "platform": _rate(per_round, p),
                "raw": _rate(per_round, w),
                "build_certificate": _rate(per_round, b),
                "ratio": w / p,
                "cpu_ratio": last_cpu["raw"] / last_cpu["platform"],
                "platform_cpu_us": last_cpu["platform"] / per_round * 1e6,
            }
        )
        log(
            f"issuance[{args.db}] round {r + 1}/{args.rounds}: platform "
            f"{rounds[-1]['platform']:.0f}/s, raw {rounds[-1]['raw']:.0f}/s, "
            f"build_certificate {rounds[-1]['build_certificate']:.0f}/s"
        )

    # What-ifs (informational, not the headline): the same issue() calls (a) with the CA row
    # lookup cached, (b) 50 per database transaction (the inner atomic() blocks become
    # savepoints, one commit per 50).
    whatif: dict[str, float] = {}
    real_lookup = services.active_issuing_ca
    services.active_issuing_ca = lambda: ca  # type: ignore[assignment]
    try:
        whatif["issue() with the CA lookup cached"] = _rate(per_round, platform_batch(per_round))
    finally:
        services.active_issuing_ca = real_lookup  # type: ignore[assignment]

    def batched(n: int, chunk: int = 50) -> float:
        idx = [next(csr_iter) for _ in range(n)]
        t0 = time.perf_counter()
        for start in range(0, n, chunk):
            with transaction.atomic():
                for i in idx[start : start + chunk]:
                    services.issue(
                        actor,
                        services.IssueRequest(
                            csr=csrs[i], profile="org", years=1, subscriber=subscribers[0]
                        ),
                    )
        return time.perf_counter() - t0

    whatif["issue() x50 per transaction (one commit per 50)"] = _rate(per_round, batched(per_round))

    from bench.issue_prototype import issue_many

    def prototype(n: int, chunk: int = 50) -> float:
        idx = [next(csr_iter) for _ in range(n)]
        reqs = [
            services.IssueRequest(
                csr=csrs[i], profile="org", years=1, subscriber=subscribers[i % len(subscribers)]
            )
            for i in idx
        ]
        t0 = time.perf_counter()
        for start in range(0, n, chunk):
            issue_many(actor, ca, issuer, reqs[start : start + chunk])
        return time.perf_counter() - t0

    whatif["prototype batch API, 50 per call (bench/issue_prototype.py)"] = _rate(
        per_round, prototype(per_round)
    )

    def threaded(n: int, threads: int = 4) -> float:
        idx = [next(csr_iter) for _ in range(n)]
        shares = [idx[k::threads] for k in range(threads)]
        errors: list[BaseException] = []

        def run(share: list[int]) -> None:
            try:
                for i in share:
                    services.issue(
                        actor,
                        services.IssueRequest(
                            csr=csrs[i], profile="org", years=1, subscriber=subscribers[0]
                        ),
                    )
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connections.close_all()

        pool = [threading.Thread(target=run, args=(share,)) for share in shares]
        t0 = time.perf_counter()
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        elapsed = time.perf_counter() - t0
        if errors:
            raise errors[0]
        return elapsed

    whatif["issue() from 4 threads (audit head lock serialises the commits)"] = _rate(
        per_round, threaded(per_round)
    )
    chain = audit.verify()
    if not chain.ok:
        raise SystemExit(f"audit chain broken after the prototype: {chain.problem}")

    # Where a platform issuance spends its time: the steps of services.issue one by one,
    # each over the same batch (no profiler overhead).
    comp_idx = [next(csr_iter) for _ in range(n_components)]
    comp: dict[str, float] = {}
    t0 = time.perf_counter()
    for _ in comp_idx:
        services.active_issuing_ca()
    comp["CA row lookup (active_issuing_ca)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    parsed = [load_csr(csrs[i]) for i in comp_idx]
    comp["load_csr (parse, key policy, CSR signature check)"] = time.perf_counter() - t0
    keys = [c.public_key() for c in parsed]
    t0 = time.perf_counter()
    certs = [
        build_certificate(issuer, k, profile, 1, subscribers[0], new_serial(), now) for k in keys
    ]
    comp["build_certificate (checks, build, sign on SoftHSM2)"] = time.perf_counter() - t0
    tbs = [c.tbs_certificate_bytes for c in certs]
    t0 = time.perf_counter()
    for data in tbs:
        sign(issuer.key, data)
    comp["  of which: signature on SoftHSM2 (hash + C_Sign + DER)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for cert in certs:
        registry.register(actor, ca, cert, "org", subscribers[0])
    comp["_store (INSERT certificate + audit event, commit)"] = time.perf_counter() - t0
    # _store split: a bare write transaction (its commit), the registry INSERT alone and
    # audit.record alone, each in its own committed transaction.
    t0 = time.perf_counter()
    for _ in range(n_components):
        with transaction.atomic():
            AuditHead.objects.filter(pk=1).update(seq=F("seq"))
    commit = time.perf_counter() - t0
    comp["  of which: commit of a one-row write transaction"] = commit
    more = [
        build_certificate(issuer, k, profile, 1, subscribers[0], new_serial(), now) for k in keys
    ]
    t0 = time.perf_counter()
    for cert in more:
        with transaction.atomic():
            der = cert.public_bytes(Encoding.DER)
            Certificate.objects.create(
                ca=ca,
                serial=registry.serial_hex(cert.serial_number),
                profile="org",
                org_name=subscribers[0].org_name,
                uscc=subscribers[0].uscc,
                subject=cert.subject.rfc4514_string(),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                der=der,
                fingerprint_sha256=hashlib.sha256(der).hexdigest(),
                issued_by=actor,
            )
    comp["  of which: Certificate INSERT (ORM), without commit"] = time.perf_counter() - t0 - commit
    t0 = time.perf_counter()
    for i in range(n_components):
        audit.record(actor, "bench.noop", object_type="certificate", object_id=i, after={"a": 1})
    comp["  of which: audit.record (head lock, INSERT, UPDATE), without commit"] = (
        time.perf_counter() - t0 - commit
    )
    components = {k: v / n_components * 1e6 for k, v in comp.items()}  # µs per certificate

    stored = Certificate.objects.count()
    events = AuditEvent.objects.filter(action="ca.certificate.issue").count()
    # The raw certificate has the platform's extensions, in the platform's order.
    platform_cert = x509.load_der_x509_certificate(
        bytes(Certificate.objects.filter(profile="org").last().der)  # type: ignore[union-attr]
    )
    raw_cert = x509.load_der_x509_certificate(raw(public_keys[0]))
    same_shape = [e.oid for e in platform_cert.extensions] == [
        e.oid for e in raw_cert.extensions
    ] and platform_cert.subject == raw_cert.subject
    raw_cert.verify_directly_issued_by(issuer.certificate)

    profile_text = ""
    if args.profile:
        prof = cProfile.Profile()
        idx = [next(csr_iter) for _ in range(per_round)]
        reqs = [
            services.IssueRequest(csr=csrs[i], profile="org", years=1, subscriber=subscribers[0])
            for i in idx
        ]
        prof.enable()
        for req in reqs:
            services.issue(actor, req)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        out.write("\n--- cumulative ---\n")
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(40)
        profile_text = out.getvalue()
        print(profile_text, file=sys.stderr)

    result = {
        "bench": "issuance",
        "db": args.db,
        "vendor": connection.vendor,
        "rounds": rounds,
        "batch": per_round,
        "platform_per_s": median([r["platform"] for r in rounds]),
        "raw_per_s": median([r["raw"] for r in rounds]),
        "build_certificate_per_s": median([r["build_certificate"] for r in rounds]),
        "ratio": median([r["ratio"] for r in rounds]),
        "cpu_ratio": median([r["cpu_ratio"] for r in rounds]),
        "platform_cpu_us": median([r["platform_cpu_us"] for r in rounds]),
        "platform_spread": spread([r["platform"] for r in rounds]),
        "raw_spread": spread([r["raw"] for r in rounds]),
        "ratio_spread": spread([r["ratio"] for r in rounds]),
        "components_us": components,
        "whatif_per_s": whatif,
        "stored_certificates": stored,
        "audit_events": events,
        "raw_same_extensions_as_platform": same_shape,
        "key_class": type(issuer.key).__name__,
        "profile": profile_text,
    }
    emit(result)
    return 0


def summary_line(r: dict[str, Any]) -> str:
    return (
        f"issuance[{r['db']}]: platform {r['platform_per_s']:.0f}/s, raw {r['raw_per_s']:.0f}/s, "
        f"ratio {r['ratio']:.2f} (target >= {TARGET})"
    )


def details(r: dict[str, Any]) -> list[str]:
    lines = [
        f"  median of {len(r['rounds'])} rounds of {r['batch']}; platform {r['platform_spread']}"
        f"/s, raw {r['raw_spread']}/s, ratio {r['ratio_spread']}; pki build_certificate "
        f"{r['build_certificate_per_s']:.0f}/s",
        f"  CPU time of this process: {r['platform_cpu_us']:.0f} µs per platform issuance, "
        f"CPU-time ratio raw/platform {r['cpu_ratio']:.2f}"
        + (" (excludes the PostgreSQL server's CPU)" if r["db"] == "postgresql" else ""),
        "  per certificate (µs), steps of services.issue timed separately:",
    ]
    lines += [f"    {v:7.0f}  {k}" for k, v in r["components_us"].items()]
    lines.append("  what-ifs (informational, one batch each):")
    lines += [
        f"    {v:7.0f}/s  {k} (ratio {v / r['raw_per_s']:.2f})"
        for k, v in r["whatif_per_s"].items()
    ]
    if not r["raw_same_extensions_as_platform"]:
        lines.append("  WARNING: the raw certificate differs in shape from the platform's")
    return lines


if __name__ == "__main__":
    handle_signals()
    try:
        sys.exit(worker(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
