"""下载: the built forms and certificate helper (version, size, sha256), staff uploads by
content and size; the helper zipapp runs."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile

import pytest
from django.test import Client

from certhall.accounts.models import Role, User
from certhall.errors import Forbidden, InvalidInput
from certhall.portal import downloads, files, helper, indexing, search
from certhall.portal.models import Download
from tests.support.images import pdf

pytestmark = pytest.mark.django_db


def test_build_forms_and_helper(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    rows = downloads.build(editor)
    assert sorted(r.build_key for r in rows) == [
        "form-blank:org_application",
        "form-blank:personal_annex",
        "form-blank:unit_application",
        "form:org_application",
        "form:personal_annex",
        "form:unit_application",
        "helper",
    ]
    page = Client().get("/downloads/").content.decode()
    for row in rows:
        assert row.sha256 in page and row.version in page
        response = Client().get(f"/downloads/{row.pk}/{row.name}")
        data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.size
    # each command its own block to copy, the words around it a step (they were running text)
    pip = "python3 -m pip install cryptography==50.0.2 python-pkcs11==0.10.1"
    assert f'首次使用先安装依赖：<pre tabindex="0"><code>{pip}</code></pre>' in page
    assert (
        '<pre tabindex="0"><code>python3 certhall-helper.pyz --module 驱动文件路径</code></pre>'
        in page
    )
    # a customer on a phone reads what the helper is for and where it runs, in Chinese
    assert '证书助手<span class="nowrap">（电脑端）</span>' in page  # its bracket kept whole
    assert "certhall agent" not in page
    assert "在插着Ukey的电脑上下载并运行（手机上无法使用）" in page
    # rebuilding the same sources changes nothing
    again = downloads.build(editor)
    assert [r.sha256 for r in again] == [r.sha256 for r in rows]
    assert Download.objects.count() == 7


def test_the_helper_zipapp_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / helper.FILE_NAME
    path.write_bytes(helper.build("http://127.0.0.1:8000"))
    assert helper.build("http://127.0.0.1:8000") == path.read_bytes()  # reproducible
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert "__main__.py" in names and "certhall/agent/server.py" in names
    assert not any(n.startswith(("certhall/hall", "certhall/portal")) for n in names)
    # -I: no PYTHONPATH, no current directory; the helper's own certhall comes from the file
    result = subprocess.run(
        [sys.executable, "-I", str(path), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "--hall-origin" in result.stdout and "证书助手" in result.stdout
    # -S: no site-packages, as on a customer's computer before the first pip install
    bare = subprocess.run(
        [sys.executable, "-I", "-S", str(path), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert bare.returncode == 1 and "Traceback" not in bare.stderr
    assert "证书助手缺少依赖" in bare.stderr
    assert "python3 -m pip install " + " ".join(helper.REQUIREMENTS) in bare.stderr


def test_uploads_checked_by_content_and_size(clock, editor: User, make_user) -> None:  # type: ignore[no-untyped-def]
    row = downloads.upload(
        editor,
        kind="manual",
        title="数字证书网厅续期操作指引",
        version="2026.1",
        description="",
        name="指引.pdf",
        chunks=[pdf()],
    )
    assert row.content_type == "application/pdf" and row.size == len(pdf())
    with pytest.raises(InvalidInput) as wrong:
        downloads.upload(
            editor, kind="manual", title="x", version="1", description="", name="x.pdf",
            chunks=[b"MZ\x90\x00 not a pdf"],
        )  # fmt: skip
    assert wrong.value.code == "download_type"
    with pytest.raises(InvalidInput) as big:
        downloads.upload(
            editor, kind="manual", title="x", version="1", description="", name="x.pdf",
            chunks=[b"%PDF-" + b"0" * downloads.UPLOAD_MAX],
        )  # fmt: skip
    assert big.value.code == "download_too_big"
    with pytest.raises(InvalidInput) as long:  # a 说明 longer than a notice's 摘要
        downloads.upload(
            editor, kind="manual", title="x", version="1", name="x.pdf",
            description="说" * (downloads.DESCRIPTION_MAX + 1), chunks=[b"%PDF-1.4\n"],
        )  # fmt: skip
    assert long.value.code == "field_too_long" and "说明" in long.value.message
    assert Download.objects.count() == 1  # the first upload only
    with pytest.raises(InvalidInput):  # a zipapp is only ever built, never uploaded
        downloads.upload(
            editor, kind="helper", title="x", version="1", description="", name="x.pyz",
            chunks=[b"#!/usr/bin/env python3\nPK\x03\x04"],
        )  # fmt: skip
    with pytest.raises(Forbidden):
        downloads.upload(
            make_user(Role.APPLICANT), kind="manual", title="x", version="1", description="",
            name="x.pdf", chunks=[b"%PDF-1.4"],
        )  # fmt: skip


def test_a_file_name_keeps_no_invisible_character(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """The name the public's browser saves: a direction override (U+202E) made
    报告\u202egpj.pdf show as 报告fdp.jpg; zero-width, format and C1 control characters are
    replaced as the C0 ones were."""
    assert files.safe_name("报告\u202egpj.pdf", "application/pdf") == "报告_gpj.pdf"
    for odd in ("\u200b", "\u2066", "\x85", "\u2028", "\ufeff"):
        assert files.safe_name(f"操作{odd}指引.pdf", "application/pdf") == "操作_指引.pdf", odd
    assert files.safe_name("操作 指引（2026）.pdf", "application/pdf") == "操作 指引（2026）.pdf"
    row = downloads.upload(
        editor, kind="manual", title="指引", version="1", description="",
        name="指引\u202efdp.exe", chunks=[pdf()],
    )  # fmt: skip
    assert row.name == "指引_fdp.pdf"


SAMPLE_DATA = [
    "深圳市示例医疗器械有限公司",
    "91350100M000100Y43",
    "张三",
    "李四",
    "44030519900101123X",
    "11010519491231002X",
    "13800138000",
    "0755-00000000",
    "科技园示例路",
    "YANGLI-0001",
    "2026年1月5日",
]


def _pdf_text(data: bytes, tmp_path, name: str) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert "Pages:" in info.stdout  # poppler parses it as a PDF
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_blank_forms_carry_no_sample_data(clock, editor: User, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from certhall.forms import blank_form_data

    blank = blank_form_data()
    assert blank.blank and not blank.form_number and blank.application_date is None
    people = [blank.applicant, blank.handler] + [r.holder for r in blank.requests if r.holder]
    for person in people:
        assert not any(getattr(person, f) for f in ("name", "phone") if hasattr(person, f))
    assert all(r.business is None and r.fee_yuan is None for r in blank.requests)
    if not shutil.which("pdftotext") or not shutil.which("pdfinfo"):
        pytest.skip("poppler-utils (pdftotext, pdfinfo) not installed")
    rows = {r.build_key: r for r in downloads.build(editor)}
    page = Client().get("/downloads/").content.decode()
    for key in ("unit_application", "org_application", "personal_annex"):
        row = rows[f"form-blank:{key}"]
        assert row.sha256 in page and row.name.endswith("（空白表）.pdf") and row.version
        data = downloads.verify(row)
        assert data.startswith(b"%PDF-") and len(data) == row.size
        text = _pdf_text(data, tmp_path, f"{key}.pdf")
        specimen = _pdf_text(downloads.verify(rows[f"form:{key}"]), tmp_path, f"s-{key}.pdf")
        assert "□" in text and "■" not in text and "■" in specimen  # boxes: none ticked
        for sample in SAMPLE_DATA:
            assert sample not in text, (key, sample)
        assert "张三" in specimen  # the check above would see sample data
        # the same layout: the labels of the specimen
        for label in ("统一社会信用代码", "证件号码", "业务类型", "法定代表人签字"):
            assert (label in text) == (label in specimen), (key, label)


def test_downloads_are_found_by_the_search(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """A visitor searching 申请表 or 空白表 found guides naming the forms but never 下载, where
    they are; 证书助手 found no way to get it, 驱动 nothing (12-07, phone probe). Built and
    uploaded downloads are search documents (kind download, 下载); a withdrawn one is not."""
    downloads.build(editor)
    indexing.reindex_all()

    def found(query: str) -> dict[str, str]:
        hits = search.search(query, per_page=50).hits
        return {h.title: h.url for h in hits if h.kind_label == "下载"}

    blank = Download.objects.get(build_key="form-blank:unit_application")
    assert found("申请表")[blank.title] == f"/downloads/#download-{blank.pk}"
    assert blank.title in found("空白表") and blank.title in found("申請表")
    helper_row = Download.objects.get(build_key="helper")
    assert set(found("证书助手")) >= {helper_row.title} and helper_row.title in found("驱动")
    # the services keep it current: an upload is found at once, a withdrawn one no more
    manual = downloads.upload(
        editor, kind="manual", title="数字证书网厅续期操作指引", version="2026.1",
        description="非招投标类项目", name="指引.pdf", chunks=[pdf()],
    )  # fmt: skip
    assert found("招投标") == {manual.title: f"/downloads/#download-{manual.pk}"}
    downloads.withdraw(editor, manual)
    assert found("招投标") == {}
    page = Client().get("/search/", {"q": "空白表"}).content.decode()
    assert f'href="/downloads/#download-{blank.pk}"' in page
