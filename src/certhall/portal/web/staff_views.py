"""门户管理 under /console/portal/: notices (draft, publish, withdraw), questions (answer,
publish to the FAQ), FAQ and usage-guide entries, downloads. Thin views: every permission
and state check is the services' (``require_editor``, the lifecycles)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhall.accounts.models import User
from certhall.errors import CerthallError, Forbidden, InvalidInput, about
from certhall.messages import text
from certhall.portal import access, downloads, entries, notices, questions
from certhall.portal.models import DownloadKind, EntryKind, Notice, NoticeCategory, Region
from certhall.portal.states import NoticeState, QuestionState
from certhall.web.errors import act_and_return, act_on_page, attempt, form_page, int_field

LOGIN = "/accounts/login/"
HOME = "/console/portal/"

View = Callable[..., HttpResponse]


def editor(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(f"{LOGIN}?{urlencode({'next': request.get_full_path()})}")
        if not access.is_editor(request.user):
            raise Forbidden(code="portal_role_required")
        return view(request, *args, **kwargs)

    return wrapped


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - ``editor`` let only editors in
    return user


@require_GET
@editor
def home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    context = {
        "notices": notices.all_for_staff(actor)[:50],
        "open_questions": questions.queue(actor, QuestionState.OPEN)[:50],
        "answered": questions.queue(actor, QuestionState.ANSWERED)[:50],
        "entries": entries.all_for_staff(actor),
        "downloads": downloads.public(),
    }
    return render(request, "portal/staff/home.html", context)


def _notice_input(request: HttpRequest) -> notices.NoticeInput:
    post = request.POST
    return notices.NoticeInput(
        title=post.get("title", ""),
        summary=post.get("summary", ""),
        body_html=post.get("body_html", ""),
        region=post.get("region", ""),
        category=post.get("category", ""),
        published_on=notices.parse_date(post.get("published_on", "")),
        pinned=post.get("pinned") == "on",
    )


def _notice_context(**extra: Any) -> dict[str, Any]:
    return {"regions": Region.choices, "categories": NoticeCategory.choices, **extra}


@require_http_methods(["GET", "POST"])
@editor
def notice_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    context = _notice_context(form=request.POST if request.method == "POST" else {})
    if request.method == "POST":
        notice, error = attempt(lambda: notices.create(actor, _notice_input(request)))
        if notice is not None:
            messages.success(request, text("done_notice_draft", number=notice.number))
            return HttpResponseRedirect(f"{HOME}notices/{notice.pk}/", status=303)
        return form_page(request, "portal/staff/notice_form.html", context, error)
    return render(request, "portal/staff/notice_form.html", context)


@require_http_methods(["GET", "POST"])
@editor
def notice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    notice = notices.get_for_staff(actor, pk)
    if request.method == "POST":
        context = _notice_context(notice=notice, form=request.POST)
        saved, error = attempt(lambda: notices.edit(actor, notice, _notice_input(request)))
        if saved is not None:
            messages.success(request, text("done_notice_saved", number=notice.number))
            return HttpResponseRedirect(f"{HOME}notices/{pk}/", status=303)
        return form_page(request, "portal/staff/notice_form.html", context, error)
    return render(request, "portal/staff/notice_form.html", _notice_page_context(notice))


def _notice_page_context(notice: Notice) -> dict[str, Any]:
    """A notice's page as saved (the page, and the page again with an attachment refused)."""
    form = {
        "title": notice.title,
        "summary": notice.summary,
        "body_html": notice.body_html,
        "region": notice.region,
        "category": notice.category,
        "published_on": notice.published_on.isoformat(),
        "pinned": "on" if notice.pinned else "",
    }
    return _notice_context(
        notice=notice,
        form=form,
        attachments=notice.attachments.order_by("pk"),
        editable=notice.state != NoticeState.PUBLISHED,
    )


NOTICE_ACTIONS = {
    "publish": (notices.publish, "done_notice_published"),
    "withdraw": (notices.withdraw, "done_notice_withdrawn"),
    "redraft": (notices.redraft, "done_notice_redrafted"),
}


@require_POST
@editor
def notice_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = _actor(request)
    notice = notices.get_for_staff(actor, pk)
    service, done = NOTICE_ACTIONS[action]
    target = f"{HOME}notices/{pk}/"
    return act_and_return(
        request, target, lambda: service(actor, notice), text(done, number=notice.number)
    )


@require_POST
@editor
def notice_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """上传附件: done, the notice with the notice; refused (none chosen, its type, size or
    contents), the notice again with the refusal inside the attachment form, the file field
    marked (``act_on_page``: a notice after a redirect said it above the page, nothing marked;
    a browser never fills a file field again, so it is chosen again)."""
    actor = _actor(request)
    notice = notices.get_for_staff(actor, pk)
    upload = request.FILES.get("file")

    def attach() -> object:
        with about("file"):
            if upload is None:
                raise InvalidInput(code="portal_file_missing")
            return notices.attach(actor, notice, upload.name or "", upload.chunks())

    def again(error: CerthallError, typed: dict[str, str]) -> HttpResponse:
        context = _notice_page_context(notice)
        context["refused_in"] = "attach"
        return form_page(request, "portal/staff/notice_form.html", context, error)

    return act_on_page(
        request, f"{HOME}notices/{pk}/", attach, text("done_attachment_uploaded"), again, limit=0
    )


#: A question's buttons that send nothing but themselves (as :data:`NOTICE_ACTIONS`).
QUESTION_ACTIONS = {
    "unpublish": (questions.unpublish, "done_question_unpublished"),
    "close": (questions.close, "done_question_closed"),
    "reopen": (questions.reopen, "done_question_reopened"),
}


@require_http_methods(["GET", "POST"])
@editor
def question_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    question = questions.get_for_staff(actor, pk)
    if request.method == "POST":
        action = request.POST.get("action", "answer")
        target = f"{HOME}questions/{pk}/"
        if action == "answer":
            answer = request.POST.get("answer", "")
            answered, error = attempt(lambda: questions.answer(actor, question, answer))
            if answered is not None:
                messages.success(request, text("done_question_answered"))
                return HttpResponseRedirect(target, status=303)
            # the page again, the refusal beside the answer as typed (it was lost)
            context = {"question": question, "faq_category": questions.FAQ_CATEGORY}
            context["answer"] = answer
            return form_page(request, "portal/staff/question.html", context, error)
        if action == "publish":
            category = request.POST.get("category", "") or questions.FAQ_CATEGORY

            def again(error: CerthallError, typed: dict[str, str]) -> HttpResponse:
                """The question again, the refusal inside the 公开到常见问题 form, the category
                as typed and marked (a notice after a redirect lost it)."""
                context = {"question": question, "faq_category": typed.get("category", "")}
                context |= {"answer": question.answer, "refused_in": "publish"}
                return form_page(request, "portal/staff/question.html", context, error)

            return act_on_page(
                request,
                target,
                lambda: questions.publish(actor, question, category),
                text("done_question_published"),
                again,
                limit=entries.CATEGORY_MAX,
            )
        if action in QUESTION_ACTIONS:
            service, done = QUESTION_ACTIONS[action]
            return act_and_return(request, target, lambda: service(actor, question), text(done))
    context = {"question": question, "faq_category": questions.FAQ_CATEGORY}
    return render(request, "portal/staff/question.html", context)


def _entry_input(request: HttpRequest) -> entries.EntryInput:
    post = request.POST
    # refused when it is not a whole number ("abc" was read as 0, and saved so)
    order = int_field(post, "order", "顺序", signed=True) or 0
    return entries.EntryInput(
        kind=post.get("kind", ""),
        category=post.get("category", ""),
        title=post.get("title", ""),
        body_html=post.get("body_html", ""),
        order=order,
        published=post.get("published") == "on",
    )


@require_http_methods(["GET", "POST"])
@editor
def entry_page(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    entry = entries.get_for_staff(actor, pk) if pk is not None else None
    context: dict[str, Any] = {"entry": entry, "kinds": EntryKind.choices}
    if request.method == "POST":
        context["form"] = request.POST
        if entry is None:
            saved, error = attempt(lambda: entries.create(actor, _entry_input(request)))
        else:
            saved, error = attempt(lambda: entries.edit(actor, entry, _entry_input(request)))
        if saved is not None:
            messages.success(request, text("done_entry_saved"))
            return HttpResponseRedirect(f"{HOME}entries/{saved.pk}/", status=303)
        return form_page(request, "portal/staff/entry_form.html", context, error)
    if entry is not None:
        context["form"] = {
            "kind": entry.kind,
            "category": entry.category,
            "title": entry.title,
            "body_html": entry.body_html,
            "order": entry.order,
            "published": "on" if entry.published else "",
        }
    else:
        context["form"] = {"kind": EntryKind.FAQ, "published": "on"}
    return render(request, "portal/staff/entry_form.html", context)


@require_http_methods(["GET", "POST"])
@editor
def download_upload(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    context: dict[str, Any] = {"kinds": DownloadKind.choices, "form": request.POST}
    if request.method == "POST":
        upload = request.FILES.get("file")
        post = request.POST
        row, error = attempt(
            lambda: downloads.upload(
                actor,
                kind=post.get("kind", ""),
                title=post.get("title", ""),
                version=post.get("version", ""),
                description=post.get("description", ""),
                name=upload.name or "" if upload else "",
                chunks=upload.chunks() if upload else iter([b""]),
            )
        )
        if row is not None:
            messages.success(request, text("done_download_uploaded", title=row.title))
            return HttpResponseRedirect(HOME, status=303)
        return form_page(request, "portal/staff/download_form.html", context, error)
    return render(request, "portal/staff/download_form.html", context)


@require_POST
@editor
def download_build(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    return act_and_return(
        request, HOME, lambda: downloads.build(actor), text("done_downloads_built")
    )
