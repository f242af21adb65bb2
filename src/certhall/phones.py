"""A mainland China mobile number, as people type it and as the platform keeps it.

One rule for the SMS sender (``notify.services.normalise_phone``: every code, PIN and notice)
and the printed forms (``forms.data``): 11 ASCII digits, 1 then 3-9. Blanks and dashes are
dropped and a ``+86`` / ``0086`` prefix is taken off. Not ``\\d``, which is also true of
full-width and other scripts' digits: ``13８…`` was another number to the per-phone rate limits
and the "one account a phone" rule, and went to the SMS carrier as typed. Full-width digits (a
Chinese input method's) are folded to ASCII first, the same number (12-06, night); other
scripts' digits are refused.
"""

from __future__ import annotations

import re

from certhall.pki.identity import fold_width

MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s-]")


def mainland_mobile(typed: str) -> str | None:
    """``typed`` as the 11 ASCII digits of a mainland mobile number, or None when it is not
    one. Full-width digits are folded first (``pki.identity.fold_width``): the same number."""
    cleaned = _SEPARATORS.sub("", fold_width(typed or ""))
    for prefix in ("+86", "0086"):
        if cleaned.startswith(prefix) and len(cleaned) == len(prefix) + 11:
            cleaned = cleaned[len(prefix) :]
    return cleaned if MOBILE.fullmatch(cleaned) else None
