"""The portal's files (notice attachments, downloads), stored by the hall's one upload store
(``hall.storage``: content type from the first bytes, size limit, SHA-256 addressed) under the
portal's own folder of the uploads directory.

Accepted from staff: PDF, and the ZIP-based formats (DOCX, XLSX, ZIP), told apart by the names
inside the archive; the client's file name and Content-Type are never believed. Old binary
Office files (.doc/.xls, OLE) are refused: they carry macros and nobody needs them for a notice.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
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

EXTENSIONS = {PDF: "pdf", ZIP: "zip", DOCX: "docx", XLSX: "xlsx", ZIPAPP: "pyz"}
_UNSAFE = re.compile(r'[\x00-\x1f\\/:*?"<>|]+')


def root() -> Path:
    return config.get().uploads_dir / "portal"


def store(
    chunks: Iterable[bytes], *, accept: tuple[tuple[bytes, str], ...], limit: int
) -> storage.Blob:
    """Store an uploaded or built file; InvalidInput in the portal's words otherwise."""
    try:
        blob = storage.store(chunks, limit=limit, base=root(), signatures=accept)
    except InvalidInput as error:
        if error.code == "file_type":
            raise InvalidInput(code="download_type") from None
        if error.code == "file_too_big":
            raise InvalidInput(code="download_too_big", limit=limit // (1024 * 1024)) from None
        raise
    if blob.content_type == ZIP:
        blob = storage.Blob(blob.sha256, blob.size, _zip_kind(blob.sha256))
    return blob


def _zip_kind(sha256: str) -> str:
    try:
        with zipfile.ZipFile(storage.path_of(sha256, root())) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise InvalidInput(code="download_type") from None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return ZIP


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
