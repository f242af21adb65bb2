"""Refusals of the console's application page that leave the clerk a way on (a first-day walk
at 1366 px, 12-06): a counter application the reviewer returned for one paper copy is received
again on the checklist and resubmitted (the returned row's boxes stayed ticked and disabled,
and 补正完毕，重新提交 was refused with 须重新提交：… and nothing to do about it); a line refused
because another application holds the certificate links to that application (its number was
plain text)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from certhall.accounts.models import Handler, User
from certhall.hall import counter, review
from certhall.hall.items import ItemRequest
from certhall.hall.states import State
from certhall.messages import text as catalogue
from tests.hall.conftest import FRIDAY, at, at_counter, software_certificate
from tests.hall.web.staff_support import counter_client, flashes, text

pytestmark = pytest.mark.django_db


def boxes(page: str, kind: str) -> list[str]:
    """The checklist's two inputs of ``kind`` (received, original), as written."""
    return re.findall(rf'<input type="checkbox" name="\w+" value="{kind}"[^>]*>', page)


def test_the_clerk_receives_a_returned_copy_again_and_resubmits(
    clerk: User, reviewer: User, handler: Handler
) -> None:
    with at(FRIDAY):
        paid = at_counter(
            clerk, handler, ItemRequest(business="new", cert_type="personal", years=2,
            person_name="王五", person_id_number="44030119800101123X"),
        )  # fmt: skip
        assert paid.state == State.PAID
        licence = paid.documents.get(kind="licence_copy")
        review.return_application(reviewer, paid.number, reasons={licence.pk: "未加盖单位公章"})
        client = counter_client(clerk)
        url = reverse("hall-staff:application", args=[paid.number])
        page = text(client.get(url))
        # the returned copy's boxes are offered again, empty; the accepted ones stay ticked
        received, original = boxes(page, "licence_copy")
        assert "disabled" not in received and "checked" not in received
        assert "disabled" not in original and "checked" not in original
        assert all("checked disabled" in box for box in boxes(page, "handler_id_copy"))
        assert "收取补正后的复印件" in page
        ticked = client.post(
            reverse("hall-staff:checklist", args=[paid.number]),
            {"received": "licence_copy", "original": "licence_copy"},
            follow=True,
        )
        assert "资料核验已记录" in " ".join(flashes(ticked))
        resubmitted = client.post(reverse("hall-staff:resubmit", args=[paid.number]), follow=True)
        assert resubmitted.status_code == 200, " ".join(flashes(resubmitted))
    paid.refresh_from_db()
    assert paid.state == State.RESUBMITTED  # back in the review queue, paid once
    fresh = paid.documents.get(kind="licence_copy", superseded=False)
    assert (fresh.status, fresh.original_seen) == ("pending", True)


def test_a_certificate_held_elsewhere_links_to_that_application(
    clerk: User, handler: Handler, admin: User, hall_ca: object
) -> None:
    _key, cert = software_certificate(admin, handler.organization, profile="personal")
    with at(FRIDAY):
        held = at_counter(
            clerk,
            handler,
            ItemRequest(business="revoke", serial=cert.serial, revocation_reason="unspecified"),
        )
        draft = counter.open_application(
            clerk, point="kejiyuan", customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )  # fmt: skip
        client = counter_client(clerk)
        refused = client.post(
            reverse("hall-staff:add-item", args=[draft.number]),
            {"business": "revoke", "serial": cert.serial, "revocation_reason": "superseded"},
        )
    assert refused.status_code == 409
    error = re.search(r'id="form-error">(.*?)</p>', refused.content.decode())
    assert error is not None
    assert f"已有办理中的申请 {held.number}" in error.group(1)
    link = reverse("hall-staff:application", args=[held.number])
    assert f'href="{link}"' in error.group(1)
    assert not draft.items.exists()


def note_row(page: str) -> str | None:
    """The application's 退回说明 row on the staff page (its head and text), if shown."""
    found = re.search(r"<tr[^>]*><th>([^<]*退回说明)</th><td>(.*?)</td></tr>", page)
    return f"{found.group(1)}：{found.group(2)}" if found else None


def test_the_return_note_is_shown_while_it_is_the_applications_reason(
    clerk: User, reviewer: User, handler: Handler
) -> None:
    """The reviewer's 退回说明 is the returned state's reason, read beside the corrected copy
    while the correction is reviewed; once the application is approved it is history (the
    page kept it among the customer's details through 审核通过, 已制证 and 已交付, 12-07)."""
    with at(FRIDAY):
        paid = at_counter(
            clerk, handler, ItemRequest(business="new", cert_type="personal", years=2,
            person_name="王五", person_id_number="44030119800101123X"),
        )  # fmt: skip
        licence = paid.documents.get(kind="licence_copy")
        review.return_application(
            reviewer, paid.number, reasons={licence.pk: "未加盖单位公章"}, note="请补盖公章"
        )
        client = counter_client(clerk)
        url = reverse("hall-staff:application", args=[paid.number])
        assert note_row(text(client.get(url))) == "退回说明：请补盖公章"
        client.post(
            reverse("hall-staff:checklist", args=[paid.number]),
            {"received": "licence_copy", "original": "licence_copy"},
        )
        client.post(reverse("hall-staff:resubmit", args=[paid.number]))
        paid.refresh_from_db()
        assert paid.state == State.RESUBMITTED
        assert note_row(text(client.get(url))) == "上次退回说明：请补盖公章"
        review.approve(reviewer, paid.number)
        page = text(client.get(url))
    assert note_row(page) is None and "退回说明" not in page.split('id="history"')[0]
    assert "请补盖公章" in page.split('id="history"')[1]  # the history keeps it


def test_a_draft_without_lines_says_to_add_one_instead_of_offering_submit(
    clerk: User, handler: Handler
) -> None:
    """A counter draft with no business: its 办理 card offered 提交（资料齐全）, which the service
    refused (no_items, 12-07). Now the card says what to do first, in the refusal's words, and
    offers 提交 once a line is there; the service still refuses a submission without lines."""
    with at(FRIDAY):
        draft = counter.open_application(
            clerk, point="kejiyuan", customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )  # fmt: skip
        client = counter_client(clerk)
        page = client.get(reverse("hall-staff:application", args=[draft.number])).content.decode()
        card = page[page.index('id="actions"') :]
        assert 'id="submit-application"' not in card
        hint = re.search(r'id="submit-needs-items">(.*?)</p>', card)
        assert hint is not None and hint.group(1) == catalogue("no_items.submit")
        assert "请先添加业务" in hint.group(1)
        refused = client.post(reverse("hall-staff:submit", args=[draft.number]))
        assert refused.status_code == 400
        assert catalogue("no_items.submit") in refused.content.decode()
        added = client.post(
            reverse("hall-staff:add-item", args=[draft.number]),
            {"business": "new", "cert_type": "org", "years": "1"},
        )
        assert added.status_code in (302, 303), added.content.decode()[:500]
        page = client.get(reverse("hall-staff:application", args=[draft.number])).content.decode()
    assert 'id="submit-application"' in page and 'id="submit-needs-items"' not in page
