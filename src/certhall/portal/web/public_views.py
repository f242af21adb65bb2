"""The portal's public pages: thin views (read the request, call one service, render)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_safe

from certhall import config, ratelimit
from certhall.messages import text
from certhall.portal import downloads, entries, files, helper, notices, questions, sanitize, search
from certhall.portal.models import EntryKind, NoticeCategory, Region
from certhall.portal.states import QuestionState
from certhall.web.errors import attempt, form_page, typed, whole_number

FEED_SIZE = 30
#: The session's note of the question just asked: its number and 查询码, shown on the page the
#: asker is sent to; then the code is forgotten (a reload shows 已提交 and the number only).
SESSION_ASKED = "portal.asked"
#: What XML 1.0 cannot carry. The services refuse it in a notice
#: (``pki.identity.refuse_invisible``); a row written around them (a database restore, a
#: hand-made fix) must not make the feed a 500 for every reader: it shows U+FFFD instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _page_number(request: HttpRequest) -> int:
    """``?page=``: one that is not a page number is page 1 (as a stale link's would be)."""
    number = whole_number(request.GET.get("page", "1"))
    return number if number is not None and 0 < number < 100_000 else 1


@require_safe
def notice_list(request: HttpRequest) -> HttpResponse:
    filters = notices.Filters.parse(
        request.GET.get("region", ""),
        request.GET.get("category", ""),
        whole_number(request.GET.get("year", "")),
    )
    page = notices.listing(filters, _page_number(request))
    query = {"region": filters.region, "category": filters.category, "year": filters.year or ""}
    keep = "&".join(f"{k}={v}" for k, v in query.items() if v)
    context: dict[str, Any] = {
        "section": "notices",
        "page": page,
        "filters": filters,
        "keep": keep,
        "regions": Region.choices,
        "categories": NoticeCategory.choices,
        "years": notices.years(),
    }
    return render(request, "portal/notice_list.html", context)


@require_safe
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = notices.get_public(pk)
    context = {
        "section": "notices",
        "notice": notice,
        # the refund programme the notice announces (refunds.Programme.notice), if one names it
        "programme": getattr(notice, "refund_programme", None),
        "body": sanitize.clean(notice.body_html),
        "attachments": notice.attachments.order_by("pk"),
    }
    return render(request, "portal/notice_detail.html", context)


@require_safe
def notice_attachment(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    user = request.user if request.user.is_authenticated else None
    item = notices.attachment(pk, attachment_pk, actor=user)
    return _file(files.path_of(item.sha256), item.name, item.content_type)


def _file(path: Any, name: str, content_type: str) -> FileResponse:
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_safe
def notice_subscribe(request: HttpRequest) -> HttpResponse:
    """订阅公告: how to follow the notices with a feed reader, and the feed's address to copy
    (the Atom XML itself, opened on a phone, was raw text)."""
    context = {
        "section": "notices",
        "feed_url": f"{config.get().base_url}/notices/feed.atom",
        "feed_size": FEED_SIZE,
    }
    return render(request, "portal/notice_subscribe.html", context)


@require_safe
def notice_feed(request: HttpRequest) -> HttpResponse:
    base = config.get().base_url
    feed = Atom1Feed(
        title="深圳医保在线签约数字证书服务平台 · 公告",
        link=f"{base}/notices/",
        description="平台发布的公告",
        language="zh-CN",
        feed_url=f"{base}/notices/feed.atom",
    )
    for notice in notices.latest(FEED_SIZE):
        day = timezone.make_aware(datetime.combine(notice.published_on, time.min))
        feed.add_item(
            title=_xml(notice.title),
            link=f"{base}/notices/{notice.pk}/",
            description=_xml(sanitize.clean(notice.body_html) or notice.summary or notice.title),
            unique_id=f"{base}/notices/{notice.pk}/",
            pubdate=day,
            updateddate=notice.updated_at,
            categories=[notice.get_region_display(), notice.get_category_display()],
        )
    return HttpResponse(
        feed.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8"
    )


def _entries_page(request: HttpRequest, kind: str, section: str, title: str) -> HttpResponse:
    groups = [
        (category, [(e, sanitize.clean(e.body_html)) for e in items])
        for category, items in entries.grouped(kind)
    ]
    context = {"section": section, "groups": groups, "title": title}
    return render(request, "portal/entries.html", context)


@require_safe
def faq(request: HttpRequest) -> HttpResponse:
    return _entries_page(request, EntryKind.FAQ, "faq", "常见问题")


@require_safe
def usage(request: HttpRequest) -> HttpResponse:
    return _entries_page(request, EntryKind.GUIDE, "usage", "证书使用指引")


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "section": "questions",
        "answered": [
            entry
            for _, items in entries.grouped(EntryKind.FAQ)
            for entry in items
            if entry.question_id
        ],
        "text": "",
        "name": "",
    }
    if request.method == "POST":
        post = request.POST
        context["text"], context["name"] = post.get("text", ""), post.get("name", "")
        client = ratelimit.client_key(ratelimit.client_address(request))
        question, error = attempt(
            lambda: questions.ask(
                post.get("text", ""),
                name=post.get("name", ""),
                stamp=post.get("stamp", ""),
                trap=post.get("website", ""),
                client=client,
            )
        )
        if question is not None:
            number = question.question.number
            request.session[SESSION_ASKED] = {"number": number, "code": question.code}
            return HttpResponseRedirect(f"/questions/?asked={number}", status=303)
        context["stamp"] = questions.form_stamp()
        return form_page(request, "portal/ask.html", context, error)
    context["stamp"] = questions.form_stamp()
    # 已提交 only for the question this session asked (any well-formed ZX number in the
    # address showed it before); its 查询码 once, its number kept for a reload
    just = request.session.get(SESSION_ASKED) or {}
    asked = request.GET.get("asked", "")
    if asked and just.get("number") == asked:
        context["asked"] = asked
        if "code" in just:
            context["code"] = just["code"]
            # the code in the fragment: browsers never send it, so no access log keeps it
            page = f"{config.get().base_url}/questions/answer/?" + urlencode({"number": asked})
            context["link"] = f"{page}#code={just['code']}"
            request.session[SESSION_ASKED] = {"number": asked}
    response = render(request, "portal/ask.html", context)
    if "code" in context:
        _private(response)
    return response


def _private(response: HttpResponse) -> HttpResponse:
    """A page carrying a 查询码: not cached, and its address not sent on as a referrer (only
    the origin: ``no-referrer`` would make the browser send ``Origin: null`` with the page's
    own form, which the CSRF check rightly refuses)."""
    response["Referrer-Policy"] = "strict-origin"
    return response


@require_http_methods(["GET", "POST"])
def answer_page(request: HttpRequest) -> HttpResponse:
    """查看答复: number + 查询码, typed in the form or brought by the link shown on asking
    (``?number=ZX…#code=…``: portal/answer.js posts the fragment's code; a ``code`` in the
    query, as links carried before, is still read)."""
    source = request.POST if request.method == "POST" else request.GET
    form = typed(source, ("number", "code"), 20)
    context: dict[str, Any] = {"section": "questions", "number": form.get("number", "")}
    if request.method == "GET" and not source.get("code"):  # the form, its number filled in
        return _private(render(request, "portal/answer.html", context))
    client = ratelimit.client_key(ratelimit.client_address(request))
    question, error = attempt(
        lambda: questions.read_answer(form.get("number", ""), form.get("code", ""), client=client)
    )
    if question is not None:
        context["question"] = question
        # answered, published, or closed after an answer (a reopened one awaits a new one)
        context["shows_answer"] = question.state != QuestionState.OPEN and bool(question.answer)
    return _private(form_page(request, "portal/answer.html", context, error))


@require_safe
def download_list(request: HttpRequest) -> HttpResponse:
    rows = list(downloads.public())
    context = {"section": "downloads", "rows": rows, "helper_steps": helper.STEPS}
    return render(request, "portal/downloads.html", context)


@require_safe
def download_file(request: HttpRequest, pk: int, name: str) -> FileResponse:
    row = downloads.get_public(pk)
    return _file(files.path_of(row.sha256), row.name, row.content_type)


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    results, error = attempt(lambda: search.search(query, page=_page_number(request)))
    context = {
        "section": "search",
        "query": query,
        "results": results,
        "keep_query": urlencode({"q": query}),
    }
    if results and results.some:
        context["some_line"] = text("search_some_words", query=results.query)
    if results and results.also:
        words = "、".join(f"“{word}”" for word in results.also)
        context["also_line"] = text("search_also", words=words)
    if results and results.begun:
        words = "、".join(f"“{word}”" for word in results.begun)
        context["begun_line"] = text("search_begun", query=results.query, words=words)
    if results and results.near:
        words = "、".join(f"“{word}”" for word in results.near)
        context["near_line"] = text("search_near", query=results.query, words=words)
    return form_page(request, "portal/search.html", context, error)
