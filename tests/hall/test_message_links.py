"""The link an SMS or an email carries to the customer: on the platform's public address
(``CERTHALL_BASE_URL``), to the page where the customer acts, opened on a phone that is not
logged in: the login page first, then that page; to another enterprise, as a page that does not
exist."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.test import Client

from certhall.accounts.models import Handler, User
from certhall.config import SmtpConfig
from certhall.hall import review, services
from certhall.notify.models import OutgoingEmail, SmsMessage
from tests.hall.conftest import FRIDAY, MONDAY, at, online_draft, pay_online

pytestmark = pytest.mark.django_db

PASSWORD = "Link-test-2026"
PUBLIC = "https://hall.example.cn"
LINK = re.compile(r"(https?://\S+)$")


def link_in(text: str) -> str:
    found = LINK.search(text.rstrip())
    assert found is not None, text
    return found.group(1)


def test_review_result_links_to_the_application_page(
    applicant: User,
    handler: Handler,
    reviewer: User,
    stranger: User,
    configure: Callable[..., object],
) -> None:
    # Mail is queued in the review's transaction (handed to SMTP after the commit, which this
    # test's transaction never reaches): the server need not exist.
    configure(base_url=PUBLIC, smtp=SmtpConfig(host="127.0.0.1", port=9))
    applicant.email = "finance@example.cn"
    applicant.set_password(PASSWORD)
    applicant.save()
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    with at(MONDAY):
        review.approve(reviewer, draft.number, note="")
    sms = SmsMessage.objects.get(kind="review_result")
    url = link_in(sms.text)
    assert url == f"{PUBLIC}/hall/applications/{draft.number}/"
    assert sms.text.endswith(f"请登录网上营业厅查看：{url}")
    email = OutgoingEmail.objects.get(kind="review_result")
    assert url in email.body.split("\n")  # a line of its own: mail clients make it a link

    path = urlsplit(url).path
    phone = Client()  # the handler's phone, not logged in
    first = phone.get(path)
    assert first.status_code == 302
    assert first["Location"] == f"/accounts/login/?next={path}"
    login = phone.get(first["Location"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.content.decode())
    assert token is not None
    signed_in = phone.post(
        first["Location"],
        {
            "username": applicant.username,
            "password": PASSWORD,
            "next": path,
            "csrfmiddlewaretoken": token.group(1),
        },
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == path
    page = phone.get(path)
    assert page.status_code == 200 and draft.number in page.content.decode()

    other = Client()
    other.force_login(stranger)
    assert other.get(path).status_code == 404
