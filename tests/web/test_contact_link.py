"""A refusal's 联系客服（见“联系我们”） is a link to 联系我们 on a page (``contact_linked``): the
refusal itself is the way on. Every customer form's refusal box and the error page use it."""

from __future__ import annotations

from pathlib import Path

from django.template import Context, Template

from certhall.messages import text
from certhall.messages.common import CONTACT_US

SRC = Path(__file__).resolve().parents[2] / "src" / "certhall"


def linked(value: str) -> str:
    return Template("{% load contact %}{{ value|contact_linked }}").render(
        Context({"value": value})
    )


def test_the_words_become_the_link_and_the_rest_stays_escaped() -> None:
    message = text("account_disabled.customer")
    assert CONTACT_US in message
    assert '请<a href="/contact/" class="contact-us">联系客服</a>，' in linked(message)
    assert linked("<b>x</b> 请" + CONTACT_US) == (
        '&lt;b&gt;x&lt;/b&gt; 请<a href="/contact/" class="contact-us">联系客服</a>'
    )
    assert linked("账号或密码不正确。") == "账号或密码不正确。"


def test_every_customer_refusal_box_links_it() -> None:
    """A customer's form shows its refusal in ``.notice error``: each through the filter (the
    registration's already_registered and a paid application's refund say 联系客服 too)."""
    plain = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.html")
        if 'class="notice error" role="alert" id="form-error">{{ error }}' in path.read_text()
    ]
    assert plain == []


def test_a_script_is_given_the_same_words_page_and_link() -> None:
    """The certificate login's script writes its JSON refusals itself: ``contact_data`` gives
    it what ``contact_linked`` uses (login.js builds the link; tests/browser checks it)."""
    rendered = Template("<p{% load contact %}{% contact_data %}>").render(Context())
    assert rendered == (
        f'<p data-contact="{CONTACT_US}" data-contact-url="/contact/" data-contact-link="联系客服">'
    )
