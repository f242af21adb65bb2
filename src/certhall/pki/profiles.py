"""Certificate profiles as declarative data.

A profile says what a certificate type is allowed to be: how long it lives, what it may be used
for, under which policy it is issued and which subscriber data it carries. The issuance code reads
these values; it has no per-type ``if`` chains. docs/profiles.md describes the resulting
certificates field by field.

Policy OIDs: certhall has no registered arc, so they hang below ``POLICY_ARC``: the IANA enterprise
number reserved for documentation and examples (32473, RFC 5612; this is a demo CA) followed by the
top 28 bits of a random UUID, to keep clear of other examples. They are deliberately not UUID OIDs
(``2.25.<128-bit uuid>``): a 128-bit arc breaks relying parties that keep arcs in machine integers
(Go's x509 has refused such policy OIDs; Botan, wolfSSL, RustCrypto stop at 32 bits) and pkilint
cannot decode it; ``2.999`` (the X.660 example arc) trips pkilint's DER decoder as well. Every arc
stays below 2^28, which every implementation handles. A production deployment replaces
``POLICY_ARC`` with the CA's registered arc. Once used, an OID is fixed forever; a new version of a
policy gets a new OID.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from certhall import clock
from certhall.errors import InvalidInput
from certhall.pki.der import as_utc

#: id-kp-documentSigning (RFC 9336).
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")

#: 1.3.6.1.4.1.32473 (RFC 5612 documentation PEN) . top 28 bits of UUID a3323e92-e5e6-44b2-....
POLICY_ARC = "1.3.6.1.4.1.32473.171123689"
#: certhall 机构证书 (org) certificate policy, version 1.
ORG_POLICY_OID = x509.ObjectIdentifier(POLICY_ARC + ".1.1")
#: certhall 机构个人证书 (personal) certificate policy, version 1.
PERSONAL_POLICY_OID = x509.ObjectIdentifier(POLICY_ARC + ".1.2")


@dataclass(frozen=True)
class Profile:
    """One certificate type. Instances are validated when created, i.e. at import time."""

    name: str
    label_zh: str
    label_en: str
    min_years: int
    max_years: int
    extended_key_usages: tuple[x509.ObjectIdentifier, ...]
    policy_oid: x509.ObjectIdentifier
    #: True when the certificate names a person (subject CN = person name, ID number extension).
    requires_person: bool
    #: keyUsage bits set (the rest are false); the extension is always critical.
    key_usage: frozenset[str] = frozenset({"digital_signature", "content_commitment"})

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"profile name must be an identifier: {self.name!r}")
        if not 1 <= self.min_years <= self.max_years:
            raise ValueError(f"profile {self.name}: need 1 <= min_years <= max_years")
        if not self.extended_key_usages:
            raise ValueError(f"profile {self.name}: no extended key usage")
        unknown = self.key_usage - _KEY_USAGE_BITS
        if unknown or not self.key_usage:
            raise ValueError(f"profile {self.name}: bad key usage {sorted(unknown)}")

    @property
    def label(self) -> str:
        """``机构证书 (org)``: how messages name the profile."""
        return f"{self.label_zh} ({self.name})"

    def check_years(self, years: int) -> None:
        """Raise InvalidInput unless ``years`` is a validity this profile allows."""
        if isinstance(years, bool) or not isinstance(years, int):
            raise InvalidInput(code="validity_years", variant="whole", profile=self.label)
        if self.min_years <= years <= self.max_years:
            return
        if self.min_years == self.max_years:
            raise InvalidInput(
                code="validity_years",
                variant="exactly",
                profile=self.label,
                years=self.min_years,
                got=years,
            )
        raise InvalidInput(
            code="validity_years",
            profile=self.label,
            min_years=self.min_years,
            max_years=self.max_years,
            got=years,
        )

    def key_usage_extension(self) -> x509.KeyUsage:
        flags = dict.fromkeys(_KEY_USAGE_BITS, False)
        flags.update(dict.fromkeys(self.key_usage, True))
        return x509.KeyUsage(**flags)

    # Built once per profile: every certificate of the profile carries the same ones.
    @cached_property
    def usage_extensions(self) -> tuple[tuple[x509.ExtensionType, bool], ...]:
        """basicConstraints, keyUsage (both critical) and extendedKeyUsage, with criticality."""
        return (
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (self.key_usage_extension(), True),
            (x509.ExtendedKeyUsage(list(self.extended_key_usages)), False),
        )

    @cached_property
    def policies(self) -> x509.CertificatePolicies:
        return x509.CertificatePolicies([x509.PolicyInformation(self.policy_oid, None)])


_KEY_USAGE_BITS = frozenset(
    {
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    }
)

_SIGNING_EKUS = (ExtendedKeyUsageOID.CLIENT_AUTH, DOCUMENT_SIGNING)

ORG = Profile(
    name="org",
    label_zh="机构证书",
    label_en="organisation certificate (ODC)",
    min_years=1,
    max_years=1,
    extended_key_usages=_SIGNING_EKUS,
    policy_oid=ORG_POLICY_OID,
    requires_person=False,
)

PERSONAL = Profile(
    name="personal",
    label_zh="机构个人证书",
    label_en="organisation-personal (legal representative, 法人证书) certificate",
    min_years=1,
    max_years=5,
    extended_key_usages=_SIGNING_EKUS,
    policy_oid=PERSONAL_POLICY_OID,
    requires_person=True,
)

PROFILES: Mapping[str, Profile] = MappingProxyType({p.name: p for p in (ORG, PERSONAL)})


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise InvalidInput(code="unknown_profile", name=name, known=known) from None


def add_years(when: datetime, years: int) -> datetime:
    """``when`` plus whole calendar years of Shanghai (the calendar the customer pays in), in
    ``when``'s zone; 29 February becomes 28 February in common years. Counted on the UTC date
    (until 12-06), 00:00-07:59 of 2028-02-29 in Shenzhen was the 28th, so its year ended on
    1 March, as that of 1 March did."""
    local = when.astimezone(clock.SHANGHAI)
    try:
        moved = local.replace(year=local.year + years)
    except ValueError:  # 29 February into a common year
        moved = local.replace(year=local.year + years, day=28)
    return moved.astimezone(when.tzinfo)


def truncate_to_second(when: datetime) -> datetime:
    """``when`` in UTC without microseconds (aware datetimes only)."""
    return as_utc(when).replace(microsecond=0)


def span(now: datetime, years: int) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) for ``years`` calendar years starting at ``now``, unchecked.

    RFC 5280 validity is inclusive of both ends, so notAfter is one second before the anniversary:
    the certificate is valid for exactly ``years`` years.
    """
    not_before = truncate_to_second(now)
    return not_before, add_years(not_before, years) - timedelta(seconds=1)


def validity(
    profile: Profile, years: int | None, now: datetime, not_after: datetime | None = None
) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) in UTC for a certificate of ``profile`` issued at ``now``: ``years``
    from now, or until ``not_after`` when the business sets the end (:func:`renewed_until` with the
    paid ``years``, or the old end date a 变更 or 介质补办 keeps, without years).

    Raises InvalidInput when ``years`` is not allowed by the profile or ``not_after`` is past.
    """
    if years is not None:
        profile.check_years(years)
    if not_after is None:
        if years is None:
            raise InvalidInput(code="validity_missing")
        return span(now, years)
    not_before, end = truncate_to_second(now), truncate_to_second(not_after)
    if end <= not_before:
        raise InvalidInput(code="validity_end_past", end=f"{end:%Y-%m-%d %H:%M:%S}")
    return not_before, end


def renewed_until(old_not_after: datetime, years: int, now: datetime) -> datetime:
    """The notAfter of a certificate renewed for ``years`` paid years (续期).

    Renewed before the old certificate expires, the years are added to its end date, so what was
    already paid for is kept (valid to 2028-12-02, 2 years paid: to 2030-12-02); renewed after
    it expired, they count from now. One rule for the counter, the online hall and the CLI.
    """
    old = truncate_to_second(old_not_after)
    if old > truncate_to_second(now):
        return add_years(old, years)
    return span(now, years)[1]
