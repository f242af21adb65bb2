"""What the console's page tests share: logged-in clients, the page's words, a snapshot of
what a refused step must leave unchanged, an online application paid at a given moment."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.hall import services
from certhall.hall.models import Application, ApplicationItem, Document
from certhall.payments.models import Order
from certhall.ukeys.models import Ukey
from tests.hall.conftest import at, online_draft, pay_online

NEW_USCC = "91440300MA5F00001A"
HANDLER_ID = "440301199001011234"
WEEKEND_WORDS = "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理"


def login(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def flashes(response: Any) -> list[str]:
    """The consoles' messages' words (a range in them, 1-20, is a .nowrap span: |ranges_whole)."""
    found = re.findall(r'class="flash flash-\w+"[^>]*>(.*?)</p>', response.content.decode())
    return [re.sub(r"<[^>]+>", "", words) for words in found]


def counter_client(clerk: User, point: str = "kejiyuan") -> Client:
    client = login(clerk)
    response = client.post(reverse("hall-staff:counter"), {"point": point})
    assert response.status_code == 303
    return client


def snapshot() -> dict[str, Any]:
    return {
        "applications": sorted(Application.objects.values_list("number", "state", "updated_at")),
        "items": sorted(ApplicationItem.objects.values_list("pk", "done_at", "fee")),
        "documents": sorted(Document.objects.values_list("pk", "status", "original_seen")),
        "orders": sorted(Order.objects.values_list("reference", "status")),
        "ukeys": sorted(Ukey.objects.values_list("serial", "status")),
        "organizations": sorted(
            Organization.objects.values_list("pk", "name", "licence_unchecked")
        ),
        "active_users": sorted(User.objects.filter(is_active=True).values_list("pk", flat=True)),
        "ok_events": AuditEvent.objects.filter(result="ok").count(),
    }


def online_paid_at(applicant: User, handler: Handler, when: datetime) -> Application:
    with at(when):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    return Application.objects.get(pk=draft.pk)
