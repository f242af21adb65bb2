"""Fixtures for the CA core tests: a declarative, in-memory PKI (root -> issuing CA -> OCSP
responder, generated EC keys, named frozen clocks) and an ``issue`` factory for subscriber
certificates. External checkers (pkilint, openssl) live in ``support``; tests using them are marked
``interop``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from certhall.pki import profiles
from certhall.pki.issuance import Subscriber, build_certificate, new_serial

from .support import NOW, PKI, make_pki

Issue = Callable[..., x509.Certificate]


@pytest.fixture(scope="session")
def pki() -> PKI:
    return make_pki()


@pytest.fixture(scope="session")
def issue(pki: PKI) -> Issue:
    """``issue(profile_name, years, subscriber, public_key=None, now=NOW)`` -> certificate."""

    def _issue(
        profile: str,
        years: int,
        subscriber: Subscriber,
        public_key: PublicKeyTypes | None = None,
        now: datetime = NOW,
    ) -> x509.Certificate:
        if public_key is None:
            public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
        return build_certificate(
            pki.issuer,
            public_key,
            profiles.get_profile(profile),
            years,
            subscriber,
            new_serial(),
            now,
        )

    return _issue
