"""公告: sanitised storage, drafts, publish/withdraw (audited), list filters, detail, feed,
attachments by content."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput, RuleViolation
from certhall.portal import notices
from certhall.portal.models import Notice
from certhall.portal.states import NoticeState
from tests.support import archives, images
from tests.support.refused import marked

pytestmark = pytest.mark.django_db

EVIL = (
    '<p onclick="alert(1)">正文<script>alert(2)</script><img src="x" onerror="alert(3)">'
    '<a href="javascript:alert(4)">链接</a><iframe src="https://e.example"></iframe></p>'
)


def _input(**changes: object) -> notices.NoticeInput:
    fields: dict[str, object] = {
        "title": "关于系统维护的通知",
        "body_html": "<p>维护期间暂停服务。</p>",
        "region": "shenzhen",
        "category": "system",
        "published_on": date(2026, 11, 20),
    }
    fields.update(changes)
    return notices.NoticeInput(**fields)  # type: ignore[arg-type]


def test_body_is_stored_sanitised(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    notice = notices.create(editor, _input(body_html=EVIL))
    stored = Notice.objects.get(pk=notice.pk).body_html
    for bad in ("script", "onerror", "onclick", "javascript", "iframe", "alert(2)"):
        assert bad not in stored
    assert "正文" in stored and "<img" in stored


def test_draft_publish_withdraw_each_audited(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    notice = notices.create(editor, _input())
    assert Client().get(f"/notices/{notice.pk}/").status_code == 404  # a draft is not public
    notices.publish(editor, notice)
    assert Client().get(f"/notices/{notice.pk}/").status_code == 200
    with pytest.raises(Conflict):
        notices.edit(editor, notice, _input(title="改"))  # published: withdraw first
    notices.withdraw(editor, notice)
    assert Client().get(f"/notices/{notice.pk}/").status_code == 404
    notices.edit(editor, notice, _input(title="关于系统维护的通知（更正）"))
    notices.publish(editor, notice)
    actions = list(
        AuditEvent.objects.filter(object_type="notice")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "portal.notice.create",
        "portal.notice.publish",
        "portal.notice.withdraw",
        "portal.notice.edit",
        "portal.notice.publish",
    ]
    with pytest.raises(Conflict):
        notices.publish(editor, Notice.objects.get(pk=notice.pk))


def test_only_editors_change_notices(clock, make_user) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden):
        notices.create(make_user(Role.APPLICANT), _input())
    with pytest.raises(Forbidden):
        notices.create(make_user(Role.REVIEWER), _input())


def test_input_is_checked() -> None:
    with pytest.raises(InvalidInput):
        _input(title="  ")
    with pytest.raises(InvalidInput):
        _input(region="beijing")
    with pytest.raises(InvalidInput):
        notices.parse_date("2026/11/20")


def test_seeded_notices_with_their_own_dates(seeded: User) -> None:
    assert notices.published().count() == 21
    refund = notices.published().get(title="廣東省深圳市電子政務平臺數字證書費用返還公告")
    assert refund.published_on == date(2022, 1, 13) and refund.pinned
    assert "12345" in refund.summary and "申請條件" in refund.body_html
    first = notices.published().get(title="關于移出深圳市第六批醫用耗材價格優勢專區產品的通知")
    assert first.published_on == date(2025, 9, 4)


def test_list_filters_and_pages(seeded: User) -> None:
    page = Client().get("/notices/").content.decode()
    assert "共 21 条" in page
    # pinned first, then newest
    assert page.index("費用返還公告") < page.index("第六批醫用耗材價格優勢專區產品的通知")
    assert "第 1 / 2 页" in page
    assert "第 2 / 2 页" in Client().get("/notices/?page=2").content.decode()
    guangzhou = Client().get("/notices/?region=guangzhou").content.decode()
    assert "共 8 条" in guangzhou and "深圳市第六批" not in guangzhou
    y2024 = Client().get("/notices/?year=2024").content.decode()
    assert "共 1 条" in y2024 and "20241001批次" in y2024
    credit = Client().get("/notices/?category=credit&year=2025").content.decode()
    assert "共 2 条" in credit
    assert "共 21 条" in Client().get("/notices/?region=nowhere&year=abc").content.decode()


def test_the_home_page_shows_the_pinned_notice_first(seeded: User) -> None:
    """The refund programme's notice is pinned (2022): the home page's 最新公告 listed the five
    newest only, so it never showed; now the pinned first, marked, as on the list."""
    home = Client().get("/").content.decode()
    notes = home.split("<h3>最新公告</h3>")[1].split("</ul>")[0]
    assert notes.count("<li>") == 5
    assert notes.index('<span class="tag error">置顶</span> <a') < notes.index("費用返還公告")
    assert notes.index("費用返還公告") < notes.index("第六批醫用耗材價格優勢專區產品的通知")


def test_a_page_or_year_int_cannot_read_is_a_stale_link(seeded: User) -> None:
    """ "²".isdigit() is true and int("²") raises: these were HTTP 500s."""
    page = Client().get("/notices/?page=%C2%B2")
    assert page.status_code == 200 and "第 1 / 2 页" in page.content.decode()
    year = Client().get("/notices/?year=%C2%B2%C2%B2%C2%B2%C2%B2")
    assert year.status_code == 200 and "共 21 条" in year.content.decode()


def test_atom_feed(seeded: User) -> None:
    response = Client().get("/notices/feed.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own feed
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert len(titles) == 21
    assert titles[0] == "關于移出深圳市第六批醫用耗材價格優勢專區產品的通知"


def test_attachments_by_content(clock, editor: User, tmp_path) -> None:  # type: ignore[no-untyped-def]
    notice = notices.create(editor, _input())
    pdf = notices.attach(editor, notice, "附件1 操作手册.exe", [images.pdf()])
    assert pdf.name == "附件1 操作手册.pdf" and pdf.content_type == "application/pdf"
    docx = notices.attach(editor, notice, "../../附件2.docx", [archives.docx()])
    assert docx.name == "附件2.docx" and docx.content_type.endswith("wordprocessingml.document")
    with pytest.raises(InvalidInput) as refused:
        notices.attach(editor, notice, "x.pdf", [b"<html><script>alert(1)</script>"])
    assert refused.value.code == "download_type"
    with pytest.raises(InvalidInput):
        notices.attach(editor, notice, "big.pdf", [b"%PDF-" + b"0" * (20 * 1024 * 1024)])
    # public only once the notice is
    url = f"/notices/{notice.pk}/files/{pdf.pk}"
    assert Client().get(url).status_code == 404
    notices.publish(editor, notice)
    response = Client().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == images.pdf()  # type: ignore[attr-defined]


def test_staff_editor_pages(clock, editor: User, make_user) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.get("/console/portal/").status_code == 302
    client.force_login(editor)
    response = client.post(
        "/console/portal/notices/new/",
        {
            "title": "新公告",
            "region": "shenzhen",
            "category": "service",
            "published_on": "2026-11-20",
            "body_html": EVIL,
        },
    )
    notice = Notice.objects.get(title="新公告")
    assert response.status_code == 303 and notice.state == NoticeState.DRAFT
    client.post(f"/console/portal/notices/{notice.pk}/publish")
    page = Client().get(f"/notices/{notice.pk}/").content.decode()
    assert "<script>" not in page and "onerror" not in page
    client.post(f"/console/portal/notices/{notice.pk}/withdraw")
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.WITHDRAWN
    other = Client()
    other.force_login(make_user(Role.REVIEWER))
    assert other.get("/console/portal/").status_code == 403


def test_a_notice_dated_after_today_is_not_published(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """A mistyped year (2099 for 2026) was published and then stood first in the list, on the
    home page and in the feed for decades, as the list is newest first."""
    notice = notices.create(editor, _input(published_on=date(2099, 1, 1)))  # a draft may be
    with pytest.raises(RuleViolation) as refused:
        notices.publish(editor, notice)
    assert refused.value.code == "notice_date_future"
    assert "2099-01-01" in refused.value.message
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.DRAFT
    corrected = notices.edit(editor, notice, _input(published_on=date(2026, 11, 20)))
    assert notices.publish(editor, corrected).state == NoticeState.PUBLISHED


def test_another_cas_clerk_is_no_editor_of_this_portal(  # type: ignore[no-untyped-def]
    clock, editor: User, make_user, other_provider
) -> None:
    """The portal is this instance's CA's: its notices speak in its name and the visitors'
    questions (phone numbers among them) are private until an editor publishes the answer. A
    clerk of another CA (a refund programme's participating counter has accounts here) was an
    editor all the same, as the role alone was asked: the staff console listed the private
    questions to it, and it drafted, published and withdrew this CA's notices."""
    from certhall.portal import questions

    notice = notices.create(editor, _input())
    stranger = make_user(Role.CLERK, provider=other_provider)
    for call in (
        lambda: notices.create(stranger, _input()),
        lambda: notices.publish(stranger, notice),
        lambda: questions.queue(stranger),
    ):
        with pytest.raises(Forbidden):
            call()
    client = Client()
    client.force_login(stranger)
    assert client.get("/console/portal/").status_code == 403
    assert client.post(f"/console/portal/notices/{notice.pk}/publish").status_code == 403
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.DRAFT
    admin = make_user(Role.CA_ADMIN, provider=other_provider)
    with pytest.raises(Forbidden):
        notices.create(admin, _input())
    notices.publish(editor, notice)  # this CA's clerk still is


def test_a_control_character_is_refused_and_the_feed_stays_readable(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """A title with U+0001 (pasted from another program) was stored and published: the page
    showed it, and the Atom feed (XML 1.0 has no such character) was an HTTP 500 for every
    reader until the notice was withdrawn. Refused beside the form, naming the field; a
    summary's and a body's line breaks and tabs stay."""
    client = Client()
    client.force_login(editor)
    form = {"region": "shenzhen", "category": "service", "published_on": "2026-11-20"}
    for field, what in (("title", "标题"), ("summary", "摘要"), ("body_html", "正文")):
        values = {"title": "维护通知", "body_html": "<p>正文</p>", **form}
        values[field] = values.get(field, "") + "\x01说明"
        page = client.post("/console/portal/notices/new/", values)
        assert page.status_code == 400, field
        assert f"{what}的第" in page.content.decode() and "U+0001" in page.content.decode()
        assert marked(page.content.decode()) == [field]  # the field, for a screen reader
    with pytest.raises(InvalidInput) as refused:
        _input(title="通知\u202e标题")  # a direction override
    assert refused.value.code == "text_chars"
    for blank in ("\x0b", "\u2028"):  # a title's whitespace runs are one space
        assert _input(title=f"通知{blank}标题").title == "通知 标题"
    assert not Notice.objects.exists()
    kept = notices.create(
        editor, _input(summary="第一行\n第二行\t完", body_html="<p>一</p>\r\n\t<p>二</p>")
    )
    notices.publish(editor, kept)
    assert kept.summary == "第一行\n第二行\t完"
    feed = Client().get("/notices/feed.atom")
    assert feed.status_code == 200
    ElementTree.fromstring(feed.content)  # noqa: S314 - our own feed


def test_the_feed_stays_readable_with_a_row_written_around_services(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """A title or body with a character XML cannot carry, written by a hand-made fix or a
    restore (not the services, which refuse it), shows U+FFFD in the feed instead of making it
    an HTTP 500 for every reader."""
    notice = notices.create(editor, _input())
    notices.publish(editor, notice)
    Notice.objects.filter(pk=notice.pk).update(title="维护\x01通知", body_html="<p>正\x1f文</p>")
    feed = Client().get("/notices/feed.atom")
    assert feed.status_code == 200
    root = ElementTree.fromstring(feed.content)  # noqa: S314 - our own feed
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    entry = root.find("atom:entry", ns)
    assert entry is not None
    assert entry.findtext("atom:title", namespaces=ns) == "维护\ufffd通知"
    assert "正\ufffd文" in (entry.findtext("atom:summary", namespaces=ns) or "")


def test_each_refusal_marks_the_field_it_is_about(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """The notice editor's refusals name their field (``web.refused``): the title left blank, a
    date that is none, a region or category not offered; one refusal, one field."""
    client = Client()
    client.force_login(editor)
    form = {
        "title": "维护通知",
        "body_html": "<p>正文</p>",
        "region": "shenzhen",
        "category": "service",
        "published_on": "2026-11-20",
    }
    for change, field in (
        ({"title": " "}, "title"),
        ({"published_on": "2026-13-01"}, "published_on"),
        ({"region": "mars"}, "region"),
        ({"category": "gossip"}, "category"),
        ({"summary": "长" * 1001}, "summary"),
    ):
        page = client.post("/console/portal/notices/new/", {**form, **change})
        assert page.status_code == 400, change
        assert marked(page.content.decode()) == [field], change
    assert not Notice.objects.exists()


def test_a_refused_attachment_is_the_notice_again_with_its_file_marked(  # type: ignore[no-untyped-def]
    clock, editor: User
) -> None:
    """上传附件 went through ``act_and_return``: refused, a notice above the page after a
    redirect, nothing marked. It is the notice again, the refusal inside the attachment form
    (not above the notice's own), the file field marked; none chosen the same."""
    notice = notices.create(editor, _input())
    client = Client()
    client.force_login(editor)
    url = f"/console/portal/notices/{notice.pk}/files"
    for sent in ({"file": SimpleUploadedFile("a.pdf", b"not a pdf at all")}, {}):
        refused = client.post(url, sent)
        page = refused.content.decode()
        assert refused.status_code == 400
        start = page.index('enctype="multipart/form-data"')
        assert 'id="form-error"' in page[start : page.index("</form>", start)]
        assert page.count('id="form-error"') == 1
        assert marked(page) == ["file"]
    assert "请选择文件。" in page
    assert not notice.attachments.exists()
