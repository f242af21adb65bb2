"""我的证书 offers each certificate's businesses from its card (12-07, h1): the businesses the
rules allow for it now, each linking to where it starts with the certificate chosen; an open
application on it instead of them (an online 续期 under way among them); nothing of another
enterprise's (docs/hall.md, "我的证书: every business from its card")."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest
from django.test import Client

from certhall.accounts.models import Handler, Organization, User
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.hall import renewal
from certhall.hall.items import ItemRequest
from certhall.rules import SHANGHAI
from tests.hall.conftest import FRIDAY, at, at_counter, software_certificate

pytestmark = pytest.mark.django_db

#: Within the 90 days of the online renewal on FRIDAY (2026-11-20 10:00).
SOON = datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI)
#: Far from its end: 续期 only at a counter (the online window opens 90 days before).
LATER = datetime(2028, 6, 1, 10, 0, tzinfo=SHANGHAI)
#: Ended before FRIDAY, still valid in the registry.
ENDED = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)
AT_COUNTER = ["renew", "change", "unlock", "replace", "revoke"]


def issued(
    admin: User, organization: Organization, not_after: datetime, profile: str
) -> Certificate:
    when = datetime(2026, 1, 10, 10, 0, tzinfo=SHANGHAI)
    return software_certificate(
        admin, organization, profile=profile, when=when, not_after=not_after
    )[1]


def card(page: str, serial: str) -> str:
    found = re.search(rf'<tbody class="cert" data-serial="{serial}">(.*?)</tbody>', page, re.S)
    assert found is not None, serial
    return found.group(1)


def offered(page: str, serial: str) -> list[tuple[str, str, str]]:
    """(business, link, words) of each business the card offers."""
    links = re.findall(
        r'<a class="([^"]*)" href="([^"]*)" data-business="(\w+)">([^<]*)</a>', card(page, serial)
    )
    return [(business, html.unescape(href), words) for _, href, business, words in links]


def my_page(actor: User) -> str:
    web = Client()
    web.force_login(actor)
    with at(FRIDAY):
        response = web.get("/my/")
    assert response.status_code == 200
    return response.content.decode()


def test_each_state_offers_exactly_what_the_rules_allow(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    soon = issued(admin, organization, SOON, "personal")
    later = issued(admin, organization, LATER, "personal")
    ended = issued(admin, organization, ENDED, "personal")
    ended_odc = issued(admin, organization, ENDED, "org")
    revoked = issued(admin, organization, LATER, "org")
    with at(FRIDAY):
        ca_services.revoke(admin, revoked.serial, "cessationOfOperation")
    page = my_page(applicant)

    def guide(business: str, cert: Certificate) -> str:
        return f"/guide/{business}/?serial={cert.serial}&type={cert.profile}#{cert.profile}"

    # in the online window: 在线续期 in the hall, the others at a counter, by their guides
    assert offered(page, soon.serial) == [
        ("renew", f"/hall/renew/?serial={soon.serial}", "在线续期"),
        *[
            (b, guide(b, soon), w)
            for b, w in zip(AT_COUNTER[1:], ["变更", "解锁", "介质补办", "吊销"], strict=True)
        ],
    ]
    assert "即将到期" in card(page, soon.serial)
    # far from its end: 续期 too at a counter only
    assert [(b, link) for b, link, _ in offered(page, later.serial)] == [
        (b, guide(b, later)) for b in AT_COUNTER
    ]
    assert "即将到期" not in card(page, later.serial)
    # past its end: 续期 and 解锁 at a counter (变更, 介质补办, 吊销 need it unexpired), or 新办
    assert offered(page, ended.serial) == [
        ("new", "/hall/new/", "在线新办"),
        ("renew", guide("renew", ended), "续期"),
        ("unlock", guide("unlock", ended), "解锁"),
    ]
    # a 机构证书 past its end: its 新办 too at a counter only (注:仅支持机构个人证书网厅办理。)
    assert [(b, link) for b, link, _ in offered(page, ended_odc.serial)] == [
        ("new", "/guide/new/#org"),
        ("renew", guide("renew", ended_odc)),
        ("unlock", guide("unlock", ended_odc)),
    ]
    # revoked: nothing on it, a new one of its type
    assert [(b, link) for b, link, _ in offered(page, revoked.serial)] == [
        ("new", "/guide/new/#org")
    ]


def test_a_link_lands_on_the_businesss_start_with_the_certificate_chosen(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    soon = issued(admin, organization, SOON, "personal")
    page = my_page(applicant)
    web = Client()
    web.force_login(applicant)
    for business, link, _ in offered(page, soon.serial):
        with at(FRIDAY):
            landed = web.get(link)
        assert landed.status_code == 200, (business, link)
        body = landed.content.decode()
        if business == "renew":  # the hall's 续期 with the serial filled in
            assert re.search(rf'<code id="serial-shown">{soon.serial}</code>', body)
        else:  # the guide: the certificate named, its type's section linked
            chosen = re.search(r'<p class="notice info" id="chosen-certificate">(.*?)</p>', body)
            assert chosen is not None, link
            assert soon.serial in chosen.group(1) and "机构个人证书" in chosen.group(1)
            assert 'href="#personal"' in chosen.group(1) and 'id="personal"' in body
    # a serial that is none is refused, not said back
    refused = Client().get("/guide/unlock/?serial=<b>x</b>&type=personal")
    assert refused.status_code == 400 and "<b>x</b>" not in refused.content.decode()


def test_an_online_renewal_under_way_shows_its_state_and_the_way_on(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    odc = issued(admin, organization, SOON, "org")
    with at(FRIDAY):
        application = renewal.start(applicant, odc.serial, 1)
    page = my_page(applicant)
    row = card(page, odc.serial)
    assert offered(page, odc.serial) == []  # no 在线续期 a second time, nor anything else
    assert "在线续期" not in row
    assert f'href="/hall/applications/{application.number}/"' in row
    assert 'class="open-application"' in row and "请用证书助手在线更新证书" not in row
    assert re.search(r'<span class="state \w+">[^<]+</span>', row)
    continued = re.search(r'<a class="btn small primary continue-link" href="([^"]+)">', row)
    assert continued is not None
    web = Client()
    web.force_login(applicant)
    with at(FRIDAY):
        assert web.get(continued.group(1)).status_code == 200


def test_an_application_at_the_counter_is_shown_instead_of_the_businesses(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    clerk: User,
    handler: Handler,
) -> None:
    later = issued(admin, organization, LATER, "personal")
    with at(FRIDAY):
        application = at_counter(
            clerk,
            handler,
            ItemRequest("revoke", serial=later.serial, revocation_reason="superseded"),
        )
    row = card(my_page(applicant), later.serial)
    assert "data-business" not in row
    assert "吊销办理中：申请" in row and application.number in row


def test_another_enterprise_sees_none_of_its_certificates_or_their_businesses(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    stranger: User,
    other_organization: Organization,
) -> None:
    soon = issued(admin, organization, SOON, "personal")
    theirs = issued(admin, other_organization, SOON, "personal")
    page = my_page(stranger)
    # its own certificate's businesses, nothing of the other's: no card, no link, no serial
    assert [b for b, _, _ in offered(page, theirs.serial)] == ["renew", *AT_COUNTER[1:]]
    assert soon.serial not in page
    assert theirs.serial not in my_page(applicant)
    web = Client()
    web.force_login(stranger)
    with at(FRIDAY):  # the other's card's link, followed: an unknown serial, nothing shown
        body = web.get(f"/hall/renew/?serial={soon.serial}").content.decode()
    assert 'id="renew-allowed"' not in body and soon.serial in body
    assert organization.name not in body
