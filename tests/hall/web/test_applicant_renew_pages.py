"""网上营业厅's online 续期 pages (/hall/renew/): the look-up, the terms and fees once the
certificate is known, a link's term, the rules' refusals (the other pages:
test_applicant_pages.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from certhall.accounts.models import Organization, User
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.rules import Business as RuleBusiness
from certhall.rules import CertType as RuleCertType
from certhall.rules import default_catalog
from certhall.web.templatetags.wrapping import ranges_whole
from tests.hall.conftest import (
    FRIDAY,
    at,
    pay_online,
    software_certificate,
)
from tests.hall.web.conftest import text
from tests.support.refused import marked

pytestmark = pytest.mark.django_db


# --- online 续期 ------------------------------------------------------------------------------


def test_online_renewal_lookup_pay_and_helper_panel(
    client_a: Client, applicant: User, admin: User, organization: Organization, hall_ca: object
) -> None:
    _key, cert = software_certificate(admin, organization, profile="personal")  # to 2027-01-10
    with at(FRIDAY):
        page = client_a.get("/hall/renew/", {"serial": cert.serial.upper(), "years": "1"})
        assert page.status_code == 200
        assert 'id="renew-fee">150.00 元<' in text(page) and 'id="renew-allowed"' in text(page)
        response = client_a.post("/hall/renew/", {"serial": cert.serial, "years": "1"})
        application = Application.objects.get(organization=organization)
        assert response["Location"] == f"/hall/applications/{application.number}/"
        assert application.state == State.AWAITING_PAYMENT
        pay_online(application.number, applicant)
        detail = text(client_a.get(f"/hall/applications/{application.number}/"))
    assert Application.objects.get(pk=application.pk).state == State.APPROVED
    assert 'id="renew-panel"' in detail and f'data-serial="{cert.serial}"' in detail
    assert "hall/applicant-renew.js" in detail
    # where the helper runs and where to get it, in the customer's words: the panel named the
    # command (certhall agent), on a page customers open from an SMS on their phone
    assert "certhall agent" not in detail
    assert (
        'href="/downloads/">下载证书助手<span class="nowrap">（电脑端）</span></a>' in detail
        and "手机上无法使用" in detail
    )


def test_a_link_to_renewal_asks_for_the_term_without_a_refusal(
    client_a: Client, admin: User, organization: Organization, hall_ca: object
) -> None:
    """我的证书 and the reminder SMS link to /hall/renew/?serial=...: a 机构个人证书 needs a
    term (1-5 years), which the form asks for; the page greeted the customer with the refusal
    term_missing (400) until 12-06. Asked for without a term, it is still refused."""
    _key, cert = software_certificate(admin, organization, profile="personal")
    with at(FRIDAY):
        page = client_a.get("/hall/renew/", {"serial": cert.serial})
        posted = client_a.post("/hall/renew/", {"serial": cert.serial})
    assert page.status_code == 200
    assert 'id="form-error"' not in text(page)
    assert ranges_whole("年限（1-5年）") not in text(page)
    assert f'value="{cert.serial}"' in text(page) and 'id="lookup-result"' not in text(page)
    assert posted.status_code == 400
    assert ranges_whole("年限（1-5年）") in text(posted)  # 1-5 kept on one line


def test_the_renewal_terms_and_fees_are_shown_once_the_certificate_is_known(
    client_a: Client, admin: User, organization: Organization, hall_ca: object
) -> None:
    """The term list (1年 · 150.00 元 …, a 机构个人证书's fees) was on the page before any
    certificate was found, and beside a 机构证书's result (1 year, free) until 12-06: a customer
    renewing a 机构证书 read the wrong fees. It is shown for a 机构个人证书 once found."""
    _key, personal = software_certificate(admin, organization, profile="personal")
    _key, org = software_certificate(admin, organization, profile="org")
    with at(FRIDAY):
        empty = text(client_a.get("/hall/renew/"))
        unknown = client_a.get("/hall/renew/", {"serial": "5a5a5a5a", "years": "2"})
        linked = text(client_a.get("/hall/renew/", {"serial": personal.serial}))
        found = text(client_a.get("/hall/renew/", {"serial": personal.serial, "years": "2"}))
        odc = text(client_a.get("/hall/renew/", {"serial": org.serial}))
        odc_term = client_a.get("/hall/renew/", {"serial": org.serial, "years": "2"})
    for page in (empty, text(unknown), odc, text(odc_term)):
        assert 'id="years"' not in page and "150.00 元" not in page
    assert unknown.status_code == 404 and '<input type="hidden" name="years" value="2">' in text(
        unknown
    )  # the link's term goes on with the next look-up
    assert "查到证书后" in empty and "机构证书(ODC证书)续期只能办理1年期，免费。" in odc
    assert 'id="renew-fee">0.00 元<' in odc and 'id="renew-allowed"' in odc
    assert odc_term.status_code == 400 and "只能续期1年" in text(odc_term)
    for page in (linked, found):
        assert '<select id="years" name="years"' in page and "5年 · 750.00 元" in page
    assert '<option value="2" selected>2年 · 300.00 元</option>' in found


def test_the_renewal_says_what_is_paid_and_where_the_update_is_made(
    client_a: Client, admin: User, organization: Organization, hall_ca: object
) -> None:
    """可以网上续期 said 付款成功后即可用证书助手在线更新证书 for a 机构证书 too, whose 续期 is free
    (approved at once, nothing to pay), and neither said before submitting that the update is
    made on the computer with the Ukey: a customer on a phone learnt it after paying (12-07, a
    first visit on a phone)."""
    _key, personal = software_certificate(admin, organization, profile="personal")
    _key, org = software_certificate(admin, organization, profile="org")
    with at(FRIDAY):
        odc = text(client_a.get("/hall/renew/", {"serial": org.serial}))
        paid = text(client_a.get("/hall/renew/", {"serial": personal.serial, "years": "2"}))

    def allowed(page: str) -> str:
        found = re.search(r'id="renew-allowed">(.*?)</p>', page)
        assert found is not None
        return found.group(1)

    assert "免费，无需付款。提交后" in allowed(odc) and "付款成功" not in allowed(odc)
    assert allowed(paid).startswith("可以网上续期。付款成功后，")
    for page in (odc, paid):
        assert "在插有Ukey、已安装证书助手的电脑上在线更新证书" in allowed(page)


def test_a_renewal_link_with_a_term_not_offered_asks_for_one(
    client_a: Client, admin: User, organization: Organization, hall_ca: object
) -> None:
    """A mangled link (years=9; a 机构个人证书 renews for 1-5 years, a 机构证书 for 1) was
    answered with the fee rule's words beside a result of 9年 · 1350 元, the list showing 1年
    as if chosen, until 12-06: the page says which terms there are and asks for one."""
    _key, personal = software_certificate(admin, organization, profile="personal")
    _key, org = software_certificate(admin, organization, profile="org")
    offers = default_catalog().businesses[RuleBusiness.RENEW].offers
    fee_rule = offers[RuleCertType.PERSONAL].fee_text
    with at(FRIDAY):
        linked = client_a.get("/hall/renew/", {"serial": personal.serial, "years": "9"})
        none = client_a.get("/hall/renew/", {"serial": personal.serial, "years": "0"})
        single = client_a.get("/hall/renew/", {"serial": org.serial, "years": "9"})
        posted = client_a.post("/hall/renew/", {"serial": personal.serial, "years": "9"})
    page = text(linked)
    assert linked.status_code == 400
    assert (
        ranges_whole("没有9年期的续期：机构个人证书(法人证书)可续期1-5年，请选择续期年限。") in page
    )
    assert fee_rule not in page and 'id="lookup-result"' not in page
    years = '<select id="years" name="years" required aria-invalid="true"'
    assert re.search(re.escape(years) + r'[^>]*><option value="" selected>请选择年限', page)
    assert page.count(" selected>") == 1  # 请选择年限, not 1年
    assert f'value="{personal.serial}"' in page  # the certificate kept
    assert none.status_code == 400 and "没有0年期的续期" in text(none)
    assert single.status_code == 400
    assert "没有9年期的续期：机构证书(ODC证书)只能续期1年，请选择1年。" in text(single)
    assert posted.status_code == 400 and "没有9年期的续期" in text(posted)
    for refused in (linked, none, posted):  # the term's field, for a screen reader
        assert marked(text(refused)) == ["years"]
    assert marked(text(single)) == []  # a 机构证书's one term is no field to choose
    assert not Application.objects.exists()


def test_online_renewal_refusals_in_the_rules_words(
    client_a: Client, admin: User, organization: Organization, hall_ca: object
) -> None:
    _key, cert = software_certificate(admin, organization, profile="personal", years=2)
    with at(FRIDAY):
        page = client_a.get("/hall/renew/", {"serial": cert.serial, "years": "1"})
        assert default_catalog().online_renewal.too_early_rule in text(page)
        assert 'id="renew-form"' not in text(page)
        # the way to the counter names what to bring, the Ukey among it, and where: the
        # renewal's 办事指南, not the hall home's list of points (12-06)
        guide = re.search(r'现场办理：<a href="([^"]+)">所需资料与受理点</a>', text(page))
        assert guide is not None, text(page)
        shown = text(client_a.get(guide.group(1)))
        offer = default_catalog().offer(RuleBusiness.RENEW, RuleCertType.PERSONAL)
        assert all(d.text in shown for d in offer.documents) and "Ukey" in shown
        assert all(p.address in shown for p in default_catalog().points)
        response = client_a.post("/hall/renew/", {"serial": cert.serial, "years": "1"})
    assert response.status_code == 422
    assert default_catalog().online_renewal.too_early_rule in text(response)
    assert marked(text(response)) == ["serial"]  # the window is its certificate's (web.refused)
    assert not Application.objects.exists()


def test_online_renewal_refuses_an_over_long_serial_and_keeps_the_years(
    client_a: Client, admin: User, organization: Organization, hall_ca: object
) -> None:
    """The serial was cut to 80 characters and the years to 4 before they were checked: a
    serial with anything after its 80th character was looked up (and renewed) as its start."""
    _key, cert = software_certificate(admin, organization, profile="personal")  # to 2027-01-10
    typed = cert.serial + " " * (81 - len(cert.serial)) + "X"  # 80 characters: the serial, blanks
    with at(FRIDAY):
        looked = client_a.get("/hall/renew/", {"serial": typed, "years": "2"})
        posted = client_a.post("/hall/renew/", {"serial": typed, "years": "2"})
        wrong = client_a.post("/hall/renew/", {"serial": cert.serial, "years": "两"})
    for response in (looked, posted):
        assert response.status_code == 400
        assert "证书序列号不能超过80个字" in text(response)
        assert 'id="renew-form"' not in text(response)
        # the years kept for the next look-up (the term list waits for the certificate)
        assert '<input type="hidden" name="years" value="2">' in text(response)
        assert marked(text(response)) == ["serial"]
    assert wrong.status_code == 400 and "续期年限应为整数" in text(wrong)
    assert f'value="{cert.serial}"' in text(wrong)  # the serial kept
    assert not Application.objects.exists()


def test_a_serial_not_found_marks_the_serial(
    client_a: Client, admin: User, organization: Organization, hall_ca: object
) -> None:
    """A serial that is none of this enterprise's certificates is refused naming the field
    (``web.refused``), looked up or posted."""
    with at(FRIDAY):
        looked = client_a.get("/hall/renew/", {"serial": "7A3F00", "years": "1"})
        posted = client_a.post("/hall/renew/", {"serial": "7A3F00", "years": "1"})
    for response in (looked, posted):
        assert response.status_code in (400, 404), text(response)
        assert 'id="form-error"' in text(response)
        assert marked(text(response)) == ["serial"]
    assert not Application.objects.exists()
