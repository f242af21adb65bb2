"""certhall ca init | issue | issue-batch | renew | revoke | crl | list | export | chain"""

from __future__ import annotations

import argparse
import json
from typing import Any

from certhall.cli.output import atomic_output, print_json, read_input, undone_with_the_file
from certhall.errors import InvalidInput

MAX_CSR_FILE = 64 * 1024


def register(commands: Any) -> None:
    ca = commands.add_parser("ca")
    sub = ca.add_subparsers(dest="ca_command", required=True, parser_class=type(ca))

    p = sub.add_parser("init", help="create the root CA and the issuing CA")
    p.add_argument("--key-type", choices=["ec", "rsa2048", "rsa3072"], default="ec")
    p.set_defaults(handler=init)

    p = sub.add_parser("issue", help="issue a certificate from a PKCS#10 CSR")
    p.add_argument("--csr", required=True)
    p.add_argument("--profile", required=True, choices=["org", "personal"])
    p.add_argument("--years", required=True, type=int)
    p.add_argument("--org-name", required=True)
    p.add_argument("--uscc", required=True)
    p.add_argument("--person-name")
    p.add_argument("--id-number")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=issue)

    p = sub.add_parser(
        "issue-batch",
        help="issue the certificates of a manifest in one transaction (all or none)",
        description=(
            "MANIFEST: JSON Lines, one certificate per line: "
            '{"csr": "a.csr", "profile": "org", "years": 1, "org_name": "...", "uscc": "..."} '
            "(personal: also person_name and id_number; optional province, locality); csr "
            "paths are relative to the manifest. Writes every certificate, in manifest order, "
            "to --out (PEM) and prints their serials."
        ),
    )
    p.add_argument("manifest")
    p.add_argument("--out", required=True, help="PEM file of the issued certificates")
    p.set_defaults(handler=issue_batch)

    p = sub.add_parser(
        "renew", help="renew a certificate with a new key: what is left is kept, years added"
    )
    p.add_argument("serial")
    p.add_argument("--csr", required=True)
    p.add_argument("--years", required=True, type=int)
    p.add_argument("--out", required=True)
    p.set_defaults(handler=renew)

    p = sub.add_parser("revoke", help="revoke a certificate")
    p.add_argument("serial")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=revoke)

    p = sub.add_parser("crl", help="sign a new CRL of the issuing CA and write it (DER)")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=crl)

    p = sub.add_parser("list", help="list issued certificates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=list_)

    p = sub.add_parser(
        "export",
        help="write registered certificates (PEM), e.g. a batch whose --out file was lost",
    )
    p.add_argument("serials", nargs="+", metavar="serial")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=export)

    p = sub.add_parser("chain", help="write the issuing CA and root certificates (PEM)")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=chain)


def _actor() -> Any:
    from certhall.accounts.services import system_actor

    return system_actor()


def init(args: argparse.Namespace) -> int:
    from certhall.ca.services import init_ca

    root, issuing = init_ca(_actor(), args.key_type)
    print(f"root CA:    {root.slug}  {root.name}  ({root.key_ref})")
    print(f"issuing CA: {issuing.slug}  {issuing.name}  ({issuing.key_ref})")
    return 0


def issue(args: argparse.Namespace) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall.ca.services import IssueRequest
    from certhall.ca.services import issue as issue_certificate
    from certhall.pki.issuance import Subscriber

    if (args.person_name is None) != (args.id_number is None):
        raise InvalidInput(code="cli_person_pair")
    request = IssueRequest(
        csr=_csr(args.csr),
        profile=args.profile,
        years=args.years,
        subscriber=Subscriber(
            org_name=args.org_name,
            uscc=args.uscc,
            person_name=args.person_name,
            id_number=args.id_number,
        ),
    )
    actor = _actor()
    with undone_with_the_file(args.out, actor, "ca.certificate.issue") as out:
        row = issue_certificate(actor, request)
        out.write(x509.load_der_x509_certificate(bytes(row.der)).public_bytes(Encoding.PEM))
    print(row.serial)
    return 0


MANIFEST_KEYS = {
    "csr", "profile", "years", "org_name", "uscc", "person_name", "id_number", "province",
    "locality",
}  # fmt: skip


def read_manifest(path: str) -> list[Any]:
    """The IssueRequests of a JSON Lines manifest (see ``certhall ca issue-batch --help``)."""
    from pathlib import Path

    from certhall.ca.services import IssueRequest
    from certhall.pki.issuance import Subscriber

    base = Path(path).resolve().parent
    requests = []
    lines = read_input(path).splitlines()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")  # a GBK name must not become U+FFFD in a certificate
            item = json.loads(line)
            required = {"csr", "profile", "years", "org_name", "uscc"}
            if not isinstance(item, dict) or not required <= set(item):
                raise ValueError("需要 csr、profile、years、org_name、uscc")
            unknown = set(item) - MANIFEST_KEYS
            if unknown:
                raise ValueError("未知字段 " + "、".join(sorted(unknown)))
            texts = {k: v for k, v in item.items() if k != "years" and v is not None}
            wrong = sorted(k for k, v in texts.items() if not isinstance(v, str))
            if wrong:
                raise ValueError("、".join(wrong) + " 须为字符串")
            years = item.get("years")
            if not isinstance(years, int) or isinstance(years, bool):
                raise ValueError("years 须为整数")
            csr = _csr(str(base / str(item["csr"])))
        except UnicodeDecodeError:
            raise InvalidInput(
                code="batch_manifest", path=path, line=number, reason="不是UTF-8编码"
            ) from None
        except (ValueError, InvalidInput) as error:
            raise InvalidInput(
                code="batch_manifest", path=path, line=number, reason=error
            ) from None
        requests.append(
            IssueRequest(
                csr=csr,
                profile=str(item["profile"]),
                years=years,
                subscriber=Subscriber(
                    org_name=str(item["org_name"]),
                    uscc=str(item["uscc"]),
                    person_name=item.get("person_name"),
                    id_number=item.get("id_number"),
                    **{k: str(item[k]) for k in ("province", "locality") if k in item},
                ),
            )
        )
    if not requests:
        raise InvalidInput(code="batch_manifest_empty", path=path)
    return requests


def issue_batch(args: argparse.Namespace) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall.ca.batch import issue_batch as issue_many

    requests = read_manifest(args.manifest)
    actor = _actor()
    with undone_with_the_file(args.out, actor, "ca.certificate.issue_batch") as out:
        rows = issue_many(actor, requests)
        for row in rows:
            out.write(x509.load_der_x509_certificate(bytes(row.der)).public_bytes(Encoding.PEM))
    for row in rows:
        print(row.serial)
    return 0


def _csr(path: str) -> bytes:
    csr = read_input(path)
    if len(csr) > MAX_CSR_FILE:
        raise InvalidInput(code="cli_file_too_large", variant="csr", path=path)
    return csr


def renew(args: argparse.Namespace) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall.ca.services import renew as renew_certificate

    csr = _csr(args.csr)
    actor = _actor()
    with undone_with_the_file(
        args.out, actor, "ca.certificate.renew", object_id=args.serial
    ) as out:
        row = renew_certificate(actor, args.serial, csr, args.years)
        out.write(x509.load_der_x509_certificate(bytes(row.der)).public_bytes(Encoding.PEM))
    print(row.serial)
    return 0


def revoke(args: argparse.Namespace) -> int:
    from certhall.ca.services import revoke as revoke_certificate

    cert = revoke_certificate(_actor(), args.serial, args.reason)
    print(f"revoked {cert.serial} ({cert.revocation_reason})")
    return 0


def crl(args: argparse.Namespace) -> int:

    from certhall.ca.crls import publish_crl
    from certhall.ca.services import active_issuing_ca

    actor = _actor()
    with undone_with_the_file(args.out, actor, "ca.crl.publish", "crl") as out:
        published = publish_crl(actor, active_issuing_ca())
        out.write(bytes(published.der))
    print(
        f"CRL #{published.number}: {published.entries} entries, "
        f"next update {published.next_update:%Y-%m-%d %H:%M:%S} UTC"
    )
    return 0


def list_(args: argparse.Namespace) -> int:
    from certhall.ca.services import list_certificates

    rows = list_certificates(_actor())
    if args.json:
        print_json(
            [
                {
                    "serial": c.serial,
                    "ca": c.ca.slug,
                    "profile": c.profile,
                    "subject": c.subject,
                    "org_name": c.org_name,
                    "uscc": c.uscc,
                    "not_before": c.not_before.isoformat(),
                    "not_after": c.not_after.isoformat(),
                    "status": c.status,
                    "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                    "revocation_reason": c.revocation_reason or None,
                }
                for c in rows
            ]
        )
        return 0
    for c in rows:
        print(f"{c.serial:<34} {c.status:<8} {c.profile:<9} {c.not_after:%Y-%m-%d} {c.subject}")
    return 0


def export(args: argparse.Namespace) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall.ca.registry import get_certificate

    found = (get_certificate(serial) for serial in args.serials)  # all, or none written
    rows = list({row.serial: row for row in found}.values())
    with atomic_output(args.out) as out:
        for row in rows:
            out.write(x509.load_der_x509_certificate(bytes(row.der)).public_bytes(Encoding.PEM))
    print(f"{len(rows)} certificates -> {args.out}")
    return 0


def chain(args: argparse.Namespace) -> int:
    from certhall.ca.services import chain_pem

    with atomic_output(args.out) as out:
        out.write(chain_pem())
    return 0
