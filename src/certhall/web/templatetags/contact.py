"""A refusal's way to 客服 as a link on a page.

The catalogue's messages are plain text (the API, SMS and the command line read them too) and
send a customer to 客服 in one wording, ``messages.common.CONTACT_US`` (联系客服（见“联系我们”）).
On a page that wording becomes a link to 联系我们 (``/contact/``: the service points and hours,
在线咨询), so the refusal itself is the way on: ``{{ error|contact_linked }}``. A page whose
script writes the refusal (the certificate login's JSON answers) gives the script the same
words, page and link text with ``{% contact_data %}``, and the script builds the link with DOM
methods (``certlogin/login.js``), never the server's text as HTML.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from certhall.messages.common import CONTACT_US

register = template.Library()

#: The words of ``CONTACT_US`` that become the link.
LINK_WORDS = "联系客服"


@register.filter
def contact_linked(value: object) -> SafeString:
    """``value`` escaped, its 联系客服（见“联系我们”） a link to 联系我们."""
    escaped = str(conditional_escape(str(value)))
    said = str(conditional_escape(CONTACT_US))
    if said not in escaped:
        return mark_safe(escaped)  # noqa: S308 - escaped above
    link = format_html(
        '<a href="{}" class="contact-us">{}</a>', reverse("portal:contact"), LINK_WORDS
    )
    return mark_safe(escaped.replace(said, link))  # noqa: S308 - escaped above, our own link


@register.simple_tag
def contact_data() -> SafeString:
    """The attributes a script links 联系客服 with as :func:`contact_linked` does: the words to
    find (``data-contact``), the page (``data-contact-url``) and the link's text."""
    return format_html(
        ' data-contact="{}" data-contact-url="{}" data-contact-link="{}"',
        CONTACT_US,
        reverse("portal:contact"),
        LINK_WORDS,
    )
