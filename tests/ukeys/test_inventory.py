"""Who sees which Ukey, and SO PIN sealing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certhall.accounts.models import Organization, Role, User
from certhall.errors import ConfigurationError, Forbidden, InvalidInput, NotFound
from certhall.ukeys import sealing
from certhall.ukeys.lifecycle import Status
from certhall.ukeys.models import Ukey
from certhall.ukeys.services import get_ukey, list_ukeys


@pytest.fixture
def inventory(
    make_ukey: Callable[..., Ukey],
    other_provider: object,
    organization: Organization,
    other_organization: Organization,
) -> dict[str, Ukey]:
    return {
        "stock": make_ukey(Status.IN_STOCK),
        "ours": make_ukey(Status.ISSUED, organization=organization),
        "theirs": make_ukey(Status.ISSUED, organization=other_organization),
        "other_ca": make_ukey(Status.ISSUED, provider=other_provider, organization=organization),
    }


@pytest.mark.parametrize(
    "role", [Role.CLERK, Role.REVIEWER, Role.ISSUER, Role.CA_ADMIN, Role.AUDITOR]
)
def test_staff_see_their_providers_ukeys(
    role: Role, make_user: Callable[..., User], inventory: dict[str, Ukey]
) -> None:
    staff = make_user(role)
    assert list_ukeys(staff) == [inventory["stock"], inventory["ours"], inventory["theirs"]]
    assert get_ukey(staff, inventory["ours"].serial) == inventory["ours"]
    with pytest.raises(Forbidden):
        get_ukey(staff, inventory["other_ca"].serial)


def test_other_providers_staff_see_only_theirs(
    make_user: Callable[..., User], other_provider: object, inventory: dict[str, Ukey]
) -> None:
    outsider = make_user(Role.CLERK, provider=other_provider)
    assert list_ukeys(outsider) == [inventory["other_ca"]]
    for name in ("stock", "ours", "theirs"):
        with pytest.raises(Forbidden):
            get_ukey(outsider, inventory[name].serial)


def test_applicant_sees_its_organisations_ukeys(
    make_user: Callable[..., User],
    other_organization: Organization,
    inventory: dict[str, Ukey],
) -> None:
    applicant = make_user(Role.APPLICANT)
    assert list_ukeys(applicant) == [inventory["ours"], inventory["other_ca"]]
    assert get_ukey(applicant, inventory["ours"].serial) == inventory["ours"]
    # another enterprise's Ukey, or one in stock, is as one that does not exist (no oracle)
    with pytest.raises(NotFound):
        get_ukey(applicant, inventory["theirs"].serial)
    with pytest.raises(NotFound):
        get_ukey(applicant, inventory["stock"].serial)
    other = make_user(Role.APPLICANT, organization=other_organization)
    assert list_ukeys(other) == [inventory["theirs"]]
    with pytest.raises(NotFound):
        get_ukey(other, inventory["ours"].serial)


def test_refund_officers_see_no_ukeys(
    make_user: Callable[..., User], inventory: dict[str, Ukey]
) -> None:
    officer = make_user(Role.REFUND_OFFICER)
    with pytest.raises(Forbidden):
        list_ukeys(officer)
    with pytest.raises(Forbidden):
        get_ukey(officer, inventory["ours"].serial)


def test_filters_and_unknown_serial(
    make_user: Callable[..., User], inventory: dict[str, Ukey]
) -> None:
    clerk = make_user(Role.CLERK)
    assert list_ukeys(clerk, status="in_stock") == [inventory["stock"]]
    with pytest.raises(InvalidInput):
        list_ukeys(clerk, status="stolen")
    with pytest.raises(NotFound):
        get_ukey(clerk, "nope")


def test_disabled_staff_are_refused(
    make_user: Callable[..., User], inventory: dict[str, Ukey]
) -> None:
    clerk = make_user(Role.CLERK, is_active=False)
    with pytest.raises(Forbidden):
        list_ukeys(clerk)


# --- sealing -------------------------------------------------------------------------------


def test_seal_round_trip_and_fresh_nonces() -> None:
    a = sealing.seal("passphrase-1234567890", "SoftHSM v2", "0123456789abcdef", "so-pin")
    b = sealing.seal("passphrase-1234567890", "SoftHSM v2", "0123456789abcdef", "so-pin")
    assert a != b
    assert b"so-pin" not in a
    for sealed in (a, b):
        assert sealing.unseal(
            "passphrase-1234567890", "SoftHSM v2", "0123456789abcdef", sealed
        ) == ("so-pin")


@pytest.mark.parametrize(
    ("passphrase", "model", "serial", "damage"),
    [
        ("another-passphrase-12", "SoftHSM v2", "0123456789abcdef", False),
        ("passphrase-1234567890", "SoftHSM v2", "fedcba9876543210", False),  # other token
        ("passphrase-1234567890", "Other", "0123456789abcdef", False),
        ("passphrase-1234567890", "SoftHSM v2", "0123456789abcdef", True),
    ],
)
def test_unseal_refuses(passphrase: str, model: str, serial: str, damage: bool) -> None:
    sealed = sealing.seal("passphrase-1234567890", "SoftHSM v2", "0123456789abcdef", "so-pin")
    if damage:
        sealed = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ConfigurationError) as err:
        sealing.unseal(passphrase, model, serial, sealed)
    assert err.value.code == "so_pin_unavailable"
    assert "so-pin" not in str(err.value)


def test_unseal_refuses_garbage() -> None:
    for data in (b"", b"\x02" + bytes(40), b"\x01short"):
        with pytest.raises(ConfigurationError):
            sealing.unseal("passphrase-1234567890", "m", "s", data)


def test_an_so_pin_sealed_ahead_opens_only_under_its_label() -> None:
    """Written ahead of formatting, the SO PIN is sealed to the label (no serial yet), under a
    context of its own: it opens under that label only, never as a Ukey's, and a Ukey's never
    opens as one written ahead."""
    passphrase = "passphrase-1234567890"
    ahead = sealing.seal_ahead(passphrase, "ukey-0a1b2c3d4e", "so-pin")
    assert b"so-pin" not in ahead
    assert sealing.unseal_ahead(passphrase, "ukey-0a1b2c3d4e", ahead) == "so-pin"
    for opening in (
        lambda: sealing.unseal_ahead(passphrase, "ukey-ffffffffff", ahead),
        lambda: sealing.unseal_ahead("another-passphrase-12", "ukey-0a1b2c3d4e", ahead),
        lambda: sealing.unseal(passphrase, "", "ukey-0a1b2c3d4e", ahead),
        lambda: sealing.unseal(passphrase, "ahead", "ukey-0a1b2c3d4e", ahead),
    ):
        with pytest.raises(ConfigurationError):
            opening()
    # a store its record names is bound too (12-06): the row's store edited does not open
    elsewhere = ("", "/srv/other/ukeys/softhsm2.conf")
    there = sealing.seal_ahead(passphrase, "ukey-0a1b2c3d4e", "so-pin", elsewhere)
    assert sealing.unseal_ahead(passphrase, "ukey-0a1b2c3d4e", there, elsewhere) == "so-pin"
    for store in (("", ""), ("", "/srv/certhall/softhsm/softhsm2.conf"), ("/x.so", elsewhere[1])):
        with pytest.raises(ConfigurationError):
            sealing.unseal_ahead(passphrase, "ukey-0a1b2c3d4e", there, store)
    with pytest.raises(ConfigurationError):
        sealing.unseal_ahead(passphrase, "ukey-0a1b2c3d4e", ahead, elsewhere)
    serial_sealed = sealing.seal(passphrase, "SoftHSM v2", "ukey-0a1b2c3d4e", "so-pin")
    with pytest.raises(ConfigurationError):
        sealing.unseal_ahead(passphrase, "ukey-0a1b2c3d4e", serial_sealed)


def test_random_so_pins() -> None:
    pins = {sealing.random_so_pin() for _ in range(50)}
    assert len(pins) == 50
    assert all(len(p) == 16 and p.isalnum() and p.isascii() for p in pins)


def test_empty_passphrase_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        sealing.seal("", "m", "s", "so-pin")
