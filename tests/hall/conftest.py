"""Hall fixtures: the parties, a CA created early in 2026, named frozen moments, documents,
and helpers that walk an application through its states.

The holiday calendar knows 2026 only (docs/rules.md): every clock here is pinned to a 2026
moment whose three-working-day deadline stays within 2026.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from certhall.accounts.models import Handler, Organization, Provider, Role, User
from certhall.ca.models import Certificate
from certhall.ca.services import IssueRequest, issue
from certhall.hall import (
    counter,
    documents,
    identity,
    liveness,
    payment,
    realname,
    services,
    storage,
)
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application, IdentityCheck
from certhall.hall.states import State
from certhall.notify.models import SmsMessage
from certhall.payments import services as payments
from certhall.payments.lifecycle import Channel as PayChannel
from certhall.payments.lifecycle import Method
from certhall.payments.models import Order
from certhall.pki.issuance import Subscriber
from certhall.rules import SHANGHAI
from certhall.tokens import change_pin, list_certificates, user_login
from certhall.ukeys import services as ukeys
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.conftest_softhsm import SoftHSMStore, make_softhsm_store  # noqa: F401
from tests.support import images

#: When the test CA is made (before every other moment below).
CA_CREATED_AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
#: Friday 2026-11-20 10:00 in Shanghai: every service point is open.
FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
#: Saturday 2026-11-21 10:00: 科技园 is open, but no ODC business (the weekend rule).
SATURDAY = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)
#: Monday 2026-11-23 10:00.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)

OTHER_USCC = "91440300MA5F00001A"
LEGAL_REP_ID = "11010519491231002X"
HANDLER_ID = "440301199001011234"
PHONE = "13800138000"

#: A real PDF and real images (the store reads an image's header, 12-06, and a PDF's pages, 12-07).
PDF = images.pdf()
JPEG = images.jpeg()
PNG = images.png()
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200

#: Every document of an online 新办 of a 机构个人证书, with content.
ONLINE_NEW_DOCUMENTS = {
    "personal_form": PDF,
    "personal_annex": PDF + b"annex",
    "licence_copy": JPEG,
    "legal_rep_id_copy": PNG,
    "handler_id_copy": PNG + b"copy",
    "handler_id_front": JPEG + b"front",
    "handler_id_back": JPEG + b"back",
}


def at(moment: datetime):  # type: ignore[no-untyped-def]
    """A frozen clock at ``moment``."""
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test stores its uploads under its own directory."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
    root = tmp_path / "uploads"
    monkeypatch.setattr(storage, "root", lambda: root)
    return root


@pytest.fixture
def hall_ca(admin: User) -> Iterator[object]:
    """Like tests/conftest.py's ``ca``, made on CA_CREATED_AT so 2026 clocks are inside it."""
    from certhall.ca import ocsp, signers
    from certhall.ca.services import init_ca

    signers.forget()
    ocsp.reset()
    with at(CA_CREATED_AT):
        cas = init_ca(admin)
    yield cas
    signers.forget()
    ocsp.reset()


@pytest.fixture
def other_organization(db: None) -> Organization:
    return Organization.objects.create(name="深圳市另一家医疗有限公司", uscc=OTHER_USCC)


@pytest.fixture
def applicant(make_user: Callable[..., User]) -> User:
    return make_user(Role.APPLICANT, phone=PHONE)


@pytest.fixture
def stranger(make_user: Callable[..., User], other_organization: Organization) -> User:
    """An applicant of another enterprise."""
    return make_user(Role.APPLICANT, organization=other_organization)


@pytest.fixture
def clerk(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK)


@pytest.fixture
def reviewer(make_user: Callable[..., User]) -> User:
    return make_user(Role.REVIEWER)


@pytest.fixture
def issuer(make_user: Callable[..., User]) -> User:
    return make_user(Role.ISSUER)


@pytest.fixture
def ca_admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.CA_ADMIN)


@pytest.fixture
def foreign_staff(make_user: Callable[..., User], other_provider: Provider) -> dict[str, User]:
    """Staff of another certification service provider, one per role."""
    return {
        role.value: make_user(role, provider=other_provider)
        for role in (Role.CLERK, Role.REVIEWER, Role.ISSUER, Role.CA_ADMIN)
    }


@pytest.fixture
def handler(organization: Organization) -> Handler:
    return Handler.objects.create(
        organization=organization,
        name="李四",
        id_kind=Handler.IdKind.RESIDENT_ID,
        id_number=HANDLER_ID,
        phone=PHONE,
    )


def upload(actor: User, number: str, kind: str, content: bytes, name: str = "scan.pdf"):  # type: ignore[no-untyped-def]
    return documents.upload(actor, number, kind, filename=name, chunks=[content])


def online_draft(
    applicant: User, handler: Handler, years: int = 2, *, identity_check: bool = True
) -> Application:
    """An online 新办 of a 机构个人证书, complete and ready to submit (mailed); without
    ``identity_check`` the handler's photos and real-name check are still to do."""
    draft = services.create_draft(applicant, handler_id=handler.pk)
    services.add_item(
        applicant,
        draft.number,
        ItemRequest(
            business="new",
            cert_type="personal",
            years=years,
            person_name="王五",
            person_id_number=LEGAL_REP_ID,
        ),
    )
    services.update_details(
        applicant,
        draft.number,
        services.Details(
            recipient_name="李四", recipient_phone=PHONE, address="深圳市南山区科技园"
        ),
    )
    for kind, content in ONLINE_NEW_DOCUMENTS.items():
        if kind not in documents.HANDLER_PHOTOS:  # the phone uploads those
            upload(applicant, draft.number, kind, content)
    if identity_check:
        pass_identity(applicant, draft.number)
    draft.refresh_from_db()
    return draft


def pass_identity(applicant: User, number: str, outcome: str = "passed") -> IdentityCheck:
    """经办人实名核验 the way the phone and the liveness sandbox do it: a new check, both ID
    photos uploaded by the check's token, the liveness session begun, the provider's signed
    ``outcome`` received."""
    check = identity.start(applicant, number)
    for side in ("front", "back"):
        content = ONLINE_NEW_DOCUMENTS[realname.SIDES[side]]
        identity.upload_photo(check.token, side, filename=f"{side}.jpg", chunks=[content])
    check, _ = identity.begin(check.token)
    body, signature = liveness.SANDBOX.notification(check.reference, outcome)
    identity.receive_result(liveness.SANDBOX.name, body, signature, "127.0.0.1")
    check.refresh_from_db()
    return check


def pay_online(number: str, actor: User) -> Order:
    """The online gateway reports the payment (the one entry point all gateways share)."""
    application = Application.objects.get(number=number)
    order = Order.objects.get(reference=application.payment_reference)
    with transaction.atomic():
        payments.apply_payment(
            actor,
            order,
            channel=PayChannel.ALIPAY,
            method=Method.ALIPAY_ONLINE,
            transaction_id=f"trade-{order.reference}",
            amount=order.amount,
            received_at=datetime.now(UTC),
        )
    order.refresh_from_db()
    return order


def csr_for(key: ec.EllipticCurvePrivateKey) -> bytes:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "x")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


ORG_SUBSCRIBER = Subscriber(org_name="深圳市演示医疗科技有限公司", uscc="91350100M000100Y43")
PERSON_SUBSCRIBER = Subscriber(
    org_name="深圳市演示医疗科技有限公司",
    uscc="91350100M000100Y43",
    person_name="王五",
    id_number=LEGAL_REP_ID,
)


def software_certificate(
    admin: User,
    organization: Organization,
    *,
    profile: str = "org",
    years: int = 1,
    when: datetime = datetime(2026, 1, 10, 2, 0, tzinfo=UTC),
    not_after: datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, Certificate]:
    """A certificate of ours for a software key, issued at ``when`` (ending at ``not_after``
    rather than after ``years``, if given)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subscriber = Subscriber(
        org_name=organization.name,
        uscc=organization.uscc,
        person_name="王五" if profile == "personal" else None,
        id_number=LEGAL_REP_ID if profile == "personal" else None,
    )
    with at(when):
        row = issue(
            admin,
            IssueRequest(
                csr=csr_for(key),
                profile=profile,
                years=years,
                subscriber=subscriber,
                organization=organization,
                not_after=not_after,
            ),
        )
    return key, row


@pytest.fixture
def ukey_store(make_softhsm_store: Callable[[str], SoftHSMStore]) -> UkeyStore:  # noqa: F811
    store = make_softhsm_store("ukeys")
    return UkeyStore(store.module, store.conf)


@pytest.fixture
def stock(admin: User, ukey_store: UkeyStore) -> Callable[[str], Ukey]:
    """Format a Ukey into stock: ``stock("ukey-0001")``."""

    def make(label: str) -> Ukey:
        return ukeys.prepare_stock(admin, label, store=ukey_store)

    return make


def fee(amount: str) -> Decimal:
    return Decimal(amount)


def finish_identity_on_phone(phone: Client, phone_path: str, outcome: str) -> str:
    """The handler's phone (no login) at the QR code's URL: both ID photos, the liveness
    sandbox answering ``outcome``; the phone page's text at the end."""
    assert phone.get(phone_path).status_code == 200
    for side in ("front", "back"):
        content = ONLINE_NEW_DOCUMENTS[realname.SIDES[side]]
        sent = phone.post(
            phone_path, {"side": side, "file": SimpleUploadedFile(f"{side}.jpg", content)}
        )
        assert sent.status_code == 303, sent.content.decode()
    begun = phone.post(phone_path, {"action": "begin"})
    assert begun.status_code == 303
    assert phone.get(begun["Location"]).status_code == 200
    answered = phone.post(begun["Location"], {"outcome": outcome})
    assert answered.status_code == 303 and answered["Location"] == phone_path
    return phone.get(phone_path).content.decode()


#: The first PIN of an issued Ukey, as the SMS tells it.
PIN_IN_TEXT = re.compile(r"PIN码）为(\d{6})")


def sms_pin(kind: str = "ukey.pin") -> str:
    message = SmsMessage.objects.filter(kind=kind).order_by("-pk").first()
    assert message is not None
    match = PIN_IN_TEXT.search(message.text)
    assert match, message.text
    return match.group(1)


def token_serials(store: UkeyStore, label: str, pin: str) -> set[str]:
    with user_login(store.module, label, pin, conf=store.conf, allow_must_change=True) as s:
        return {c.serial_hex for c in list_certificates(s) if not c.is_ca}


CUSTOMER_PIN = "135790"


def issued_ukey(
    issuer: User,
    stock: Callable[[str], Ukey],
    store: UkeyStore,
    organization: Organization,
    label: str = "ukey-old",
    profile: str = "personal",
    years: int = 3,
) -> tuple[Ukey, Certificate]:
    """A Ukey the customer holds (issued in January), its PIN changed to CUSTOMER_PIN."""
    ukey = stock(label)
    with at(datetime(2026, 1, 12, 10, 0, tzinfo=SHANGHAI)):
        cert = ukeys.issue_onto_token(
            issuer,
            ukey,
            profile,
            years if profile == "personal" else 1,
            PERSON_SUBSCRIBER if profile == "personal" else ORG_SUBSCRIBER,
            phone=PHONE,
            organization=organization,
            store=store,
        )
    change_pin(store.module, ukey.label, sms_pin(), CUSTOMER_PIN, conf=store.conf)
    ukey.refresh_from_db()
    return ukey, cert


def at_counter(clerk: User, handler: Handler, *requests: ItemRequest) -> Application:
    """Open, add the lines, tick every document with originals, submit (and pay if due)."""
    draft = counter.open_application(
        clerk,
        point="kejiyuan",
        customer=counter.Customer(uscc=handler.organization.uscc),
        handler_id=handler.pk,
    )
    for request in requests:
        services.add_item(clerk, draft.number, request)
    for kind in documents.required(draft, list(draft.items.all())):
        documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
    submitted = services.submit(clerk, draft.number)
    if submitted.state == State.AWAITING_PAYMENT:
        payment.take_counter_payment(clerk, draft.number, method="cash")
    return Application.objects.get(pk=draft.pk)
