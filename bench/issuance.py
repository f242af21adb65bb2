"""Issuance: certificates per second through the platform over the raw limit.

single    ``services.issue(actor, IssueRequest(csr=PEM bytes, profile="org", years=1, ...))``:
          permission checks, CSR parsing and signature check, key policy, subscriber checks,
          build + sign with the CA key on SoftHSM2, INSERT of the registry row and the audit
          event (hash chain, head row locked), one commit per certificate.
batch     ``ca.batch.issue_batch(actor, [IssueRequest ...])`` of ``--batch`` requests: the same
          checks and certificates, one transaction with one bulk write and one audit event. As
          after ``issue()``, the OCSP answers are left to the jobs; their signing is measured
          as a step ("OCSP answer pre-signed") for the record.
raw       the same certificate (same subject, extensions, validity) built with a plain
          ``x509.CertificateBuilder`` and signed with the same CA key object, then serialised
          to DER: no database, no CSR parsing, no checks. The public keys are taken from the
          CSRs before the timing.

All run sequentially in one process, interleaved round by round so that noise on the shared
machine hits all alike; the ratios reported are the medians of the per-round ratios.
CSRs (EC P-256, one key each) are generated before any timing.

Worker: ``python -m bench.issuance [--rounds N] [--batch N] [--profile]`` inside an instance.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import django_setup, emit, handle_signals, log, median, spread

TARGET_BATCH = 0.5
TARGET_SINGLE = 0.2


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
    ap.add_argument("--profile", action="store_true", help="cProfile one batch")
    args = ap.parse_args(argv)

    django_setup()
    from cryptography import x509
    from django.db import connection

    from certhall.accounts.services import system_actor
    from certhall.audit import services as audit
    from certhall.audit.models import AuditEvent
    from certhall.ca import ocsp_store, services, signers
    from certhall.ca.batch import issue_batch
    from certhall.ca.models import Certificate, OCSPResponse
    from certhall.pki.csr import load_csr
    from certhall.pki.issuance import Subscriber, build_certificate, new_serial
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
    n = args.batch
    n_csrs = 4 * warmup + args.rounds * 3 * n + (2 * n if args.profile else 0) + n
    t = time.perf_counter()
    csrs = _csrs(n_csrs)
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

    def requests(count: int) -> list[Any]:
        return [
            services.IssueRequest(
                csr=csrs[i], profile="org", years=1, subscriber=subscribers[i % len(subscribers)]
            )
            for i in (next(csr_iter) for _ in range(count))
        ]

    def timed(fn: Callable[[], object]) -> tuple[float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        return time.perf_counter() - t0, time.process_time() - c0

    def single(count: int) -> tuple[float, float]:
        reqs = requests(count)
        return timed(lambda: [services.issue(actor, r) for r in reqs])

    def batch(count: int) -> tuple[float, float]:
        reqs = requests(count)
        return timed(lambda: issue_batch(actor, reqs))

    def raw_run(count: int) -> tuple[float, float]:
        keys = [public_keys[rng.randrange(len(public_keys))] for _ in range(count)]
        return timed(lambda: [raw(k) for k in keys])

    single(warmup)
    batch(warmup)
    raw_run(warmup)

    rounds: list[dict[str, float]] = []
    for r in range(args.rounds):
        order = ["single", "batch", "raw"]
        order = order[r % 3 :] + order[: r % 3]
        got: dict[str, tuple[float, float]] = {}
        for kind in order:
            if kind == "single":
                got[kind] = single(n)
            elif kind == "batch":
                got[kind] = batch(n)
            else:
                got[kind] = raw_run(n)
        raw_s, raw_cpu = got["raw"]
        rounds.append(
            {
                **{f"{k}_per_s": _rate(n, v[0]) for k, v in got.items()},
                **{f"{k}_cpu_us": v[1] / n * 1e6 for k, v in got.items()},
                "single_ratio": raw_s / got["single"][0],
                "batch_ratio": raw_s / got["batch"][0],
                "single_cpu_ratio": raw_cpu / got["single"][1],
                "batch_cpu_ratio": raw_cpu / got["batch"][1],
            }
        )
        log(
            f"issuance[{args.db}] round {r + 1}/{args.rounds}: "
            + ", ".join(f"{k} {rounds[-1][k + '_per_s']:.0f}/s" for k in got)
        )

    # Where a batch certificate's time goes: the steps one by one over the same requests.
    comp_reqs = requests(n)
    comp: dict[str, float] = {}
    t0 = time.perf_counter()
    parsed = [load_csr(r.csr) for r in comp_reqs]
    comp["load_csr (parse, key policy, CSR signature check)"] = time.perf_counter() - t0
    keys = [c.public_key() for c in parsed]
    t0 = time.perf_counter()
    certs = [
        build_certificate(issuer, k, profile, 1, subscribers[0], new_serial(), now) for k in keys
    ]
    comp["build_certificate (checks, build, sign on SoftHSM2)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for cert in certs:
        due = ocsp_store.Due(0, ca.pk, format(cert.serial_number, "x"), "valid", None, "")
        ocsp_store.sign_due(due, now)
    comp["OCSP answer pre-signed (software EC key)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(n):
        raw(keys[0])
    comp["raw: build + sign with cryptography (the baseline)"] = time.perf_counter() - t0
    components = {k: v / n * 1e6 for k, v in comp.items()}  # µs per certificate

    chain = audit.verify()
    if not chain.ok:
        raise SystemExit(f"audit chain broken after the batches: {chain.problem}")
    batch_events = AuditEvent.objects.filter(action="ca.certificate.issue_batch").count()
    named = sum(
        len(e.after["certificates"])
        for e in AuditEvent.objects.filter(action="ca.certificate.issue_batch")
    )
    stored = Certificate.objects.filter(profile="org").count()
    # What the jobs then do for every certificate issued above: sign and store its answer.
    unanswered = Certificate.objects.filter(ocsp_response__isnull=True).count()
    t0 = time.perf_counter()
    presigned = ocsp_store.refresh_due(datetime.now(UTC))
    presign_s = time.perf_counter() - t0
    if presigned != unanswered or Certificate.objects.filter(ocsp_response__isnull=True).exists():
        raise SystemExit(f"the jobs pre-signed {presigned} answers for {unanswered} certificates")
    answers = OCSPResponse.objects.count()
    # The raw certificate has the platform's extensions, in the platform's order.
    platform_cert = x509.load_der_x509_certificate(
        bytes(Certificate.objects.filter(profile="org").last().der)  # type: ignore[union-attr]
    )
    raw_cert = x509.load_der_x509_certificate(raw(public_keys[0]))
    same_shape = [e.oid for e in platform_cert.extensions] == [
        e.oid for e in raw_cert.extensions
    ] and [a.oid for a in platform_cert.subject] == [a.oid for a in raw_cert.subject]
    raw_cert.verify_directly_issued_by(issuer.certificate)
    platform_cert.verify_directly_issued_by(issuer.certificate)

    profile_text = ""
    if args.profile:
        for title, issue_all in (
            ("batch", lambda reqs: issue_batch(actor, reqs)),
            ("single", lambda reqs: [services.issue(actor, r) for r in reqs]),
        ):
            prof = cProfile.Profile()
            reqs = requests(n)
            prof.enable()
            issue_all(reqs)
            prof.disable()
            out = io.StringIO()
            stats = pstats.Stats(prof, stream=out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(30)
            profile_text += f"--- {title} ---\n{out.getvalue()}"
        print(profile_text, file=sys.stderr)

    def med(key: str) -> float:
        return median([r[key] for r in rounds])

    emit(
        {
            "bench": "issuance",
            "db": args.db,
            "vendor": connection.vendor,
            "rounds": rounds,
            "batch": n,
            **{k: med(k) for k in rounds[0]},
            "batch_ratio_spread": spread([r["batch_ratio"] for r in rounds]),
            "single_ratio_spread": spread([r["single_ratio"] for r in rounds]),
            "components_us": components,
            "audit_chain_checked": chain.checked,
            "batch_events": batch_events,
            "batch_events_named": named,
            "stored_certificates": stored,
            "ocsp_answers": answers,
            "jobs_presign_per_s": _rate(presigned, presign_s),
            "raw_same_extensions_as_platform": same_shape,
            "key_class": type(issuer.key).__name__,
            "profile": profile_text,
        }
    )
    return 0


def summary_line(r: dict[str, Any]) -> str:
    def verdict(ratio: float, target: float) -> str:
        return f"target >= {target}: {'met' if ratio >= target else 'MISSED'}"

    return (
        f"issuance[{r['db']}]: batch of {r['batch']} {r['batch_per_s']:,.0f}/s, raw cryptography "
        f"{r['raw_per_s']:,.0f}/s, ratio {r['batch_ratio']:.2f} "
        f"({verdict(r['batch_ratio'], TARGET_BATCH)}); single issue() "
        f"{r['single_per_s']:,.0f}/s, ratio {r['single_ratio']:.2f} "
        f"({verdict(r['single_ratio'], TARGET_SINGLE)})"
    )


def details(r: dict[str, Any]) -> list[str]:
    lines = [
        f"  medians of {len(r['rounds'])} rounds of {r['batch']}; batch ratio "
        f"{r['batch_ratio_spread']}, single ratio {r['single_ratio_spread']}; the jobs then "
        f"pre-signed their OCSP answers at {r['jobs_presign_per_s']:,.0f}/s",
        f"  CPU of this process per certificate: batch {r['batch_cpu_us']:.0f} µs, single "
        f"{r['single_cpu_us']:.0f} µs, raw {r['raw_cpu_us']:.0f} µs; CPU ratios batch "
        f"{r['batch_cpu_ratio']:.2f}, single {r['single_cpu_ratio']:.2f}"
        + (" (the PostgreSQL server's CPU not included)" if r["db"] == "postgresql" else ""),
        f"  checked: audit chain verified ({r['audit_chain_checked']:,} events; "
        f"{r['batch_events']} batch events naming {r['batch_events_named']:,} certificates), "
        f"{r['ocsp_answers']:,} pre-signed OCSP answers stored (one per certificate), platform "
        f"and raw certificates verified against the CA",
        "  per certificate (µs), steps timed separately:",
    ]
    lines += [f"    {v:7.0f}  {k}" for k, v in r["components_us"].items()]
    if not r["raw_same_extensions_as_platform"]:
        lines.append("  WARNING: the raw certificate differs in shape from the platform's")
    return lines


if __name__ == "__main__":
    handle_signals()
    try:
        sys.exit(worker(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
