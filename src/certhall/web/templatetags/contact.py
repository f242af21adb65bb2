"""A refusal's way to 客服 as a link on a page.

The catalogue's messages are plain text (the API, SMS and the command line read them too) and
send a customer to 客服 in one wording, ``messages.common.CONTACT_US`` (联系客服（见“联系我们”）).
On a page that wording becomes a link to 联系我们 (``/contact/``: the service points and hours,
在线咨询), so the refusal itself is the way on: ``{{ error|contact_linked }}``.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from certhall.messages.common import CONTACT_US

register = template.Library()


@register.filter
def contact_linked(value: object) -> SafeString:
    """``value`` escaped, its 联系客服（见“联系我们”） a link to 联系我们."""
    escaped = str(conditional_escape(str(value)))
    said = str(conditional_escape(CONTACT_US))
    if said not in escaped:
        return mark_safe(escaped)  # noqa: S308 - escaped above
    link = format_html('<a href="{}" class="contact-us">联系客服</a>', reverse("portal:contact"))
    return mark_safe(escaped.replace(said, link))  # noqa: S308 - escaped above, our own link
