"""What ``web.refused`` marked on a page shown again with its refusal (the tests of each form)."""

from __future__ import annotations

import re


def marked(page: str) -> list[str]:
    """The names of the fields marked invalid and described by the refusal's box, sorted, once
    each (a name several forms hold is marked in one)."""
    found = re.findall(
        r'<(?:input|select|textarea)\s[^>]*\bname="(\w+)"[^>]*'
        r'aria-invalid="true" aria-describedby="(?:[\w-]+ )*form-error"',
        page,
    )
    return sorted(set(found))
