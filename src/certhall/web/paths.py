"""Paths to the platform's own pages for pages that name one per row.

Django's ``reverse`` with arguments costs about 0.1 ms on the machines measured here
(docs/performance.md, section 4): the 41 calls of a list page of 20 applications were 4.6 ms,
a third of the page. :func:`path` asks ``reverse`` once per URL name, with placeholder
arguments, and fills each call's arguments into that template, percent-encoded as ``reverse``
encodes them. For arguments the platform wrote itself (application numbers, serials): unlike
``reverse`` it does not check them against the URL pattern's converters.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from certhall import config

# Digits, so that they pass any converter (int, slug, str, path); text no route contains.
_PLACEHOLDER = "7310{}0137"
# What ``reverse`` leaves unencoded in an argument (RFC 3986 sub-delimiters and "~:@"), minus
# the "/" that would change the path's shape.
_SAFE = "!$&'()*+,;=~:@"


def path(name: str, *args: object) -> str:
    """``reverse(name, args=args)``, from a template made once per name (and URL conf)."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    template = _template(get_script_prefix(), urlconf, name, len(args))
    return template.format(*(quote(str(arg), safe=_SAFE) for arg in args))


def absolute(name: str, *args: object, query: Mapping[str, str] | None = None) -> str:
    """The page's address on the platform's public origin (``CERTHALL_BASE_URL``), for a link
    that is followed from outside the platform: an SMS, an email, a QR code, a gateway."""
    url = config.get().base_url + reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


@cache
def _template(prefix: str, urlconf: str, name: str, count: int) -> str:
    # ``prefix`` is part of the key: reverse() reads the script prefix of the current request.
    marks = [_PLACEHOLDER.format(i) for i in range(count)]
    reversed_path = reverse(name, urlconf=urlconf, args=marks).replace("{", "{{").replace("}", "}}")
    for i, mark in enumerate(marks):
        if reversed_path.count(mark) != 1:
            raise ValueError(f"{name}: argument {i} does not appear once in {reversed_path}")
        reversed_path = reversed_path.replace(mark, f"{{{i}}}")
    return reversed_path
