"""RFC 5280 revocation reasons as operators name them."""

from __future__ import annotations

from cryptography import x509

from certhall.errors import InvalidInput

#: RFC 5280 reason names accepted for revocation. certificateHold is left out on purpose:
#: certhall never suspends, a revocation is final.
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "cACompromise": x509.ReasonFlags.ca_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "privilegeWithdrawn": x509.ReasonFlags.privilege_withdrawn,
}


def parse_reason(name: str) -> x509.ReasonFlags:
    try:
        return REASONS[name]
    except KeyError:
        raise InvalidInput(
            code="revocation_reason_unknown", name=name, known=", ".join(REASONS)
        ) from None
