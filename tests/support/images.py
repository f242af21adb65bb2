"""Images made in the test: a real small PNG and JPEG, and a PNG bomb (a few hundred KB that
declares a huge image: what a decoder would unpack to gigabytes); a real PDF of blank pages."""

from __future__ import annotations

import io
import struct
import zlib

import pypdf
from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png(width: int, height: int, idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def png(width: int = 120, height: int = 80) -> bytes:
    """A real (small, grey) PNG image."""
    rows = b"".join(b"\x00" + b"\xc8" * width for _ in range(height))
    return _png(width, height, zlib.compress(rows))


def jpeg(width: int = 120, height: int = 80) -> bytes:
    """A real (small, grey) JPEG image."""
    out = io.BytesIO()
    Image.new("L", (width, height), 200).save(out, "JPEG")
    return out.getvalue()


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG of ``width`` x ``height`` black grey pixels whose data is compressed as
    deflate blocks of about 1 MB of zeros, each flushed on its own so that one compressed block
    stands for all of them (20000 x 20000 px: about 400 KB for 400 MB; made in milliseconds)."""
    row = b"\x00" * (width + 1)  # the filter byte and the row's pixels
    per_block = max(1, (1 << 20) // len(row))
    block = row * per_block
    blocks, rest = divmod(height, per_block)
    deflate = zlib.compressobj(9)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    middle = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert again == middle  # a full flush forgets what came before
    tail = deflate.compress(row * rest) + deflate.flush()
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(block, checksum)
    checksum = zlib.adler32(row * rest, checksum)
    parts = [first, *([again] * (blocks - 1)), tail[:-4], struct.pack(">I", checksum)]
    return _png(width, height, b"".join(parts))


def pdf(pages: int = 1, width: float = 595, height: float = 842) -> bytes:
    """A real PDF of ``pages`` blank pages of ``width`` x ``height`` points (A4 by default)."""
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width, height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def without_eof(content: bytes) -> bytes:
    """A PDF cut before its last ``%%EOF``."""
    return content[: content.rindex(b"%%EOF")]


def encrypted(content: bytes) -> bytes:
    """The PDF ``content`` with a password to open it."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(content)))
    writer.encrypt("secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
