"""An uploaded ZIP (a DOCX, an XLSX or a plain ZIP) read whole by the stdlib (``zipfile`` for
its central directory, zlib for its members) in a child process under the same CPU-time and
memory limits as ``hall.pdfpages``: ``python -m certhall.hall.archives PATH SECONDS`` prints
``{"kind": "docx" | "xlsx" | "zip"}`` or ``{"error": code, ...its parameters}``
(``hall.storage.check_archive`` runs it, as the portal's ``inspect=``, and refuses in Chinese;
docs/security.md, "Archives").

First what the central directory says, nothing decompressed: at most ``MAX_MEMBERS`` members, each
with a name that stays inside the folder it is unpacked into (not absolute, no ``..``, no control
character, not a symbolic link; a name flagged UTF-8 must be UTF-8, any other is read as CP437, the
format's own) and shows what it is (no direction override, zero-width or other invisible character:
``identity.first_invisible``), none encrypted, each stored or deflated (what Windows unpacks), at
most ``MAX_UNPACKED`` bytes declared in all and no member over ``MAX_RATIO`` times its compressed
size (a zip bomb); a DOCX or XLSX must have its ``[Content_Types].xml`` and no macros
(``vbaProject.bin``). Then every member is decompressed from its local header, streaming in
``CHUNK`` pieces thrown away, to exactly its declared size and CRC-32 (``_unpacks``). A child
because that is the step that unpacks the file: the kernel stops it at its CPU time. Imports
nothing of Django.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import sys
import zipfile
import zlib
from typing import Any, BinaryIO

from certhall.hall import pdfpages
from certhall.pki import identity

#: A driver's package is some hundreds of files (its DLLs, INFs, catalogues and each language's
#: resources), a DOCX or XLSX 10 to a few hundred parts; a 20 MiB ZIP can hold 270,000 empty
#: members for a customer's unzip to create.
MAX_MEMBERS = 10_000
#: The sizes declared in all: a 20 MiB XLSX of text is some 150-300 MB of XML (its sheets
#: compress 6-15 times), a driver's package 2-3 times its size. 512 MiB is decompressed in about
#: 0.7 s of the child's CPU (measured 0.24 s for 182 MB of a sheet's XML), within its 2 s.
MAX_UNPACKED = 512 << 20
#: A member's uncompressed size over its compressed size, checked from ``RATIO_FLOOR`` bytes:
#: documents and programs compress 2-20 times, a sheet of repeated rows some 50; deflate's most
#: is about 1032, what a zip bomb's members are made of.
MAX_RATIO = 200
RATIO_FLOOR = 1 << 20
CHUNK = 1 << 16
#: Stored and deflated: what Windows' own unpacking reads (Office and every packer write them; a
#: ZIP of bzip2, LZMA or Deflate64 members does not open there for a customer).
_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
#: Office's parts that tell its kinds apart (``portal.files``: a ZIP is a DOCX or XLSX by them).
_OFFICE = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx"}
#: A name's longest shown in a refusal.
_SHOWN = 80


def _shown(name: str) -> str:
    """A member's name as a refusal shows it: what shows nothing as ``?``, at most ``_SHOWN``."""
    name = "".join(c if c.isprintable() else "?" for c in name)
    return name if len(name) <= _SHOWN else f"{name[:_SHOWN]}…"


def _unsafe(info: zipfile.ZipInfo) -> bool:
    """A name that would put the member outside the folder it is unpacked into, or hide part
    of itself: absolute (``/``, ``\\``, a drive ``C:``), with a ``..`` part, a control
    character (a NUL cuts the name short for ``zipfile`` and for C programs), empty, or a
    symbolic link (Unix's mode in the upper half of its external attributes)."""
    return stat.S_ISLNK(info.external_attr >> 16) or any(
        not name
        or name[0] in "/\\"
        or name[1:2] == ":"
        or ".." in name.replace("\\", "/").split("/")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        for name in (info.orig_filename, info.filename)  # and Info-ZIP's UTF-8 name, if any
    )


def _hidden(info: zipfile.ZipInfo) -> dict[str, Any] | None:
    """A name with a character that shows nothing or turns the rest around, the rule of every
    text one person writes and another reads (``identity.first_invisible``): U+202E made
    ``说明<RLO>txt.exe`` read as ``说明exe.txt`` in a customer's unzip, a program shown as a
    text file. None when both names (and Info-ZIP's UTF-8 one) have none."""
    for name in (info.orig_filename, info.filename):
        if found := identity.first_invisible(name):
            _, char, kind = found
            return {
                "error": "archive_name_chars",
                "name": _shown(identity.marked(name)),
                "char": char,
                "char_kind": kind,
            }
    return None


def _bounds(members: list[zipfile.ZipInfo]) -> dict[str, Any] | None:
    """The first refusal the central directory gives, nothing decompressed; None when none."""
    if len(members) > MAX_MEMBERS:
        return {"error": "archive_too_many_members", "count": len(members), "limit": MAX_MEMBERS}
    for info in members:
        if _unsafe(info):
            return {"error": "archive_path", "name": _shown(info.orig_filename)}
        if hidden := _hidden(info):
            return hidden
        if info.flag_bits & 0x1:
            return {"error": "archive_encrypted", "name": _shown(info.filename)}
        if info.compress_type not in _METHODS:
            return {"error": "archive_method", "name": _shown(info.filename)}
    total = sum(info.file_size for info in members)
    if total > MAX_UNPACKED:
        mib = -(-total // (1 << 20))
        return {"error": "archive_too_large", "mib": mib, "limit": MAX_UNPACKED >> 20}
    for info in members:
        if info.file_size >= RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            ratio = info.file_size // max(info.compress_size, 1)
            name = _shown(info.filename)
            return {"error": "archive_ratio", "name": name, "ratio": ratio, "limit": MAX_RATIO}
    return None


def _office(names: set[str]) -> dict[str, Any]:
    kind = next((kind for part, kind in _OFFICE.items() if part in names), "zip")
    if kind != "zip" and "[Content_Types].xml" not in names:
        return {"error": "office_no_content_types"}
    if kind != "zip" and any(n.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for n in names):
        return {"error": "office_macros"}
    return {"kind": kind}


def _unpacks(file: BinaryIO, info: zipfile.ZipInfo) -> bool:
    """The member's local header names it as the central directory does, and its data
    decompresses, streaming in pieces of at most ``CHUNK`` bytes thrown away, to exactly its
    declared size and CRC-32, the deflate stream ending with its data. Read here, not by
    ``zipfile``'s reader, which stops at the declared size: a member declaring 1 KB whose data
    unpacks to a gigabyte, or a stored one longer than declared, passed it (an unzip writes it
    all before it finds the CRC wrong)."""
    file.seek(info.header_offset)
    head = file.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return False
    name_length, extra_length = struct.unpack_from("<HH", head, 26)
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if file.read(name_length) != info.orig_filename.encode(encoding):
        return False
    file.seek(extra_length, os.SEEK_CUR)
    stored = info.compress_type == zipfile.ZIP_STORED
    if stored and info.compress_size != info.file_size:
        return False
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    size = crc = 0
    left = info.compress_size
    try:
        while left:
            data = file.read(min(CHUNK, left))
            if not data:
                return False  # the file ends inside the member
            left -= len(data)
            while True:  # at most CHUNK bytes out at a time, until this piece is used up
                out = data if stored else inflate.decompress(data, CHUNK)
                size += len(out)
                if size > info.file_size:
                    return False
                crc = zlib.crc32(out, crc)
                data = b"" if stored else inflate.unconsumed_tail
                if not data and len(out) < CHUNK:
                    break
    except zlib.error:
        return False
    ended = stored or (inflate.eof and not inflate.unused_data)
    return ended and size == info.file_size and crc == info.CRC


def inspect(path: str) -> dict[str, Any]:
    with open(path, "rb") as file:
        try:
            archive = zipfile.ZipFile(file)
        except UnicodeDecodeError:  # a name flagged UTF-8 that is not
            return {"error": "archive_name_encoding"}
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):  # no directory reads
            return {"error": "file_incomplete"}
        members = archive.infolist()
        answer = _bounds(members) or _office({info.filename for info in members})
        if "error" in answer:
            return answer
        for info in members:
            if not _unpacks(file, info):
                return {"error": "archive_damaged", "name": _shown(info.filename)}
    return answer


def main() -> None:
    pdfpages.limit(int(sys.argv[2]))
    print(json.dumps(inspect(sys.argv[1])))


if __name__ == "__main__":
    main()
