"""What the portal publishes is checked as the hall's documents are (12-07): a PDF or an Office
file cut short, a PDF that does not open, has an open password, no page, over 500 pages or a
page over 1200 mm is refused in an editor's words, nothing stored, the refusal audited; each
made from a real file cut or altered here, beside intact ones (a 500-page manual, an A0
poster, a DOCX, a PDF with an owner password only) that are published."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import InvalidInput
from certhall.portal import downloads, files, notices
from certhall.portal.models import Attachment, Download
from tests.portal.test_notices import _input
from tests.support.archives import docx, xlsx
from tests.support.images import encrypted, pdf, without_eof

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The portal's files under this test's own directory."""
    root = tmp_path / "portal"
    monkeypatch.setattr(files, "root", lambda: root)
    return root


def stored(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def owner_password_only(content: bytes) -> bytes:
    """Permissions set by an owner password, no password to open it."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(content)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def publish(editor: User, content: bytes, name: str = "操作手册.pdf") -> Download:
    return downloads.upload(
        editor, kind="manual", title="数字证书操作手册", version="2026.1", description="",
        name=name, chunks=[content],
    )  # fmt: skip


BROKEN: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "pdf-cut-halfway": (
        lambda: pdf(3)[: len(pdf(3)) // 2],
        "file_incomplete",
        "文件不完整（上传中断或文件已损坏），客户下载后打不开，请重新导出文件后上传。",
    ),
    "pdf-without-eof": (
        lambda: without_eof(pdf()),
        "file_incomplete",
        "文件不完整（上传中断或文件已损坏），客户下载后打不开，请重新导出文件后上传。",
    ),
    "docx-cut-halfway": (
        lambda: docx()[: len(docx()) // 2],
        "file_incomplete",
        "文件不完整（上传中断或文件已损坏），客户下载后打不开，请重新导出文件后上传。",
    ),
    "pdf-garbage": (
        lambda: b"%PDF-1.7\n" + b"x" * 500 + b"\nstartxref\n9\n%%EOF\n",
        "pdf_unreadable",
        "PDF文件已损坏，打不开，请重新导出PDF后再上传。",
    ),
    "pdf-password": (
        lambda: encrypted(pdf()),
        "pdf_encrypted",
        "PDF文件设置了打开密码，客户下载后无法打开，请去掉打开密码后重新上传。",
    ),
    "pdf-no-pages": (
        lambda: pdf(0),
        "pdf_no_pages",
        "PDF文件中没有页面，请重新导出PDF后再上传。",
    ),
    "pdf-501-pages": (
        lambda: pdf(501),
        "pdf_too_many_pages",
        "PDF文件超过 500 页的限制，请拆分成几个文件后分别上传。",
    ),
    "pdf-page-over-a0": (
        lambda: pdf(1, 2384, 3430),  # 841.02 x 1210.03 mm
        "pdf_page_too_large",
        "PDF文件第 1 页为 842 × 1211 毫米，"
        "超过限制（每边不超过 1200 毫米，A0纸为 841 × 1189 毫米），请调整页面大小后重新导出PDF。",
    ),
}


@pytest.mark.parametrize(("make", "code", "words"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_download_is_refused_in_chinese_and_nothing_is_kept(
    clock, editor: User, published: Path, make: Callable[[], bytes], code: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    name = "手册.docx" if code == "file_incomplete" and make().startswith(b"PK") else "手册.pdf"
    with pytest.raises(InvalidInput) as refused:
        publish(editor, make(), name)
    assert (refused.value.code, refused.value.message) == (code, words)
    assert not Download.objects.exists() and stored(published) == []
    event = AuditEvent.objects.filter(action="portal.download.upload", result="refused").get()
    assert event.after["error"] == code and event.after["name"] == name
    assert event.actor_id == editor.pk


@pytest.mark.parametrize(("make", "code", "words"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_attachment_is_refused_alike(
    clock, editor: User, published: Path, make: Callable[[], bytes], code: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    notice = notices.create(editor, _input())
    with pytest.raises(InvalidInput) as refused:
        notices.attach(editor, notice, "附件.pdf", [make()])
    assert (refused.value.code, refused.value.message) == (code, words)
    assert not Attachment.objects.exists() and stored(published) == []
    event = AuditEvent.objects.filter(action="portal.notice.attach", result="refused").get()
    assert event.after["error"] == code and event.object_id == notice.number


INTACT: dict[str, Callable[[], bytes]] = {
    "pdf-manual-60-pages": lambda: pdf(60),
    "pdf-500-pages": lambda: pdf(500),
    "pdf-a0-poster": lambda: pdf(1, 2384, 3370),  # 841 x 1189 mm
    "pdf-owner-password-only": lambda: owner_password_only(pdf(2)),
    "pdf-incremental-update": lambda: pdf() + b"\n% appended\n" + pdf()[-40:],
    "docx": docx,
    "xlsx": xlsx,
}


@pytest.mark.parametrize("make", INTACT.values(), ids=INTACT.keys())
def test_an_intact_file_is_published(
    clock, editor: User, published: Path, make: Callable[[], bytes]
) -> None:  # type: ignore[no-untyped-def]
    content = make()
    row = publish(editor, content, "手册.docx" if content.startswith(b"PK") else "手册.pdf")
    assert row.size == len(content) and stored(published) == [files.path_of(row.sha256)]
    assert not AuditEvent.objects.filter(result="refused").exists()


def test_a_zip_is_told_apart_before_it_is_kept(clock, editor: User, published: Path) -> None:  # type: ignore[no-untyped-def]
    """The kind of a ZIP (DOCX, XLSX, ZIP) is read from the file before it is renamed into
    place: a damaged one used to be refused after it was stored."""
    assert publish(editor, xlsx(), "表.xlsx").content_type == files.XLSX
    damaged = xlsx().replace(b"PK\x05\x06", b"PK\x05\x07")  # its directory's end
    with pytest.raises(InvalidInput) as refused:
        publish(editor, damaged, "表.xlsx")
    assert refused.value.code == "file_incomplete" and len(stored(published)) == 1


def test_the_built_forms_pass_the_same_checks(clock, editor: User, published: Path) -> None:  # type: ignore[no-untyped-def]
    rows = downloads.build(editor)
    assert {row.content_type for row in rows} == {files.PDF, files.ZIPAPP}
    assert not AuditEvent.objects.filter(result="refused").exists()
    assert all(re.fullmatch(r"[0-9a-f]{64}", row.sha256) for row in rows)
