"""The LOCAL SANDBOX GATEWAY standing in for Alipay / WeChat Pay.

The real gateways cannot be reached from this platform's environment; this module implements
their shape so the platform side (``certhall.payments.notify``) is the code a real integration
would run:

* a cashier page on our own site (``/payments/sandbox/<reference>``, ``views.sandbox_page``)
  where the buyer confirms (确认支付) or goes back (取消);
* on confirmation a trade is recorded on the sandbox's side (``SandboxTrade``) and an
  ASYNCHRONOUS notification is delivered by a real HTTP POST to the platform's notify URL
  (``<CERTHALL_BASE_URL>/payments/notify/<gateway>``) from a background thread, with retries
  until the platform answers ``success``;
* the notification is signed with the gateway's RSA-2048 private key (RSA2, see
  ``certhall.payments.signing``). The key pair is generated into the instance home on first
  use: the private key (PKCS#8, encrypted under the CA key passphrase, mode 0600) stays here;
  only the public key is written where the platform reads it (``certhall.payments.keys``);
* the daily bill (:data:`BILLS`, what :func:`certhall.payments.gateways.bill_client` gives):
  the trades paid and the refunds made on a Shanghai calendar day, read from the sandbox's
  own tables (whatever the platform was told or not), written as the real bill's text fields;
* refunds (:data:`REFUNDS`, the gateway's refund API as :func:`certhall.payments.gateways.
  refund_client` gives it): recorded on the sandbox's side (``SandboxRefund``), idempotent by
  the merchant's refund number, never more than the trade's amount in all.

Turned off in production unless ``CERTHALL_PAYMENT_SANDBOX=1``.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from django.db import IntegrityError, connections, transaction
from django.db.models import F, Sum
from django.urls import reverse

from certhall import clock, config, money
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import ConfigurationError, Conflict, NotFound, RuleViolation
from certhall.payments import gateways, keys, services, signing
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order, SandboxRefund, SandboxTrade
from certhall.rules import SHANGHAI, local

logger = logging.getLogger(__name__)

KEY_BITS = 2048
#: Seconds to wait before each delivery attempt (the real Alipay retries over 25 hours:
#: 4m, 10m, 10m, 1h, 2h, 6h, 15h; the sandbox is quicker).
RETRY_DELAYS: tuple[float, ...] = (0.0, 1.0, 3.0, 10.0, 30.0, 120.0)
TIMEOUT = 10.0

_key_lock = threading.Lock()
_private: dict[Path, tuple[int, rsa.RSAPrivateKey]] = {}
_threads_lock = threading.Lock()
_threads: list[threading.Thread] = []


def _stamp(at: datetime) -> str:
    """Alipay's time format: Beijing time ``YYYY-MM-DD HH:MM:SS``."""
    return local(at).strftime("%Y-%m-%d %H:%M:%S")


def require_enabled() -> None:
    if not config.get().payment_sandbox:
        raise NotFound(code="sandbox_disabled")


# --- keys ----------------------------------------------------------------------------------


def private_key_path(gateway: str) -> Path:
    return keys.payments_dir() / "sandbox" / f"{gateway}-private.pem"


def _write_new(path: Path, data: bytes, mode: int) -> bool:
    """Create ``path`` with ``data`` unless it exists (atomically: another process may race)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def _load_private(path: Path) -> rsa.RSAPrivateKey:
    stat = path.stat()
    cached = _private.get(path)
    if cached is not None and cached[0] == stat.st_mtime_ns:
        return cached[1]
    passphrase = config.get().ca_key_passphrase.encode("utf-8")
    try:
        key = load_pem_private_key(path.read_bytes(), passphrase)
    except (ValueError, TypeError):
        raise ConfigurationError(code="sandbox_key_locked", path=path) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(code="sandbox_key_not_rsa", path=path)
    _private[path] = (stat.st_mtime_ns, key)
    return key


def provision(gateway: str) -> rsa.RSAPrivateKey:
    """The sandbox gateway's private key, generated on first use; its public key is written
    for the platform when the key pair is new or the platform has none."""
    gateways.online(gateway)
    path = private_key_path(gateway)
    public_path = keys.public_key_path(gateway)
    with _key_lock:
        created = False
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
            passphrase = config.get().ca_key_passphrase.encode("utf-8")
            pem = key.private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(passphrase)
            )
            created = _write_new(path, pem, 0o600)
        key = _load_private(path)
        if created or not public_path.exists():
            public_pem = key.public_key().public_bytes(
                Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
            )
            public_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = public_path.with_name(f".{public_path.name}.{secrets.token_hex(4)}")
            tmp.write_bytes(public_pem)
            os.replace(tmp, public_path)
            logger.info("sandbox gateway %s: new key pair, public key at %s", gateway, public_path)
        return key


# --- the cashier page's actions ------------------------------------------------------------


def cashier(actor: User, reference: str, gateway: str) -> Order:
    """The order the cashier page shows: the buyer's own organisation's, still pending."""
    require_enabled()
    gateways.online(gateway)
    require_role(actor, Role.APPLICANT)
    order = services.get_order(actor, reference)
    services.require_payable(order)  # what it pays for may refuse it (an ended renewal)
    return order


def _trade_no(gateway: str, at: datetime) -> str:
    """Like the real ones: Alipay ``YYYYMMDD22001…`` (28 digits), WeChat ``42000…``."""
    digits = f"{secrets.randbelow(10**15):015d}"
    if gateway == "wechat":
        return f"42000{local(at):%Y%m%d}{digits}"
    return f"{local(at):%Y%m%d}22001{digits}"


def pay(actor: User, reference: str, gateway: str) -> SandboxTrade:
    """The buyer pressed 确认支付: record the trade on the sandbox's side (once per order and
    gateway: pressing twice gives the same trade). Deliver the notification afterwards with
    :func:`deliver_in_background`."""
    order = cashier(actor, reference, gateway)
    with (
        audit.refusals_recorded(
            actor, "payments.sandbox.pay", object_type="order", object_id=order.reference
        ),
        transaction.atomic(),
    ):
        existing = (
            SandboxTrade.objects.select_for_update()
            .filter(gateway=gateway, out_trade_no=order.reference)
            .first()
        )
        if existing is not None:
            return existing
        order.refresh_from_db()
        if order.status != Status.PENDING:
            raise Conflict(
                code="order_not_payable",
                variant="sandbox",
                reference=order.reference,
                status=order.get_status_display(),
            )
        now = clock.now()
        trade = SandboxTrade.objects.create(
            gateway=gateway,
            trade_no=_trade_no(gateway, now),
            out_trade_no=order.reference,
            total_amount=order.amount,
            subject=order.description[:200],
            buyer=actor,
            notify_id=secrets.token_hex(16),
            paid_at=now,
        )
        audit.record(
            actor,
            "payments.sandbox.pay",
            object_type="order",
            object_id=order.reference,
            after={"gateway": gateway, "trade_no": trade.trade_no, "amount": str(order.amount)},
        )
    return trade


def pay_and_notify(actor: User, reference: str, gateway: str) -> SandboxTrade:
    """:func:`pay`, then deliver the notification in the background once the trade is
    committed (pressing 确认支付 on a trade already notified delivers it again: harmless)."""
    trade = pay(actor, reference, gateway)
    transaction.on_commit(lambda: deliver_in_background(trade.pk))
    return trade


# --- the notification ----------------------------------------------------------------------


def notification(trade: SandboxTrade, *, at: datetime | None = None) -> dict[str, str]:
    """The signed asynchronous notification of ``trade`` (Alipay's field names)."""
    gateway = gateways.online(trade.gateway)
    params = {
        "notify_time": _stamp(at or clock.now()),
        "notify_type": "trade_status_sync",
        "notify_id": trade.notify_id,
        "app_id": gateway.app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": trade.trade_no,
        "out_trade_no": trade.out_trade_no,
        "total_amount": str(trade.total_amount),
        "receipt_amount": str(trade.total_amount),
        "trade_status": "TRADE_SUCCESS",
        "gmt_create": _stamp(trade.paid_at),
        "gmt_payment": _stamp(trade.paid_at),
        "subject": trade.subject,
        "buyer_id": f"sandbox-buyer-{trade.buyer_id}",
    }
    return signing.signed(params, provision(trade.gateway))


def notify_url(gateway: str) -> str:
    """Where the platform listens: its own notify endpoint under ``CERTHALL_BASE_URL``."""
    return config.get().base_url + reverse("payments-notify", args=[gateway])


def deliver_once(trade_pk: int, url: str | None = None) -> bool:
    """POST the notification once; True when the platform answered ``success``."""
    trade = SandboxTrade.objects.get(pk=trade_pk)
    target = url or notify_url(trade.gateway)
    body = urlencode(notification(trade)).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - our own http(s) base URL (validated config)
        target,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    error = ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            answer = response.read(64).decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as failure:
        answer = failure.read(64).decode("utf-8", "replace").strip()
        error = f"HTTP {failure.code}: {answer}"
    except OSError as failure:
        answer, error = "", f"{type(failure).__name__}: {failure}"
    ok = answer == "success" and not error
    SandboxTrade.objects.filter(pk=trade_pk).update(
        notify_attempts=F("notify_attempts") + 1,
        notified_at=clock.now() if ok else F("notified_at"),
        last_error="" if ok else (error or f"answer {answer!r}")[:200],
    )
    if not ok:
        logger.warning("sandbox notification of trade %s not accepted: %s", trade.trade_no, error)
    return ok


def deliver(trade_pk: int, url: str | None = None) -> bool:
    """Deliver with retries (``RETRY_DELAYS``); True once the platform said ``success``."""
    for delay in RETRY_DELAYS:
        time.sleep(delay)
        try:
            if deliver_once(trade_pk, url):
                return True
        except Exception:
            logger.exception("sandbox notification of trade #%s failed", trade_pk)
    return False


#: A trade the platform has not confirmed this long after the buyer paid is posted again by the
#: jobs, as the real gateways keep retrying from their own servers for a day: the delivery
#: thread dies with the process that started it (a restart, a kill), the buyer's money does not.
REDELIVER_AFTER = timedelta(minutes=5)
#: Attempts in all (the thread's and the jobs'), then the trade is left to an operator
#: (``last_error`` says why).
REDELIVER_ATTEMPTS = 20
REDELIVER_BATCH = 20


def redeliver_due(now: datetime) -> int:
    """Post again the notifications of paid trades the platform never confirmed; how many it
    now confirmed. Stops at the first refusal: the platform is likely down for all of them."""
    if not config.get().payment_sandbox:
        return 0
    due = SandboxTrade.objects.filter(
        notified_at__isnull=True,
        paid_at__lte=now - REDELIVER_AFTER,
        notify_attempts__lt=REDELIVER_ATTEMPTS,
    ).order_by("paid_at", "pk")
    confirmed = 0
    for pk in list(due.values_list("pk", flat=True)[:REDELIVER_BATCH]):
        if not deliver_once(pk):
            break
        confirmed += 1
    return confirmed


# --- refunds (the gateway's refund API) ------------------------------------------------------


def _refund_id(gateway: str, at: datetime) -> str:
    """Like WeChat's ``refund_id`` (``50000…``); Alipay answers with the trade, the sandbox
    gives its refunds an id of the same shape as its trades' numbers."""
    digits = f"{secrets.randbelow(10**15):015d}"
    if gateway == "wechat":
        return f"50000{local(at):%Y%m%d}{digits}"
    return f"{local(at):%Y%m%d}23001{digits}"


def _answer(refund: SandboxRefund) -> gateways.GatewayRefund:
    return gateways.GatewayRefund(
        reference=refund.refund_id,
        refund_no=refund.out_request_no,
        amount=money.parse(refund.refund_amount),
        refunded_at=refund.refunded_at,
    )


class SandboxRefunds:
    """The sandbox's refund API: what Alipay's ``alipay.trade.refund`` and WeChat Pay's
    ``refunds`` do with a merchant's request, on the sandbox's own tables."""

    def refund(
        self,
        gateway: gateways.OnlineGateway,
        out_trade_no: str,
        refund_no: str,
        amount: money.Money,
    ) -> gateways.GatewayRefund:
        require_enabled()
        for _attempt in range(3):
            try:
                with transaction.atomic():
                    return self._refund(gateway, out_trade_no, refund_no, amount)
            except IntegrityError:
                continue  # the same refund number at the same moment: the other one's answer
        raise Conflict(code="sandbox_refund_busy", refund_no=refund_no)

    def _refund(
        self,
        gateway: gateways.OnlineGateway,
        out_trade_no: str,
        refund_no: str,
        amount: money.Money,
    ) -> gateways.GatewayRefund:
        trade = (
            SandboxTrade.objects.select_for_update()
            .filter(gateway=gateway.name, out_trade_no=out_trade_no)
            .first()
        )
        if trade is None:  # Alipay's ACQ.TRADE_NOT_EXIST
            raise NotFound(
                code="sandbox_trade_unknown", gateway=gateway.label, reference=out_trade_no
            )
        existing = SandboxRefund.objects.filter(gateway=gateway.name, out_request_no=refund_no)
        done = existing.first()
        if done is not None:
            if done.trade_id != trade.pk or done.refund_amount != amount.yuan:
                raise Conflict(code="sandbox_refund_no_reused", refund_no=refund_no)
            return _answer(done)  # the same number again: the same refund
        before = trade.refunds.aggregate(total=Sum("refund_amount"))["total"]
        refunded = money.parse(before) if before is not None else money.Money(0)
        total = money.parse(trade.total_amount)
        if refunded + amount > total:  # Alipay's ACQ.REFUND_AMT_NOT_EQUAL_TOTAL
            raise RuleViolation(
                code="sandbox_refund_exceeds",
                amount=money.grouped(amount),
                left=money.grouped(total - refunded),
            )
        now = clock.now()
        created = SandboxRefund.objects.create(
            gateway=gateway.name,
            trade=trade,
            out_request_no=refund_no,
            refund_id=_refund_id(gateway.name, now),
            refund_amount=amount.yuan,
            refunded_at=now,
        )
        logger.info("sandbox gateway %s refunded %s of %s", gateway.name, amount, out_trade_no)
        return _answer(created)


REFUNDS = SandboxRefunds()


# --- the daily bill (对账单) -----------------------------------------------------------------


class SandboxBills:
    """The sandbox's daily bill: what Alipay's bill download and WeChat Pay's ``tradebill``
    give a merchant, from the sandbox's own trades and refunds of that Shanghai day."""

    def bill(
        self, gateway: gateways.OnlineGateway, day: date
    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        require_enabled()
        start = datetime.combine(day, day_time(0, 0), tzinfo=SHANGHAI)
        end = start + timedelta(days=1)
        trades = SandboxTrade.objects.filter(
            gateway=gateway.name, paid_at__gte=start, paid_at__lt=end
        ).order_by("paid_at", "pk")
        refunds = (
            SandboxRefund.objects.filter(
                gateway=gateway.name, refunded_at__gte=start, refunded_at__lt=end
            )
            .select_related("trade")
            .order_by("refunded_at", "pk")
        )
        return (
            [
                {
                    "out_trade_no": t.out_trade_no,
                    "trade_no": t.trade_no,
                    "total_amount": str(t.total_amount),
                    "gmt_payment": _stamp(t.paid_at),
                    "trade_status": "TRADE_SUCCESS",
                }
                for t in trades
            ],
            [
                {
                    "out_request_no": r.out_request_no,
                    "refund_id": r.refund_id,
                    "trade_no": r.trade.trade_no,
                    "out_trade_no": r.trade.out_trade_no,
                    "refund_amount": str(r.refund_amount),
                    "gmt_refund": _stamp(r.refunded_at),
                }
                for r in refunds
            ],
        )


BILLS = SandboxBills()
#: What the gateways reach while the sandbox is on (registered by ``PaymentsConfig.ready``).
STAND_IN = gateways.StandIn(refunds=REFUNDS, bills=BILLS, provide_key=provision)


def _deliver_thread(trade_pk: int, url: str | None) -> None:
    try:
        deliver(trade_pk, url)
    finally:
        connections.close_all()  # this thread's own connections


def deliver_in_background(trade_pk: int, url: str | None = None) -> threading.Thread:
    """Start delivering from a daemon thread, as the gateway's servers would, asynchronously."""
    thread = threading.Thread(
        target=_deliver_thread,
        args=(trade_pk, url),
        name=f"sandbox-notify-{trade_pk}",
        daemon=True,
    )
    with _threads_lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()
    return thread


def deliveries() -> list[threading.Thread]:
    """Delivery threads still running (tests wait for them)."""
    with _threads_lock:
        return [t for t in _threads if t.is_alive()]
