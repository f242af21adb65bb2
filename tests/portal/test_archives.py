"""A ZIP, DOCX or XLSX an editor publishes is checked member by member before it is kept
(``storage.check_archive``, 12-07): too many members, a zip bomb (its declared total or one member's
ratio), a name that climbs out, is not UTF-8 or hides what it is (U+202E), a password, a method
Windows does not unpack, a member whose data is damaged or longer than declared, an Office file
without its content types or with macros: each refused in Chinese, nothing stored, the refusal
audited.
Each archive is made here with zipfile (or byte by byte, ``tests.support.archives``, where
zipfile will not write it), beside intact ones that are published."""

from __future__ import annotations

import random
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import InvalidInput
from certhall.hall import archives, storage
from certhall.portal import files, notices
from certhall.portal.models import Attachment, Download
from tests.portal.test_notices import _input
from tests.portal.test_published_files import publish, published, stored
from tests.support import bad_archives as bad
from tests.support.archives import (
    bomb_zip,
    declaring,
    docx,
    docx_parts,
    driver_zip,
    raw_zip,
    with_chart,
    xlsx,
    xlsx_parts,
    zipped,
)

pytestmark = pytest.mark.django_db
__all__ = ["published"]  # the fixture, used by name


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
    "symbolic-link": (bad.symlink, "archive_path", "“驱动/最新版”"),
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
        lambda: bad.changed(
            zipped({"驱动/说明.txt": "双击安装。" * 100}, zipfile.ZIP_STORED), "双击".encode()
        ),
        "archive_damaged",
        "压缩文件中的“驱动/说明.txt”已损坏（解压失败或校验值不符），请重新打包或导出后上传。",
    ),
    "deflated-data-damaged": (
        lambda: bad.changed(driver_zip(), b"UkeyDriver/setup.exe", 2000),
        "archive_damaged",
        "“UkeyDriver/setup.exe”已损坏",
    ),
    "longer-than-declared": (bad.inflates_past_its_size, "archive_damaged", "“setup.exe”已损坏"),
    "docx-without-content-types": (
        lambda: bad.without(docx_parts(), "[Content_Types].xml"),
        "office_no_content_types",
        "文件缺少Office文档必需的[Content_Types].xml，Word或Excel打不开它，"
        "请用Word或Excel重新保存后上传。",
    ),
    "xlsx-without-content-types": (
        lambda: bad.without(xlsx_parts(), "[Content_Types].xml"),
        "office_no_content_types",
        "[Content_Types].xml",
    ),
    "docx-with-macros": (
        bad.macro_docx,
        "office_macros",
        "文件中含有宏（word/vbaProject.bin），宏可能带有恶意代码，"
        "请另存为不含宏的Word文档（.docx）或Excel工作簿（.xlsx）后上传。",
    ),
    # 12-07, later: what an Office file declares, two members of one name, archives inside
    "macro-part-renamed": (bad.macro_part_renamed, "office_macros", "含有宏（word/settings2.bin）"),
    "macro-enabled-main-part": (
        bad.macro_enabled_main_part,
        "office_macros",
        "含有宏（word/document.xml）",
    ),
    "macro-part-by-its-extension": (
        lambda: bad.with_part(xlsx_parts(), "xl/data.dat", bad.OLE_FILE, defaults={"dat": bad.VBA}),
        "office_macros",
        "含有宏（xl/data.dat）",
    ),
    "excel-4-macro-sheet": (
        lambda: bad.with_part(
            xlsx_parts(),
            "xl/macrosheets/sheet1.xml",
            "<xm:macrosheet/>",
            overrides={"xl/macrosheets/sheet1.xml": "application/vnd.ms-excel.macrosheet+xml"},
        ),
        "office_macros",
        "含有宏（xl/macrosheets/sheet1.xml）",
    ),
    "activex-control": (
        lambda: bad.with_part(
            docx_parts(),
            "word/activeX/activeX1.xml",
            "<ax:ocx/>",
            overrides={"word/activeX/activeX1.xml": "application/vnd.ms-office.activeX+xml"},
        ),
        "office_activex",
        "文件中含有ActiveX控件（word/activeX/activeX1.xml），打开时可能运行其中的程序，"
        "请删除控件后另存为Word文档（.docx）或Excel工作簿（.xlsx）再上传。",
    ),
    "activex-renamed": (
        lambda: bad.with_part(
            docx_parts(),
            "word/controls/c1.bin",
            bad.OLE_FILE,
            overrides={"word/controls/c1.bin": "application/vnd.ms-office.activeX"},
        ),
        "office_activex",
        "ActiveX控件（word/controls/c1.bin）",
    ),
    "ole-object": (
        lambda: bad.with_part(
            docx_parts(), "word/embeddings/oleObject1.bin", bad.OLE_FILE, defaults={"bin": bad.OLE}
        ),
        "office_ole_object",
        "文件中嵌入了OLE对象（word/embeddings/oleObject1.bin），双击它可能运行其中的程序，"
        "请删除嵌入的对象（可改为插入图片，或把它作为单独的文件上传）后重新保存上传。",
    ),
    "ole-object-renamed": (
        lambda: bad.with_part(
            docx_parts(),
            "word/media/image9.png",
            bad.OLE_FILE,
            overrides={"word/media/image9.png": bad.OLE},
        ),
        "office_ole_object",
        "OLE对象（word/media/image9.png）",
    ),
    "embedded-xls": (
        lambda: bad.with_part(
            docx_parts(),
            "word/embeddings/Microsoft_Excel_97-2003_Worksheet.xls",
            bad.OLE_FILE,
            defaults={"xls": "application/vnd.ms-excel"},
        ),
        "office_ole_object",
        "OLE对象（word/embeddings/Microsoft_Excel_97-2003_Worksheet.xls）",
    ),
    "content-types-billion-laughs": (
        lambda: zipped({**docx_parts(), "[Content_Types].xml": bad.LAUGHS}),
        "office_content_types",
        "文件中的[Content_Types].xml已损坏或含有不允许的内容（DTD或实体声明），"
        "无法确认其中没有宏，请用Word或Excel重新保存后上传。",
    ),
    "content-types-not-xml": (
        lambda: zipped({**docx_parts(), "[Content_Types].xml": "<Types><Default"}),
        "office_content_types",
        "[Content_Types].xml已损坏",
    ),
    "two-members-one-name": (
        lambda: raw_zip([(b"setup.exe", b"MZ clean"), (b"setup.exe", b"MZ payload")]),
        "archive_duplicate_name",
        "压缩文件中有两个同名的“setup.exe”（不区分大小写），解压时后一个会覆盖前一个，"
        "检查过的和客户得到的可能不是同一个文件，请重新打包后上传。",
    ),
    "names-differing-in-case": (
        lambda: zipped({"驱动/Setup.exe": b"MZ", "驱动/setup.EXE": b"MZ"}),
        "archive_duplicate_name",
        "“驱动/setup.EXE”",
    ),
    "names-differing-in-slashes": (
        lambda: zipped({"驱动/说明.txt": "a", "驱动\\说明.txt": "b"}),
        "archive_duplicate_name",
        "“驱动\\说明.txt”",
    ),
    "docx-with-macros-in-a-zip": (
        lambda: bad.nested(1, bad.macro_docx()),
        "office_macros",
        "文件中含有宏（表格/申请表.docx/word/vbaProject.bin）",
    ),
    "bomb-in-a-zip": (
        lambda: bad.nested(1, bomb_zip(2), "驱动/旧版.zip"),
        "archive_ratio",
        "压缩文件中的“驱动/旧版.zip/data0.bin”解压后是压缩后大小的 1010 倍",
    ),
    "climbs-out-in-a-zip": (
        lambda: bad.nested(1, zipped({"../../启动.bat": "x"}), "驱动/旧版.zip"),
        "archive_path",
        "“驱动/旧版.zip/../../启动.bat”路径不安全",
    ),
    "docx-without-content-types-in-a-zip": (
        lambda: bad.nested(1, bad.without(docx_parts(), "[Content_Types].xml")),
        "office_no_content_types",
        "压缩文件中的“表格/申请表.docx”缺少Office文档必需的[Content_Types].xml，Word或Excel"
        "打不开它，请用Word或Excel重新保存后再打包上传。",
    ),
    "zip-cut-short-in-a-zip": (
        lambda: bad.nested(1, driver_zip()[:-100], "驱动/旧版.zip"),
        "archive_damaged",
        "“驱动/旧版.zip”已损坏",
    ),
    "two-zips-joined": (
        lambda: zipped({"说明.txt": "干净的说明。"}) + driver_zip(1000),
        "archive_hidden_data",
        "压缩文件中有不属于任何文件的数据（例如两个压缩文件首尾相连），不同的解压软件会解出"
        "不同的内容，请重新打包后上传。",
    ),
    "a-member-only-the-local-headers-name": (bad.hidden_member, "archive_hidden_data", "首尾相连"),
    "two-zips-joined-in-a-zip": (
        lambda: bad.nested(1, zipped({"说明.txt": "x"}) + driver_zip(1000), "驱动/旧版.zip"),
        "archive_hidden_data",
        "压缩文件中的“驱动/旧版.zip”里有不属于任何文件的数据",
    ),
    "docx-of-another-main-part-in-a-zip": (
        lambda: bad.nested(1, bad.main_part_elsewhere()),
        "office_macros",
        "含有宏（表格/申请表.docx/word/vbaProject.bin）",
    ),
    # 12-07, later: relationships that load from outside, and Office's embedded packages
    "remote-template": (
        bad.remote_template,
        "office_external_content",
        "文件打开时会从外部加载内容（http://198.51.100.7/申请表.dotm，见"
        "word/_rels/settings.xml.rels），外部的模板、对象或图片可能带有恶意代码，请删除外部"
        "模板、链接的对象和图片（Word中：文件→信息→编辑指向文件的链接）后重新保存上传"
        "（普通超链接不受影响）。",
    ),
    "remote-ole-object": (
        lambda: zipped(
            bad.relating(
                docx_parts(),
                bad.DOCUMENT_RELS,
                ("hyperlink", "https://www.example.cn/", "External"),
                (
                    "oleObject",
                    "mhtml:http://198.51.100.7/x.html!x-usc:http://198.51.100.7/x",
                    "External",
                ),
            )
        ),
        "office_external_content",
        "（mhtml:http://198.51.100.7/x.html!x-usc:http://198.51.100.7/x，见word/_rels/document.xml.rels）",
    ),
    "linked-picture-on-a-share": (
        lambda: zipped(
            bad.relating(
                docx_parts(), bad.DOCUMENT_RELS, ("image", "\\\\198.51.100.7\\s\\a.png", "External")
            )
        ),
        "office_external_content",
        "（\\\\198.51.100.7\\s\\a.png，见word/_rels/document.xml.rels）",
    ),
    "frame-in-the-strict-namespace": (
        lambda: zipped(
            bad.relating(
                docx_parts(),
                "word/_rels/webSettings.xml.rels",
                (
                    "http://purl.oclc.org/ooxml/officeDocument/relationships/frame",
                    "http://198.51.100.7/f",
                    "external",
                ),
            )
        ),
        "office_external_content",
        "（http://198.51.100.7/f，见word/_rels/webSettings.xml.rels）",
    ),
    "workbook-linked-to-another": (
        lambda: zipped(
            bad.relating(
                xlsx_parts(),
                "xl/externalLinks/_rels/externalLink1.xml.rels",
                ("externalLinkPath", "file:///\\\\198.51.100.7\\共享\\价格.xlsx", "External"),
            )
        ),
        "office_external_content",
        "见xl/externalLinks/_rels/externalLink1.xml.rels",
    ),
    "remote-template-in-a-zip": (
        lambda: bad.nested(1, bad.remote_template()),
        "office_external_content",
        "见表格/申请表.docx/word/_rels/settings.xml.rels）",
    ),
    "relationships-with-a-dtd": (
        lambda: zipped(
            {**docx_parts(), bad.DOCUMENT_RELS: bad.LAUGHS.replace("Types", "Relationships")}
        ),
        "office_relationships",
        "文件中的“word/_rels/document.xml.rels”已损坏、过大或含有不允许的内容（DTD或实体声明），"
        "无法确认它不从外部加载内容，请用Word或Excel重新保存后上传。",
    ),
    "relationships-not-xml": (
        lambda: zipped({**docx_parts(), "_rels/.rels": "<Relationships><Relationship"}),
        "office_relationships",
        "“_rels/.rels”已损坏",
    ),
    "macros-in-a-chart-workbook-in-a-zip": (
        lambda: bad.form_with_a_chart(bad.macro_workbook()),
        "office_macros",
        "文件中含有宏（表格/申请表.docx/word/embeddings/Microsoft_Excel_Worksheet.xlsx/xl/"
        "vbaProject.bin）",
    ),
    "remote-template-in-an-embedded-docx-in-a-zip": (
        lambda: bad.nested(
            1,
            zipped(
                {
                    **declaring(
                        docx_parts(),
                        defaults={"docx": bad.DOCX},
                    ),
                    "word/embeddings/Microsoft_Word_Document.docx": bad.remote_template(),
                }
            ),
        ),
        "office_external_content",
        "见表格/申请表.docx/word/embeddings/Microsoft_Word_Document.docx/word/_rels/settings.xml…）",
    ),
    "plain-zip-as-a-chart-workbook-in-a-zip": (
        lambda: bad.form_with_a_chart(driver_zip(1000)),
        "archive_nested",
        "压缩文件中的“表格/申请表.docx/word/embeddings/Microsoft_Excel_Worksheet.xlsx”嵌套过深",
    ),
    "workbook-outside-embeddings-in-a-zip": (
        lambda: bad.nested(1, zipped({**docx_parts(), "word/media/chart.xlsx": xlsx()})),
        "archive_nested",
        "“表格/申请表.docx/word/media/chart.xlsx”嵌套过深",
    ),
    "zip-in-a-chart-workbook-in-a-zip": (
        lambda: bad.form_with_a_chart(
            zipped({**xlsx_parts(), "xl/embeddings/旧版.zip": driver_zip(1000)})
        ),
        "archive_nested",
        "“表格/申请表.docx/word/embeddings/Microsoft_Excel_Worksheet.xlsx/xl/embeddings/旧版.zip”"
        "嵌套过深",
    ),
    "zip-in-a-zip-in-a-zip": (
        lambda: bad.nested(2, driver_zip(1000), "驱动.zip"),
        "archive_nested",
        "压缩文件中的“第1层.zip/驱动.zip”嵌套过深（压缩文件里只能再含一层压缩文件，Word、Excel"
        "文档也是压缩文件；只有Word、Excel文档中嵌入的图表或文档可再深一层，其中不能再有压缩"
        "文件），请把里层的压缩文件解开后重新打包上传。",
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


@pytest.mark.parametrize(
    "key", ["bomb-600-mib", "stored-crc-wrong", "docx-with-macros", "remote-template"]
)
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
    # 12-07, later
    "one-name-in-two-folders": (
        lambda: zipped({"驱动/x86/lib.dll": b"MZ", "驱动/x64/lib.dll": b"MZ"}),
        files.ZIP,
    ),
    "forms-as-docx-and-xlsx-in-a-zip": (
        lambda: zipped({"表格/申请表.docx": docx(), "表格/清单.xlsx": xlsx(), "说明.txt": "x"}),
        files.ZIP,
    ),
    "driver-zip-in-a-zip": (lambda: zipped({"驱动/旧版.zip": driver_zip()}), files.ZIP),
    "docx-with-a-chart-workbook": (lambda: zipped(with_chart(docx_parts(), xlsx())), files.DOCX),
    "forms-in-a-zip-one-with-a-chart": (bad.form_with_a_chart, files.ZIP),  # refused before
    "docx-with-hyperlinks": (
        lambda: zipped(
            bad.relating(
                docx_parts(),
                bad.DOCUMENT_RELS,
                ("hyperlink", "https://www.example.cn/证书", "External"),
                ("hyperlink", "#附件一"),
                ("image", "media/image1.png"),
            )
        ),
        files.DOCX,
    ),
    "streamed-with-data-descriptors": (bad.streamed, files.ZIP),
    "apk-with-its-signing-block": (bad.apk, files.ZIP),
    "docx-with-an-image": (
        lambda: bad.with_part(
            docx_parts(), "word/media/image1.png", b"\x89PNG", defaults={"png": "image/png"}
        ),
        files.DOCX,
    ),
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


def test_the_bounds_are_the_whole_uploads_across_both_levels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive inside is checked within what the archive around it left of the bounds
    (12-07, later): two ZIPs of 6,000 members each, each under the 10,000 alone, are 12,002
    members in all; one over ``MAX_NESTED`` is not read into memory. In the child's own code,
    here in this process, so that the bound can be made small."""
    path = tmp_path / "上传.zip"
    half = zipped({f"{n}.txt": b"" for n in range(6_000)})
    path.write_bytes(zipped({"一.zip": half, "二.zip": half}))
    assert archives.check(str(path)) == {
        "error": "archive_too_many_members",
        "count": 12_002,
        "limit": 10_000,
    }
    monkeypatch.setattr(archives, "MAX_NESTED", 1 << 20)
    stored_mib = zipped({"a.bin": random.Random(5).randbytes(1 << 20)}, zipfile.ZIP_STORED)
    path.write_bytes(zipped({"驱动/旧版.zip": stored_mib}))
    assert archives.check(str(path)) == {
        "error": "archive_nested_too_large",
        "name": "驱动/旧版.zip",
        "mib": 2,
        "limit": 1,
    }
    assert storage.check_archive(path) == "zip"  # the child's own bound, 64 MiB
    # the packages' own XML parsed: two DOCX whose relationships fit the bound alone, not both
    links = [("hyperlink", f"https://www.example.cn/{n}", "External") for n in range(300)]
    form = bad.relating(docx_parts(), bad.DOCUMENT_RELS, *links)
    path.write_bytes(zipped({"表格/一.docx": zipped(form), "表格/二.docx": zipped(form)}))
    monkeypatch.setattr(archives, "MAX_PACKAGE_XML", len(str(form[bad.DOCUMENT_RELS])) * 3 // 2)
    assert archives.check(str(path)) == {
        "error": "office_relationships",
        "name": "表格/二.docx/word/_rels/document.xml.rels",
    }
