from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import given
from hypothesis import strategies as st

from certhall.errors import InvalidInput
from certhall.pki import profiles
from certhall.pki.profiles import (
    DOCUMENT_SIGNING,
    ORG,
    PERSONAL,
    PROFILES,
    Profile,
    add_years,
    get_profile,
    renewed_until,
    validity,
)

NOW = datetime(2026, 3, 3, 1, 30, 15, 987654, tzinfo=UTC)


def test_registry() -> None:
    assert set(PROFILES) == {"org", "personal"}
    assert get_profile("org") is ORG
    assert get_profile("personal") is PERSONAL
    with pytest.raises(TypeError):
        PROFILES["other"] = ORG  # type: ignore[index]


def test_unknown_profile() -> None:
    with pytest.raises(InvalidInput, match="未知的证书模板“ODC”（可用：org, per"):
        get_profile("ODC")


def test_profile_data() -> None:
    assert (ORG.label_zh, ORG.min_years, ORG.max_years, ORG.requires_person) == (
        "机构证书",
        1,
        1,
        False,
    )
    assert (PERSONAL.label_zh, PERSONAL.min_years, PERSONAL.max_years) == ("机构个人证书", 1, 5)
    assert PERSONAL.requires_person
    for profile in PROFILES.values():
        assert profile.extended_key_usages == (ExtendedKeyUsageOID.CLIENT_AUTH, DOCUMENT_SIGNING)
        assert profile.key_usage == {"digital_signature", "content_commitment"}
    assert DOCUMENT_SIGNING.dotted_string == "1.3.6.1.5.5.7.3.36"


def test_policy_oids_are_distinct_and_portable() -> None:
    oids = [p.policy_oid.dotted_string for p in PROFILES.values()]
    assert len(set(oids)) == len(oids)
    for dotted in oids:
        assert dotted.startswith(profiles.POLICY_ARC + ".")
        # every arc below 2^28, so every relying party (and pkilint) can decode it
        assert all(int(arc) < 2**28 for arc in dotted.split("."))


def test_key_usage_extension() -> None:
    ku = ORG.key_usage_extension()
    assert ku.digital_signature and ku.content_commitment
    assert not (ku.key_encipherment or ku.key_cert_sign or ku.crl_sign or ku.key_agreement)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "org cert"}, "identifier"),
        ({"min_years": 0}, "min_years"),
        ({"min_years": 3, "max_years": 2}, "min_years"),
        ({"extended_key_usages": ()}, "extended key usage"),
        ({"key_usage": frozenset({"digital_signature", "sign_everything"})}, "key usage"),
        ({"key_usage": frozenset()}, "key usage"),
    ],
)
def test_profiles_are_validated_when_defined(changes: dict[str, object], message: str) -> None:
    fields = {
        "name": "test",
        "label_zh": "测试",
        "label_en": "test",
        "min_years": 1,
        "max_years": 2,
        "extended_key_usages": (DOCUMENT_SIGNING,),
        "policy_oid": ORG.policy_oid,
        "requires_person": False,
    }
    fields.update(changes)
    with pytest.raises(ValueError, match=message):
        Profile(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("years", [0, 2, 5, -1])
def test_org_is_exactly_one_year(years: int) -> None:
    with pytest.raises(InvalidInput, match=rf"机构证书 \(org\)只能办理1年期，不能办理{years}年期"):
        validity(ORG, years, NOW)


@pytest.mark.parametrize("years", [0, 6, 10])
def test_personal_is_one_to_five_years(years: int) -> None:
    with pytest.raises(InvalidInput, match=rf"可办理1-5年期，不能办理{years}年期") as info:
        validity(PERSONAL, years, NOW)
    assert info.value.code == "validity_years"


@pytest.mark.parametrize("years", [True, 1.0, "1"])
def test_years_must_be_an_integer(years: object) -> None:
    with pytest.raises(InvalidInput, match="有效年限须为整数年"):
        validity(ORG, years, NOW)  # type: ignore[arg-type]


def test_validity_span_is_exactly_n_years() -> None:
    not_before, not_after = validity(ORG, 1, NOW)
    assert not_before == datetime(2026, 3, 3, 1, 30, 15, tzinfo=UTC)
    assert not_after == datetime(2027, 3, 3, 1, 30, 14, tzinfo=UTC)
    for years in range(1, 6):
        not_before, not_after = validity(PERSONAL, years, NOW)
        assert not_after + timedelta(seconds=1) == not_before.replace(year=2026 + years)


def test_leap_day() -> None:
    leap = datetime(2028, 2, 29, 10, 0, 0, tzinfo=UTC)
    assert validity(ORG, 1, leap)[1] == datetime(2029, 2, 28, 9, 59, 59, tzinfo=UTC)
    assert validity(PERSONAL, 4, leap)[1] == datetime(2032, 2, 29, 9, 59, 59, tzinfo=UTC)
    assert validity(PERSONAL, 3, leap)[1] == datetime(2031, 2, 28, 9, 59, 59, tzinfo=UTC)


def test_a_leap_day_is_a_shanghai_day() -> None:
    """Years are counted on the Shanghai calendar the customer pays in: everything issued on
    2028-02-29 in Shenzhen ends on 2029-02-28, whatever the hour; issued on 2028-03-01, on
    2029-03-01. Before, the years were added to the UTC date, so from 00:00 to 07:59 local (the
    28th in UTC) the 29th ended on 1 March, as the 1st did: two terms a day apart, one end."""
    shanghai = timezone(timedelta(hours=8))
    for hour in (0, 7, 8, 10, 23):
        leap = datetime(2028, 2, 29, hour, 30, tzinfo=shanghai)
        end = validity(ORG, 1, leap)[1].astimezone(shanghai)
        assert end == datetime(2029, 2, 28, hour, 29, 59, tzinfo=shanghai), hour
        assert validity(PERSONAL, 4, leap)[1].astimezone(shanghai).date() == date(2032, 2, 29)
        march = datetime(2028, 3, 1, hour, 30, tzinfo=shanghai)
        assert validity(ORG, 1, march)[1].astimezone(shanghai).date() == date(2029, 3, 1)
        # a renewal kept to an end on the leap day, at that hour
        assert renewed_until(leap, 1, leap - timedelta(days=30)).astimezone(shanghai) == (
            datetime(2029, 2, 28, hour, 30, tzinfo=shanghai)
        )


def test_terms_issued_on_new_years_eve() -> None:
    """1-5 years from 2026-12-31 in Shenzhen (also 2026-12-30 in UTC) end on 2027..2031-12-31."""
    shanghai = timezone(timedelta(hours=8))
    for hour in (7, 17):
        eve = datetime(2026, 12, 31, hour, 0, tzinfo=shanghai)
        for years in range(1, 6):
            end = validity(PERSONAL, years, eve)[1].astimezone(shanghai)
            assert end == datetime(2026 + years, 12, 31, hour - 1, 59, 59, tzinfo=shanghai)


def test_validity_is_in_utc() -> None:
    shenzhen = timezone(timedelta(hours=8))
    local = datetime(2026, 3, 3, 9, 30, 15, 5, tzinfo=shenzhen)
    not_before, _ = validity(ORG, 1, local)
    assert not_before == datetime(2026, 3, 3, 1, 30, 15, tzinfo=UTC)
    assert not_before.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        validity(ORG, 1, datetime(2026, 3, 3))


@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2090, 12, 31)),
    st.integers(min_value=1, max_value=5),
)
def test_add_years_keeps_the_calendar_date(when: datetime, years: int) -> None:
    later = add_years(when, years)
    assert later.year == when.year + years
    assert (later.month, later.hour, later.minute, later.second) == (
        when.month,
        when.hour,
        when.minute,
        when.second,
    )
    if (when.month, when.day) == (2, 29) and later.day != 29:
        assert later.day == 28
    else:
        assert later.day == when.day


# --- renewal keeps what was paid for -------------------------------------------------------

#: The old certificate ends 2028-12-02 15:59:59 UTC (23:59:59 in Shanghai).
OLD_END = datetime(2028, 12, 2, 15, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "years", "end"),
    [
        # the day before expiry: the 2 paid years are added to the old end date
        (datetime(2028, 12, 1, 2, 0, tzinfo=UTC), 2, datetime(2030, 12, 2, 15, 59, 59, tzinfo=UTC)),
        # on the day, before the last second: still added
        (
            datetime(2028, 12, 2, 15, 59, 58, tzinfo=UTC),
            1,
            datetime(2029, 12, 2, 15, 59, 59, tzinfo=UTC),
        ),
        # at the last second it has expired: from now
        (
            datetime(2028, 12, 2, 15, 59, 59, tzinfo=UTC),
            1,
            datetime(2029, 12, 2, 15, 59, 58, tzinfo=UTC),
        ),
        # a month after expiry: from now, nothing to keep
        (datetime(2029, 1, 5, 2, 0, tzinfo=UTC), 3, datetime(2032, 1, 5, 1, 59, 59, tzinfo=UTC)),
        # twenty days early online: the twenty days are not lost
        (
            datetime(2028, 11, 12, 2, 0, tzinfo=UTC),
            1,
            datetime(2029, 12, 2, 15, 59, 59, tzinfo=UTC),
        ),
    ],
)
def test_renewed_until(now: datetime, years: int, end: datetime) -> None:
    assert renewed_until(OLD_END, years, now) == end


def test_renewed_until_a_leap_day_end() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert renewed_until(leap, 1, datetime(2028, 2, 1, tzinfo=UTC)) == datetime(
        2029, 2, 28, 12, 0, tzinfo=UTC
    )


def test_validity_with_an_end_date() -> None:
    now = datetime(2026, 12, 2, 2, 0, 0, 123, tzinfo=UTC)
    profile = get_profile("personal")
    assert validity(profile, 2, now, OLD_END) == (now.replace(microsecond=0), OLD_END)
    assert validity(profile, None, now, OLD_END)[1] == OLD_END  # 变更 / 介质补办: end kept
    with pytest.raises(InvalidInput) as past:
        validity(profile, None, now, now - timedelta(seconds=1))
    assert past.value.code == "validity_end_past"
    with pytest.raises(InvalidInput):
        validity(profile, 6, now, OLD_END)  # the paid years are still checked
    with pytest.raises(InvalidInput):
        validity(profile, None, now)
