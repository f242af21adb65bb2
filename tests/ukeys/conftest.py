"""Ukey inventory fixtures: a per-test Ukey store (SoftHSM2) and inventory records."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from certhall import config
from certhall.accounts.models import Organization, Provider, Role, User
from certhall.audit.models import AuditEvent
from certhall.notify.models import SmsMessage
from certhall.pki.issuance import Subscriber
from certhall.ukeys import sealing, services
from certhall.ukeys.lifecycle import Status
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.conftest_softhsm import SoftHSMStore, make_softhsm_store  # noqa: F401

ORG = Subscriber(org_name="深圳市演示医疗科技有限公司", uscc="91350100M000100Y43")
PERSON = Subscriber(
    org_name="深圳市演示医疗科技有限公司",
    uscc="91350100M000100Y43",
    person_name="张三",
    id_number="11010519491231002X",
)
PHONE = "13800138000"


@pytest.fixture
def ukey_store(make_softhsm_store: Callable[[str], SoftHSMStore]) -> UkeyStore:  # noqa: F811
    """A Ukey store of its own for each test (not the instance's, not the CA's)."""
    store = make_softhsm_store("ukeys")
    return UkeyStore(store.module, store.conf)


@pytest.fixture
def clerk(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK, phone="13900139000")


@pytest.fixture
def issuer(make_user: Callable[..., User]) -> User:
    return make_user(Role.ISSUER)


@pytest.fixture
def stock(admin: User, ukey_store: UkeyStore) -> Ukey:
    """A Ukey put in stock on the test's Ukey store (formatted, SO PIN sealed)."""
    return services.prepare_stock(admin, "ukey-0001", store=ukey_store)


@pytest.fixture
def make_ukey(provider: Provider) -> Callable[..., Ukey]:
    """Inventory records without a token (for lifecycle and permission tests)."""
    counter = iter(range(10_000))

    def make(status: str = Status.IN_STOCK, **fields: object) -> Ukey:
        n = next(counter)
        serial = f"fake{n:012d}"
        defaults: dict[str, object] = {
            "serial": serial,
            "model": "SoftHSM v2",
            "label": f"fake-{n}",
            "provider": provider,
            "status": status,
            "so_pin_sealed": sealing.seal(
                config.get().ca_key_passphrase, "SoftHSM v2", serial, f"so-pin-{n}"
            ),
        }
        defaults.update(fields)
        return Ukey.objects.create(**defaults)

    return make


@pytest.fixture
def other_organization(db: None) -> Organization:
    return Organization.objects.create(name="深圳市另一家医疗有限公司", uscc="91440300MA5F000012")


def assert_secret_nowhere(secret: str, *, outbox_allowed: bool = False) -> None:
    """The secret is in no audit event (any field) and, unless allowed, in no SMS."""
    for event in AuditEvent.objects.all():
        blob = json.dumps(
            {
                "before": event.before,
                "after": event.after,
                "actor": event.actor,
                "object_id": event.object_id,
                "action": event.action,
            },
            ensure_ascii=False,
        )
        assert secret not in blob, f"secret found in audit event {event}"
    if not outbox_allowed:
        for sms in SmsMessage.objects.all():
            assert secret not in sms.text
