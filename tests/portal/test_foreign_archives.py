"""Archives of formats the platform does not read inside (7z, RAR, CAB, gzip, bzip2, xz, tar,
Zstandard, LZ4, lzip, an ISO image; since 12-07, night, V7 tar, ARJ, LZH, WIM, VHD and VHDX
images and Windows programs, a self-extracting one among them), put in a ZIP an editor
publishes: refused in Chinese naming the member and its format, told by their first bytes
(a fixed VHD by its last), not their names, at any level a
ZIP is read; nothing stored, the refusal audited (12-07, h2: they were published unchecked).
Uploaded as they are, they were and are refused by type. The nesting refusal's words, and a
plain ZIP's relationships parts (not read: nothing opens them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import InvalidInput
from certhall.hall import storage
from certhall.portal import files, notices
from certhall.portal.models import Attachment, Download
from tests.portal.test_notices import _input
from tests.portal.test_published_files import publish, published, stored
from tests.support import bad_archives as bad
from tests.support.archives import (
    declaring,
    docx_parts,
    relationships,
    with_chart,
    xlsx,
    xlsx_parts,
    zipped,
)

pytestmark = pytest.mark.django_db
__all__ = ["published"]  # the fixture, used by name


def _refused(editor: User, content: bytes) -> InvalidInput:
    """The refusal of ``content`` published as 驱动.zip, nothing stored, the refusal audited."""
    with pytest.raises(InvalidInput) as refused:
        publish(editor, content, "驱动.zip")
    assert not Download.objects.exists()
    event = AuditEvent.objects.filter(action="portal.download.upload", result="refused").get()
    assert event.after["error"] == refused.value.code and event.after["name"] == "驱动.zip"
    return refused.value


@pytest.mark.parametrize(
    ("extension", "content", "kind"),
    [(extension, *made) for extension, made in bad.FOREIGN.items()],
    ids=bad.FOREIGN.keys(),
)
def test_an_archive_of_another_format_in_a_zip_is_refused(
    clock, editor: User, published: Path, extension: str, content: bytes, kind: str
) -> None:  # type: ignore[no-untyped-def]
    name = f"驱动/旧版驱动.{extension}"
    error = _refused(editor, zipped({"驱动/setup.exe": b"MZ" + bytes(500), name: content}))
    assert error.code == "archive_foreign" and error.params["format"] == kind
    if kind == "ISO":
        assert error.message == (
            f"压缩文件中的“{name}”是ISO光盘映像，平台无法检查其中的文件，"
            "请把其中的文件取出后重新打包成ZIP上传。"
        )
    elif kind in ("WIM", "VHD", "VHDX"):
        assert error.message == (
            f"压缩文件中的“{name}”是{kind}磁盘映像，平台无法检查其中的文件，"
            "请把其中的文件取出后重新打包成ZIP上传。"
        )
    elif kind == "EXE":
        assert error.message == (
            f"压缩文件中的“{name}”是Windows程序（EXE可执行文件，自解压文件和安装程序也是），"
            "平台发布的是文档，不发布程序，也无法检查自解压文件中的内容，请把它删除后重新打包上传。"
        )
    else:
        assert error.message == (
            f"压缩文件中的“{name}”是{kind}格式的压缩文件，平台无法检查其中的文件，"
            "请把它解压后与其他文件一起重新打包成ZIP上传。"
        )
    assert stored(published) == []


INSIDE: dict[str, tuple[bytes, str]] = {
    # by its first bytes: a RAR named as a text file, a CAB named as a picture
    "rar-named-txt": (zipped({"驱动/说明.txt": bad.rar()}), "“驱动/说明.txt”是RAR格式"),
    "cab-named-png": (zipped({"驱动/logo.png": bad.cab()}), "“驱动/logo.png”是CAB格式"),
    # stored, not deflated, and a ZIP's level below
    "stored-7z": (zipped({"旧版.7z": bad.seven_zip()}, 0), "“旧版.7z”是7z格式"),
    "cab-in-a-zip-in-the-zip": (
        zipped({"驱动/旧版.zip": zipped({"x64/ukey.cab": bad.cab(), "说明.txt": "x"})}),
        "“驱动/旧版.zip/x64/ukey.cab”是CAB格式",
    ),
    # in an Office package: a gzip picture (EMZ) is one too (known cost, docs/security.md)
    "emz-picture-in-a-docx": (
        zipped({**docx_parts(), "word/media/image1.emz": bad.FOREIGN["gz"][0]}),
        "“word/media/image1.emz”是gzip格式",
    ),
    # 12-07, night: a program named as a text file, a VHD (its footer last) in a ZIP in the
    # ZIP, a V7 tar in a DOCX, a DLL in a chart's workbook in a ZIP
    "program-named-txt": (zipped({"驱动/说明.txt": bad.program()}), "“驱动/说明.txt”是Windows程序"),
    "fixed-vhd-in-a-zip-in-the-zip": (
        zipped({"驱动/旧版.zip": zipped({"disk.img": bad.vhd(), "说明.txt": "x"})}),
        "“驱动/旧版.zip/disk.img”是VHD磁盘映像",
    ),
    "v7-tar-in-a-docx": (
        zipped({**docx_parts(), "word/media/image1.png": bad.v7_tar()}),
        "“word/media/image1.png”是tar格式",
    ),
    "dll-in-a-chart-workbook-in-a-zip": (
        bad.form_with_a_chart(zipped({**xlsx_parts(), "xl/media/a.dll": bad.program()})),
        "“表格/申请表.docx/word/embeddings/Microsoft_Excel_Worksheet.xlsx/xl/media/a.dll”是Windows",
    ),
    "tar-in-a-chart-workbook-in-a-zip": (
        bad.form_with_a_chart(zipped({**xlsx_parts(), "xl/media/a.tar": bad.tar()})),
        "“表格/申请表.docx/word/embeddings/Microsoft_Excel_Worksheet.xlsx/xl/media/a.tar”是tar",
    ),
}


@pytest.mark.parametrize(("content", "words"), INSIDE.values(), ids=INSIDE.keys())
def test_told_by_its_bytes_at_every_level_a_zip_is_read(
    clock, editor: User, published: Path, content: bytes, words: str
) -> None:  # type: ignore[no-untyped-def]
    error = _refused(editor, content)
    assert error.code == "archive_foreign" and words in error.message
    assert stored(published) == []


@pytest.mark.parametrize(("content", "kind"), bad.FOREIGN.values(), ids=bad.FOREIGN.keys())
def test_uploaded_as_it_is_it_is_refused_by_type(
    clock, editor: User, published: Path, tmp_path: Path, content: bytes, kind: str
) -> None:  # type: ignore[no-untyped-def]
    """Not new: the portal takes a PDF or a ZIP by its first bytes (``files.OFFICE_TYPES``),
    the hall a PDF, JPEG or PNG; a 7z or an ISO uploaded as it is never reached the check."""
    with pytest.raises(InvalidInput) as download:
        publish(editor, content, f"驱动.{kind}")
    notice = notices.create(editor, _input())
    with pytest.raises(InvalidInput) as attachment:
        notices.attach(editor, notice, f"附件.{kind}", [content])
    assert download.value.code == attachment.value.code == "download_type"
    assert "只接受PDF、Word（DOCX）、Excel（XLSX）或ZIP文件" in download.value.message
    with pytest.raises(InvalidInput) as document:
        storage.store([content], base=tmp_path / "hall")
    assert document.value.code == "file_type"
    assert not Download.objects.exists() and not Attachment.objects.exists()
    assert stored(published) == [] and stored(tmp_path / "hall") == []


PUBLISHED: dict[str, bytes] = {
    # what only starts like another format's mark: a name is not a format, nor are three bytes
    "text-named-7z": zipped({"说明.7z": "请用7-Zip解压旧版驱动。"}),
    "text-starting-bzh": zipped({"说明.txt": "BZh9 型号的Ukey驱动说明"}),
    "text-starting-rar": zipped({"说明.txt": "Rar!\x1a 不是RAR"}),
    "mscf-with-a-reserved-field": zipped({"a.bin": b"MSCF\x01\x00\x00\x00" + bytes(40)}),
    "gzip-magic-with-reserved-flags": zipped({"a.bin": b"\x1f\x8b\x08\xe0" + bytes(40)}),
    # an installer package (.msi) is a file like any other, and "MZ" alone is not a program
    "driver-with-an-msi": zipped({"驱动/setup.msi": bad.OLE_FILE, "驱动/setup.exe": b"MZ"}),
    # 12-07, night: near misses of the headers told without a magic
    "mz-pointing-to-no-pe-header": zipped({"a.bin": bad.program()[:0x80] + b"NE" + bytes(100)}),
    "a-tar-header-with-a-wrong-checksum": zipped({"a.bin": bad.v7_tar()[:148] + b"000001\x00 "}),
    "arj-mark-with-a-wrong-crc": zipped({"a.bin": bad.arj()[:-12] + b"\x00" * 12}),
    "lzh-method-in-a-text": zipped({"说明.txt": "UK-lh5-驱动说明：请先安装证书助手再插入Ukey。"}),
    "vhd-cookie-inside-a-text": zipped({"说明.txt": "conectix " * 200}),
    # a plain ZIP's relationships parts are files: nothing opens a ZIP without content types
    # as an Office package (docs/security.md, "a plain ZIP's relationships")
    "plain-zip-with-an-external-relationship": zipped(
        {
            "_rels/.rels": relationships(("attachedTemplate", "http://198.51.100.7/x", "External")),
            "word/main.xml": "<w:document/>",
        }
    ),
}


@pytest.mark.parametrize("content", PUBLISHED.values(), ids=PUBLISHED.keys())
def test_what_only_looks_like_another_format_is_published(
    clock, editor: User, published: Path, content: bytes
) -> None:  # type: ignore[no-untyped-def]
    row = publish(editor, content, "驱动.zip")
    assert row.content_type == files.ZIP
    assert stored(published) == [files.path_of(row.sha256)]


def test_the_nesting_refusal_says_what_is_allowed(clock, editor: User, published: Path) -> None:  # type: ignore[no-untyped-def]
    """One level of ZIP in the ZIP (a DOCX counts), and a document embedded in an Office
    document one more: a chart's workbook in a DOCX embedded in a DOCX in a ZIP is a level
    too many (known cost), and the words say why."""
    inner = zipped(with_chart(docx_parts(), xlsx()))
    docx = declaring(docx_parts(), defaults={"docx": bad.DOCX})
    outer = zipped({**docx, "word/embeddings/d.docx": inner})
    error = _refused(editor, bad.nested(1, outer, "a.docx"))
    assert error.code == "archive_nested"
    assert error.message == (
        "压缩文件中的“a.docx/word/embeddings/d.docx/word/embeddings/Microsoft_Excel_Worksheet"
        ".xlsx”嵌套过深（压缩文件里只能再含一层压缩文件，"
        "Word、Excel文档也是压缩文件；只有Word、Excel文档中嵌入的图表或文档可再深一层，其中不能"
        "再有压缩文件），请把里层的压缩文件解开后重新打包上传。"
    )
    # the same DOCX published as it is: its embedded DOCX and that one's chart are the levels
    row = publish(editor, outer, "表格.docx")
    assert row.content_type == files.DOCX
