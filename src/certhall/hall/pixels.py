"""An uploaded JPEG's or PNG's pixels decoded in a checking child under a CPU-time and memory
limit (``hall.checking``): ``check(PATH)`` answers ``{"decoded": true}`` or
``{"error": "image_damaged"}`` (``hall.storage.check_pixels`` runs it, after the header's
bounds, and refuses in Chinese). A PNG is decoded by Pillow, a JPEG
by libjpeg-turbo through simplejpeg with its warnings taken as errors (``_jpeg``: a scan with
data missing, which Pillow decodes grey and accepts, is damaged too).

A child because decoding is the one step that unpacks the file: at most 40 megapixels (the
header was bounded first), 160 MB as RGBA; the kernel stops the child at its CPU time. Pillow
reads headers in Python and decompresses a PNG's ancillary chunks (5 MB of JPEG fill bytes
took it 5 s, 5,211 iCCP chunks 18.7 s: ``hall.storage``), so the decoders are given only what
the pixels need (:func:`essentials`: a PNG's IHDR, PLTE, IDATs and IEND, refused with another
critical chunk; a JPEG without its APP segments but Adobe's, comments and fill bytes, any other
segment kept for the decoder to judge). Imports nothing of Django. The pixels are thrown away:
the file stored is the one uploaded, never a re-encoding of it.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
from typing import Any

#: The header's bounds (``hall.storage.MAX_PIXELS``) are checked before the child starts; Pillow
#: refuses over twice its own bound as a bomb, so its bound is set to them.
MAX_PIXELS = 40_000_000
#: A PNG's chunks the pixels need, its critical ones: any other critical chunk (the first
#: letter of its type upper case) is one a decoder does not know and refuses (the reviewer's
#: browser showed a broken image), while Pillow skips it, so it is refused here (12-07).
_PNG_KEPT = (b"IHDR", b"PLTE", b"IDAT", b"IEND")
#: A JPEG's segments that are left out: the application segments (EXIF, ICC, XMP, a phone's
#: depth map) but APP14 (Adobe's colour transform), and comments. Every other segment is kept,
#: the tables and frame headers and any marker libjpeg does not know (JPGn 0xF0-0xFD, the
#: reserved 0x02-0xBF): libjpeg refuses those, in the reviewer's browser as in Pillow, and
#: they were left out too until 12-07, so such a JPEG was accepted and shown broken.
_JPEG_LEFT_OUT = frozenset({*range(0xE0, 0xEE), 0xEF, 0xFE})
#: The segments before the scan, chunks in all: ``hall.storage`` refused more before the child.
_PARTS = 4096 + 65_536
_FILL = re.compile(rb"\xff+")


def essentials(data: bytes) -> bytes:
    """The image ``data`` with only what its pixels need (its header was read by the store:
    a malformed one here ends the copy, and the decoder refuses what is left); ValueError for a
    PNG with a critical chunk no decoder knows."""
    if data.startswith(b"\x89PNG"):
        kept, pos = [data[:8]], 8
        for _ in range(_PARTS):
            if pos + 8 > len(data):
                break
            length, kind = struct.unpack_from(">I4s", data, pos)
            if kind in _PNG_KEPT:
                kept.append(data[pos : pos + 12 + length])
            elif not kind[0] & 0x20:  # a critical chunk no decoder knows
                raise ValueError(f"unknown critical chunk {kind!r}")
            if kind == b"IEND":
                break
            pos += 12 + length
        return b"".join(kept)
    kept, pos = [b"\xff\xd8"], 2
    for _ in range(_PARTS):
        pos = data.find(b"\xff", pos)
        fill = _FILL.match(data, pos) if pos >= 0 else None
        if fill is None or fill.end() + 3 > len(data):
            break
        code = data[fill.end()]
        start = fill.end() - 1  # the marker's own 0xFF
        if code == 0xDA:
            kept.append(data[start:])  # the scan to the end (later scans, the end of image)
            break
        if code == 0x01 or 0xD0 <= code <= 0xD7 or code == 0x00:
            pos = fill.end() + 1
            continue
        length = struct.unpack_from(">H", data, fill.end() + 1)[0]
        if code not in _JPEG_LEFT_OUT:
            kept.append(data[start : fill.end() + 1 + length])
        pos = fill.end() + 1 + max(length, 2)
    return b"".join(kept)


def check(path: str) -> dict[str, Any]:
    """The checking child's answer for the image at ``path`` (``hall.checking``)."""
    with open(path, "rb") as file:
        data = file.read()
    try:
        data = essentials(data)
    except Exception:  # a PNG's unknown critical chunk, a header that does not read
        return {"error": "image_damaged"}
    return _jpeg(data) if data.startswith(b"\xff\xd8") else _png(data)


def _png(data: bytes) -> dict[str, Any]:
    from PIL import Image  # imported by the zygote (``hall.checking``) before any child

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
                image.load()
    except Exception:  # any failure of the decoder: the pixels do not decode
        return {"error": "image_damaged"}
    return {"decoded": True}


#: A JPEG's colours as libjpeg-turbo decodes them: a CMYK or YCCK scan as CMYK (TurboJPEG
#: converts neither to RGB), grey as grey, the rest as RGB.
_JPEG_OUTPUT = {"CMYK": "CMYK", "YCCK": "CMYK", "Gray": "GRAY"}


def _jpeg(data: bytes) -> dict[str, Any]:
    """A JPEG's scan decoded by libjpeg-turbo (simplejpeg) with its warnings taken as errors
    (``strict``): libjpeg decodes a scan whose data is missing or damaged on, grey where it
    lacks data, and only warns ("Corrupt JPEG data: premature end of data segment" for a scan
    cut and closed with an end of image, "bad Huffman code", "N extraneous bytes before
    marker"); Pillow does not pass its warnings on, so such a photo was accepted (12-07,
    later). Decoded at an eighth of its size: every coefficient is still read (what finds the
    damage), the inverse DCT costs less, the pixels are thrown away."""
    import simplejpeg  # imported by the zygote (``hall.checking``) before any child

    try:
        _, _, colours, _ = simplejpeg.decode_jpeg_header(data)
        colourspace = _JPEG_OUTPUT.get(colours, "RGB")
        simplejpeg.decode_jpeg(data, colourspace, min_factor=8, strict=True)
    except Exception:  # any failure of the decoder, a warning included
        return {"error": "image_damaged"}
    return {"decoded": True}
