"""A script with its words: ``{% words_script 'certlogin/login.js' %}``.

A script writes no words of its own (tests/web/test_script_words.py): it reads the catalogue's
entries its context lists for it (``SCRIPTS`` beside a messages module's ``MESSAGES``) from the
JSON its page carries, through ``web/words.js`` (loaded by ``web/base.html``). This tag writes
that JSON and then the script, so a page cannot load the script without its words.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from certhall.messages import words_element

register = template.Library()


@register.simple_tag
def words_script(script: str) -> SafeString:
    """The script's words (``messages.words_element``) and the script itself."""
    words = mark_safe(words_element(script))  # noqa: S308 - JSON escaped for <script>
    return format_html('{}<script src="{}"></script>', words, static(script))
