"""certhall token init | csr | import | list | change-pin | unlock | sign

Ukeys over PKCS#11. The token store is ``--module`` (default ``CERTHALL_PKCS11_MODULE``, else
SoftHSM2) with ``--conf`` (default ``SOFTHSM2_CONF``, else the instance's Ukey store
``CERTHALL_HOME/ukeys/softhsm2.conf``, kept apart from the CA's token store).

Only ``init`` (which records the new token in the Ukey inventory, unless ``--no-register``) and
``unlock`` (which needs the inventory's sealed SO PIN) use the database; the others work on the
token alone. Every login goes through the PIN retry policy (``certhall.tokens.pin``): a wrong PIN
says how many tries are left.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from certhall import config
from certhall.cli.output import atomic_output, print_json, read_input
from certhall.errors import ConfigurationError, InvalidInput

MAX_CERT_FILE = 256 * 1024
MAX_SIGN_INPUT = 64 * 1024 * 1024


def register(commands: Any) -> None:
    token = commands.add_parser("token")
    sub = token.add_subparsers(dest="token_command", required=True, parser_class=type(token))

    def add(name: str, help_text: str, *, needs_django: bool = False) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        p.add_argument("--module", help="PKCS#11 module (default: CERTHALL_PKCS11_MODULE)")
        p.add_argument("--conf", help="SoftHSM2 configuration (default: SOFTHSM2_CONF)")
        p.set_defaults(needs_django=needs_django)
        return p

    p = add("init", "format a new token and record it in the Ukey inventory", needs_django=True)
    p.add_argument("--label", required=True)
    p.add_argument("--so-pin", required=True)
    p.add_argument("--pin", required=True)
    # dest needs_django: without the inventory, no database is needed either
    p.add_argument(
        "--no-register",
        dest="needs_django",
        action="store_false",
        help="only format the token; do not record it (it cannot be unlocked by staff then)",
    )
    p.set_defaults(handler=init)

    p = add("csr", "generate a key pair on the token and write a CSR for it (PEM)")
    p.add_argument("--label", required=True)
    p.add_argument("--pin", required=True)
    p.add_argument("--key-type", choices=["ec", "rsa2048"], default="ec")
    p.add_argument("--key-label", help="label of the new key (default: a fresh one)")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=csr)

    p = add("import", "write a certificate (and its chain) to the token, next to its key")
    p.add_argument("--label", required=True)
    p.add_argument("--pin", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--chain")
    p.add_argument("--key-label", help="the key pair (default: the one the certificate is for)")
    p.set_defaults(handler=import_)

    p = add("list", "list the tokens of the store, or what is on one token")
    p.add_argument("--label")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=list_)

    p = add("change-pin", "change the user PIN")
    p.add_argument("--label", required=True)
    p.add_argument("--pin", required=True)
    p.add_argument("--new-pin", required=True)
    p.set_defaults(handler=change_pin)

    p = add("unlock", "staff: set a new user PIN with the stored SO PIN", needs_django=True)
    p.add_argument("--label", required=True)
    p.add_argument("--new-pin", required=True)
    p.add_argument("--phone", help="also send the new PIN by SMS to this number")
    p.set_defaults(handler=unlock)

    p = add("sign", "sign a file with a key on the token (ECDSA / RSA PKCS#1 v1.5, SHA-256)")
    p.add_argument("--label", required=True)
    p.add_argument("--pin", required=True)
    p.add_argument("--in", dest="input", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--key-label", help="the key to sign with (needed when there are several)")
    p.set_defaults(handler=sign)


def _store(args: argparse.Namespace) -> Any:
    from certhall.ukeys.store import UkeyStore, is_softhsm, ukey_store_at

    settings = config.token_tools()
    module = args.module or settings.pkcs11_module
    if not os.path.isfile(module):
        raise InvalidInput(code="cli_pkcs11_module", module=module)
    conf = args.conf or settings.softhsm_conf
    if conf:
        path = Path(conf)
        if not path.is_file():
            raise InvalidInput(code="cli_token_conf", conf=conf)
        return UkeyStore(module, path.resolve())
    if not is_softhsm(module):
        return UkeyStore(module, None)
    if not settings.home.is_dir():  # the instance's store: never make a home here
        raise ConfigurationError(code="home_missing", home=settings.home)
    return ukey_store_at(settings.home, module)


def _actor() -> Any:
    from certhall.accounts.services import system_actor

    return system_actor()


def init(args: argparse.Namespace) -> int:
    """Registered (the default), the token goes in stock the way every Ukey does
    (``ukeys.services.prepare_stock``: written ahead, so a kill between formatting and recording
    is finished by ``certhall ukeys recover``, docs/tokens.md); ``--no-register`` only formats.
    Never in the CA's own token store (a ``SOFTHSM2_CONF`` exported for the CA's token, or
    ``--conf`` naming it): a Ukey never shares a directory with the CA key (12-06)."""
    from certhall.ukeys.store import is_ca_store

    store = _store(args)
    if is_ca_store(store, config.token_tools().home):
        raise InvalidInput(code="cli_token_conf", variant="ca", conf=store.conf)
    if not args.needs_django:
        from certhall.tokens import format_token

        info = format_token(store.module, args.label, args.so_pin, args.pin, conf=store.conf)
        print(f"formatted token {info.label} (serial {info.serial}, {info.model})")
        return 0
    from certhall.ukeys.services import prepare_stock

    ukey = prepare_stock(_actor(), args.label, store=store, so_pin=args.so_pin, pin=args.pin)
    print(f"formatted token {ukey.label} (serial {ukey.serial}, {ukey.model})")
    print("recorded in the Ukey inventory (in stock); the SO PIN is kept sealed")
    return 0


def _login(args: argparse.Namespace, store: Any) -> Any:
    from certhall.tokens import user_login

    return user_login(store.module, args.label, args.pin, conf=store.conf)


def csr(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall.tokens import build_csr, delete_key_pair, generate_keypair, new_key_label

    store = _store(args)
    with atomic_output(args.out) as out, _login(args, store) as session:
        key_label = args.key_label or new_key_label(session)
        generate_keypair(session, key_label, args.key_type)
        try:
            out.write(build_csr(session, key_label).public_bytes(Encoding.PEM))
            out.settle()
        except BaseException:
            # No CSR, no certificate for this key: it would only take a place on the token.
            delete_key_pair(session, key_label)
            raise
    print(f"key {key_label} generated on token {args.label}; CSR written to {args.out}")
    return 0


def _certificates(data: bytes, path: str) -> list[Any]:
    from cryptography import x509

    try:
        if b"-----BEGIN" in data:
            return list(x509.load_pem_x509_certificates(data))
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise InvalidInput(code="cli_not_certificate", path=path) from None


def _read_certificates(path: str) -> list[Any]:
    data = read_input(path)
    if len(data) > MAX_CERT_FILE:
        raise InvalidInput(code="cli_file_too_large", variant="certificate", path=path)
    return _certificates(data, path)


def import_(args: argparse.Namespace) -> int:
    from certhall.tokens import key_label_for, write_certificate

    certs = _read_certificates(args.cert)
    if len(certs) != 1:
        raise InvalidInput(code="cli_one_certificate", path=args.cert)
    chain = _read_certificates(args.chain) if args.chain else []
    store = _store(args)
    with _login(args, store) as session:
        key_label = args.key_label or key_label_for(session, certs[0].public_key())
        write_certificate(session, key_label, certs[0], chain)
    extra = f" and {len(chain)} CA certificate(s)" if chain else ""
    print(
        f"certificate {format(certs[0].serial_number, 'x')}{extra} written to token "
        f"{args.label} (key {key_label})"
    )
    return 0


def _pin_json(status: Any) -> dict[str, Any] | None:
    if status is None:
        return None
    return {
        "tries_left": status.tries_left,
        "max_tries": status.max_tries,
        "locked": status.locked,
        "must_change": status.must_change,
    }


def _pin_text(status: Any) -> str:
    if status is None:
        return "PIN state unknown"
    if status.locked:
        return "PIN locked"
    text = f"{status.tries_left}/{status.max_tries} tries"
    return f"{text}, PIN must be changed" if status.must_change else text


def list_(args: argparse.Namespace) -> int:
    from certhall.tokens import list_tokens

    store = _store(args)
    if args.label is None:
        tokens = list_tokens(store.module, conf=store.conf, with_pin_status=True)
        if args.json:
            rows = [
                {
                    "label": t.label,
                    "serial": t.serial,
                    "model": t.model,
                    "manufacturer": t.manufacturer,
                    "pin": _pin_json(t.pin),
                }
                for t in tokens
            ]
            print_json(rows)
        else:
            for t in tokens:
                print(f"{t.label:<32} {t.serial:<16} {t.model:<16} {_pin_text(t.pin)}")
        return 0
    return _list_token(args, store)


def _list_token(args: argparse.Namespace, store: Any) -> int:
    from certhall.tokens import list_certificates, list_objects, open_public, token_info

    info = token_info(store.module, args.label, conf=store.conf, with_pin_status=True)
    with open_public(store.module, args.label, conf=store.conf) as session:
        certs = list_certificates(session)
        objects = list_objects(session)
    if args.json:
        doc = {
            "label": info.label,
            "serial": info.serial,
            "model": info.model,
            "pin": _pin_json(info.pin),
            "certificates": [
                {
                    "label": c.label,
                    "id": c.id.hex(),
                    "serial": c.serial_hex,
                    "subject": c.certificate.subject.rfc4514_string(),
                    "issuer": c.certificate.issuer.rfc4514_string(),
                    "not_before": c.certificate.not_valid_before_utc.isoformat(),
                    "not_after": c.certificate.not_valid_after_utc.isoformat(),
                    "is_ca": c.is_ca,
                    "has_private_key": c.has_private_key,
                }
                for c in certs
            ],
            "objects": [
                {"class": o.object_class, "label": o.label, "id": o.id.hex()} for o in objects
            ],
        }
        print_json(doc)
        return 0
    print(f"token {info.label} (serial {info.serial}, {info.model}): {_pin_text(info.pin)}")
    for c in certs:
        kind = "CA " if c.is_ca else ("key" if c.has_private_key else "   ")
        print(
            f"  {kind} {c.label:<28} {c.serial_hex:<34} "
            f"{c.certificate.not_valid_after_utc:%Y-%m-%d} {c.certificate.subject.rfc4514_string()}"
        )
    for o in objects:
        if o.object_class != "certificate":
            print(f"  {o.object_class:<12} {o.label:<28} {o.id.hex()}")
    return 0


def change_pin(args: argparse.Namespace) -> int:
    from certhall.tokens import change_pin as change

    store = _store(args)
    change(store.module, args.label, args.pin, args.new_pin, conf=store.conf)
    print(f"the PIN of token {args.label} was changed")
    return 0


def unlock(args: argparse.Namespace) -> int:
    from certhall.ukeys.services import find_on_store
    from certhall.ukeys.services import unlock as unlock_ukey

    store = _store(args)
    ukey = find_on_store(args.label, store=store)
    unlock_ukey(_actor(), ukey, new_pin=args.new_pin, phone=args.phone, store=store)
    sent = f"; sent by SMS to {args.phone}" if args.phone else ""
    print(
        f"token {args.label} (Ukey {ukey.serial}) unlocked: the new PIN must be changed at "
        f"first use{sent}"
    )
    return 0


def sign(args: argparse.Namespace) -> int:
    from certhall.tokens import private_key_labels
    from certhall.tokens import sign as token_sign

    try:
        size = os.path.getsize(args.input)
    except OSError as error:
        raise InvalidInput(code="cli_cannot_read", path=args.input, error=error.strerror) from None
    if size > MAX_SIGN_INPUT:
        raise InvalidInput(
            code="cli_file_too_large", path=args.input, mib=MAX_SIGN_INPUT // (1024 * 1024)
        )
    data = read_input(args.input)
    store = _store(args)
    with atomic_output(args.out) as out, _login(args, store) as session:
        key_label = args.key_label
        if key_label is None:
            labels = sorted(private_key_labels(session))
            if len(labels) != 1:
                which = ", ".join(labels) if labels else "无"
                raise InvalidInput(
                    code="cli_key_ambiguous", label=args.label, count=len(labels), which=which
                )
            key_label = labels[0]
        out.write(token_sign(session, key_label, data))
    print(f"signed {args.input} with key {key_label}: {args.out}")
    return 0
