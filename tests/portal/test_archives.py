"""A ZIP, DOCX or XLSX an editor publishes is checked member by member before it is kept
(``storage.check_archive``, 12-07): too many members, a zip bomb (its declared total or one member's
ratio), a name that climbs out, is not UTF-8 or hides what it is (U+202E), a password, a method
Windows does not unpack, a member whose data is damaged or longer than declared, an Office file
without its content types or with macros: each refused in Chinese, nothing stored, the refusal
audited.
Each archive is made here with zipfile (or byte by byte, ``tests.support.archives``, where
zipfile will not write it), beside intact ones that are published."""

from __future__ import annotations

import io
import stat
import time
import zipfile
import zlib
from collections.abc import Callable
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
from tests.support.archives import (
    bomb_zip,
    docx,
    docx_parts,
    driver_zip,
    raw_zip,
    xlsx,
    xlsx_parts,
    zipped,
)

pytestmark = pytest.mark.django_db
__all__ = ["published"]  # the fixture, used by name


def _symlink() -> bytes:
    """A symbolic link beside a file, as zipfile writes Unix's mode: unpacked by unzip, it
    points out of the folder, and what is written through it lands there."""
    link = zipfile.ZipInfo("驱动/最新版")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("驱动/说明.txt", "双击安装。")
        archive.writestr(link, b"../../../../etc")
    return out.getvalue()


def _changed(content: bytes, marker: bytes, offset: int = 100) -> bytes:
    """``content`` with the byte ``offset`` bytes after ``marker`` changed."""
    at = content.index(marker) + offset
    return content[:at] + bytes([content[at] ^ 0xFF]) + content[at + 1 :]


def _inflates_past_its_size() -> bytes:
    """A member declaring 1000 bytes whose deflated data unpacks to 2 MiB (zipfile's own
    reader stops at the 1000 and finds its CRC right)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = deflate.compress(bytes(2 << 20)) + deflate.flush()
    return raw_zip([(b"setup.exe", data, zlib.crc32(bytes(1000)), 1000)], method=8)


def _macro_docx() -> bytes:
    parts = docx_parts()
    parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + bytes(60)  # an OLE file's start
    return zipped(parts)


def _without(parts: dict[str, bytes | str], name: str) -> bytes:
    return zipped({key: value for key, value in parts.items() if key != name})


REFUSED: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "10001-members": (
        lambda: zipped({f"目录/{n}.txt": b"" for n in range(10_001)}),
        "archive_too_many_members",
        "压缩文件中有 10001 个文件，超过 10000 个的限制，请减少文件或分成几个压缩文件后上传。",
    ),
    "bomb-600-mib": (
        lambda: bomb_zip(200, members=3),
        "archive_too_large",
        "压缩文件解压后共 600 MB，超过 512 MB 的限制，请拆分成几个文件后分别上传。",
    ),
    "member-ratio-1010": (
        lambda: bomb_zip(2),
        "archive_ratio",
        "压缩文件中的“data0.bin”解压后是压缩后大小的 1010 倍（最多 200 倍），"
        "像是“压缩炸弹”，不能发布，请检查文件后重新打包上传。",
    ),
    "encrypted": (
        lambda: raw_zip(
            [("驱动/说明.txt".encode(), "双击安装。".encode())], flags=0x800, password=b"1234"
        ),
        "archive_encrypted",
        "压缩文件中的“驱动/说明.txt”设置了密码，下载后无法解压，请去掉密码后重新打包上传。",
    ),
    "climbs-out": (
        lambda: zipped({"驱动/../../../etc/cron.d/job": "x"}),
        "archive_path",
        "压缩文件中的“驱动/../../../etc/cron.d/job”路径不安全（绝对路径、含“..”或控制字符、"
        "或是符号链接），解压时可能写到解压目录之外，请重新打包后上传。",
    ),
    "absolute": (lambda: zipped({"/etc/passwd": "x"}), "archive_path", "“/etc/passwd”"),
    "drive": (lambda: zipped({"C:/Windows/x.dll": "x"}), "archive_path", "“C:/Windows/x.dll”"),
    "backslashes": (
        lambda: zipped({"驱动\\..\\..\\启动.bat": "x"}),
        "archive_path",
        "“驱动\\..\\..\\启动.bat”",
    ),
    "control-character": (
        lambda: raw_zip([(b"setup\x00.txt.exe", b"x")]),
        "archive_path",
        "“setup?.txt.exe”",
    ),
    "symbolic-link": (_symlink, "archive_path", "“驱动/最新版”"),
    "direction-override": (
        lambda: zipped({"驱动/安装说明\u202etxt.exe": b"MZ" + bytes(100)}),
        "archive_name_chars",
        "压缩文件中的“驱动/安装说明⟨U+202E⟩txt.exe”的文件名含有文字方向控制符（U+202E），"
        "客户解压后看到的文件名与实际的不同（例如程序显示成文本文件），请改名后重新打包上传。",
    ),
    "zero-width-space": (
        lambda: zipped({"驱动/set\u200bup.exe": b"MZ"}),
        "archive_name_chars",
        "“驱动/set⟨U+200B⟩up.exe”的文件名含有不可见的格式字符（U+200B）",
    ),
    "c1-control": (
        lambda: zipped({"驱动/setup\x85.exe": b"MZ"}),
        "archive_name_chars",
        "“驱动/setup⟨U+0085⟩.exe”的文件名含有控制字符（U+0085）",
    ),
    "not-utf-8": (
        lambda: raw_zip([("说明.txt".encode("gbk"), b"x")], flags=0x800),
        "archive_name_encoding",
        "压缩文件中有文件名标明为UTF-8编码却不是UTF-8，解压后文件名会出错，"
        "请用常用的压缩软件重新打包后上传。",
    ),
    "deflate64": (
        lambda: raw_zip([(b"setup.exe", zlib.compress(b"x" * 100)[2:-4])], method=9),
        "archive_method",
        "压缩文件中的“setup.exe”使用了不常见的压缩方式，无法检查，"
        "请用标准ZIP格式（Deflate压缩）重新打包后上传。",
    ),
    "stored-crc-wrong": (
        lambda: _changed(
            zipped({"驱动/说明.txt": "双击安装。" * 100}, zipfile.ZIP_STORED), "双击".encode()
        ),
        "archive_damaged",
        "压缩文件中的“驱动/说明.txt”已损坏（解压失败或校验值不符），请重新打包或导出后上传。",
    ),
    "deflated-data-damaged": (
        lambda: _changed(driver_zip(), b"UkeyDriver/setup.exe", 2000),
        "archive_damaged",
        "“UkeyDriver/setup.exe”已损坏",
    ),
    "longer-than-declared": (_inflates_past_its_size, "archive_damaged", "“setup.exe”已损坏"),
    "docx-without-content-types": (
        lambda: _without(docx_parts(), "[Content_Types].xml"),
        "office_no_content_types",
        "文件缺少Office文档必需的[Content_Types].xml，Word或Excel打不开它，"
        "请用Word或Excel重新保存后上传。",
    ),
    "xlsx-without-content-types": (
        lambda: _without(xlsx_parts(), "[Content_Types].xml"),
        "office_no_content_types",
        "[Content_Types].xml",
    ),
    "docx-with-macros": (
        _macro_docx,
        "office_macros",
        "文件中含有宏（vbaProject.bin），宏可能带有恶意代码，"
        "请另存为不含宏的Word文档（.docx）或Excel工作簿（.xlsx）后上传。",
    ),
}


@pytest.mark.parametrize(("make", "code", "words"), REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_archive_is_refused_in_chinese_and_nothing_is_kept(
    clock, editor: User, published: Path, make: Callable[[], bytes], code: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    content = make()
    assert content.startswith(b"PK\x03\x04") and len(content) < 20 << 20
    started = time.monotonic()
    with pytest.raises(InvalidInput) as refused:
        publish(editor, content, "驱动.zip")
    assert time.monotonic() - started < 5  # the child's CPU is bounded to 2 s
    assert refused.value.code == code and words in refused.value.message
    assert not Download.objects.exists() and stored(published) == []
    event = AuditEvent.objects.filter(action="portal.download.upload", result="refused").get()
    assert event.after["error"] == code and event.after["name"] == "驱动.zip"


@pytest.mark.parametrize("key", ["bomb-600-mib", "stored-crc-wrong", "docx-with-macros"])
def test_a_bad_archive_is_refused_as_an_attachment_too(
    clock, editor: User, published: Path, key: str
) -> None:  # type: ignore[no-untyped-def]
    make, code, _ = REFUSED[key]
    notice = notices.create(editor, _input())
    with pytest.raises(InvalidInput) as refused:
        notices.attach(editor, notice, "附件.docx", [make()])
    assert refused.value.code == code
    assert not Attachment.objects.exists() and stored(published) == []
    event = AuditEvent.objects.filter(action="portal.notice.attach", result="refused").get()
    assert event.after["error"] == code


def _gbk_names() -> bytes:
    """Names in GBK without the UTF-8 flag, as Windows' own packing in a Chinese locale
    writes them: read as CP437 here, shown right by a Chinese Windows."""
    return raw_zip([("驱动安装说明.txt".encode("gbk"), "双击安装。".encode("gbk"))])


INTACT: dict[str, tuple[Callable[[], bytes], str]] = {
    "driver-zip": (driver_zip, files.ZIP),
    "docx": (docx, files.DOCX),
    "xlsx": (xlsx, files.XLSX),
    "xlsx-of-20000-rows": (lambda: xlsx(20_000), files.XLSX),
    "gbk-names": (_gbk_names, files.ZIP),
    "stored-members": (lambda: zipped(docx_parts(), zipfile.ZIP_STORED), files.DOCX),
    "10000-members": (lambda: zipped({f"{n}.txt": b"" for n in range(10_000)}), files.ZIP),
    "zeros-under-the-ratio-floor": (lambda: zipped({"0.bin": bytes((1 << 20) - 1)}), files.ZIP),
}


@pytest.mark.parametrize(("make", "kind"), INTACT.values(), ids=INTACT.keys())
def test_an_intact_archive_is_published(
    clock, editor: User, published: Path, make: Callable[[], bytes], kind: str
) -> None:  # type: ignore[no-untyped-def]
    content = make()
    row = publish(editor, content, "驱动.zip")
    assert row.content_type == kind and row.size == len(content)
    assert stored(published) == [files.path_of(row.sha256)]
    assert not AuditEvent.objects.filter(result="refused").exists()


def test_a_child_that_does_not_answer_refuses(
    clock, editor: User, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The child killed past its CPU time or memory answers nothing: the archive is not
    known to be whole, so it is refused (``archive_unreadable``), not published."""
    monkeypatch.setattr(storage, "_child", lambda *arguments: {})
    with pytest.raises(InvalidInput) as refused:
        publish(editor, driver_zip(), "驱动.zip")
    assert refused.value.code == "archive_unreadable"
    assert refused.value.message == ("压缩文件检查超时，无法确认其中的文件完好，请重新打包后上传。")
    assert stored(published) == []
