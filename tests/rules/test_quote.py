"""quote() and enforce(): every rule of seed 001 as a table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from certhall.errors import InvalidInput
from certhall.rules import (
    SHANGHAI,
    Business,
    Catalog,
    CertType,
    quote,
)
from tests.rules.conftest import (
    MAKEUP_SATURDAY,
    MAKEUP_SUNDAY,
    MONDAY,
    NATIONAL_DAY,
    ODC_NEW_FEE,
    ODC_RENEW_FEE,
    ONLY_PERSONAL_ONLINE,
    PERSONAL_FEE,
    SATURDAY,
    SPRING_FESTIVAL,
    SUNDAY,
    WEEKEND_WORDS,
    onsite,
    sh,
)

NO_TERM = ["change", "unlock", "replace", "revoke"]
ALL = [b.value for b in Business]


# --- fees: every business x certificate type x term ------------------------------------------

FEES: list[tuple[str, str, int | None, int]] = [
    ("new", "org", 1, 300),
    ("new", "org", None, 300),  # 1 year is the only term: the default
    *[("new", "personal", years, 150 * years) for years in range(1, 6)],
    ("renew", "org", 1, 0),
    ("renew", "org", None, 0),
    *[("renew", "personal", years, 150 * years) for years in range(1, 6)],
    ("change", "org", None, 0),
    ("change", "personal", None, 0),
    ("unlock", "org", None, 0),
    ("unlock", "personal", None, 0),
    ("replace", "org", None, 120),
    ("replace", "personal", None, 50),
    ("revoke", "org", None, 0),
    ("revoke", "personal", None, 0),
]


@pytest.mark.parametrize(("business", "cert", "years", "fee"), FEES)
def test_fees(business: str, cert: str, years: int | None, fee: int) -> None:
    answer = onsite(business, cert, years)
    assert answer.allowed, answer.reasons
    assert answer.reasons == ()
    assert answer.fee_yuan == Decimal(fee)
    assert answer.as_json()["fee_yuan"] == fee
    assert (answer.payee is not None) is (fee > 0)
    expected_years = years if years is not None else (1 if business in ("new", "renew") else None)
    assert answer.years == expected_years


def test_every_business_and_type_is_in_the_table(catalog: Catalog) -> None:
    assert {(b, c) for b, c, _, _ in FEES} == {
        (b.value, c.value) for b in Business for c in CertType
    }
    for business in Business:
        for cert in CertType:
            assert catalog.offer(business, cert).fee_text


def test_fee_texts_are_the_seed_lines() -> None:
    assert onsite("new", "org").fee_text == ODC_NEW_FEE
    assert onsite("new", "personal", 1).fee_text == PERSONAL_FEE
    assert onsite("renew", "org").fee_text == ODC_RENEW_FEE
    assert onsite("change", "personal").fee_text == (
        "机构个人证书(法人证书):免费(若法人变更,则按新申请流程办理新法人证书)"
    )
    assert onsite("replace", "org").fee_text == "机构证书(ODC证书):120元/个"
    assert onsite("replace", "personal").fee_text == "机构个人证书(法人证书):50元/个"
    assert onsite("unlock", "org").fee_text == "免费"


def test_bank_transfer_payee() -> None:
    payee = onsite("new", "org").payee
    assert payee is not None
    assert (payee.company, payee.bank, payee.account) == (
        "深圳市电子商务安全证书管理有限公司",
        "平安银行深圳高新技术区支行",
        "154 739 697 600 74",
    )


# --- terms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("business", "cert", "years", "words"),
    [
        ("new", "org", 2, ODC_NEW_FEE),
        ("new", "org", 5, ODC_NEW_FEE),
        ("renew", "org", 2, ODC_RENEW_FEE),
        ("new", "personal", 6, PERSONAL_FEE),
        ("renew", "personal", 6, PERSONAL_FEE),
        ("new", "personal", 10, PERSONAL_FEE),
    ],
)
def test_terms_refused(business: str, cert: str, years: int, words: str) -> None:
    answer = onsite(business, cert, years)
    assert not answer.allowed
    assert answer.reasons == (words,)
    assert [r.rule for r in answer.refusals] == ["term"]
    assert f"{years} 年期" in answer.refusals[0].detail


@pytest.mark.parametrize(
    ("business", "cert", "years", "message"),
    [
        ("new", "personal", None, "的年限（1-5年）"),  # 1-5: no silent default
        ("renew", "personal", None, "的年限（1-5年）"),
        ("new", "personal", 0, "年限须为不小于1的整数"),
        ("new", "org", -1, "年限须为不小于1的整数"),
        *[(b, "org", 1, "办理年限只适用于新办和续期") for b in NO_TERM],
        *[(b, "personal", 3, "办理年限只适用于新办和续期") for b in NO_TERM],
    ],
)
def test_terms_malformed(business: str, cert: str, years: int | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        onsite(business, cert, years)


# --- channels --------------------------------------------------------------------------------

IN_WINDOW = MONDAY.date() + timedelta(days=30)  # an expiry inside the online renewal window


@pytest.mark.parametrize(
    ("business", "cert", "words"),
    [
        ("new", "org", ONLY_PERSONAL_ONLINE),
        ("new", "personal", None),
        ("renew", "org", None),
        ("renew", "personal", None),
        *[
            (b, c, f"{n} 办理途径:现场办理")
            for b, n in [
                ("change", "变更"),
                ("unlock", "解锁"),
                ("replace", "介质补办"),
                ("revoke", "吊销"),
            ]
            for c in ("org", "personal")
        ],
    ],
)
def test_online_channel(business: str, cert: str, words: str | None) -> None:
    years = 1 if business in ("new", "renew") else None
    expiry = IN_WINDOW if business == "renew" else None
    answer = quote(business, cert, years=years, channel="online", at=MONDAY, cert_expiry=expiry)
    if words is None:
        assert answer.allowed, answer.reasons
    else:
        assert answer.reasons == (words,)
        assert [r.rule for r in answer.refusals] == ["channel"]
        assert "网上营业厅" in answer.refusals[0].detail


@pytest.mark.parametrize("business", ALL)
@pytest.mark.parametrize("cert", ["org", "personal"])
@pytest.mark.parametrize("point", ["kejiyuan", "longgang-hall", "longgang"])
def test_onsite_everything_allowed_on_a_monday_morning(
    business: str, cert: str, point: str
) -> None:
    years = 1 if business in ("new", "renew") else None
    assert onsite(business, cert, years, point=point).allowed


def test_online_has_no_opening_hours() -> None:
    """The online hall takes applications at night, on weekends and on holidays."""
    for at in (sh(2026, 11, 23, 3), SATURDAY, SUNDAY, SPRING_FESTIVAL, NATIONAL_DAY):
        assert quote("new", "personal", years=1, channel="online", at=at).allowed
        assert quote(
            "renew", "org", channel="online", at=at, cert_expiry=at.date() + timedelta(days=10)
        ).allowed


def test_point_required_onsite_and_refused_online() -> None:
    with pytest.raises(InvalidInput, match="须选择受理点"):
        quote("unlock", "org", channel="onsite", at=MONDAY)
    with pytest.raises(InvalidInput, match="只适用于现场办理"):
        quote("new", "personal", years=1, channel="online", point="kejiyuan", at=MONDAY)


@pytest.mark.parametrize("slug", ["nanshan", "KEJIYUAN", "", "longgang hall"])
def test_unknown_service_point(slug: str) -> None:
    with pytest.raises(InvalidInput, match="未知的受理点") as caught:
        onsite("unlock", "org", point=slug)
    assert "kejiyuan, longgang-hall, longgang" in str(caught.value)


@pytest.mark.parametrize(
    ("business", "cert", "channel", "message"),
    [
        ("renewal", "org", "onsite", "未知的业务类型"),
        ("new", "odc", "onsite", "未知的证书类型"),
        ("new", "org", "post", "未知的办理渠道"),
    ],
)
def test_unknown_names(business: str, cert: str, channel: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        quote(business, cert, channel=channel, point="kejiyuan", at=MONDAY)


def test_naive_datetime_refused() -> None:
    with pytest.raises(InvalidInput, match="没有时区"):
        onsite("unlock", "org", at=datetime(2026, 11, 23, 10, 0))


# --- weekend rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("business", ALL)
@pytest.mark.parametrize("moment", [SATURDAY, SUNDAY])
def test_no_org_business_on_weekends_at_kejiyuan(business: str, moment: datetime) -> None:
    answer = onsite(business, "org", at=moment)
    assert answer.reasons == (WEEKEND_WORDS,)
    assert [r.rule for r in answer.refusals] == ["weekend"]


@pytest.mark.parametrize("business", ALL)
@pytest.mark.parametrize("moment", [SATURDAY, SUNDAY])
def test_personal_business_as_usual_on_weekends_at_kejiyuan(
    business: str, moment: datetime
) -> None:
    years = 2 if business in ("new", "renew") else None
    assert onsite(business, "personal", years, at=moment).allowed


@pytest.mark.parametrize("point", ["longgang-hall", "longgang"])
@pytest.mark.parametrize("moment", [SATURDAY, SUNDAY])
def test_longgang_points_closed_on_weekends(point: str, moment: datetime) -> None:
    personal = onsite("unlock", "personal", point=point, at=moment)
    assert [r.rule for r in personal.refusals] == ["closed_day"]
    assert personal.reasons[0].endswith("周六日及法定节假日休息")
    org = onsite("unlock", "org", point=point, at=moment)
    assert [r.rule for r in org.refusals] == ["closed_day", "weekend"]
    assert org.reasons[1] == WEEKEND_WORDS


@pytest.mark.parametrize("moment", [MAKEUP_SATURDAY, MAKEUP_SUNDAY])
@pytest.mark.parametrize("point", ["kejiyuan", "longgang-hall", "longgang"])
def test_makeup_working_weekend_days_allow_org_business(moment: datetime, point: str) -> None:
    """Decision: a 调休 Saturday/Sunday is a working day, not 周末 (docs/rules.md)."""
    assert onsite("new", "org", point=point, at=moment).allowed
    assert onsite("unlock", "personal", point=point, at=moment).allowed


def test_weekend_rule_is_onsite_only() -> None:
    answer = quote("renew", "org", channel="online", at=SATURDAY, cert_expiry=SATURDAY.date())
    assert answer.allowed


# --- opening hours and holidays --------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "clock", "allowed"),
    [
        ("kejiyuan", (8, 59), False),
        ("kejiyuan", (9, 0), True),
        ("kejiyuan", (11, 59), True),
        ("kejiyuan", (12, 0), False),
        ("kejiyuan", (13, 29), False),
        ("kejiyuan", (13, 30), True),
        ("kejiyuan", (17, 59), True),
        ("kejiyuan", (18, 0), False),
        ("longgang-hall", (13, 30), False),
        ("longgang-hall", (13, 59), False),
        ("longgang-hall", (14, 0), True),
        ("longgang", (13, 30), True),
        ("longgang", (18, 0), False),
    ],
)
def test_hours(point: str, clock: tuple[int, int], allowed: bool) -> None:
    answer = onsite("unlock", "personal", point=point, at=sh(2026, 11, 23, *clock))
    assert answer.allowed is allowed
    if not allowed:
        assert [r.rule for r in answer.refusals] == ["hours"]
        assert "服务时间" in answer.reasons[0]


@pytest.mark.parametrize("moment", [SPRING_FESTIVAL, NATIONAL_DAY, sh(2026, 2, 15)])
@pytest.mark.parametrize("point", ["kejiyuan", "longgang-hall", "longgang"])
def test_statutory_holidays_refused(moment: datetime, point: str) -> None:
    answer = onsite("unlock", "personal", point=point, at=moment)
    assert [r.rule for r in answer.refusals] == ["statutory_holiday"]
    assert "法定节假日休息" in answer.reasons[0]


def test_hours_words_quote_the_point() -> None:
    answer = onsite("unlock", "personal", point="longgang-hall", at=sh(2026, 11, 23, 13, 45))
    assert answer.reasons == (
        "龙岗行政服务大厅受理点 服务时间:周一至周五:9:00-12:00,14:00-18:00  周六日及法定节假日休息",
    )


def test_every_refusing_rule_is_reported() -> None:
    answer = onsite("new", "org", 2, point="longgang", at=SATURDAY)
    assert [r.rule for r in answer.refusals] == ["term", "closed_day", "weekend"]


# --- online renewal window (the decision) --------------------------------------------

TODAY = MONDAY.date()  # 2026-11-23


@pytest.mark.parametrize(
    ("expiry", "rule"),
    [
        (TODAY + timedelta(days=120), "renewal_too_early"),
        (TODAY + timedelta(days=91), "renewal_too_early"),
        (TODAY + timedelta(days=90), None),  # exactly 90 days before expiry: window opens
        (TODAY + timedelta(days=89), None),
        (TODAY + timedelta(days=1), None),
        (TODAY, None),  # the expiry day itself
        (TODAY - timedelta(days=1), "renewal_expired"),  # the day after expiry
        (TODAY - timedelta(days=400), "renewal_expired"),
    ],
)
@pytest.mark.parametrize("cert", ["org", "personal"])
def test_online_renewal_window(expiry: date, rule: str | None, cert: str) -> None:
    answer = quote("renew", cert, years=1, channel="online", at=MONDAY, cert_expiry=expiry)
    assert [r.rule for r in answer.refusals] == ([rule] if rule else [])
    if rule == "renewal_too_early":
        assert answer.reasons == ("网厅续期须在证书到期前90天内办理",)
        assert (expiry - timedelta(days=90)).isoformat() in answer.refusals[0].detail
    if rule == "renewal_expired":
        assert answer.reasons == ("证书已过期的,须至受理点现场办理续期",)


def test_window_edges_use_shanghai_dates() -> None:
    expiry = date(2026, 11, 22)
    # 15:59 UTC on 11-22 is 23:59 on 11-22 in Shenzhen: still the expiry day
    before = datetime(2026, 11, 22, 15, 59, tzinfo=UTC)
    assert quote("renew", "org", channel="online", at=before, cert_expiry=expiry).allowed
    # 16:30 UTC on 11-22 is 00:30 on 11-23 in Shenzhen: the certificate has expired
    after = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    answer = quote("renew", "org", channel="online", at=after, cert_expiry=expiry)
    assert [r.rule for r in answer.refusals] == ["renewal_expired"]


def test_with_the_certificates_end_moment_its_last_day_is_open_until_that_moment() -> None:
    """A certificate ending at 10:00 on 2027-01-01 renews online at 09:59, not at 10:00."""
    ends = datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI)
    before = quote(
        "renew", "org", channel="online", at=ends - timedelta(minutes=1), cert_expiry=ends
    )
    assert before.allowed
    for moment in (ends, ends + timedelta(hours=13, minutes=59)):  # until 23:59 that day
        answer = quote("renew", "org", channel="online", at=moment, cert_expiry=ends)
        assert [r.rule for r in answer.refusals] == ["renewal_expired"]
        assert "2027-01-01" in answer.refusals[0].detail


@pytest.mark.parametrize("expiry", [TODAY - timedelta(days=30), TODAY + timedelta(days=200)])
def test_onsite_renewal_has_no_window(expiry: date) -> None:
    """Expired certificates are renewed on site; the seed sets no window at the counter."""
    assert onsite("renew", "personal", 1, cert_expiry=expiry).allowed
    assert onsite("renew", "org", cert_expiry=expiry).allowed


def test_online_renewal_needs_the_expiry() -> None:
    with pytest.raises(InvalidInput, match="原证书的到期日期"):
        quote("renew", "personal", years=1, channel="online", at=MONDAY)


# --- documents, notes, processing, delivery --------------------------------------------------

BASE_ORG = ["org_form", "licence_copy", "legal_rep_id_copy", "handler_id_copy"]
BASE_PERSONAL = [
    "personal_form",
    "personal_annex",
    "licence_copy",
    "legal_rep_id_copy",
    "handler_id_copy",
]


@pytest.mark.parametrize(
    ("business", "with_ukey"),
    [
        ("new", False),
        ("renew", True),
        ("change", True),
        ("unlock", True),
        ("replace", False),  # the Ukey is lost or broken
        ("revoke", False),
    ],
)
def test_documents_onsite(business: str, with_ukey: bool) -> None:
    years = 1 if business in ("new", "renew") else None
    extra = ["ukey"] if with_ukey else []
    for cert, base in (("org", BASE_ORG), ("personal", BASE_PERSONAL)):
        answer = onsite(business, cert, years)
        assert [d.id for d in answer.documents] == base + extra


def test_document_wording_and_flags() -> None:
    docs = {d.id: d for d in onsite("new", "personal", 1).documents}
    assert docs["personal_form"].text == (
        "《机构数字证书申请表》(含申请表两联,服务协议两联,个人信息授权书一联)"
    )
    assert docs["personal_annex"].text == "《机构个人数字证书附页》"
    assert docs["legal_rep_id_copy"].text == "法人有效身份证复印件一份(正反两面复印在同一张A4纸)"
    shared = {d.id for d in docs.values() if d.shared_when_both_types}
    assert shared == {"licence_copy", "legal_rep_id_copy", "handler_id_copy"}  # 注3
    originals = {d.id for d in docs.values() if d.original_checked_onsite}
    assert originals == {"licence_copy", "handler_id_copy"}  # 注2
    org_form = onsite("new", "org").documents[0]
    assert org_form.text == "《单位数字证书申请表》一份(含个人信息授权书)"


def test_notes() -> None:
    seal = "注1:以上资料均须加盖单位公章"
    originals = "注2:现场办理时:营业执照、经办人身份证须核验原件收复印件"
    once = (
        "注3:若同时办理机构证书及机构个人证书,"
        "营业执照复印件、法人身份证复印件及经办人身份证复印件只需提供一份"
    )
    here = onsite("new", "org").notes
    assert (seal in here, originals in here, once in here) == (True, True, True)
    online = quote("new", "personal", years=1, channel="online", at=MONDAY).notes
    # all three, numbered as the seed does: 注2 names 现场办理 itself (no 注1/注3 without 注2)
    assert (seal in online, originals in online, once in online) == (True, True, True)
    assert "证书密码将会通过短信方式告知经办人" in online
    assert "若法人变更,则按新申请流程办理新法人证书" in onsite("change", "personal").notes
    assert "若法人变更,则按新申请流程办理新法人证书" not in onsite("change", "org").notes


def test_online_renewal_keeps_the_ukey() -> None:
    answer = quote("renew", "org", channel="online", at=MONDAY, cert_expiry=IN_WINDOW)
    assert [d.id for d in answer.documents] == BASE_ORG
    assert answer.delivery is not None
    assert answer.delivery.method == "online_update"


def test_mailed_ukey_postage_is_not_in_the_fee() -> None:
    answer = quote("new", "personal", years=2, channel="online", at=MONDAY)
    assert answer.fee_yuan == 300
    assert answer.delivery is not None
    assert answer.delivery.method == "mail"
    assert answer.delivery.postage_paid_by_customer
    assert "邮费自付" in answer.delivery.text
    assert onsite("new", "personal", 2).delivery.method == "pickup"


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (sh(2026, 2, 13, 20), date(2026, 2, 25)),  # Friday evening before 春节
        (SPRING_FESTIVAL, date(2026, 2, 26)),  # applied during 春节
        (sh(2026, 9, 30, 9), date(2026, 10, 10)),  # before 国庆节, due on the 调休 Saturday
        (MONDAY, date(2026, 11, 26)),
    ],
)
def test_online_processing_is_three_working_days(at: datetime, due: date) -> None:
    answer = quote("new", "personal", years=1, channel="online", at=at)
    assert (answer.processing.kind, answer.processing.working_days) == ("working_days", 3)
    assert answer.processing.due == due
    assert answer.processing.text == "网厅办理:三个工作日(前提是资料无误)"


def test_onsite_processing_is_same_day() -> None:
    answer = onsite("replace", "org", at=sh(2026, 11, 23, 17, 59))
    assert (answer.processing.kind, answer.processing.due) == ("same_day", date(2026, 11, 23))
    assert answer.processing.text == "现场办理:当天办结(前提是资料无误)"


def test_online_deadline_into_2027_is_provisional() -> None:
    answer = quote("new", "personal", years=1, channel="online", at=sh(2026, 12, 30))
    assert answer.allowed
    assert (answer.processing.due, answer.processing.provisional) == (date(2027, 1, 5), True)
    assert answer.as_json()["processing"]["provisional"] is True  # type: ignore[index]
    before = quote("new", "personal", years=1, channel="online", at=sh(2026, 12, 1))
    assert before.processing.provisional is False
    assert before.as_json()["processing"]["provisional"] is False  # type: ignore[index]


def test_onsite_in_2027_is_quoted() -> None:
    assert onsite("unlock", "personal", at=sh(2027, 3, 1)).allowed  # a Monday
    refused = onsite("unlock", "personal", at=sh(2027, 2, 8))  # 春节 by law
    assert [r.rule for r in refused.refusals] == ["statutory_holiday"]
    assert "春节" in refused.refusals[0].detail


#: Each rule's detail (why it applies), as the catalogue words it (``rule_detail.*``: the rules
#: core wrote its own until 12-07, with half-width "," and "()" and no final 。).
DETAILS = [
    (
        {"business": "new", "cert_type": "personal", "years": 6, "channel": "online"},
        sh(2026, 11, 20, 10, 0),
        "term",
        "申请 6 年期，机构个人证书(法人证书) 可办理 1-5 年期。",
    ),
    (
        {"business": "change", "cert_type": "org", "channel": "online"},
        sh(2026, 11, 20, 10, 0),
        "channel",
        "变更（机构证书(ODC证书)）不能通过网上营业厅办理。",
    ),
    (
        {"business": "new", "cert_type": "org", "channel": "onsite", "point": "kejiyuan"},
        sh(2026, 11, 21, 10, 0),
        "weekend",
        "2026-11-21 是周末。",
    ),
    (
        {"business": "new", "cert_type": "org", "channel": "onsite", "point": "kejiyuan"},
        sh(2026, 11, 20, 12, 30),
        "hours",
        "12:30 不在服务时间 9:00-12:00,13:30-18:00 内。",
    ),
    (
        {"business": "new", "cert_type": "org", "channel": "onsite", "point": "kejiyuan"},
        sh(2026, 10, 1, 10, 0),
        "statutory_holiday",
        "2026-10-01 星期四 为法定节假日（国庆节）。",
    ),
    (
        {"business": "unlock", "cert_type": "org", "channel": "onsite", "point": "longgang-hall"},
        sh(2026, 11, 22, 10, 0),
        "closed_day",
        "2026-11-22 星期日 不是龙岗行政服务大厅受理点的服务日。",
    ),
    (
        {
            "business": "renew",
            "cert_type": "org",
            "channel": "online",
            "cert_expiry": date(2026, 11, 19),
        },
        sh(2026, 11, 20, 10, 0),
        "renewal_expired",
        "证书已于 2026-11-19 到期。",
    ),
    (
        {
            "business": "renew",
            "cert_type": "org",
            "channel": "online",
            "cert_expiry": date(2027, 6, 30),
        },
        sh(2026, 11, 20, 10, 0),
        "renewal_too_early",
        "证书 2027-06-30 到期，网厅续期自 2027-04-01 起可办理。",
    ),
]


@pytest.mark.parametrize(("asked", "at", "rule", "detail"), DETAILS, ids=[d[2] for d in DETAILS])
def test_each_refusal_says_why_in_the_catalogues_words(
    asked: dict[str, object], at: datetime, rule: str, detail: str
) -> None:
    answer = quote(at=at, **asked)  # type: ignore[arg-type]
    details = {refusal.rule: refusal.detail for refusal in answer.refusals}
    assert details.get(rule) == detail, details
