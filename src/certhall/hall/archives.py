"""An uploaded ZIP (a DOCX, an XLSX or a plain ZIP) read whole by the stdlib (``zipfile`` for
its central directory, zlib for its members) in a checking child under a CPU-time and memory
limit (``hall.checking``): ``check(PATH)`` answers
``{"kind": "docx" | "xlsx" | "zip"}`` or ``{"error": code, ...its parameters}``
(``hall.storage.check_archive`` runs it, as the portal's ``inspect=``, and refuses in Chinese;
docs/security.md, "Archives").

First what the central directory says, nothing decompressed: at most ``MAX_MEMBERS`` members, each
with a name that stays inside the folder it is unpacked into (not absolute, no ``..``, no control
character, not a symbolic link; a name flagged UTF-8 must be UTF-8, any other is read as CP437, the
format's own) and shows what it is (no direction override, zero-width or other invisible character:
``identity.first_invisible``), none encrypted, each stored or deflated (what Windows unpacks), at
most ``MAX_UNPACKED`` bytes declared in all and no member over ``MAX_RATIO`` times its compressed
size (a zip bomb), no two members of one name (``_duplicate``). Then every member is decompressed
from its local header, streaming in ``CHUNK`` pieces thrown away, to exactly its declared size and
CRC-32 (``_unpacks``), the members following one another from the first byte to the central
directory, nothing between them (``_tiled``). A package with a ``[Content_Types].xml`` (a
DOCX or XLSX must have one) must have it read with no DTD (``_xml``: ``_declared``), no part that
runs code, by its name or by the type declared for it (``_runs_code``: macros, ActiveX
controls, embedded OLE objects), and no relationship that has Office load something from
outside the package when it opens (``_loads_from_outside``: a remote template, object, frame or
picture; a hyperlink is allowed). A member that is an archive of another format (7z, RAR, CAB,
gzip, tar, ARJ, LZH ...), a disk image (ISO, WIM, VHD, VHDX) or a Windows program (a
self-extracting one among them) is refused (``hall.formats``, by its first bytes, a VHD by its
last): nothing here reads inside it, and an executable is never a document. A member that
is itself a ZIP (by its first bytes, not its name) is checked the same way, one level deep,
within the same bounds as the archive around it (``_Budget``); a ZIP inside that is refused
(``archive_nested``), but for an Office package embedded in an Office package (a chart's
workbook under ``word/embeddings/``: ``_embedded``), checked as a part of it, which may hold
no ZIP. A child because that is the step that unpacks the file: the kernel stops
it at its CPU time. Imports nothing of Django.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import unquote
from xml.parsers import expat

from certhall.hall import formats
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
#: A member that starts as a ZIP does (a local header, or the end of an empty one's directory)
#: is an archive inside the archive, whatever its name.
_ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06")
#: An archive inside the archive is read into memory to be checked: a Ukey driver's package
#: inside a bundle, forms packed as DOCX inside a ZIP are a few MiB (the upload is 20 MiB).
MAX_NESTED = 64 << 20
#: The Office packages' own XML parsed here, their ``[Content_Types].xml`` and relationships
#: parts, together across the upload (``_Budget``): a content types document lists a part in
#: some 150 bytes, a relationships part a relationship in some 170 (10,000 parts are 1.5 MB, a
#: DOCX of 10,000 hyperlinks 1.7 MB); expat reads 16 MiB in some 0.25 s of the child's 2 s.
MAX_PACKAGE_XML = 16 << 20
#: The relationships that may point outside the package (``TargetMode="External"``), by their
#: type's last segment: a hyperlink is a link in the text, followed when the reader clicks it
#: (Word asks first). Every other one is loaded when the file opens, or when it updates its
#: links: a remote template (``attachedTemplate``: Word fetches it and runs its macros), an OLE
#: object (``oleObject``: how CVE-2022-30190, "Follina", ran), a frame, a sub-document, a
#: linked picture (``image``: a UNC path hands Windows' credentials to that server), another
#: workbook (``externalLinkPath``), a mail merge's data source.
_LINKS = frozenset({"hyperlink"})
#: What an Office file declares for a part that runs code (lower case): VBA macros (the
#: project, its data, its signature), a macro-enabled main part (.docm, .xlsm, .xltm, .xlam,
#: .xlsb renamed), Excel 4.0 macro sheets; ActiveX controls; embedded OLE objects and the
#: old binary formats embedded as such (.doc, .xls, .ppt: they carry macros of their own).
_MACRO_TYPES = ("vbaproject", "vbadata", "macroenabled", "macrosheet")
_OLE_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.oleobject",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
    }
)


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


@dataclass
class _Budget:
    """What the archive and the archives inside it have used of ``MAX_MEMBERS``,
    ``MAX_UNPACKED`` and ``MAX_PACKAGE_XML`` together (an archive inside is decompressed twice:
    as a member, then read to be checked, so its size counts twice)."""

    members: int = 0
    unpacked: int = 0
    xml: int = 0

    def parse(self, size: int) -> bool:
        """Whether ``size`` more bytes of a package's own XML are within ``MAX_PACKAGE_XML``."""
        self.xml += size
        return self.xml <= MAX_PACKAGE_XML

    def spend(self, size: int) -> dict[str, Any] | None:
        """``size`` more bytes to unpack: the refusal when that is over ``MAX_UNPACKED``."""
        self.unpacked += size
        if self.unpacked <= MAX_UNPACKED:
            return None
        mib = -(-self.unpacked // (1 << 20))
        return {"error": "archive_too_large", "mib": mib, "limit": MAX_UNPACKED >> 20}


def _duplicate(members: list[zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    """The first member whose name another has before it, as the folder it is unpacked into
    sees names: ``\\`` as ``/``, the case folded (Windows), composed (macOS). A scanner reads
    one of the two, an unzip writes the other over it (a classic way past a scanner)."""
    seen: set[str] = set()
    for info in members:
        key = unicodedata.normalize("NFC", info.filename.replace("\\", "/")).casefold()
        if key in seen:
            return info
        seen.add(key)
    return None


def _bounds(members: list[zipfile.ZipInfo], budget: _Budget) -> dict[str, Any] | None:
    """The first refusal the central directory gives, nothing decompressed; None when none."""
    budget.members += len(members)
    if budget.members > MAX_MEMBERS:
        return {"error": "archive_too_many_members", "count": budget.members, "limit": MAX_MEMBERS}
    for info in members:
        if _unsafe(info):
            return {"error": "archive_path", "name": _shown(info.orig_filename)}
        if hidden := _hidden(info):
            return hidden
        if info.flag_bits & 0x1:
            return {"error": "archive_encrypted", "name": _shown(info.filename)}
        if info.compress_type not in _METHODS:
            return {"error": "archive_method", "name": _shown(info.filename)}
    if twice := _duplicate(members):
        return {"error": "archive_duplicate_name", "name": _shown(twice.filename)}
    if over := budget.spend(sum(info.file_size for info in members)):
        return over
    for info in members:
        if info.file_size >= RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            ratio = info.file_size // max(info.compress_size, 1)
            name = _shown(info.filename)
            return {"error": "archive_ratio", "name": name, "ratio": ratio, "limit": MAX_RATIO}
    return None


def _xml(data: bytes, element: Callable[[str, dict[str, str]], None]) -> bool:
    """Whether ``data`` is well-formed XML with no DTD (entities: a billion laughs, or a file of
    the server's; no package's own XML has one), ``element`` called with each element's name
    (after its namespace) and attributes; parsed by the stdlib's expat as defusedxml's
    ``forbid_dtd`` does."""

    def start(tag: str, attributes: dict[str, str]) -> None:
        element(tag.rpartition(" ")[2], attributes)

    def refuse(*_: object) -> None:
        raise ValueError("a DTD")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, ValueError):
        return False
    return True


def _declared(data: bytes) -> tuple[dict[str, str], dict[str, str]] | None:
    """A ``[Content_Types].xml``'s types (lower case) by extension (its ``Default``s) and by
    part name (its ``Override``s, lower case, percent-decoded, without the leading ``/``); None
    when it does not read (``_xml``)."""
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}

    def element(name: str, attributes: dict[str, str]) -> None:
        kind = attributes.get("ContentType", "").lower()
        if name == "Default":
            defaults[attributes.get("Extension", "").lower()] = kind
        elif name == "Override":
            overrides[unquote(attributes.get("PartName", "")).lstrip("/").lower()] = kind

    return (defaults, overrides) if _xml(data, element) else None


def _loads_from_outside(data: bytes) -> list[str] | None:
    """The targets of a relationships part (``*/_rels/*.rels``) that Office loads from outside
    the package: each relationship whose ``TargetMode`` is not ``Internal`` (the default), but
    a hyperlink (``_LINKS``, by its type's last segment); None when it does not read (``_xml``)."""
    found: list[str] = []

    def element(name: str, attributes: dict[str, str]) -> None:
        mode = attributes.get("TargetMode", "Internal").strip().lower()
        kind = attributes.get("Type", "").strip().rstrip("/").rpartition("/")[2].lower()
        if name == "Relationship" and mode != "internal" and kind not in _LINKS:
            found.append(attributes.get("Target", ""))

    return found if _xml(data, element) else None


def _runs_code(name: str, declared: str) -> str | None:
    """The refusal of an Office part that runs code, by its name (a part named as Office
    names it) or by the type ``[Content_Types].xml`` declares for it (a part renamed keeps its
    type: Office finds it through its relationship and loads it by that type); None for any
    other part."""
    folders, _, base = name.lower().rpartition("/")
    if base in ("vbaproject.bin", "vbadata.xml") or "macrosheets" in folders.split("/"):
        return "office_macros"
    if any(word in declared for word in _MACRO_TYPES):
        return "office_macros"
    if base.startswith("activex") or "activex" in declared:
        return "office_activex"
    if base.startswith("oleobject") or declared in _OLE_TYPES:
        return "office_ole_object"
    return None


def _office(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], budget: _Budget
) -> tuple[dict[str, Any], bool]:
    """The archive's kind by Office's parts in it, and whether it is an Office package (has a
    ``[Content_Types].xml``); a DOCX or XLSX whose content types are missing, and any package
    (Word opens one whose main part has another name, through its relationships) whose content
    types or relationships do not read or are over what is left of ``MAX_PACKAGE_XML``, with a
    part that runs code or a relationship that loads something from outside, refused (its
    members unpacked whole already, so each is its declared size)."""
    names = {info.filename for info in members}
    kind = next((kind for part, kind in _OFFICE.items() if part in names), "zip")
    types = next((i for i in members if i.filename.lower() == "[content_types].xml"), None)
    if types is None:
        return {"error": "office_no_content_types"} if kind != "zip" else {"kind": kind}, False
    declared = _declared(archive.read(types)) if budget.parse(types.file_size) else None
    if declared is None:
        return {"error": "office_content_types"}, True
    defaults, overrides = declared
    for info in members:
        part = unquote(info.filename).lower()
        base = part.rpartition("/")[2]
        extension = base.rpartition(".")[2] if "." in base else ""
        found = _runs_code(part, overrides.get(part, defaults.get(extension, "")))
        if found:
            return {"error": found, "name": _shown(info.filename)}, True
        if extension != "rels":
            continue
        within = budget.parse(info.file_size)
        targets = _loads_from_outside(archive.read(info)) if within else None
        if targets is None:
            return {"error": "office_relationships", "name": _shown(info.filename)}, True
        if targets:
            name, target = _shown(info.filename), _shown(targets[0])
            return {"error": "office_external_content", "name": name, "target": target}, True
    return {"kind": kind}, True


def _unpacks(file: BinaryIO, info: zipfile.ZipInfo) -> tuple[bytes, bytes] | None:
    """The member's first ``formats.HEAD`` bytes and last ``formats.TAIL`` (what tells an
    archive or a disk image inside it: ``hall.formats``), when its local header
    names it as the central directory does and its data decompresses, streaming in pieces of at
    most ``CHUNK`` bytes thrown away, to exactly its declared size and CRC-32, the deflate
    stream ending with its data; None when it does not. Read here, not by
    ``zipfile``'s reader, which stops at the declared size: a member declaring 1 KB whose data
    unpacks to a gigabyte, or a stored one longer than declared, passed it (an unzip writes it
    all before it finds the CRC wrong)."""
    file.seek(info.header_offset)
    head = file.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return None
    name_length, extra_length = struct.unpack_from("<HH", head, 26)
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if file.read(name_length) != info.orig_filename.encode(encoding):
        return None
    file.seek(extra_length, os.SEEK_CUR)
    stored = info.compress_type == zipfile.ZIP_STORED
    if stored and info.compress_size != info.file_size:
        return None
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    size = crc = 0
    first = last = b""
    left = info.compress_size
    try:
        while left:
            data = file.read(min(CHUNK, left))
            if not data:
                return None  # the file ends inside the member
            left -= len(data)
            while True:  # at most CHUNK bytes out at a time, until this piece is used up
                out = data if stored else inflate.decompress(data, CHUNK)
                size += len(out)
                if size > info.file_size:
                    return None
                if len(first) < formats.HEAD:
                    first += out[: formats.HEAD - len(first)]
                tail = formats.TAIL
                last = out[-tail:] if len(out) >= tail else (last + out)[-tail:]
                crc = zlib.crc32(out, crc)
                data = b"" if stored else inflate.unconsumed_tail
                if not data and len(out) < CHUNK:
                    break
    except zlib.error:
        return None
    ended = stored or (inflate.eof and not inflate.unused_data)
    return (first, last) if ended and size == info.file_size and crc == info.CRC else None


def _descriptor_end(file: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Where the member ends, read just after its data (``_unpacks``): past its data
    descriptor when it has one (flag bit 3, what a packer writing to a stream adds: its
    signature if any, the CRC, the sizes in 4 or 8 bytes each); -1 when that does not read."""
    end = file.tell()
    if not info.flag_bits & 0x08:
        return end
    tail = file.read(24)
    start = 4 if tail.startswith(b"PK\x07\x08") else 0
    if tail[start : start + 4] != struct.pack("<I", info.CRC):
        return -1
    for width, form in ((8, "<II"), (16, "<QQ")):
        sizes = tail[start + 4 : start + 4 + width]
        if len(sizes) == width and struct.unpack(form, sizes) == (
            info.compress_size,
            info.file_size,
        ):
            return end + start + 4 + width
    return -1


def _tiled(file: BinaryIO, ends: dict[int, int], directory: int) -> bool:
    """Whether the members (each from its local header to its end) follow one another from
    the file's first byte to its central directory with no byte between or under two: bytes
    no entry names are what a second archive put before this one (two ZIPs joined, each
    opened by a different unzip: a scanner reads one, a customer's Windows the other) or a
    member only a reader of the local headers finds. Android's signing block, which an APK
    has between its last member and its directory, is allowed there."""
    at = 0
    for start in sorted(ends):
        if start != at:
            return False
        at = ends[start]
    return at == directory or _apk_signing_block(file, at, directory)


_APK_MAGIC = b"APK Sig Block 42"


def _apk_signing_block(file: BinaryIO, start: int, end: int) -> bool:
    """Whether the bytes from ``start`` to ``end`` are one APK Signing Block: its size (of
    what follows it), its pairs, its size again, then its magic (Android's APK Signature
    Scheme v2 and later)."""
    if not 32 <= end - start <= 1 << 20:
        return False
    file.seek(start)
    block = file.read(end - start)
    first, second = (
        struct.unpack_from("<Q", block)[0],
        struct.unpack_from("<Q", block, len(block) - 24)[0],
    )
    return block.endswith(_APK_MAGIC) and first == second == len(block) - 8


def check(path: str) -> dict[str, Any]:
    """The checking child's answer for the ZIP at ``path`` (``hall.checking``)."""
    with open(path, "rb") as file:
        return _check(file, _Budget(), depth=0)


def _check(
    file: BinaryIO, budget: _Budget, *, depth: int, embedded: bool = False
) -> dict[str, Any]:
    """``{"kind": ...}`` or the first refusal of the ZIP in ``file``, and of each ZIP inside
    it (``depth``: how many archives are around this one; ``embedded``: this one is embedded in
    an Office package two levels down, and must be an Office package itself: ``_embedded``)."""
    try:
        archive = zipfile.ZipFile(file)
    except UnicodeDecodeError:  # a name flagged UTF-8 that is not
        return {"error": "archive_name_encoding"}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):  # no directory reads
        return {"error": "file_incomplete"}
    members = archive.infolist()
    if refusal := _bounds(members, budget):
        return refusal
    inside, ends = [], {}
    for info in members:
        unpacked = _unpacks(file, info)
        if unpacked is None:
            return {"error": "archive_damaged", "name": _shown(info.filename)}
        first, last = unpacked
        ends[info.header_offset] = _descriptor_end(file, info)
        if first.startswith(_ZIP_HEADS):
            inside.append(info)
        elif foreign := formats.foreign(first, last):
            return {"error": "archive_foreign", "name": _shown(info.filename), **foreign}
    if not _tiled(file, ends, archive.start_dir):
        return {"error": "archive_hidden_data"}
    answer, package = _office(archive, members, budget)
    if "error" in answer:
        return answer
    if embedded and not package:
        return {"error": "archive_nested"}  # named by the archive around it
    for info in inside:
        refusal = _inner(archive, info, budget, depth=depth, package=package)
        if refusal is not None:
            return refusal
    return answer


def _embedded(info: zipfile.ZipInfo, *, depth: int, package: bool) -> bool:
    """Whether the ZIP that ``info`` is may be read although the archive it is in is itself
    inside another: that archive is an Office package and ``info`` one of its embedded
    documents (under ``embeddings/``: a chart's workbook, a document inserted as an object),
    so a ZIP of DOCX forms, one with a chart, is checked whole. Two levels down, no deeper."""
    folders = unquote(info.filename).replace("\\", "/").lower().split("/")[:-1]
    return depth == 1 and package and "embeddings" in folders


def _inner(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, *, depth: int, package: bool
) -> dict[str, Any] | None:
    """The refusal of the ZIP inside the archive that ``info`` is (its data unpacked whole
    already), its names shown inside its own (``驱动.zip/setup.exe``); None when it passes.
    ``package``: the archive it is in is an Office package."""
    embedded = _embedded(info, depth=depth, package=package)
    if depth and not embedded:
        return {"error": "archive_nested", "name": _shown(info.filename)}
    if info.file_size > MAX_NESTED:
        mib = -(-info.file_size // (1 << 20))
        name = _shown(info.filename)
        return {
            "error": "archive_nested_too_large",
            "name": name,
            "mib": mib,
            "limit": MAX_NESTED >> 20,
        }
    if over := budget.spend(info.file_size):
        return over
    answer = _check(io.BytesIO(archive.read(info)), budget, depth=depth + 1, embedded=embedded)
    if "error" not in answer:
        return None
    if answer["error"] == "file_incomplete":  # starts as a ZIP, does not read as one
        return {"error": "archive_damaged", "name": _shown(info.filename)}
    if "name" in answer:
        answer["name"] = _shown(f"{info.filename}/{answer['name']}")
    elif answer["error"] == "archive_nested":  # embedded, and no Office package
        answer["name"] = _shown(info.filename)
    elif answer["error"] not in ("archive_too_many_members", "archive_too_large"):
        answer.update(variant="nested", name=_shown(info.filename))
    return answer
