"""Archives made in the test with the stdlib's zipfile: a DOCX and an XLSX with the parts Word
and Excel need to open them, a driver's ZIP, and the raw edits that make a broken one."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_P = "http://schemas.openxmlformats.org/package/2006"
_OFFICE = "application/vnd.openxmlformats-officedocument"


def _types(overrides: dict[str, str]) -> str:
    parts = "".join(
        f'<Override PartName="/{name}" ContentType="{_OFFICE}.{kind}"/>'
        for name, kind in overrides.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{_P}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f"{parts}</Types>"
    )


def relationships(*entries: tuple[str, str] | tuple[str, str, str]) -> str:
    """A relationships part (``_rels/*.rels``): each entry a type's last segment (of Office's
    namespace, or a whole URI), its target and, if given, its ``TargetMode``."""
    rels = ""
    for n, (kind, target, *mode) in enumerate(entries, 1):
        uri = kind if ":" in kind else f"{_R}/{kind}"
        targeted = "".join(f' TargetMode="{each}"' for each in mode)
        rels += f'<Relationship Id="rId{n}" Type="{uri}" Target="{target}"{targeted}/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{_P}/relationships">{rels}</Relationships>'
    )


def _rels(target: str) -> str:
    return relationships(("officeDocument", target))


def zipped(members: dict[str, bytes | str], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def docx_parts(text: str = "数字证书操作手册") -> dict[str, bytes | str]:
    body = f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body>"
    return {
        "[Content_Types].xml": _types({"word/document.xml": "wordprocessingml.document.main+xml"}),
        "_rels/.rels": _rels("word/document.xml"),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{_W}">{body}</w:document>'
        ),
    }


def docx(text: str = "数字证书操作手册") -> bytes:
    """A DOCX Word opens: its content types, its relationships and one paragraph."""
    return zipped(docx_parts(text))


def xlsx_parts(rows: int = 3) -> dict[str, bytes | str]:
    cells = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, rows + 1))
    return {
        "[Content_Types].xml": _types(
            {
                "xl/workbook.xml": "spreadsheetml.sheet.main+xml",
                "xl/worksheets/sheet1.xml": "spreadsheetml.worksheet+xml",
            }
        ),
        "_rels/.rels": _rels("xl/workbook.xml"),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_S}" xmlns:r="{_R}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": _rels("worksheets/sheet1.xml").replace(
            "officeDocument/2006/relationships/officeDocument",
            "officeDocument/2006/relationships/worksheet",
        ),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_S}"><sheetData>{cells}</sheetData>'
        "</worksheet>",
    }


def xlsx(rows: int = 3) -> bytes:
    """An XLSX Excel opens: one sheet of ``rows`` numbers."""
    return zipped(xlsx_parts(rows))


def driver_zip(size: int = 200_000) -> bytes:
    """A Ukey driver's package: folders, an installer and libraries (bytes that compress about
    twice, as programs do), a text file with a Chinese name flagged UTF-8."""
    rnd = random.Random(7)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("UkeyDriver/", b"")
        archive.writestr("UkeyDriver/setup.exe", rnd.randbytes(size) + bytes(size))
        for n in range(3):
            archive.writestr(f"UkeyDriver/x64/lib{n}.dll", rnd.randbytes(size // 4) + bytes(size))
        archive.writestr("UkeyDriver/安装说明.txt", "双击 setup.exe 安装驱动。\n".encode())
    return out.getvalue()


def raw_zip(
    members: list[tuple[bytes, bytes]] | list[tuple[bytes, bytes, int, int]],
    *,
    flags: int = 0,
    method: int = zipfile.ZIP_STORED,
    password: bytes | None = None,
) -> bytes:
    """A ZIP written byte by byte (what zipfile will not write: a name's raw bytes, any flag or
    method, a member encrypted with the format's own ZipCrypto): ``members`` are names and
    their data, stored as given (``method`` only recorded), or names, data already compressed,
    and the CRC and size of what it decompresses to."""
    body, directory = b"", b""
    for name, data, *declared in members:
        crc, size = declared or (zlib.crc32(data), len(data))
        if password is not None:
            flags |= 0x1
            data = zipcrypto(data, password, crc)
        fields = struct.pack("<HHHHHIII", 20, flags, method, 0, 0x21, crc, len(data), size)
        local = b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name
        directory += (
            b"PK\x01\x02" + struct.pack("<H", 20) + fields
            + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0o100644 << 16, len(body)) + name
        )  # fmt: skip
        body += local + data
    end = struct.pack("<HHHHIIH", 0, 0, len(members), len(members), len(directory), len(body), 0)
    return body + directory + b"PK\x05\x06" + end


def zipcrypto(data: bytes, password: bytes, crc: int) -> bytes:
    """``data`` encrypted with the ZIP format's traditional (PKWARE) encryption, its 12-byte
    header first, its last byte the CRC's high byte (APPNOTE 6.1)."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc_byte(value: int, byte: int) -> int:
        return zlib.crc32(bytes([byte]), value ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    def update(byte: int) -> None:
        keys[0] = crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in random.Random(3).randbytes(11) + bytes([crc >> 24]) + data:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


def bomb_zip(mib: int, members: int = 1) -> bytes:
    """A real zip bomb: ``members`` members, each ``mib`` MiB of zeros deflated, made in
    milliseconds (one MiB's deflate block, flushed whole, repeated: each stands for a MiB)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(bytes(1 << 20)) + deflate.flush(zlib.Z_FULL_FLUSH)
    data = block * mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(bytes(1 << 20), crc)
    entries = [(f"data{n}.bin".encode(), data, crc, mib << 20) for n in range(members)]
    return raw_zip(entries, method=zipfile.ZIP_DEFLATED)


def declaring(
    parts: dict[str, bytes | str],
    *,
    defaults: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
) -> dict[str, bytes | str]:
    """``parts`` (a DOCX's or XLSX's) with its ``[Content_Types].xml`` also declaring each
    extension's and each part's content type, as Office writes them."""
    added = "".join(
        f'<Default Extension="{extension}" ContentType="{kind}"/>'
        for extension, kind in (defaults or {}).items()
    ) + "".join(
        f'<Override PartName="/{name}" ContentType="{kind}"/>'
        for name, kind in (overrides or {}).items()
    )
    types = str(parts["[Content_Types].xml"])
    return {**parts, "[Content_Types].xml": types.replace("</Types>", f"{added}</Types>")}


def with_chart(parts: dict[str, bytes | str], workbook: bytes) -> dict[str, bytes | str]:
    """``parts`` (a DOCX's) with a chart's workbook under ``word/embeddings/``, as Word keeps it
    (an XLSX inside the DOCX, declared by its extension)."""
    sheet = f"{_OFFICE}.spreadsheetml.sheet"
    workbooks = declaring(parts, defaults={"xlsx": sheet})
    return {**workbooks, "word/embeddings/Microsoft_Excel_Worksheet.xlsx": workbook}
