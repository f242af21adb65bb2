"""Registration: the happy path, each bad input, the SMS code, and organisations that already
have an account."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certhall.accounts.models import EnterpriseAccount, Handler, Organization, Role, User
from certhall.accounts.registration import register
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, InvalidInput, TooManyRequests
from tests.accounts.conftest import (
    CLIENT,
    OTHER_PHONE,
    OTHER_USCC,
    PASSWORD,
    PHONE,
    USCC,
    Clock,
    registration,
)

pytestmark = pytest.mark.django_db


def test_register(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    user = register(
        registration(
            code=code,
            uscc=USCC.lower()[:6] + " " + USCC.lower()[6:],  # as people type it
            phone="+86 138-0013-8000",
            email="li.si@example.com",
        ),
        client=CLIENT,
    )
    user.refresh_from_db()
    assert (user.username, user.role, user.phone, user.email) == (
        PHONE,
        Role.APPLICANT,
        PHONE,
        "li.si@example.com",
    )
    assert user.check_password(PASSWORD)
    assert PASSWORD not in user.password
    org = user.organization
    assert org is not None
    assert (org.name, org.uscc, org.legal_representative) == (
        "深圳市测试医疗器械有限公司",
        USCC,
        "李四",
    )
    assert org.licence_unchecked  # a claim until its licence is seen (accounts.licence)
    account = EnterpriseAccount.objects.get(user=user)
    assert (account.phone, account.organization, account.registered_from) == (PHONE, org, CLIENT)
    actions = list(
        AuditEvent.objects.filter(actor_id=user.pk).order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["accounts.organization.create", "accounts.register"]
    event = AuditEvent.objects.get(action="accounts.register")
    assert event.after["phone"] == "138****8000"
    assert PASSWORD not in str(event.after) and code not in str(event.after)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organization_name", "  ", "请填写单位名称"),
        ("organization_name", "公" * 65, "单位名称最多64个字"),
        # what the CA could not certify is refused here, before anything is paid (issue 8)
        (
            "organization_name",
            "深圳市\u202e司公限有",
            "单位名称的第4个字符（U+202E）是文字方向控制符",
        ),
        ("organization_name", "深圳市医疗\x00有限公司", "是空字符（NUL），不能使用"),
        (
            "legal_representative",
            "张\u200f三",
            "法定代表人姓名的第2个字符（U+200F）是文字方向控制符",
        ),
        ("legal_representative", "张" * 65, "法定代表人姓名最多64个字"),
        ("uscc", "", "请填写统一社会信用代码"),
        ("uscc", USCC[:17], "应为18位"),
        ("uscc", USCC[:-1] + ("0" if USCC[-1] != "0" else "1"), "校验位不正确"),
        ("uscc", "91440300MA5G8B3LI9", "不会出现在信用代码中"),
        ("legal_representative", "", "请填写法定代表人姓名"),
        ("phone", "12345678901", "11位中国大陆手机号码"),
        ("phone", "0755-12345678", "11位中国大陆手机号码"),
        ("email", "li.si@", "电子邮箱格式不正确"),
        ("password", "Ab1-xyz", "至少要包含 8 个字符"),
        ("password", "83920571640", "密码只包含数字"),
        ("password", "password123", "太常见"),
    ],
)
def test_bad_input_is_refused_before_the_code_is_used(
    clock: Clock, send_code: Callable[..., str], field: str, value: str, message: str
) -> None:
    code = send_code()
    changes = {field: value, "code": code}
    if field == "password":
        changes["password_again"] = value
    with pytest.raises(InvalidInput) as refused:
        register(registration(**changes), client=CLIENT)
    assert message in refused.value.message
    assert not User.objects.filter(role=Role.APPLICANT).exists()
    assert not Organization.objects.exists()
    # the code is still good for the corrected form
    register(registration(code=code), client=CLIENT)


def test_passwords_must_match(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    with pytest.raises(InvalidInput, match="两次输入的密码不一致"):
        register(registration(code=code, password_again=PASSWORD + "x"), client=CLIENT)


def test_wrong_code(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(InvalidInput) as refused:
        register(registration(code=wrong), client=CLIENT)
    assert refused.value.code == "code_wrong"
    assert refused.value.message == "验证码不正确，请核对或重新获取。"
    assert not Organization.objects.exists()
    event = AuditEvent.objects.get(action="accounts.register")
    assert event.result == "refused" and event.after["error"] == "code_wrong"
    # every refused registration says from where, as the refused logins do
    assert (event.object_id, event.after["client"]) == (USCC, CLIENT)


def test_expired_code(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    clock.advance(300)
    with pytest.raises(InvalidInput) as refused:
        register(registration(code=code), client=CLIENT)
    assert refused.value.code == "code_expired"
    assert "已过期" in refused.value.message
    assert not Organization.objects.exists()


def test_reused_code(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    register(registration(code=code), client=CLIENT)
    with pytest.raises(InvalidInput) as refused:
        register(registration(code=code, uscc=OTHER_USCC), client=CLIENT)
    assert refused.value.code == "code_used"
    assert Organization.objects.count() == 1


def test_no_code_requested(clock: Clock) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(registration(code="123456"), client=CLIENT)
    assert refused.value.code == "code_missing"


def test_wrong_codes_are_limited_per_phone(clock: Clock, send_code: Callable[..., str]) -> None:
    for guesses in (3, 2):  # a code dies after three wrong (codes.GUESSES_PER_CODE): a new one
        clock.advance(60)
        code = send_code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(guesses):
            with pytest.raises(InvalidInput):
                register(registration(code=wrong), client=CLIENT)
    with pytest.raises(TooManyRequests) as refused:
        register(registration(code=code), client=CLIENT)  # even the right one, for now
    assert "验证码错误次数过多" in refused.value.message
    with pytest.raises(TooManyRequests):
        register(registration(code=code), client=CLIENT)
    limited = AuditEvent.objects.filter(action="accounts.register", after__error="rate_limited")
    assert limited.count() == 1  # once per window, not per refused request
    clock.advance(900)  # the window moved on (and the code expired meanwhile): a new code works
    register(registration(code=send_code()), client=CLIENT)


def test_a_registered_uscc_is_refused(
    clock: Clock, registered: User, send_code: Callable[..., str]
) -> None:
    code = send_code(OTHER_PHONE)
    with pytest.raises(Conflict) as refused:
        register(registration(code=code, phone=OTHER_PHONE), client=CLIENT)
    assert refused.value.code == "already_registered"
    assert "已注册网上营业厅账户，请直接登录" in refused.value.message
    assert "受理点" in refused.value.message
    assert User.objects.filter(role=Role.APPLICANT).count() == 1
    # the code was not used up by the refusal
    register(registration(code=code, phone=OTHER_PHONE, uscc=OTHER_USCC), client=CLIENT)


def test_an_organisation_with_a_certificate_account_is_refused(
    clock: Clock, make_user, send_code: Callable[..., str]
) -> None:  # type: ignore[no-untyped-def]
    holder = make_user(Role.APPLICANT)  # e.g. created by a certificate login
    code = send_code()
    with pytest.raises(Conflict, match="已注册"):
        register(registration(code=code, uscc=holder.organization.uscc), client=CLIENT)


def test_a_phone_registers_once(
    clock: Clock, registered: User, send_code: Callable[..., str]
) -> None:
    code = send_code()
    with pytest.raises(Conflict) as refused:
        register(registration(code=code, uscc=OTHER_USCC), client=CLIENT)
    assert refused.value.code == "phone_registered"
    assert "该手机号已注册" in refused.value.message


def test_a_handler_claims_an_organisation_the_counter_entered(
    clock: Clock, send_code: Callable[..., str]
) -> None:
    org = Organization.objects.create(name="柜台登记的公司", uscc=USCC, legal_representative="王五")
    Handler.objects.create(
        organization=org, name="赵六", id_kind="passport", id_number="E12345678", phone=PHONE
    )
    stranger_code = send_code(OTHER_PHONE)
    with pytest.raises(Conflict, match="已注册"):  # not a handler: refused like any other
        register(registration(code=stranger_code, phone=OTHER_PHONE), client=CLIENT)
    code = send_code()
    user = register(registration(code=code, organization_name="别的名字"), client=CLIENT)
    assert user.organization == org
    org.refresh_from_db()
    assert (org.name, org.legal_representative) == ("柜台登记的公司", "王五")  # kept
    event = AuditEvent.objects.get(action="accounts.register", result="ok")
    assert event.after["claimed_existing_organization"] is True
    assert not AuditEvent.objects.filter(action="accounts.organization.create").exists()


def test_a_disowned_registration_no_longer_holds_the_organisation(
    clock: Clock, registered: User, send_code: Callable[..., str]
) -> None:
    """The counter found the registration was another enterprise's and disowned it: the real
    enterprise's handler may now register (the handler's phone proves it, as for any
    organisation the counter entered); the disowned account cannot log in."""
    from certhall.accounts import licence
    from certhall.accounts.services import home_provider

    org = registered.organization
    assert org is not None
    clerk = User.objects.create(username="clerk", role=Role.CLERK, provider=home_provider())
    licence.check_at_counter(
        clerk, org.pk, name="深圳市真实公司", legal_representative="", disown_registration=True
    )
    Handler.objects.create(
        organization=org, name="赵六", id_kind="passport", id_number="E12345678", phone=OTHER_PHONE
    )
    code = send_code(OTHER_PHONE)
    user = register(registration(code=code, phone=OTHER_PHONE), client=CLIENT)
    assert user.organization == org and user.is_active
    registered.refresh_from_db()
    assert not registered.is_active
    org.refresh_from_db()
    assert org.name == "深圳市真实公司" and not org.licence_unchecked
