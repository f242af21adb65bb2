"""The portal's records: notices, visitors' questions, FAQ and usage guides, downloads, and the
search index (documents and their terms: character units and bigrams).

State machines (notices, questions) live in :mod:`certhall.portal.states` and change only
through :func:`certhall.lifecycle.transition`. Rich text is stored already sanitised
(:mod:`certhall.portal.sanitize`); files are stored content-addressed by ``hall.storage`` under
the portal's own folder of the uploads directory.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from certhall.accounts.models import User
from certhall.portal.states import NoticeState, QuestionState


class Region(models.TextChoices):
    SHENZHEN = "shenzhen", "深圳市"
    GUANGZHOU = "guangzhou", "广州市"
    JIANGMEN = "jiangmen", "江门市"
    GUANGDONG = "guangdong", "广东省"


class NoticeCategory(models.TextChoices):
    SERVICE = "service", "证书服务"
    REFUND = "refund", "费用返还"
    PRICE = "price", "价格公示"
    TRADING = "trading", "交易通知"
    CREDIT = "credit", "信用评价"
    SYSTEM = "system", "系统维护"


class Notice(models.Model):
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    #: Sanitised HTML (``sanitize.clean``): never stored otherwise.
    body_html = models.TextField(blank=True)
    region = models.CharField(max_length=20, choices=Region.choices)
    category = models.CharField(max_length=20, choices=NoticeCategory.choices)
    published_on = models.DateField()
    pinned = models.BooleanField(default=False)
    state = models.CharField(max_length=20, choices=NoticeState.choices, default=NoticeState.DRAFT)
    #: Demo content of the seeds: the key that makes seeding idempotent.
    seed_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["state", "-published_on"])]

    def __str__(self) -> str:
        return self.title

    @property
    def number(self) -> str:
        return f"GG{self.pk:06d}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "state": self.state,
            "region": self.region,
            "category": self.category,
            "published_on": self.published_on.isoformat(),
            "pinned": self.pinned,
        }


class StoredFile(models.Model):
    """A file of the portal (attachment or download): metadata of a content-addressed blob."""

    name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)

    class Meta:
        abstract = True

    @property
    def size_text(self) -> str:
        if self.size < 1024:
            return f"{self.size} 字节"
        if self.size < 1024 * 1024:
            return f"{self.size / 1024:.1f} KB"
        return f"{self.size / 1024 / 1024:.1f} MB"


class Attachment(StoredFile):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="attachments")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """A question asked on the portal, by a visitor (游客) or a logged-in user."""

    text = models.TextField()
    asker_name = models.CharField(max_length=40, blank=True)
    state = models.CharField(
        max_length=20, choices=QuestionState.choices, default=QuestionState.OPEN
    )
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    seed_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    #: The keyed hash of the asker's 查询码 (``questions.code_hash``); never the code itself.
    #: None (not "") for questions with no asker to give it to (the seed's): no code at all.
    code_hash = models.CharField(  # noqa: DJ001 - None: the question has no code at all
        max_length=64, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["state", "-created_at"])]

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def number(self) -> str:
        return f"ZX{self.pk:06d}"

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "answer": self.answer}


class EntryKind(models.TextChoices):
    FAQ = "faq", "常见问题"
    GUIDE = "guide", "证书使用指引"


class Entry(models.Model):
    """A FAQ entry or a usage guide: a title, a sanitised body, a category and an order."""

    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    category = models.CharField(max_length=40)
    order = models.IntegerField(default=0)
    title = models.CharField(max_length=200)
    body_html = models.TextField()
    published = models.BooleanField(default=True)
    question = models.OneToOneField(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="entry"
    )
    seed_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "order"])]

    def __str__(self) -> str:
        return self.title

    def snapshot(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "category": self.category,
            "order": self.order,
            "title": self.title,
            "published": self.published,
        }


class DownloadKind(models.TextChoices):
    FORM = "form", "申请表格"
    HELPER = "helper", "证书助手"
    MANUAL = "manual", "操作手册"


class Download(StoredFile):
    kind = models.CharField(max_length=10, choices=DownloadKind.choices)
    title = models.CharField(max_length=200)
    version = models.CharField(max_length=40)
    description = models.TextField(blank=True)
    #: Built by the platform (forms, helper): ``build_downloads`` replaces it by this key.
    build_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    published = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.title


class SearchDoc(models.Model):
    """One searchable page: its words (title and plain-text body) and where it lives."""

    kind = models.CharField(max_length=10)
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=200)
    date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="portal_doc_key")]

    def __str__(self) -> str:
        return self.title


class SearchPosting(models.Model):
    """One search term of one document (see :mod:`certhall.portal.textindex`): a unit
    (``证``, ``ca``, ``32``) or a bigram of neighbouring units written ``head tail``
    (``证 书``, ``32 位``); whether it occurs in the title; the document's date as a day
    number (``date.toordinal()``) for ranking. Two indexes serve the query: the primary key
    ``(doc, term)`` checks candidates, ``(term, in_title, day, doc)`` lists a term's documents
    in ranking order and counts them without reading the table."""

    pk = models.CompositePrimaryKey("doc_id", "term")
    doc = models.ForeignKey(
        SearchDoc, on_delete=models.CASCADE, related_name="postings", db_index=False
    )
    term = models.CharField(max_length=65)
    in_title = models.BooleanField()
    day = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["term", "in_title", "day", "doc"], name="portal_posting_rank")
        ]

    def __str__(self) -> str:
        return self.term
