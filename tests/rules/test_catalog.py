"""The catalog: the packaged file is valid and says what the seed says; broken files are refused
at load with the JSON path of the problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from certhall.errors import ConfigurationError
from certhall.rules import Business, Catalog, CertType, Channel, default_catalog, load_catalog
from certhall.rules.catalog import Contact, Postage
from certhall.rules.loader import parse_catalog

SEED = Path(__file__).with_name("seed_001.txt")  # copy of seeds/001_f2a442355e11cfcd.txt


def test_packaged_catalog_loads_once(catalog: Catalog) -> None:
    assert catalog is default_catalog()
    assert catalog.schema == 1
    assert catalog.version == "2026.1"
    assert set(catalog.businesses) == set(Business)
    assert all(set(b.offers) == set(CertType) for b in catalog.businesses.values())


def test_raw_fixture_is_valid(raw_catalog: dict[str, Any]) -> None:
    """The mutations below start from a valid catalog, so each one tests one problem."""
    assert parse_catalog(raw_catalog) == default_catalog()


def test_postage_of_a_mailed_ukey(catalog: Catalog) -> None:
    """邮费自付: the seed gives no amount; 12 yuan is the operator's (demo) tariff."""
    assert catalog.postage == Postage(Decimal("12.00"), "Ukey邮寄费（邮费自付）")


def test_the_service_line_is_the_operators(raw_catalog: dict[str, Any]) -> None:
    """Neither seed gives the CA a service phone: the seed-derived catalog has none (and no
    page may invent one); an operator's catalog names it with its hours, or leaves it out."""
    assert default_catalog().contact is None
    raw_catalog["contact"] = {"phone": "0755-26588399", "hours": "周一至周五 9:00-18:00"}
    assert parse_catalog(raw_catalog).contact == Contact("0755-26588399", "周一至周五 9:00-18:00")
    del raw_catalog["contact"]
    assert parse_catalog(raw_catalog).contact is None


def test_cert_types(catalog: Catalog) -> None:
    org, personal = catalog.cert_types[CertType.ORG], catalog.cert_types[CertType.PERSONAL]
    assert (org.name, org.min_years, org.max_years) == ("机构证书(ODC证书)", 1, 1)
    assert (personal.name, personal.min_years, personal.max_years) == (
        "机构个人证书(法人证书)",
        1,
        5,
    )


def test_channels(catalog: Catalog) -> None:
    online = {
        (b.key.value, o.cert_type.value)
        for b in catalog.businesses.values()
        for o in b.offers.values()
        if Channel.ONLINE in o.channels
    }
    assert online == {("new", "personal"), ("renew", "org"), ("renew", "personal")}
    assert all(
        Channel.ONSITE in o.channels for b in catalog.businesses.values() for o in b.offers.values()
    )


def _normalise(text: str) -> str:
    return text.replace("\xa0", " ")


def _seed_quotes(catalog: Catalog) -> list[str]:
    quotes = [catalog.weekend_rule.text, catalog.online_hall_url]
    quotes += [catalog.payee.company, catalog.payee.bank, catalog.payee.account]
    quotes += [p.text for p in catalog.processing.values()]
    quotes += [text for text, _ in catalog.document_notes]
    quotes += [d.text for d in catalog.documents.values()]
    for point in catalog.points:
        quotes += [f"{point.name}:{point.address}", f"服务时间:{point.hours_text}"]
    for business in catalog.businesses.values():
        if business.key is Business.REVOKE:
            continue  # the seed has no 吊销 section (docs/rules.md)
        quotes.append(business.summary)
        for offer in business.offers.values():
            quotes.append(offer.fee_text)
            quotes += list(offer.notes)
        for channel in business.channels.values():
            quotes += [channel.delivery.text, *channel.notes]
    new_org = catalog.offer(Business.NEW, CertType.ORG)
    assert new_org.channel_rule is not None
    quotes.append(new_org.channel_rule)
    return quotes


def test_catalog_quotes_the_seed_verbatim(catalog: Catalog) -> None:
    seed = _normalise(SEED.read_text("utf-8"))
    missing = [quote for quote in _seed_quotes(catalog) if quote not in seed]
    assert missing == []


def test_the_seed_copy_is_the_seed() -> None:
    original = Path("/work/shared/seeds/001_f2a442355e11cfcd.txt")
    if not original.exists():
        pytest.skip("the shared seeds are not on this machine")
    assert SEED.read_bytes() == original.read_bytes()


# --- broken catalogs ------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        del target[last]

    return mutate


def _rename(path: str, new: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[new] = target.pop(last)

    return mutate


def _duplicate_point(data: dict[str, Any]) -> None:
    data["service_points"].append(dict(data["service_points"][0]))


NEW_ORG = "businesses.new.cert_types.org"
KEJI = "service_points.0"

BROKEN: list[tuple[str, Mutation, str]] = [
    ("unknown top-level key", _set("fees", {}), "$: unknown key(s) 'fees'"),
    ("missing section", _delete("payee"), "$: missing key(s) 'payee'"),
    ("missing business", _delete("businesses.revoke"), "$.businesses: missing key(s) 'revoke'"),
    ("unknown business", _set("businesses.refund", {}), "$.businesses: unknown key(s) 'refund'"),
    (
        "missing business x type",
        _delete("businesses.new.cert_types.personal"),
        "$.businesses.new.cert_types: missing key(s) 'personal'",
    ),
    (
        "misspelt key",
        _rename(f"{NEW_ORG}.fee_yuan", "fee_yaun"),
        f"${'.' + NEW_ORG}: unknown key(s) 'fee_yaun'",
    ),
    ("negative fee", _set(f"{NEW_ORG}.fee_yuan", -300), "is not an amount in yuan"),
    ("float fee", _set(f"{NEW_ORG}.fee_yuan", 300.5), "expected yuan as a number or a decimal"),
    ("fen below 0.01", _set(f"{NEW_ORG}.fee_yuan", "1.234"), "at most 2 decimals"),
    ("fee not a number", _set(f"{NEW_ORG}.fee_yuan", "三百"), "is not an amount"),
    ("boolean fee", _set(f"{NEW_ORG}.fee_yuan", True), "expected yuan"),
    (
        "fee per year without term",
        _set("businesses.replace.cert_types.org.fee_per", "year"),
        "a fee per year needs a term",
    ),
    ("unknown fee basis", _set(f"{NEW_ORG}.fee_per", "month"), "is not one of certificate, year"),
    (
        "unknown document",
        _set(f"{NEW_ORG}.documents", ["org_form", "seal"]),
        "unknown document 'seal'",
    ),
    (
        "duplicate document",
        _set(f"{NEW_ORG}.documents", ["org_form", "org_form", "licence_copy"]),
        "duplicate documents",
    ),
    (
        "unused document",
        _set(
            "documents.power_of_attorney",
            dict(
                text="授权委托书",
                shared_when_both_types=False,
                original_checked_onsite=False,
                onsite_only=False,
            ),
        ),
        "never required: power_of_attorney",
    ),
    ("no documents", _set(f"{NEW_ORG}.documents", []), "must not be empty"),
    (
        "refused channel without words",
        _set(f"{NEW_ORG}.channel_rule", None),
        "a refused channel needs the rule's words",
    ),
    (
        "words for a channel that is not refused",
        _set("businesses.new.cert_types.personal.channel_rule", "随便"),
        "must be null when every channel is allowed",
    ),
    (
        "online for a business without an online description",
        _set("businesses.change.cert_types.org.channels", ["onsite", "online"]),
        "online not described under the business's channels",
    ),
    (
        "unknown channel",
        _set(f"{NEW_ORG}.channels", ["onsite", "wechat"]),
        "unknown value 'wechat'",
    ),
    ("duplicate channel", _set(f"{NEW_ORG}.channels", ["onsite", "onsite"]), "duplicate values"),
    ("no channels", _set("businesses.unlock.channels", {}), "must not be empty"),
    (
        "unknown delivery",
        _set("businesses.new.channels.onsite.delivery.method", "courier"),
        "is not one of mail, none, online_update, pickup",
    ),
    (
        "postage on a pickup",
        _set("businesses.new.channels.onsite.delivery.postage_paid_by_customer", True),
        "postage only applies to a mailed Ukey",
    ),
    (
        "delivery past the steps",
        _set("businesses.new.channels.online.delivery.step", 6),
        "delivery.step: 6 is out of range (2..5)",
    ),
    (
        "delivery before the first step",
        _set("businesses.new.channels.online.delivery.step", 1),
        "out of range (2..5)",
    ),
    ("hours without leading zero", _set(f"{KEJI}.sessions.0", ["9:00", "12:00"]), "HH:MM"),
    ("impossible hour", _set(f"{KEJI}.sessions.1", ["13:30", "25:00"]), "HH:MM"),
    ("session backwards", _set(f"{KEJI}.sessions.0", ["12:00", "09:00"]), "end after it starts"),
    (
        "overlapping sessions",
        _set(f"{KEJI}.sessions.1", ["11:30", "18:00"]),
        "must be in order and must not overlap",
    ),
    ("session not a pair", _set(f"{KEJI}.sessions.0", ["09:00"]), "expected [start, end]"),
    (
        "sessions disagree with the seed's text",
        _set(f"{KEJI}.sessions.1", ["13:30", "17:30"]),
        "9:00-12:00,13:30-17:30 disagrees with hours_text",
    ),
    ("no sessions", _set(f"{KEJI}.sessions", []), "must not be empty"),
    ("unknown weekday", _set(f"{KEJI}.open_weekdays", ["mon", "saturday"]), "'saturday' is not"),
    ("weekday twice", _set(f"{KEJI}.open_weekdays", ["mon", "mon"]), "mon appears twice"),
    ("bad slug", _set(f"{KEJI}.slug", "Ke Ji Yuan"), "is not a slug"),
    ("duplicate slug", _duplicate_point, "$.service_points: duplicate slugs"),
    (
        "non-breaking space",
        _set(f"{KEJI}.hours_text", "周一至周日:9:00-12:00,13:30-18:00\xa0 法定节假日休息"),
        "non-breaking",
    ),
    ("empty words", _set("weekend_rule.text", ""), "expected a non-empty string"),
    (
        "unknown type in weekend rule",
        _set("weekend_rule.cert_types", ["odc"]),
        "unknown value 'odc'",
    ),
    ("flag as string", _set(f"{KEJI}.open_on_makeup_workdays", "yes"), "expected true or false"),
    ("no working days", _set("processing.online.working_days", 0), "out of range"),
    (
        "same day with working days",
        _set("processing.onsite.working_days", 3),
        "must be null for same-day processing",
    ),
    ("unknown processing kind", _set("processing.online.kind", "soon"), "is not one of"),
    ("missing processing channel", _delete("processing.online"), "missing key(s) 'online'"),
    ("schema from the future", _set("schema", 2), "$.schema: 2 is out of range"),
    ("years backwards", _set("cert_types.personal.min_years", 6), "max_years: 5 is out of range"),
    ("boolean years", _set("cert_types.org.max_years", True), "expected a whole number"),
    ("window as string", _set("online_renewal.days_before_expiry", "90"), "whole number"),
    ("bad account", _set("payee.account", "154 739 697 600 7O"), "expected digits"),
    # not \d: full-width digits would be printed on the forms the bank reads
    ("full-width account", _set("payee.account", "１５４ 739 697 600 70"), "expected digits"),
    ("plain http hall", _set("online_hall_url", "http://wt.szca.net/index"), "https://"),
    ("sections not an object", _set("businesses", []), "$.businesses: expected an object"),
    ("missing postage", _delete("postage"), "$: missing key(s) 'postage'"),
    ("negative postage", _set("postage.fee_yuan", -12), "$.postage.fee_yuan: -12 is not an amount"),
    ("postage without words", _set("postage.text", ""), "$.postage.text: expected a non-empty"),
    # the service line is the operator's (the seeds name none): optional, but checked when set
    ("contact not an object", _set("contact", "0755-1"), "$.contact: expected an object"),
    ("contact without hours", _set("contact", {"phone": "0755-26588399"}), "'hours'"),
    (
        "contact phone not a number",
        _set("contact", {"phone": "请致电客服", "hours": "周一至周五 9:00-18:00"}),
        "$.contact.phone: expected a telephone number",
    ),
    # typed with a Chinese IME in full-width mode: \d took them, the tel: link did not dial
    (
        "contact phone in full-width digits",
        _set("contact", {"phone": "０７５５-２６５８８３９９", "hours": "周一至周五 9:00-18:00"}),
        "$.contact.phone: expected a telephone number",
    ),
    (
        "contact phone too long for a line",
        _set("contact", {"phone": "0755-" + "2" * 40, "hours": "周一至周五 9:00-18:00"}),
        "$.contact.phone: expected a telephone number",
    ),
    # fee_text says what fee_yuan and fee_per say
    (
        "fee words name another amount",
        _set(f"{NEW_ORG}.fee_text", "机构证书(ODC证书):200元(只能办理1年期)"),
        f"${'.' + NEW_ORG}.fee_text: '机构证书(ODC证书):200元(只能办理1年期)' says 200元, "
        "fee_yuan is 300.00",
    ),
    (
        "fee words say free",
        _set(f"{NEW_ORG}.fee_text", "机构证书(ODC证书):免费"),
        "disagrees with fee_yuan 300.00: no amount in 元",
    ),
    (
        "a fee where the words say free",
        _set("businesses.change.cert_types.org.fee_yuan", 50),
        "disagrees with fee_yuan 50.00: no amount in 元",
    ),
    (
        "an amount in the words of a free business",
        _set("businesses.unlock.cert_types.org.fee_text", "50元"),
        "'50元' disagrees with fee_yuan 0",
    ),
    (
        "fee in fen the words round",
        _set("businesses.replace.cert_types.personal.fee_yuan", "50.50"),
        "says 50元, fee_yuan is 50.50",
    ),
    (
        "words per year on a fee per certificate",
        _set("businesses.replace.cert_types.org.fee_text", "机构证书(ODC证书):120元/个/年"),
        "disagrees with fee_per: the fee is per certificate",
    ),
    (
        "words per certificate on a fee per year",
        _set("businesses.new.cert_types.personal.fee_text", "机构个人证书(法人证书):150元/个"),
        "disagrees with fee_per: the fee is per year",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, msg) for _, m, msg in BROKEN], ids=[name for name, _, _ in BROKEN]
)
def test_broken_catalogs_are_refused_at_load(
    raw_catalog: dict[str, Any], tmp_path: Path, mutate: Mutation, message: str
) -> None:
    mutate(raw_catalog)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(raw_catalog, ensure_ascii=False), "utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_catalog(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "不是有效的 JSON"),
        ("", "不是有效的 JSON"),
        ('{"schema": 1, "schema": 1}', "duplicate key 'schema'"),
        ("[]", "$: expected an object, got list"),
    ],
)
def test_unreadable_catalogs(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "catalog.json"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigurationError, match="业务规则目录") as caught:
        load_catalog(path)
    assert message in str(caught.value)


def test_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="无法读取业务规则目录"):
        load_catalog(tmp_path / "nope.json")


@pytest.mark.parametrize("command", [["setup"], ["serve", "--port", "0", "--no-jobs"]])
def test_a_broken_catalog_stops_the_platform_at_start_up(
    tmp_path: Path, command: list[str]
) -> None:
    """The catalog is validated when Django starts (the hall's AppConfig.ready), so the command
    stops with one line before it migrates or serves anything."""
    script = (
        "import sys\n"
        "from certhall.rules import loader\n"
        "parse = loader.parse_catalog\n"
        "def disagreeing(raw, source):\n"
        "    offer = raw['businesses']['new']['cert_types']['org']\n"
        "    offer['fee_text'] = '机构证书(ODC证书):200元(只能办理1年期)'\n"
        "    return parse(raw, source)\n"
        "loader.parse_catalog = disagreeing\n"
        "from certhall.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {"PATH": os.environ["PATH"], "CERTHALL_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-c", script, *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == ConfigurationError.exit_code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("certhall: error: 业务规则目录 certhall/rules/catalog.json：")
    assert "says 200元, fee_yuan is 300.00" in result.stderr
    assert not list((tmp_path / "home").glob("*.sqlite3"))  # nothing migrated
