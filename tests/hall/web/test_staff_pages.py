"""The staff consoles under /console/: review, issuance, Ukey stock, each role's home.

Pages are thin views over the hall services, so these tests check what a person sees and that
each page reaches the service (the rules and permissions themselves are tested in tests/hall):
the review queue's deadlines, separation of duties (the button is missing and the service
refuses), issuance onto a Ukey from stock and delivery, the stock page (the counter:
test_counter_pages.py; printed forms, every URL as an applicant, as staff of another provider
and without a CSRF token: test_staff_access.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, Organization, Role, User
from certhall.audit.models import AuditEvent
from certhall.hall import documents, issuance, review, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.rules import SHANGHAI
from certhall.ukeys import services as ukeys
from certhall.ukeys import sessions as ukey_sessions
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.hall.conftest import FRIDAY, at, online_draft, pay_online
from tests.hall.web.staff_support import (
    counter_client,
    flashes,
    login,
    online_paid_at,
    snapshot,
    text,
)
from tests.support.refused import marked

pytestmark = pytest.mark.django_db

# --- review ----------------------------------------------------------------------------------


def test_review_queue_by_deadline_and_overdue(
    applicant: User, handler: Handler, reviewer: User
) -> None:
    late = online_paid_at(applicant, handler, datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI))
    # (one certificate-free online application at a time per organisation is not a rule;
    # a second one is simply another draft)
    fresh = online_paid_at(applicant, handler, FRIDAY)
    with at(FRIDAY):
        response = login(reviewer).get(reverse("hall-staff:review"))
    body = text(response)
    assert body.index(late.number) < body.index(fresh.number)
    assert late.due_date is not None and late.due_date.isoformat() == "2026-11-05"
    assert "2026-11-05" in body and "已超时" in body
    rows = re.findall(r'<tr class="([^"]*)" data-number="([^"]+)"', response.content.decode())
    assert rows == [("row-overdue", late.number), ("", fresh.number)]
    assert fresh.due_date is not None and fresh.due_date.isoformat() in body


def test_reviewer_views_documents_approves_and_returns(
    applicant: User, handler: Handler, reviewer: User, foreign_staff: dict[str, User]
) -> None:
    first = online_paid_at(applicant, handler, FRIDAY)
    second = online_paid_at(applicant, handler, FRIDAY)
    client = login(reviewer)
    with at(FRIDAY):
        page = text(client.get(reverse("hall-staff:application", args=[first.number])))
        assert 'id="approve"' in page and "退回补正" in page
        licence = first.documents.get(kind="licence_copy")
        url = reverse("hall-staff:document", args=[first.number, licence.pk])
        download = client.get(url)
        assert download.status_code == 200
        assert download.content.startswith(b"\xff\xd8\xff")
        assert download["Content-Type"] == "image/jpeg"
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download["Content-Disposition"].startswith("attachment;")
        assert client.get(url, {"view": "1"})["Content-Disposition"].startswith("inline;")
        assert login(foreign_staff["reviewer"]).get(url).status_code == 403
        # a note over 500 characters is refused beside the form, as a return's, not cut
        too_long = client.post(
            reverse("hall-staff:approve", args=[first.number]), {"note": "资" * 501}, follow=True
        )
        assert "审核意见不能超过500个字，请核对后重新填写。" in " ".join(flashes(too_long))
        assert Application.objects.get(pk=first.pk).state == State.PAID
        client.post(reverse("hall-staff:approve", args=[first.number]), {"note": "资料齐全"})
        # a return without any reason is refused and changes nothing
        empty = client.post(reverse("hall-staff:return", args=[second.number]), follow=True)
        assert "退回须写明原因" in " ".join(flashes(empty))
        assert Application.objects.get(pk=second.pk).state == State.PAID
        bad = second.documents.get(kind="legal_rep_id_copy")
        client.post(
            reverse("hall-staff:return", args=[second.number]),
            {f"reason_{bad.pk}": "复印件不清晰，请重新扫描", "note": ""},
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.approved_by) == (State.APPROVED, reviewer)
    assert second.state == State.RETURNED
    bad.refresh_from_db()
    assert (bad.status, bad.review_reason) == ("returned", "复印件不清晰，请重新扫描")
    assert second.documents.filter(status="accepted").count() == second.documents.count() - 1


def test_separation_of_duties_button_absent_and_service_refuses(
    ca_admin: User, handler: Handler
) -> None:
    """A CA admin may both enter at the counter and review, but not their own application."""
    with at(FRIDAY):
        client = counter_client(ca_admin)
        client.post(
            reverse("hall-staff:counter-open"),
            {"uscc": handler.organization.uscc, "handler_id": str(handler.pk)},
        )
        application = Application.objects.get()
        services.add_item(
            ca_admin,
            application.number,
            ItemRequest(business="new", cert_type="org", years=1),
        )
        for kind in documents.required(application, list(application.items.all())):
            documents.check_at_counter(ca_admin, application.number, kind, original_seen=True)
        services.submit(ca_admin, application.number)
        client.post(reverse("hall-staff:payment", args=[application.number]), {"method": "cash"})
        assert Application.objects.get().state == State.PAID
        page = text(client.get(reverse("hall-staff:application", args=[application.number])))
        assert 'id="approve-disabled"' in page and "disabled" in page
        assert 'id="approve"' not in page and "职责分离" in page
        queue = text(client.get(reverse("hall-staff:review")))
        assert "本人录入" in queue
        before = snapshot()
        refused = client.post(reverse("hall-staff:approve", args=[application.number]))
        assert refused.status_code == 403 and "职责分离" in text(refused)
        assert snapshot() == before
    assert Application.objects.get().state == State.PAID


def test_who_approved_does_not_issue(ca_admin: User, applicant: User, handler: Handler) -> None:
    """A CA admin may review and issue, but not make the certificate they approved."""
    application = online_paid_at(applicant, handler, FRIDAY)
    with at(FRIDAY):
        review.approve(ca_admin, application.number)
        client = login(ca_admin)
        url = reverse("hall-staff:application", args=[application.number])
        page = text(client.get(url))
        assert 'id="issue-separation-note"' in page and 'id="issue-form"' not in page
        before = snapshot()
        refused = client.post(reverse("hall-staff:issue", args=[application.number]))
        assert refused.status_code == 403
        assert "职责分离：本人审核通过的申请须由他人制证。" in text(refused)
        assert snapshot() == before
    assert Application.objects.get().state == State.APPROVED
    event = AuditEvent.objects.get(action="hall.application.issue")
    assert (event.result, event.after["error"]) == ("refused", "separation_of_duties")


# --- issuance and Ukey stock (SoftHSM) -------------------------------------------------------


@pytest.fixture
def instance_ukeys(ukey_store: UkeyStore, monkeypatch: pytest.MonkeyPatch) -> UkeyStore:
    """The pages use the instance's Ukey store: here, the test's own SoftHSM store."""
    monkeypatch.setattr(issuance, "instance_store", lambda: ukey_store)
    monkeypatch.setattr(ukey_sessions, "instance_store", lambda: ukey_store)
    return ukey_store


@pytest.mark.softhsm
def test_issuer_issues_onto_stock_and_mails(
    hall_ca: object,
    applicant: User,
    handler: Handler,
    reviewer: User,
    issuer: User,
    instance_ukeys: UkeyStore,
) -> None:
    application = online_paid_at(applicant, handler, FRIDAY)
    client = login(issuer)
    with at(FRIDAY):
        review.approve(reviewer, application.number)
        added = client.post(reverse("hall-staff:ukeys"), {"count": "2"}, follow=True)
        assert "已入库 2 个Ukey" in " ".join(flashes(added))
        stock = list(Ukey.objects.filter(status="in_stock").order_by("pk"))
        assert len(stock) == 2
        queue = text(client.get(reverse("hall-staff:issuance")))
        assert application.number in queue and "库存Ukey 2 个" in queue
        line = application.items.get()
        page = text(client.get(reverse("hall-staff:application", args=[application.number])))
        assert f'name="token_{line.pk}"' in page and stock[0].serial in page
        missing = client.post(reverse("hall-staff:issue", args=[application.number]), follow=True)
        assert "请为第" in " ".join(flashes(missing))
        done = client.post(
            reverse("hall-staff:issue", args=[application.number]),
            {f"token_{line.pk}": stock[1].serial},
            follow=True,
        )
        assert "制证完成" in " ".join(flashes(done))
        application.refresh_from_db()
        assert application.state == State.ISSUED
        line.refresh_from_db()
        assert line.token == stock[1] and line.result_certificate is not None
        assert line.result_certificate.serial in text(done)
        bad = client.post(
            reverse("hall-staff:deliver", args=[application.number]),
            {"tracking_number": "x"},
            follow=True,
        )
        assert "运单号" in " ".join(flashes(bad))
        client.post(
            reverse("hall-staff:deliver", args=[application.number]),
            {"tracking_number": "SF1234567890", "carrier": "顺丰速运"},
        )
    application.refresh_from_db()
    assert (application.state, application.tracking_number) == (State.DELIVERED, "SF1234567890")


@pytest.mark.softhsm
def test_stock_page_lists_by_state_and_only_stock_roles_add(
    clerk: User, issuer: User, instance_ukeys: UkeyStore, foreign_staff: dict[str, User]
) -> None:
    ukeys.prepare_stock(issuer, "ukey-listed", store=instance_ukeys)
    listed = Ukey.objects.get()
    page = text(login(issuer).get(reverse("hall-staff:ukeys"), {"status": "in_stock"}))
    assert listed.serial in page and 'id="add-stock"' in page
    assert listed.serial not in text(
        login(issuer).get(reverse("hall-staff:ukeys"), {"status": "issued"})
    )
    clerk_client = login(clerk)
    clerk_page = text(clerk_client.get(reverse("hall-staff:ukeys")))
    assert listed.serial in clerk_page and 'id="add-stock"' not in clerk_page
    assert clerk_client.post(reverse("hall-staff:ukeys"), {"count": "1"}).status_code == 403
    foreign = text(login(foreign_staff["issuer"]).get(reverse("hall-staff:ukeys")))
    assert listed.serial not in foreign
    refused = login(issuer).post(reverse("hall-staff:ukeys"), {"count": "99"})
    assert refused.status_code == 400 and "一次可入库1-20个Ukey" in " ".join(flashes(refused))
    # the page again, the refusal inside the 入库 form, the count as typed and marked (a
    # notice after a redirect could not say which field it was about)
    page = text(refused)
    start = page.index('id="add-stock-form"')
    form = page[start : page.index("</form>", start)]
    assert 'id="form-error"' in form and 'value="99"' in form
    assert marked(page) == ["count"]
    long = login(issuer).post(reverse("hall-staff:ukeys"), {"count": "12345"})
    assert marked(text(long)) == ["count"] and 'value="12345"' not in text(long)
    assert Ukey.objects.count() == 1


def test_stocking_is_limited_per_provider(
    hall_ca: object, issuer: User, admin: User, instance_ukeys: UkeyStore
) -> None:
    """Every CA's staff stock the one Ukey store: ten requests an hour a provider (200 Ukeys),
    its issuers and administrators together; the eleventh is refused with the wait, audited."""
    with at(FRIDAY):
        for client in [login(issuer)] * 5 + [login(admin)] * 5:
            added = client.post(reverse("hall-staff:ukeys"), {"count": "1"}, follow=True)
            assert "已入库 1 个Ukey" in " ".join(flashes(added))
        refused = login(admin).post(reverse("hall-staff:ukeys"), {"count": "1"}, follow=True)
        assert "本机构一小时内入库已达上限" in " ".join(flashes(refused))
        assert Ukey.objects.count() == 10
        event = AuditEvent.objects.filter(action="ukey.stock", result="refused").get()
        assert event.object_id == str(admin.provider_id)
    with at(FRIDAY + timedelta(hours=1, seconds=1)):
        again = login(issuer).post(reverse("hall-staff:ukeys"), {"count": "1"}, follow=True)
        assert "已入库 1 个Ukey" in " ".join(flashes(again))


# --- home and navigation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.CLERK, ["home-counter"], ["home-review", "home-issuance"]),
        (Role.REVIEWER, ["home-review"], ["home-counter", "home-issuance"]),
        (Role.ISSUER, ["home-issuance", "home-stock"], ["home-counter", "home-review"]),
        (Role.CA_ADMIN, ["home-counter", "home-review", "home-issuance", "home-stock"], []),
    ],
)
def test_home_by_role(
    make_user: Callable[..., User], role: Role, shown: list[str], hidden: list[str]
) -> None:
    with at(FRIDAY):
        body = text(login(make_user(role)).get(reverse("hall-staff:home")))
    assert '<a href="/console/">工作台</a>' in body
    for section in shown:
        assert f'id="{section}"' in body
    for section in hidden:
        assert f'id="{section}"' not in body


def test_applicants_have_no_console_link(applicant: User) -> None:
    assert "/console/" not in text(login(applicant).get("/status/"))


def test_anonymous_is_sent_to_the_login() -> None:
    response = Client().get(reverse("hall-staff:review"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fconsole%2Freview%2F"


def test_an_online_renewal_is_not_on_the_issuers_list(
    admin: User,
    hall_ca: object,
    applicant: User,
    handler: Handler,
    organization: Organization,
    reviewer: User,
    issuer: User,
) -> None:
    """A paid 网厅续期 is approved by the hall itself and finished by the customer's helper:
    nobody on staff can issue it. It was listed as 审核通过，待制证 on the issuer's home and
    制证与交付 page beside the work the issuer has to do."""
    from certhall.hall import renewal
    from tests.hall.conftest import software_certificate

    _, old = software_certificate(admin, organization, profile="personal")
    with at(FRIDAY):
        online_renewal = renewal.start(applicant, old.serial, 2)
        pay_online(online_renewal.number, applicant)
        new = online_draft(applicant, handler)
        services.submit(applicant, new.number)
        pay_online(new.number, applicant)
        review.approve(reviewer, new.number)
    assert Application.objects.get(pk=online_renewal.pk).state == State.APPROVED
    web = login(issuer)
    for page in ("/console/", "/console/issuance/"):
        shown = text(web.get(page))
        assert new.number in shown and online_renewal.number not in shown, page
    # its own page says what the customer's helper does next, not 待制证
    shown = text(web.get(reverse("hall-staff:application", args=[online_renewal.number])))
    assert "待在线更新" in shown and "审核通过，待制证" not in shown
