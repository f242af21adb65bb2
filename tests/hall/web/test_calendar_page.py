"""节假日安排 in the console: a CA administrator of this CA pastes the State Council's notice,
previews the days, the warnings and the deadlines it would move (nothing written), confirms,
and the year is imported by the one service (audited, deadlines recomputed); a confirmation
posted twice imports once, a stale preview is refused, every other staff member gets the 403
page, and a line it cannot read is refused beside the form with the text kept."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, User
from certhall.audit.models import AuditEvent
from certhall.hall import calendar
from certhall.hall.models import CalendarYear
from certhall.rules import SHANGHAI
from certhall.rules.notice import parse_notice
from tests.hall.conftest import at
from tests.hall.web.staff_support import flashes, login, online_paid_at, snapshot, text

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI)
NOTICE_2027 = (Path(__file__).parents[2] / "rules" / "notices" / "2027-example.txt").read_text(
    "utf-8"
)
PAGE = "/console/calendar/"


def post(client: Client, **data: str) -> object:
    with at(TODAY):
        return client.post(PAGE, data)


def confirm_fields(response: object) -> dict[str, str]:
    """The confirmation form's fields as the preview wrote them."""
    html = response.content.decode()  # type: ignore[attr-defined]
    form = html[html.index('id="confirm-form"') :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrfmiddlewaretoken", None)
    return {k: v.replace("&#x27;", "'").replace("&quot;", '"') for k, v in fields.items()}


def test_the_page_is_linked_from_the_warning_and_the_administrators_home(ca_admin: User) -> None:
    client = login(ca_admin)
    with at(TODAY):
        home = text(client.get(reverse("hall-staff:home")))
        page = client.get(PAGE)
    assert f'href="{PAGE}" id="calendar-import"' in home
    assert page.status_code == 200
    body = text(page)
    assert re.search(r'data-year="2025">.*?内置日历<', body)
    assert re.search(r'data-year="2027">.*?预计<', body)
    assert 'name="year" id="notice-year" value="2027"' in body
    assert re.search(r'id="home-calendar">.*?data-year="2027">.*?预计<', home)


def test_preview_shows_the_days_and_moves_and_writes_nothing(
    ca_admin: User, applicant: User, handler: Handler
) -> None:
    paid = online_paid_at(applicant, handler, datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI))
    assert (paid.due_date, paid.due_provisional) == (date(2027, 1, 4), True)
    before = snapshot()
    response = post(login(ca_admin), step="preview", year="2027", notice=NOTICE_2027)
    assert response.status_code == 200  # type: ignore[attr-defined]
    body = text(response)
    table = body.split('id="preview-blocks"')[1].split("</table>")[0]
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    assert cells[4:8] == [
        "春节",
        "2027-02-05 星期五 至 2027-02-12 星期五",
        "8",
        "2027-01-31 星期日、2027-02-20 星期六",
    ]
    assert "<strong>1</strong> 件办理中申请的时限将改变" in body  # its 预计 01-04 becomes official
    assert snapshot() == before and not CalendarYear.objects.exists()


def test_confirm_imports_through_the_one_service_and_twice_is_once(
    ca_admin: User, applicant: User, handler: Handler
) -> None:
    paid = online_paid_at(applicant, handler, datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI))
    client = login(ca_admin)
    preview = post(client, step="preview", year="2027", notice=NOTICE_2027)
    fields = confirm_fields(preview)
    assert fields["step"] == "confirm" and fields["notice"].strip() == NOTICE_2027.strip()
    done = post(client, **fields)
    assert done.status_code == 303  # type: ignore[attr-defined]
    with at(TODAY):
        page = client.get(PAGE)
        home = text(client.get(reverse("hall-staff:home")))
    assert flashes(page) == ["2027年节假日安排已导入，重新计算了 1 件申请的办理时限。"]
    assert re.search(r'data-year="2027">.*?已导入<', text(page))
    assert 'id="calendar-warning"' not in home
    paid.refresh_from_db()
    assert (paid.due_date, paid.due_provisional) == (date(2027, 1, 4), False)  # no longer 预计
    stored = calendar.load().imported[2027]
    assert stored == parse_notice(NOTICE_2027).arrangement
    event = AuditEvent.objects.get(action="calendar.import")
    assert event.actor_id == ca_admin.pk
    again = post(client, **fields)  # the same confirmation posted again
    assert again.status_code == 303  # type: ignore[attr-defined]
    with at(TODAY):
        assert flashes(client.get(PAGE)) == ["2027年节假日安排与已导入的相同，没有变化。"]
    assert AuditEvent.objects.filter(action="calendar.import").count() == 1


def test_a_stale_preview_is_refused(ca_admin: User, admin: User) -> None:
    client = login(ca_admin)
    fields = confirm_fields(post(client, step="preview", year="2027", notice=NOTICE_2027))
    other = NOTICE_2027.replace("六、中秋节：9月15日（周三）放假1天，不调休。", "")
    calendar.import_year(admin, parse_notice(other).arrangement)  # meanwhile, by someone else
    response = post(client, **fields)
    assert response.status_code == 409  # type: ignore[attr-defined]
    assert "预览之后，2027年的节假日安排已被导入或更改：请重新预览后再确认。" in text(response)
    assert NOTICE_2027.split("\n")[1] in response.content.decode()  # type: ignore[attr-defined]
    assert calendar.load().imported[2027] == parse_notice(other).arrangement


def test_a_line_it_cannot_read_is_refused_beside_the_form(ca_admin: User) -> None:
    typo = NOTICE_2027.replace("共8天", "共9天")
    response = post(login(ca_admin), step="preview", year="2027", notice=typo)
    assert response.status_code == 400  # type: ignore[attr-defined]
    body = text(response)
    assert (
        'id="form-error">通知第3行：“2月5日至12日放假调休,共9天”写共9天，但所列日期是8天。' in body
    )
    assert "共9天" in body.split('id="notice-text"')[1]  # the text as typed, to correct it
    assert 'id="preview"' not in body and not CalendarYear.objects.exists()
    wrong_year = post(login(ca_admin), step="preview", year="2028", notice=NOTICE_2027)
    assert "与所填年份2028不符" in text(wrong_year)


@pytest.mark.parametrize("role", ["clerk", "reviewer", "issuer"])
def test_other_staff_get_the_403_page(role: str, request: pytest.FixtureRequest) -> None:
    client = login(request.getfixturevalue(role))
    with at(TODAY):
        page = client.get(PAGE)
        posted = client.post(PAGE, {"step": "confirm", "year": "2027", "notice": NOTICE_2027})
    for response in (page, posted):
        assert response.status_code == 403
        assert "此操作需要CA管理员角色。" in text(response), text(response)
    assert not CalendarYear.objects.exists()


def test_another_providers_ca_admin_gets_the_403_page(foreign_staff: dict[str, User]) -> None:
    client = login(foreign_staff["ca_admin"])
    with at(TODAY):
        response = client.post(PAGE, {"step": "confirm", "year": "2027", "notice": NOTICE_2027})
    assert response.status_code == 403
    assert not CalendarYear.objects.exists()


def test_a_post_without_its_csrf_token_is_refused(ca_admin: User) -> None:
    client = login(ca_admin, enforce_csrf_checks=True)
    response = post(client, step="confirm", year="2027", notice=NOTICE_2027)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not CalendarYear.objects.exists()
