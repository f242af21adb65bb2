"""Names the CA cannot certify are refused at the door (issue 8, item 5).

One rule, the CA's own (``pki.identity.subject_text``: X.520 length, no control, direction,
format, private-use or unassigned characters, no NUL), applied by registration, the hall, the
counter and the API through the same services, with the catalogue's Chinese words; before,
issuance failed after the customer had paid."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, Organization, User
from certhall.errors import InvalidInput
from certhall.hall import counter, services
from certhall.hall.items import ItemRequest
from certhall.pki import identity
from certhall.pki.issuance import Subscriber, check_subscriber
from certhall.pki.profiles import PROFILES
from tests.hall.conftest import FRIDAY, LEGAL_REP_ID, PHONE, at

pytestmark = pytest.mark.django_db

RTL = "深圳市\u202e司公限有\u202c医疗"  # a right-to-left override: shows reversed
LRM = "深圳市演示\u200f医疗有限公司"  # an invisible right-to-left mark
NUL = "深圳市\x00医疗有限公司"
ZERO_WIDTH = "深圳市\u200b医疗有限公司"
PRIVATE = "深圳市\ue000医疗有限公司"
LONG_ORG = "深圳市" + "演示" * 48 + "有限公司"  # 103 characters: the probe's 100-character name
LONG_PERSON = "张" * 65

#: What each bad name is called in the refusal.
BAD_NAMES = [
    (RTL, "文字方向控制符"),
    (LRM, "文字方向控制符"),
    (NUL, "空字符（NUL）"),
    (ZERO_WIDTH, "不可见的格式字符"),
    (PRIVATE, "私用区字符"),
    ("深圳市\n医疗有限公司", "控制字符"),
]


def _refusal(call: Any) -> str:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.message


@pytest.mark.parametrize(("name", "kind"), BAD_NAMES)
def test_the_door_and_the_ca_refuse_the_same_characters(name: str, kind: str) -> None:
    door = _refusal(lambda: identity.org_name(name))
    assert kind in door and "单位名称的第" in door
    subscriber = Subscriber(
        org_name=name, uscc="91350100M000100Y43", province="广东省", locality="深圳市"
    )
    assert _refusal(lambda: check_subscriber(PROFILES["org"], subscriber)) == door


def test_the_door_and_the_ca_agree_on_length() -> None:
    fits = "公" * identity.UB_ORGANIZATION_NAME
    assert identity.org_name(fits) == fits
    subscriber = Subscriber(
        org_name=fits, uscc="91350100M000100Y43", province="广东省", locality="深圳市"
    )
    assert check_subscriber(PROFILES["org"], subscriber).org_name == fits
    too_long = replace(subscriber, org_name=fits + "司")
    door = _refusal(lambda: identity.org_name(too_long.org_name))
    assert door == "单位名称最多64个字（证书中只能容纳这么多），现为65个字。"
    assert _refusal(lambda: check_subscriber(PROFILES["org"], too_long)) == door


# --- the hall: online application (services and API) ---------------------------------------


def _draft(applicant: User, handler: Handler) -> str:
    return services.create_draft(applicant, handler_id=handler.pk).number


@pytest.mark.parametrize(("name", "kind"), [*BAD_NAMES, (LONG_PERSON, "最多64个字")])
def test_the_holders_name_of_a_personal_certificate(
    applicant: User, handler: Handler, name: str, kind: str
) -> None:
    with at(FRIDAY):
        number = _draft(applicant, handler)
        message = _refusal(
            lambda: services.add_item(
                applicant,
                number,
                ItemRequest(
                    business="new",
                    cert_type="personal",
                    years=1,
                    person_name=name,
                    person_id_number=LEGAL_REP_ID,
                ),
            )
        )
    assert kind in message and "持证人（法定代表人）姓名" in message


def test_recipient_and_address(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        number = _draft(applicant, handler)
        message = _refusal(
            lambda: services.update_details(
                applicant, number, services.Details(address="深圳市南山区\x00科技园")
            )
        )
        assert (
            message == "邮寄地址的第7个字符（U+0000）是空字符（NUL），不能使用，请删除后重新输入。"
        )
        message = _refusal(
            lambda: services.update_details(
                applicant, number, services.Details(recipient_name="李\u202e四")
            )
        )
        assert "收件人姓名的第2个字符（U+202E）是文字方向控制符" in message
        services.update_details(
            applicant,
            number,
            services.Details(recipient_name="李四", address="深圳市南山区 科技园"),
        )


def test_the_hall_api_answers_the_refusal_in_chinese(applicant: User, handler: Handler) -> None:
    web = Client()
    web.force_login(applicant)
    with at(FRIDAY):
        number = _draft(applicant, handler)
        answer = web.post(
            f"/api/hall/applications/{number}/items",
            {
                "business": "new",
                "cert_type": "personal",
                "years": 1,
                "person_name": "王\u200f五",
                "person_id_number": LEGAL_REP_ID,
            },
            content_type="application/json",
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == "text_chars"
    assert "文字方向控制符" in answer.json()["message"]


# --- the counter (service, page, API) --------------------------------------------------------

NEW_USCC = "91440300MA5F00001A"
HANDLER = counter.HandlerData(
    name="钱七", id_kind="resident_id", id_number="440301199001011234", phone="13900139000"
)


@pytest.fixture
def at_the_counter(clerk: User) -> Client:
    client = Client()
    client.force_login(clerk)
    assert client.post(reverse("hall-staff:counter"), {"point": "kejiyuan"}).status_code == 303
    return client


@pytest.mark.parametrize(
    ("customer", "handler", "words"),
    [
        (
            counter.Customer(NEW_USCC, LONG_ORG),
            HANDLER,
            "新客户的单位名称（与营业执照一致）最多64个字",
        ),
        (counter.Customer(NEW_USCC, RTL), HANDLER, "文字方向控制符"),
        (
            counter.Customer(NEW_USCC, "深圳市新客户医疗有限公司", "赵\x00六"),
            HANDLER,
            "法定代表人姓名的第2个字符",
        ),
        (
            counter.Customer(NEW_USCC, "深圳市新客户医疗有限公司"),
            replace(HANDLER, name="钱\u2067七"),
            "经办人姓名的第2个字符（U+2067）是文字方向控制符",
        ),
    ],
)
def test_the_counter_refuses_names_the_ca_cannot_certify(
    clerk: User, customer: counter.Customer, handler: counter.HandlerData, words: str
) -> None:
    with at(FRIDAY):
        message = _refusal(
            lambda: counter.open_application(
                clerk, point="kejiyuan", customer=customer, handler=handler
            )
        )
    assert words in message
    assert not Organization.objects.filter(uscc=NEW_USCC).exists()


def test_the_counter_page_shows_the_refusal(at_the_counter: Client) -> None:
    with at(FRIDAY):
        page = at_the_counter.post(
            reverse("hall-staff:counter-open"),
            {
                "uscc": NEW_USCC,
                "name": LONG_ORG,
                "handler_id": "new",
                "handler_name": "钱七",
                "handler_id_kind": "resident_id",
                "handler_id_number": "440301199001011234",
                "handler_phone": "13900139000",
            },
        )
    assert page.status_code == 400  # the counter page again, the refusal beside the form
    body = re.sub(r"\s+", " ", page.content.decode())
    assert (
        "新客户的单位名称（与营业执照一致）最多64个字（证书中只能容纳这么多），现为103个字。"
        in body
    )
    assert not Organization.objects.filter(uscc=NEW_USCC).exists()


def test_the_counter_api_refuses_a_handler_name(clerk: User) -> None:
    web = Client()
    web.force_login(clerk)
    with at(FRIDAY):
        web.put("/api/hall/counter/point", {"point": "kejiyuan"}, content_type="application/json")
        answer = web.post(
            "/api/hall/counter/applications",
            json.dumps(
                {
                    "customer": {"uscc": NEW_USCC, "name": "深圳市新客户有限公司"},
                    "handler": {
                        "name": "赵" * 65,
                        "id_kind": "resident_id",
                        "id_number": "440301199001011234",
                        "phone": PHONE,
                    },
                }
            ),
            content_type="application/json",
        )
    assert answer.status_code == 400, answer.content
    assert answer.json()["message"] == "经办人姓名最多64个字（证书中只能容纳这么多），现为65个字。"


def test_the_counter_names_every_handler_field_left_empty(clerk: User) -> None:
    """The same one refusal as the applicant's handler form (accounts.services)."""
    empty = counter.HandlerData(name="", id_kind="resident_id", id_number="", phone="")
    with at(FRIDAY):
        message = _refusal(
            lambda: counter.open_application(
                clerk,
                point="kejiyuan",
                customer=counter.Customer(NEW_USCC, "深圳市新客户医疗有限公司"),
                handler=empty,
            )
        )
    assert message == "请填写经办人姓名、证件号码、手机号码。"
    assert not Organization.objects.filter(uscc=NEW_USCC).exists()
