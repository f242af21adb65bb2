"""Every word of the refund pages is Chinese: the hall's crawler over the refund pages of
each role, with applications in several states and a payout batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.refunds import payout, review, services
from certhall.refunds.counter import enter_offline
from certhall.refunds.models import Programme
from certhall.refunds.services import BankAccount
from tests.hall.web.test_chinese_pages import crawl
from tests.refunds.conftest import ACCOUNT, GONE_NAME, GONE_USCC, NAME, PHONE
from tests.refunds.test_applications import offline_entry

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)
START = ["/refunds/", "/refunds/sz-2021/", "/refunds/console/", "/refunds/counter/"]


@pytest.fixture
def world(
    actors: dict[str, User],
    open_programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
    frozen: Any,
) -> None:
    fee("a1", IN, "300.00")
    fee("a2", date(2017, 12, 30), "100.00")
    fee("g1", IN, "300.00", uscc=GONE_USCC, name=GONE_NAME)
    use("a1", IN)
    use("g1", IN)
    online = services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    offline = enter_offline(actors["clerk"], "sz-2021", offline_entry())
    review.approve(actors["officer"], online.number)
    payout.create_batch(actors["officer"], "sz-2021")
    review.ask_more(actors["officer"], offline.number, "请补充注销证明")


@pytest.mark.parametrize("role", ["visitor", "applicant", "clerk", "officer"])
def test_refund_pages_are_chinese(
    role: str, world: None, actors: dict[str, User], client: Client
) -> None:
    if role != "visitor":
        client.force_login(actors[role])
    english = crawl(client, START)
    assert not english, "English on pages:\n" + "\n".join(
        f"  {page}: {', '.join(sorted(words))}" for page, words in sorted(english.items())
    )
