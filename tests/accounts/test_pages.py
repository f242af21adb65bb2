"""The account pages: CSRF on every POST, registration and both logins through the forms, the
same failure page for unknown accounts and wrong passwords, profile and handlers."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from certhall.accounts.models import Handler, Organization, Role, User
from certhall.notify.models import SmsMessage
from certhall.web.templatetags.wrapping import numbers_whole
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

pytestmark = pytest.mark.django_db

RESIDENT_ID = "11010519491231002X"  # the GB 11643 example number


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=CLIENT)


def token(client: Client, path: str = "/accounts/login/") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert found is not None
    return found.group(1).decode()


def post(client: Client, path: str, data: dict[str, str], *, csrf: bool = True):  # type: ignore[no-untyped-def]
    if csrf:
        data = {**data, "csrfmiddlewaretoken": token(client, path)}
    return client.post(path, data)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


REGISTRATION = {
    "organization_name": "深圳市测试医疗器械有限公司",
    "uscc": USCC,
    "legal_representative": "李四",
    "phone": PHONE,
    "password": PASSWORD,
    "password_again": PASSWORD,
    "email": "li.si@example.com",
}


def register_through_pages(client: Client, **changes: str):  # type: ignore[no-untyped-def]
    form = {**REGISTRATION, **changes}
    sent = post(client, "/accounts/register/", {**form, "action": "send_code"})
    assert sent.status_code == 200, text(sent)
    assert "验证码已发送至 138****8000" in text(sent)
    return post(client, "/accounts/register/", {**form, "code": last_code(form["phone"])})


@pytest.mark.parametrize(
    "path",
    ["/accounts/register/", "/accounts/login/", "/accounts/logout/", "/accounts/handlers/"],
)
def test_posts_without_the_csrf_token_are_refused(browser: Client, path: str) -> None:
    response = browser.post(path, {**REGISTRATION, "action": "send_code", "username": PHONE})
    assert response.status_code == 403
    assert not SmsMessage.objects.exists()
    assert not User.objects.filter(role=Role.APPLICANT).exists()


def test_pages_are_chinese_and_link_the_certificate_login(browser: Client) -> None:
    page = text(browser.get("/accounts/login/"))
    assert '<html lang="zh-CN">' in page
    assert "密码登录" in page and "短信验证码登录" in page
    assert 'href="/login/certificate/"' in page
    assert 'id="password-form"' in page and 'id="sms-form"' not in page
    sms = text(browser.get("/accounts/login/?tab=sms"))
    assert 'id="sms-form"' in sms and 'id="password-form"' not in sms
    assert "获取验证码" in sms
    register = text(browser.get("/accounts/register/"))
    assert "统一社会信用代码" in register and "法定代表人" in register
    assert 'href="/accounts/login/">登录/注册</a>' in register  # the nav link


def test_register_then_profile(clock: Clock, browser: Client) -> None:
    response = register_through_pages(browser)
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    profile = browser.get("/accounts/profile/")
    assert profile.status_code == 200
    page = text(profile)
    assert "注册成功" in page
    assert "深圳市测试医疗器械有限公司" in page and USCC in page and "李四" in page
    assert "138****8000" in page
    assert "尚未登记经办人" in page


def test_registering_from_a_link_goes_on_to_the_linked_page(clock: Clock, browser: Client) -> None:
    """A renewal reminder's SMS links /hall/renew/?serial=…: the handler of a clinic without an
    account meets the login page, registers from its link, and landed on 我的账户, the linked
    page lost (12-07, a first visit on a phone). The login page's link and the registration form
    carry ``next`` (another site's is not followed); 我的账户 links 网上营业厅."""
    target = "/hall/renew/?serial=5a1c0001"
    login = text(browser.get("/accounts/login/", {"next": target}))
    linked = 'id="to-register"'
    assert f'href="/accounts/register/?next=/hall/renew/%3Fserial%3D5a1c0001" {linked}' in login
    assert f'href="/accounts/register/" {linked}' in text(browser.get("/accounts/login/"))
    form = text(browser.get("/accounts/register/", {"next": target}))
    assert f'<input type="hidden" name="next" value="{target}">' in form
    assert 'href="/accounts/login/?next=/hall/renew/%3Fserial%3D5a1c0001"' in form
    registered = register_through_pages(browser, next=target)
    assert registered.status_code == 302 and registered["Location"] == target
    assert 'id="to-hall"' in text(browser.get("/accounts/profile/"))


def test_registration_never_goes_on_to_another_site(clock: Clock, browser: Client) -> None:
    elsewhere = register_through_pages(browser, next="https://evil.example/")
    assert elsewhere.status_code == 302 and elsewhere["Location"] == "/accounts/profile/"


def test_register_page_shows_the_refusal_and_keeps_the_form(clock: Clock, browser: Client) -> None:
    response = register_through_pages(browser, uscc=USCC[:-1] + "0")
    assert response.status_code == 400
    page = text(response)
    assert "统一社会信用代码校验位不正确" in page
    assert 'value="深圳市测试医疗器械有限公司"' in page
    assert PASSWORD not in page  # passwords are never sent back


def test_an_over_long_field_is_refused_beside_the_form_the_others_kept(
    clock: Clock, browser: Client, registered: User
) -> None:
    """An over-long field was an error page of its own: the registration, the handler form and
    the login lost everything typed."""
    long_name = "深" * 201
    refused = post(browser, "/accounts/register/", {**REGISTRATION, "organization_name": long_name})
    assert refused.status_code == 400 and 'id="form-error"' in text(refused)
    assert numbers_whole("单位名称不能超过200个字") in text(refused)  # 200个 kept whole
    assert f'value="{USCC}"' in text(refused) and 'value="李四"' in text(refused)
    assert PASSWORD not in text(refused)
    login = post(browser, "/accounts/login/", {"username": "u" * 151, "password": PASSWORD})
    assert login.status_code == 400 and numbers_whole("填写的内容过长：此项最多150个字") in text(
        login
    )
    post(browser, "/accounts/login/", {"username": PHONE, "password": PASSWORD})
    data = {"name": "王五", "id_kind": "resident_id", "id_number": "1" * 201, "phone": PHONE}
    handler = post(browser, "/accounts/handlers/", data)
    assert handler.status_code == 400 and "证件号码不能超过200个字" in text(handler)
    assert 'value="王五"' in text(handler) and f'value="{PHONE}"' in text(handler)
    assert Organization.objects.count() == 1 and not Handler.objects.exists()


def send_button(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'<button[^>]*value="send_code"[^>]*>', text(response))
    assert found is not None
    return found.group(0)


def test_code_limit_on_the_page(clock: Clock, browser: Client) -> None:
    """Asked again 20 s later: 429 with Retry-After, the wait in the words beside the form, and
    the 获取验证码 button carries it for web/code-wait.js to count down; the form as typed."""
    post(browser, "/accounts/register/", {**REGISTRATION, "action": "send_code"})
    clock.advance(20)
    again = post(browser, "/accounts/register/", {**REGISTRATION, "action": "send_code"})
    assert again.status_code == 429
    assert again["Retry-After"] == "40"
    assert numbers_whole("同一手机号每60秒只能获取一次") in text(again)
    assert numbers_whole("请40秒后再获取。") in text(again)  # the wait kept whole (60秒, 40秒)
    assert 'data-code-wait="40"' in send_button(again)
    assert 'data-code-wait-field="phone"' in send_button(again)
    assert "web/code-wait.js" in text(again) and "page_label.code_wait_seconds" in text(again)
    assert f'value="{PHONE}"' in text(again)
    assert SmsMessage.objects.count() == 1


def test_the_wait_is_the_sendings_only(clock: Clock, browser: Client, registered: User) -> None:
    """On the SMS login's tab, a login's code sent (no wait to count down), then too many
    wrong codes: their 429 stops the login, not the sending (the button has no wait)."""
    sms = {"tab": "sms", "phone": PHONE}
    sent = post(browser, "/accounts/login/", {**sms, "action": "send_code"})
    assert sent.status_code == 200 and "data-code-wait=" not in send_button(sent)
    for _ in range(5):
        post(browser, "/accounts/login/", {**sms, "action": "login", "code": "000000"})
    stopped = post(browser, "/accounts/login/", {**sms, "action": "login", "code": "000000"})
    assert stopped.status_code == 429 and stopped["Retry-After"]
    assert "data-code-wait=" not in send_button(stopped)
    clock.advance(30)
    soon = post(browser, "/accounts/login/", {**sms, "action": "send_code"})
    assert soon.status_code == 429 and 'data-code-wait="30"' in send_button(soon)


def test_password_login_page(clock: Clock, browser: Client, registered: User) -> None:
    unknown = post(browser, "/accounts/login/", {"username": OTHER_PHONE, "password": PASSWORD})
    wrong = post(browser, "/accounts/login/", {"username": PHONE, "password": "wrong-pass"})
    assert unknown.status_code == wrong.status_code == 403

    def error(response) -> str:  # type: ignore[no-untyped-def]
        found = re.search(r'id="form-error">([^<]*)<', text(response))
        assert found is not None
        return found.group(1)

    assert error(unknown) == error(wrong) == "账号或密码不正确。"
    ok = post(
        browser,
        "/accounts/login/?next=/my/",
        {"username": PHONE, "password": PASSWORD, "next": "/my/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/my/"
    assert browser.get("/accounts/profile/").status_code == 200


def test_a_disabled_account_is_shown_the_way_to_contact_us(
    clock: Clock, browser: Client, registered: User
) -> None:
    """Logged in when a clerk disowned its registration, the next page is the login, whose
    right password said 账号或密码不正确 (12-06): now the refusal says the account is disabled and
    links 联系客服 to 联系我们 (the service points and hours)."""
    post(browser, "/accounts/login/", {"username": PHONE, "password": PASSWORD})
    User.objects.filter(pk=registered.pk).update(is_active=False)
    gone = browser.get("/hall/")
    assert gone.status_code == 302 and gone["Location"].startswith("/accounts/login/")
    page = post(browser, "/accounts/login/", {"username": PHONE, "password": PASSWORD})
    assert page.status_code == 403
    refusal = re.search(r'id="form-error">(.*?)</p>', text(page))
    assert refusal is not None and "账户已停用" in refusal.group(1)
    assert '<a href="/contact/" class="contact-us">联系客服</a>' in refusal.group(1)
    assert browser.get("/contact/").status_code == 200


def test_login_never_redirects_elsewhere(clock: Clock, browser: Client, registered: User) -> None:
    ok = post(
        browser,
        "/accounts/login/",
        {"username": PHONE, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/accounts/profile/"


def test_sms_login_page(clock: Clock, browser: Client, registered: User) -> None:
    sent = post(browser, "/accounts/login/", {"tab": "sms", "phone": PHONE, "action": "send_code"})
    assert sent.status_code == 200 and "验证码已发送" in text(sent)
    assert 'value="13800138000"' in text(sent)
    bad = post(browser, "/accounts/login/", {"tab": "sms", "phone": PHONE, "code": "12"})
    assert bad.status_code == 403 and "手机号或验证码不正确" in text(bad)
    ok = post(browser, "/accounts/login/", {"tab": "sms", "phone": PHONE, "code": last_code()})
    assert ok.status_code == 302 and ok["Location"] == "/accounts/profile/"


def test_logout(clock: Clock, browser: Client, registered: User) -> None:
    post(browser, "/accounts/login/", {"username": PHONE, "password": PASSWORD})
    assert browser.get("/accounts/profile/").status_code == 200
    out = post(browser, "/accounts/logout/", {}, csrf=False)
    assert out.status_code == 403  # without the token the session stays
    profile = browser.get("/accounts/profile/")
    token_value = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', profile.content)
    assert token_value is not None
    out = browser.post("/accounts/logout/", {"csrfmiddlewaretoken": token_value.group(1).decode()})
    assert out.status_code == 302
    gone = browser.get("/accounts/profile/")
    assert gone.status_code == 302 and gone["Location"].startswith("/accounts/login/")


def test_handlers_page(clock: Clock, browser: Client, registered: User) -> None:
    post(browser, "/accounts/login/", {"username": PHONE, "password": PASSWORD})
    for form, message in [
        ({"id_number": RESIDENT_ID[:-1] + "1"}, "身份证号码校验位不正确"),
        ({"phone": "1234"}, "请输入正确的11位中国大陆手机号码"),
        ({"name": ""}, "请填写经办人姓名"),
        ({"id_kind": "passport", "id_number": "E1"}, "护照号码格式不正确"),
    ]:
        data = {"name": "王五", "id_kind": "resident_id", "id_number": RESIDENT_ID}
        data["phone"] = OTHER_PHONE
        data.update(form)
        bad = post(browser, "/accounts/handlers/", data)
        assert bad.status_code == 400
        assert message in text(bad)
        assert f'value="{data["id_number"]}"' in text(bad)  # the form as typed
    assert not Handler.objects.exists()
    added = post(
        browser,
        "/accounts/handlers/",
        {
            "name": "王五",
            "id_kind": "resident_id",
            "id_number": RESIDENT_ID.lower(),
            "phone": OTHER_PHONE,
        },
    )
    assert added.status_code == 302
    handler = Handler.objects.get()
    assert (handler.organization, handler.id_number, handler.phone) == (
        registered.organization,
        RESIDENT_ID,
        OTHER_PHONE,
    )
    page = text(browser.get("/accounts/handlers/"))
    assert "已登记经办人：王五" in page
    assert "1101**********002X" in page and RESIDENT_ID not in page  # masked
    assert "139****9000" in page


def test_an_applicant_never_sees_another_organisations_handlers(
    clock: Clock, browser: Client, registered: User
) -> None:
    other = Organization.objects.create(name="别家公司", uscc=OTHER_USCC)
    Handler.objects.create(
        organization=other,
        name="别家经办人",
        id_kind="passport",
        id_number="E99999999",
        phone=PHONE,
    )
    post(browser, "/accounts/login/", {"username": PHONE, "password": PASSWORD})
    for path in (
        "/accounts/profile/",
        "/accounts/handlers/",
        f"/accounts/handlers/?organization_id={other.pk}",
    ):
        page = text(browser.get(path))
        assert "别家经办人" not in page and "E999" not in page


def test_pages_need_a_session(browser: Client) -> None:
    for path in ("/accounts/profile/", "/accounts/handlers/"):
        response = browser.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


def test_staff_profile(clock: Clock, browser: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user(Role.CLERK)
    clerk.set_password(PASSWORD)
    clerk.save()
    post(browser, "/accounts/login/", {"username": clerk.username, "password": PASSWORD})
    page = text(browser.get("/accounts/profile/"))
    assert "工作人员账户" in page and "受理员" in page
    handlers = text(browser.get("/accounts/handlers/"))
    assert "只有单位账户可以登记经办人" in handlers
