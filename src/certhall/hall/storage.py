"""Uploaded documents: type sniffed from the content, size-limited, stored by SHA-256.

Files live outside the web root, under ``certhall.config.get().uploads_dir`` as
``<sha256[:2]>/<sha256>`` (content-addressed: the same scan uploaded twice is stored once). A
file is written to a temporary name in ``uploads_dir/tmp`` (same file system) and renamed into
place, so a reader never sees half a file; a refused file (wrong type, too big) leaves nothing.

Only PDF, JPEG and PNG are accepted, recognised by their first bytes; the client's file name
and Content-Type are never believed. A JPEG or PNG must also have a header that reads as one,
and at most ``MAX_PIXELS`` pixels and ``MAX_SIDE`` on a side (read from the header, before
anything is decoded: a 90 KB PNG can declare 20000 x 20000 px, 1.6 GB decoded), whichever store
holds it (docs/security.md, "Image pixel sizes"), and must not be cut short (a JPEG's end of
image after its scan, a PNG's IEND: ``file_incomplete``), and its pixels must decode
(``check_pixels``, in a child process, a JPEG's decoder warnings included: ``image_damaged``).
A PDF stored with bounds
(``pdf=``: the hall's documents ``SCAN_PDF``, the portal's files, the invoices) must end as a
PDF does, open, and have 1 to ``bounds.pages`` pages of at most ``bounds.page_mm`` on a side
(``check_pdf``; docs/security.md, "Broken files and PDF bounds"). A ZIP (the portal's
DOCX, XLSX and ZIP, through its ``inspect=``) has every member checked, decompressed in a child
process (``check_archive``; docs/security.md, "Archives").
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import secrets
import struct
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from certhall import config
from certhall.errors import InvalidInput, NotFound, TooManyRequests
from certhall.hall import checking

#: 5 MiB per file: a scanned A4 page at 300 dpi as JPEG or PDF is well below it.
MAX_BYTES = 5 * 1024 * 1024

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
#: An image's bounds (12-06): 40 megapixels and 10000 px on a side. A phone's own photo is
#: 12-24 MP (the 48-200 MP modes' JPEGs are mostly over 5 MiB), a page's photo is 2000 px at most
#: (web/file-pick.js) and an A4 scan at 600 dpi is 4961 x 7016 px (35 MP); decoded as RGBA, 40 MP
#: is 160 MB in a reviewer's browser.
MAX_PIXELS = 40_000_000
MAX_SIDE = 10_000


@dataclass(frozen=True)
class PdfBounds:
    """What a stored PDF may be: at most ``pages`` pages, each at most ``page_mm`` millimetres
    on a side, and at most ``objects`` objects, counted in its bytes before pypdf opens it
    (pypdf reads and checks each cross-reference entry in Python on opening, and when the
    cross-reference is damaged it parses every object: a 4.3 MB PDF of 68,000 objects took
    0.7 s, 23 s with its startxref pointing nowhere; its child's CPU time stops the latter)."""

    pages: int
    page_mm: int
    objects: int


#: A hall document's PDF (12-07): a licence, an ID card's copy or a form is 1-3 pages, scanned on
#: A4 or A3 (the licence's original is A3, 297 x 420 mm). 20 pages leaves room for a form with
#: its annexes; 500 mm on a side for A3 with a scanner's margins, A3+ (483 mm) and US Tabloid
#: (432 mm), while A2 (594 mm) and a page declared metres wide are refused. A scanned page is a
#: handful of objects (the page, its contents, resources and image, an OCR layer's fonts).
SCAN_PDF = PdfBounds(pages=20, page_mm=500, objects=2_000)
#: The store's refusals of a file cut short or a broken or unbounded PDF: a context that keeps
#: files of its own words them for its people (``code.invoice`` for finance, ``code.download``
#: for an editor).
BROKEN_FILE = frozenset(
    {
        "file_incomplete",
        "pdf_unreadable",
        "pdf_encrypted",
        "pdf_no_pages",
        "pdf_too_many_pages",
        "pdf_too_complex",
        "pdf_page_too_large",
    }
)
SNIFF_BYTES = max(len(magic) for magic, _ in SIGNATURES)
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    content_type: str


def sniff(head: bytes) -> str | None:
    """The content type of a file starting with ``head``, or None when not accepted."""
    for magic, content_type in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def root() -> Path:
    return config.get().uploads_dir


def path_of(sha256: str, base: Path | None = None) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidInput(code="file_digest")
    return (base or root()) / sha256[:2] / sha256


def store(
    chunks: Iterable[bytes],
    *,
    limit: int = MAX_BYTES,
    base: Path | None = None,
    signatures: tuple[tuple[bytes, str], ...] = SIGNATURES,
    pdf: PdfBounds | None = None,
    inspect: Callable[[Path, str], str] | None = None,
) -> Blob:
    """Sniff, measure, hash and store the file given as ``chunks``.

    InvalidInput (nothing stored) for an empty file, a file over ``limit`` bytes, one whose
    first bytes match none of ``signatures`` (by default: a PDF, JPEG or PNG; the portal passes
    its own list), or an image whose header does not read or whose pixels are over the bounds
    (``check_image``), or one cut short; with ``pdf`` (the hall's documents ``SCAN_PDF``, the
    portal's files, the invoices), a PDF that is cut short, does not open or is over those
    bounds (``check_pdf``). ``inspect`` is the caller's own look at the written file before it
    is kept (its path and content type): it answers the content type to record, or raises
    InvalidInput, and then nothing is stored either (the portal's ZIP formats).
    """
    sniff_bytes = max(len(magic) for magic, _ in signatures)
    folder = base or root()
    tmp_dir = folder / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = tmp_dir / f"{secrets.token_hex(16)}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    content_type: str | None = None
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                if not chunk:
                    continue
                if content_type is None:
                    head += chunk[:sniff_bytes]
                    if len(head) >= sniff_bytes:
                        content_type = _accepted(head, signatures)
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(code="file_too_big", mib=limit // (1024 * 1024))
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InvalidInput(code="file_empty")
        if content_type is None:
            content_type = _accepted(head, signatures)
        check_image(tmp, content_type)
        check_pixels(tmp, content_type)
        if pdf is not None and content_type == "application/pdf":
            check_pdf(tmp, pdf)
        if inspect is not None:
            content_type = inspect(tmp, content_type)
        sha256 = digest.hexdigest()
        target = path_of(sha256, folder)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if target.exists():
            tmp.unlink()  # the same content is already stored
        else:
            os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return Blob(sha256=sha256, size=size, content_type=content_type)


def _accepted(head: bytes, signatures: tuple[tuple[bytes, str], ...] = SIGNATURES) -> str:
    content_type = next((kind for magic, kind in signatures if head.startswith(magic)), None)
    if content_type is None:
        raise InvalidInput(code="file_type")
    return content_type


#: The chunks of a PNG before its first IDAT, the segments of a JPEG before its scan: a camera's
#: or scanner's file has a few dozen (a JPEG's ICC profile is at most 255 segments); a million
#: five-byte comments took Pillow 3 s, 436,896 empty PNG chunks 0.4 s even without Pillow.
_HEADER_PARTS = 4096
#: A PNG's bit depths by colour type (PNG specification, 11.2.2 IHDR).
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def _png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height from its IHDR, every chunk up to the first IDAT read and its
    checksum checked, nothing decompressed; ValueError when that does not read.

    Not Pillow's ``PngImageFile``: it decompresses the ancillary chunks before IDAT, each iCCP
    up to 1 MiB, so a 5 MiB upload of 5,211 small iCCP chunks (each 1 MB of zeros) took 18.7 s
    of the worker and was accepted, and a legitimate scan with an ICC profile or XMP over 1 MiB
    (Photoshop's DocumentAncestors) was refused as damaged (12-06, helper H7)."""
    with path.open("rb") as file:
        if file.read(8) != b"\x89PNG\r\n\x1a\n":
            raise ValueError("signature")
        size: tuple[int, int] | None = None
        for _ in range(_HEADER_PARTS):
            head = file.read(8)
            if len(head) < 8:  # after a good IHDR, the file ends: cut short
                raise (ValueError if size is None else _Incomplete)("no IDAT")
            length, kind = struct.unpack(">I4s", head)
            if size is None and (kind != b"IHDR" or length != 13):
                raise ValueError("IHDR first")
            if kind == b"IDAT":
                file.seek(-8, os.SEEK_CUR)
                break
            data = file.read(length)
            crc = file.read(4)
            if len(data) < length or len(crc) < 4:
                raise (ValueError if size is None else _Incomplete)("cut short")
            if zlib.crc32(kind + data) != struct.unpack(">I", crc)[0]:
                raise ValueError("checksum")
            if kind == b"IHDR":
                width, height, depth, colour = struct.unpack(">IIBB", data[:10])
                if depth not in _PNG_DEPTHS.get(colour, ()):
                    raise ValueError("depth")
                size = width, height
        else:
            raise ValueError("too many chunks")
        _png_to_iend(file)
    assert size is not None  # noqa: S101 - the first chunk is IHDR
    return size


#: The chunks from the first IDAT to IEND: an encoder writes its data as IDATs of 8-64 KB
#: (libpng's 8 KB: 640 in 5 MiB); 65,000 empty ones took 0.14 s on a loaded machine.
_DATA_PARTS = 65_536


def _png_to_iend(file: BinaryIO) -> None:
    """Steps over the chunks from the first IDAT by their lengths to IEND (nothing read or
    checked in them: the data is the decoder's); ``_Incomplete`` when the file ends first."""
    for _ in range(_DATA_PARTS):
        head = file.read(8)
        if len(head) < 8:
            raise _Incomplete("no IEND")
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return
        file.seek(length + 4, os.SEEK_CUR)  # past the end: the next read is short
    raise ValueError("too many chunks")


#: A JPEG's frame headers (SOF0-3, 5-7, 9-11, 13-15): the image's size.
_JPEG_FRAMES = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF}
)
_FILL = re.compile(rb"\xff+")


def _jpeg_size(path: Path) -> tuple[int, int]:
    """A JPEG's width and height from its frame header (8-bit samples, 1, 3 or 4 components, as
    Pillow reads them; the first, if several), read up to the start of the scan as decoders
    do, the segments stepped over by their lengths, nothing in them read; ValueError when that
    does not read.

    Not Pillow's ``JpegImageFile``, which reads byte by byte in Python: 5 MB of 0xFF fill bytes
    before the frame took 5 s, a million five-byte comments 3 s (12-06, helper H7). Bytes that
    are not a marker between segments are skipped, as decoders do (with a warning)."""
    data = path.read_bytes()  # at most MAX_BYTES: store() counted them
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("SOI")
    pos, size = 2, None
    for _ in range(_HEADER_PARTS):
        pos = data.find(b"\xff", pos)  # junk before a marker: skipped
        fill = _FILL.match(data, pos) if pos >= 0 else None
        if fill is None or fill.end() >= len(data):  # after the frame header: cut short
            raise (ValueError if size is None else _Incomplete)("cut short before the scan")
        code, pos = data[fill.end()], fill.end() + 1
        if code == 0x01 or 0xD0 <= code <= 0xD7 or code == 0x00:
            continue  # a marker without a segment (TEM, RSTn) or an escaped 0xFF
        if code == 0xDA and size is not None:
            # The scan runs to the end of image; within it a 0xFF is followed by 0x00 or a
            # restart marker, so an EOI after the scan's start is its end (an EXIF thumbnail's
            # EOI comes before it; a phone's motion photo's video after it).
            if data.rfind(b"\xff\xd9") < pos:
                raise _Incomplete("no end of image after the scan")
            return size
        if code in (0xD8, 0xD9, 0xDA):
            raise ValueError("no frame header before the scan")
        if pos + 2 > len(data):
            raise ValueError("cut short")
        length = struct.unpack_from(">H", data, pos)[0]
        if code in _JPEG_FRAMES and size is None:
            if length < 8 or pos + 8 > len(data):
                raise ValueError("frame header cut short")
            precision, height, width, components = struct.unpack_from(">BHHB", data, pos + 2)
            if precision != 8 or components not in (1, 3, 4):
                raise ValueError("samples")
            size = width, height
        if length < 2:
            raise ValueError("segment length")
        pos += length
    raise ValueError("too many segments")


class _Incomplete(ValueError):
    """The header reads, the file ends before the image does."""


def image_size(path: Path, content_type: str) -> tuple[int, int] | None:
    """An image's width and height from its header (no pixel decoded), None for a file that is
    not a JPEG or PNG; InvalidInput ``image_unreadable`` when the header does not read
    (:func:`_jpeg_size`, :func:`_png_size`: not Pillow's readers, see there),
    ``file_incomplete`` when the file ends before the image does."""
    try:
        if content_type == "image/png":
            width, height = _png_size(path)
        elif content_type == "image/jpeg":
            width, height = _jpeg_size(path)
        else:
            return None
    except _Incomplete:
        raise InvalidInput(code="file_incomplete") from None
    except (OSError, ValueError, struct.error):  # the readers' own refusals, a short read
        raise InvalidInput(code="image_unreadable") from None
    if width < 1 or height < 1:
        raise InvalidInput(code="image_unreadable")
    return width, height


def check_image(path: Path, content_type: str) -> None:
    """InvalidInput ``image_too_large`` (naming its size and the bounds) for an image over
    ``MAX_PIXELS`` or ``MAX_SIDE``; nothing for a file that is not an image."""
    size = image_size(path, content_type)
    if size is None:
        return
    width, height = size
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise InvalidInput(
            code="image_too_large",
            width=width,
            height=height,
            megapixels=MAX_PIXELS // 10_000,
            side=MAX_SIDE,
        )


def check_pdf(path: Path, bounds: PdfBounds = SCAN_PDF) -> None:
    """InvalidInput for a PDF that is cut short (``file_incomplete``: no ``startxref`` and
    ``%%EOF`` in its last 1024 bytes, where a reader looks for them), does not open
    (``pdf_unreadable``), has an open password (``pdf_encrypted``), no page (``pdf_no_pages``),
    over ``bounds.pages`` (``pdf_too_many_pages``), over ``bounds.objects`` objects
    (``pdf_too_complex``, also when reading it takes pypdf over its CPU time) or a page over
    ``bounds.page_mm`` on a side (``pdf_page_too_large``). Nothing is rendered or decompressed
    but the objects the page tree needs (``hall.pdfpages``, pypdf in a child process;
    docs/security.md, "Broken files and PDF bounds")."""
    with path.open("rb") as file:
        file.seek(max(0, path.stat().st_size - 1024))
        tail = file.read()
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise InvalidInput(code="file_incomplete")
    answer = _child("certhall.hall.pdfpages", path, str(bounds.pages), str(bounds.objects))
    if "pages" not in answer:  # killed past its CPU time or memory, or waited for too long
        code = answer.get("error", "pdf_too_complex")
        if code == "pdf_too_many_pages":
            raise InvalidInput(code=code, limit=bounds.pages)
        raise InvalidInput(code=code)
    sizes = answer["pages"]
    if not sizes:
        raise InvalidInput(code="pdf_no_pages")
    for page, (width, height) in enumerate(sizes, 1):
        if min(width, height) <= 0:
            raise InvalidInput(code="pdf_unreadable")
        if max(width, height) > bounds.page_mm:
            raise InvalidInput(
                code="pdf_page_too_large",
                page=page,
                width=math.ceil(width),
                height=math.ceil(height),
                side=bounds.page_mm,
            )


def check_pixels(path: Path, content_type: str) -> None:
    """InvalidInput ``image_damaged`` for a JPEG or PNG whose pixels do not decode (its
    compressed data damaged: a PNG's deflate stream or checksum, a JPEG's scan that libjpeg
    refuses or decodes only with a warning, grey where data is missing), decoded in a child
    process (``hall.pixels``: Pillow, libjpeg-turbo for a JPEG) after the header's bounds;
    also when decoding takes it over its CPU time. Nothing for a file that is not an image."""
    if content_type not in ("image/jpeg", "image/png"):
        return
    if "decoded" not in _child("certhall.hall.pixels", path):
        raise InvalidInput(code="image_damaged")


#: The store's refusals of an archive (``check_archive``), worded once for whoever uploads one
#: (only the portal accepts archives); one that does not read at all is ``file_incomplete``.
BROKEN_ARCHIVE = frozenset(
    {
        "archive_too_many_members",
        "archive_path",
        "archive_name_encoding",
        "archive_name_chars",
        "archive_encrypted",
        "archive_method",
        "archive_too_large",
        "archive_ratio",
        "archive_damaged",
        "archive_unreadable",
        "archive_duplicate_name",
        "archive_hidden_data",
        "archive_nested",
        "archive_nested_too_large",
        "archive_foreign",
        "office_no_content_types",
        "office_content_types",
        "office_macros",
        "office_activex",
        "office_ole_object",
        "office_external_content",
        "office_relationships",
    }
)


def check_archive(path: Path) -> str:
    """A ZIP's kind, ``docx``, ``xlsx`` or ``zip``, once every member is checked (``hall.archives``,
    the stdlib's zipfile in a child process: its members' count, names (none twice),
    encryption, declared sizes and ratios, each member decompressed for its CRC, an Office
    file's ``[Content_Types].xml``, the parts that run code and the relationships that load
    from outside, a ZIP inside it checked alike, one level deep, an Office package's embedded
    ones two, an archive of another format inside it refused); InvalidInput with one of
    ``BROKEN_ARCHIVE``, or ``file_incomplete`` when its central directory does not read
    (docs/security.md, "Archives"). A ``store(inspect=)`` calls it: a refused archive leaves
    nothing."""
    answer = _child("certhall.hall.archives", path)
    kind = answer.pop("kind", None)
    if kind in ("docx", "xlsx", "zip"):
        return str(kind)
    code = answer.pop("error", None)
    if code not in BROKEN_ARCHIVE and code != "file_incomplete":  # killed or silent
        raise InvalidInput(code="archive_unreadable")
    raise InvalidInput(code=code, **answer)


#: How long the store waits for a checking child, in multiples of its CPU time, and how long
#: it asks the uploader to wait when the machine, not the file, kept the child from answering.
WAIT_FACTOR = 4
BUSY_RETRY_SECONDS = 60
#: Checking children one server process runs at once (a worker's threads take uploads side by
#: side: 2 workers x 8 threads were 16 children of 2 s of CPU and 1 GiB each, on 2 cores); an
#: upload that finds them all taken waits as long as for a child's answer, then is upload_busy.
CHILDREN_AT_ONCE = 2
_children = threading.BoundedSemaphore(CHILDREN_AT_ONCE)


def _busy() -> TooManyRequests:
    return TooManyRequests(
        message_code="upload_busy", retry_after=BUSY_RETRY_SECONDS, scope="upload_check"
    )


def _child(module: str, path: Path, *arguments: str) -> dict[str, Any]:
    """The answer of ``module``'s check of ``path`` in a checking child (``hall.checking``: its
    CPU time limited to ``checking.SECONDS``, its memory too); empty when it was killed or
    failed (the file made it so: its caller refuses the file).

    Not answering within ``WAIT_FACTOR`` times its CPU time is the file's fault only when the
    child used at least a quarter of that CPU time (0.5 s: the most a whole file's check takes,
    a 40 MP image's decoding); otherwise it waited for a busy machine, and a
    whole photo was refused as damaged: TooManyRequests ``upload_busy`` then (12-07, a probe),
    the file not blamed and nothing kept. At most ``CHILDREN_AT_ONCE`` run at once in this
    process; one that finds no place within the same wait is ``upload_busy`` too."""
    seconds = checking.SECONDS
    wait = WAIT_FACTOR * seconds
    if not _children.acquire(timeout=wait):
        raise _busy()
    try:
        result = checking.run(module, str(path), seconds, arguments, wait)
    except checking.Busy:
        raise _busy() from None
    finally:
        _children.release()
    if result.waited_out and not result.answer and result.cpu < seconds / 4:
        raise _busy()
    return result.answer


def read(sha256: str, base: Path | None = None) -> bytes:
    path = path_of(sha256, base)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound(code="file_not_stored") from None
