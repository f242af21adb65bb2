"""The portal's files (notice attachments, downloads), stored by the hall's one upload store
(``hall.storage``: content type from the first bytes, size limit, SHA-256 addressed) under the
portal's own folder of the uploads directory.

Accepted from staff: PDF, and the ZIP-based formats (DOCX, XLSX, ZIP), told apart by the names
inside the archive; the client's file name and Content-Type are never believed. Old binary
Office files (.doc/.xls, OLE) are refused: they carry macros and nobody needs them for a notice.

What is published reaches every customer who downloads it, so it is checked as the hall's
documents are (docs/security.md, "Broken files and PDF bounds"), before anything is kept: a
file cut short (a PDF without its end, a ZIP without its central directory) is
``file_incomplete``; a PDF must open without a password and keep within ``PUBLISHED_PDF`` (a
manual's bounds, not a scan's); a ZIP's members are all checked and decompressed
(``storage.check_archive``: no bomb, unsafe name, password or damaged member; a DOCX or XLSX
with its content types and without macros). The refusals keep the store's codes, the broken
file's worded for an editor (the catalogue's ``code.download``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from certhall import config
from certhall.errors import InvalidInput, NotFound
from certhall.hall import storage

PDF = "application/pdf"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIPAPP = "application/x-python-zipapp"

OFFICE_TYPES: tuple[tuple[bytes, str], ...] = ((b"%PDF-", PDF), (b"PK\x03\x04", ZIP))
#: What the platform builds itself (the certificate helper starts with its ``#!`` line).
BUILT_TYPES: tuple[tuple[bytes, str], ...] = (*OFFICE_TYPES, (b"#!", ZIPAPP))

#: A published PDF (12-07): a usage guide, a manual, a form, a CPS or a notice's annex. A
#: CA's longest is its CPS or a product manual, 80-200 A4 pages; 500 leaves room for a bound
#: collection, while a 20 MiB PDF can hold 160,000 empty pages for a customer's viewer to lay
#: out. 1200 mm on a side: an A0 poster or process chart (841 x 1189 mm) is a download too.
#: 100,000 objects: a word processor's tagged PDF has an object per paragraph (a 300-page
#: manual some tens of thousands); pypdf opened 33,000 in 0.2 s of CPU, far within its child's
#: 2 s, which stops a damaged one.
PUBLISHED_PDF = storage.PdfBounds(pages=500, page_mm=1200, objects=100_000)

EXTENSIONS = {PDF: "pdf", ZIP: "zip", DOCX: "docx", XLSX: "xlsx", ZIPAPP: "pyz"}
_UNSAFE = re.compile(r'[\x00-\x1f\\/:*?"<>|]+')


def root() -> Path:
    return config.get().uploads_dir / "portal"


def store(
    chunks: Iterable[bytes], *, accept: tuple[tuple[bytes, str], ...], limit: int
) -> storage.Blob:
    """Store an uploaded or built file (a ZIP told apart as DOCX or XLSX by its names, a PDF
    within ``PUBLISHED_PDF``); InvalidInput in the portal's words otherwise, nothing stored."""
    try:
        return storage.store(
            chunks, limit=limit, base=root(), signatures=accept, pdf=PUBLISHED_PDF, inspect=_kind
        )
    except InvalidInput as error:
        if error.code == "file_type":
            raise InvalidInput(code="download_type") from None
        if error.code == "file_too_big":
            raise InvalidInput(code="download_too_big", limit=limit // (1024 * 1024)) from None
        if error.code in storage.BROKEN_FILE:
            raise InvalidInput(code=error.code, variant="download", **error.params) from None
        raise


def _kind(path: Path, content_type: str) -> str:
    """A ZIP's kind by the names in it, once the store has checked every member
    (``storage.check_archive``: a bomb, an unsafe name, a password, a damaged member, an
    Office file without its content types or with macros are refused, nothing kept)."""
    if content_type != ZIP:
        return content_type
    return {"docx": DOCX, "xlsx": XLSX}.get(storage.check_archive(path), ZIP)


def path_of(sha256: str) -> Path:
    path = storage.path_of(sha256, root())
    if not path.exists():
        raise NotFound(code="download_not_found")
    return path


def safe_name(name: str, content_type: str) -> str:
    """A file name for the Content-Disposition: no path, no control characters, the
    extension of what the content is."""
    base = Path(unicodedata.normalize("NFC", name or "")).name
    # what shows nothing or turns the rest around (U+202E made 报告\u202egpj.pdf read as
    # 报告fdp.jpg): the characters str.isprintable refuses but the space
    base = "".join(c if c.isprintable() else "_" for c in base)
    stem = _UNSAFE.sub("_", base.rsplit(".", 1)[0] if "." in base else base).strip(" ._")
    return f"{stem[:80] or '文件'}.{EXTENSIONS.get(content_type, 'bin')}"
