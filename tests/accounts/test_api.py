"""The accounts JSON API (/api/accounts/): session login with CSRF, me, handlers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import Handler, Organization, Provider, Role, User
from certhall.notify.models import SmsMessage
from tests.accounts.conftest import (
    CLIENT,
    OTHER_PHONE,
    OTHER_USCC,
    PASSWORD,
    PHONE,
    USCC,
    Clock,
    last_code,
)
from tests.support.openapi import documented_fields

pytestmark = pytest.mark.django_db
API = "/api/accounts"


class Api:
    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True, REMOTE_ADDR=CLIENT)
        self.token = ""

    def csrf(self) -> str:
        response = self.client.get(f"{API}/csrf")
        assert response.status_code == 200
        self.token = response.json()["csrf_token"]
        assert self.client.cookies["csrftoken"].value
        return self.token

    def get(self, path: str) -> tuple[int, Any]:
        response = self.client.get(f"{API}{path}")
        return response.status_code, response.json()

    def post(self, path: str, body: object, *, csrf: bool = True) -> tuple[int, Any]:
        headers = {"X-CSRFToken": self.token} if csrf else {}
        response = self.client.post(
            f"{API}{path}", json.dumps(body), content_type="application/json", headers=headers
        )
        return response.status_code, response.json()


@pytest.fixture
def api() -> Api:
    client = Api()
    client.csrf()
    return client


def test_unsafe_calls_need_the_csrf_token(api: Api, registered: User) -> None:
    for path, body in [
        ("/sms-code", {"phone": PHONE, "purpose": "login"}),
        ("/login/password", {"username": PHONE, "password": PASSWORD}),
        ("/login/sms", {"phone": PHONE, "code": "123456"}),
    ]:
        status, data = api.post(path, body, csrf=False)
        assert status == 403, path
        assert data["error"] == "csrf_failed"
    assert SmsMessage.objects.filter(kind="login_code").count() == 0
    # logged in, logout and adding a handler need it too
    status, _ = api.post("/login/password", {"username": PHONE, "password": PASSWORD})
    assert status == 200
    api.token = api.csrf()  # the login rotated the token
    for path in ("/handlers", "/logout"):
        body = {"name": "王五", "id_kind": "passport", "id_number": "E1234567", "phone": PHONE}
        status, data = api.post(path, body, csrf=False)
        assert status == 403 and data["error"] == "csrf_failed", path
    assert api.get("/me")[0] == 200


def test_register_and_me(clock: Clock, api: Api) -> None:
    status, sent = api.post("/sms-code", {"phone": PHONE, "purpose": "register"})
    assert status == 200
    assert sent == {
        "sent": True,
        "phone": "138****8000",
        "expires_in": 300,
        "resend_after": 60,
        "message": "验证码已发送至 138****8000，5分钟内有效。如未收到，请在60秒后重新获取。",
    }
    body = {
        "organization_name": "深圳市测试医疗器械有限公司",
        "uscc": USCC,
        "legal_representative": "李四",
        "phone": PHONE,
        "code": last_code(),
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    status, me = api.post("/register", body)
    assert status == 200
    org = Organization.objects.get(uscc=USCC)
    assert me == {
        "username": PHONE,
        "role": "applicant",
        "role_name": "申请单位",
        "phone": "138****8000",
        "email": "",
        "organization": {
            "id": org.pk,
            "name": "深圳市测试医疗器械有限公司",
            "uscc": USCC,
            "legal_representative": "李四",
        },
    }
    assert api.get("/me") == (200, me)


def test_bad_registration(clock: Clock, api: Api) -> None:
    api.post("/sms-code", {"phone": PHONE, "purpose": "register"})
    body = {
        "organization_name": "某公司",
        "uscc": USCC[:-1] + "0",
        "legal_representative": "李四",
        "phone": PHONE,
        "code": last_code(),
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    status, data = api.post("/register", body)
    assert (status, data["error"]) == (400, "uscc_check")
    assert data["message"] == "统一社会信用代码校验位不正确，请核对是否输入有误。"


def test_registration_refuses_a_name_the_ca_cannot_certify(clock: Clock, api: Api) -> None:
    api.post("/sms-code", {"phone": PHONE, "purpose": "register"})
    body = {
        "organization_name": "深圳市演示\u200f医疗有限公司",
        "uscc": USCC,
        "legal_representative": "李四",
        "phone": PHONE,
        "code": last_code(),
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    status, data = api.post("/register", body)
    assert (status, data["error"]) == (400, "text_chars")
    assert data["message"] == (
        "单位名称的第6个字符（U+200F）是文字方向控制符，不能使用，请删除后重新输入。"
    )
    assert not Organization.objects.exists()


def test_login_failures_read_the_same(api: Api, registered: User) -> None:
    unknown = api.post("/login/password", {"username": OTHER_PHONE, "password": PASSWORD})
    wrong = api.post("/login/password", {"username": PHONE, "password": "wrong-password"})
    # both fields named (one wording for either: which one was wrong is not told)
    refused = {"error": "login_failed", "message": "账号或密码不正确。"}
    assert unknown == wrong == (403, {**refused, "fields": ["username", "password"]})
    assert api.get("/me")[0] == 401


def test_sms_login_and_logout(clock: Clock, api: Api, registered: User) -> None:
    status, _ = api.post("/sms-code", {"phone": PHONE, "purpose": "login"})
    assert status == 200
    status, me = api.post("/login/sms", {"phone": PHONE, "code": last_code()})
    assert status == 200 and me["username"] == PHONE
    api.csrf()
    assert api.post("/logout", {}) == (200, {"ok": True})
    assert api.get("/me") == (401, {"error": "not_authenticated", "message": "请先登录。"})


def test_code_rate_limit_is_429(clock: Clock, api: Api) -> None:
    """A login code asked 25 s after a registration's for the same phone: the phone's limit
    counts every purpose; the wait in ``Retry-After`` and in the words."""
    assert api.post("/sms-code", {"phone": PHONE, "purpose": "register"})[0] == 200
    clock.advance(25)
    refused = api.client.post(
        f"{API}/sms-code",
        json.dumps({"phone": PHONE, "purpose": "login"}),
        content_type="application/json",
        headers={"X-CSRFToken": api.token},
    )
    assert refused.status_code == 429 and refused["Retry-After"] == "35"
    data = refused.json()
    assert data["error"] == "rate_limited"
    assert "各项业务合计" in data["message"] and "请35秒后再获取。" in data["message"]
    assert SmsMessage.objects.count() == 1


def test_handlers(clock: Clock, api: Api, registered: User) -> None:
    api.post("/login/password", {"username": PHONE, "password": PASSWORD})
    api.csrf()
    assert api.get("/handlers") == (200, [])
    body = {
        "name": "王五",
        "id_kind": "hk_macau_permit",
        "id_number": "h12345678",
        "phone": OTHER_PHONE,
    }
    status, added = api.post("/handlers", body)
    assert status == 201
    handler = Handler.objects.get()
    assert added == {
        "id": handler.pk,
        "organization_id": registered.organization_id,
        "name": "王五",
        "id_kind": "hk_macau_permit",
        "id_kind_name": "港澳居民来往内地通行证",
        "id_number_masked": "H123*5678",
        "phone_masked": "139****9000",
    }
    assert api.get("/handlers") == (200, [added])
    # as documented (the hall's HandlerOut had taken its name in the OpenAPI document)
    assert set(added) == documented_fields("POST", f"{API}/handlers", 201)
    assert set(added) == documented_fields("GET", f"{API}/handlers", 200)
    status, me = api.get("/me")
    assert set(me["organization"]) == documented_fields("GET", f"{API}/me", 200, "organization")
    status, data = api.post("/handlers", {**body, "id_number": "X1"})
    assert (status, data["message"]) == (400, "港澳居民来往内地通行证号码格式不正确。")


def test_an_applicant_never_sees_another_organisations_handlers(
    clock: Clock, api: Api, registered: User
) -> None:
    other = Organization.objects.create(name="别家公司", uscc=OTHER_USCC)
    Handler.objects.create(
        organization=other,
        name="别家经办人",
        id_kind="passport",
        id_number="E99999999",
        phone=PHONE,
    )
    api.post("/login/password", {"username": PHONE, "password": PASSWORD})
    api.csrf()
    status, data = api.get(f"/handlers?organization_id={other.pk}")
    assert (status, data["error"]) == (403, "other_organization")
    assert "别家经办人" not in json.dumps(data, ensure_ascii=False)
    assert api.get("/handlers") == (200, [])
    body = {"name": "冒名", "id_kind": "passport", "id_number": "E1234567", "phone": PHONE}
    status, data = api.post(f"/handlers?organization_id={other.pk}", body)
    assert status == 403
    assert Handler.objects.filter(organization=other).count() == 1


def test_staff_look_up_any_organisations_handlers(api: Api, make_user) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user(Role.CLERK)
    clerk.set_password(PASSWORD)
    clerk.save()
    org = Organization.objects.create(name="客户公司", uscc=OTHER_USCC)
    Handler.objects.create(
        organization=org, name="客户经办人", id_kind="passport", id_number="E99999999", phone=PHONE
    )
    assert api.post("/login/password", {"username": clerk.username, "password": PASSWORD})[0] == 200
    status, data = api.get(f"/handlers?organization_id={org.pk}")
    assert status == 200 and [h["name"] for h in data] == ["客户经办人"]
    assert api.get("/handlers")[0] == 404  # which organisation?
    status, me = api.get("/me")
    assert me["organization"] is None and me["role"] == "clerk"


def test_a_handler_for_an_unknown_organisation_is_404(api: Api, make_user) -> None:  # type: ignore[no-untyped-def]
    """A clerk's handler for an organisation id nobody has was the insert's IntegrityError."""
    clerk = make_user(Role.CLERK)
    clerk.set_password(PASSWORD)
    clerk.save()
    assert api.post("/login/password", {"username": clerk.username, "password": PASSWORD})[0] == 200
    api.csrf()
    body = {"name": "王五", "id_kind": "passport", "id_number": "E12345678", "phone": PHONE}
    for unknown in (99999, 2**63, 10**23):
        status, data = api.post(f"/handlers?organization_id={unknown}", body)
        assert (status, data["error"]) == (404, "organization_unknown")
    assert not Handler.objects.exists()


def test_another_cas_staff_neither_list_nor_add_handlers(
    make_user,  # type: ignore[no-untyped-def]
    other_provider: Provider,
) -> None:
    """A refund programme's other CAs have staff accounts here, but the counter is this CA's:
    their clerk adding a handler with their own phone to an organisation the counter entered
    could then register and hold it (a registration claims it by a handler's phone)."""
    org = Organization.objects.create(name="客户公司", uscc=OTHER_USCC)
    Handler.objects.create(
        organization=org, name="客户经办人", id_kind="passport", id_number="E99999999", phone=PHONE
    )
    for role in (Role.CLERK, Role.CA_ADMIN, Role.AUDITOR):
        api = Api()
        api.csrf()
        staff = make_user(role, provider=other_provider)
        staff.set_password(PASSWORD)
        staff.save()
        assert (
            api.post("/login/password", {"username": staff.username, "password": PASSWORD})[0]
            == 200
        )
        api.csrf()
        status, data = api.get(f"/handlers?organization_id={org.pk}")
        assert (status, data["error"]) == (403, "other_provider")
        body = {
            "name": "冒名",
            "id_kind": "passport",
            "id_number": "E12345678",
            "phone": OTHER_PHONE,
        }
        status, data = api.post(f"/handlers?organization_id={org.pk}", body)
        assert (status, data["error"]) == (
            403,
            "other_provider" if role != Role.AUDITOR else "role_required",
        )
    assert list(Handler.objects.filter(organization=org).values_list("name", flat=True)) == [
        "客户经办人"
    ]


def test_the_router_is_in_the_openapi_document(client: Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/csrf", "/sms-code", "/login/password", "/login/sms", "/me", "/handlers"):
        assert f"/api/accounts{path}" in paths
