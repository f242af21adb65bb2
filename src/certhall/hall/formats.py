"""What format a member of an uploaded ZIP is, by its bytes: an archive of a format
``hall.archives`` does not read inside (7z, RAR, CAB, gzip, tar, ARJ, LZH ...), a disk image
(ISO, WIM, VHD, VHDX) or a Windows program (docs/security.md, "Archives"). :func:`foreign`
reads a member's first ``HEAD`` bytes and last ``TAIL``; nothing here decompresses. Imports
nothing of Django.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

#: Archives and disk images of other formats, by their magic bytes at an offset (their
#: specifications'), whatever the member's name: nothing here reads inside them, so a customer
#: would unpack or mount what was never checked. 7-Zip, RAR (4 and 5), Microsoft's cabinet (its
#: reserved field zero), gzip (deflate, no reserved flag), bzip2 (its first block's or the empty
#: stream's end magic after the level), xz, Zstandard, LZ4's frame, lzip, POSIX and GNU tar
#: (``ustar`` at 257), an ISO 9660 or UDF image (its first volume descriptor at 32769), and
#: since 12-07, night: a Windows imaging file (WIM, and wimlib's pipable one) and a VHDX; a
#: VHD (no magic: its footer, first and last in a dynamic one, only last in a fixed one,
#: ``_vhd_footer``).
#: V7 tar, ARJ and LZH have no fixed magic and are told by their headers (``_headed``), a
#: Windows program (a PE, a self-extracting archive or installer among them) by its PE header
#: (``_program``). An ``.msi`` or ``.deb`` is a file like any other.
_MAGIC: tuple[tuple[int, tuple[bytes, ...], str], ...] = (
    (0, (b"7z\xbc\xaf\x27\x1c",), "7z"),
    (0, (b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00"), "RAR"),
    (0, (b"MSCF\x00\x00\x00\x00",), "CAB"),
    (0, (b"\xfd7zXZ\x00",), "xz"),
    (0, (b"\x28\xb5\x2f\xfd",), "Zstandard"),
    (0, (b"\x04\x22\x4d\x18",), "LZ4"),
    (0, (b"LZIP\x01",), "lzip"),
    (257, (b"ustar\x00", b"ustar "), "tar"),
    (32769, (b"CD001", b"BEA01"), "ISO"),
    (0, (b"MSWIM\x00\x00\x00", b"WLPWM\x00\x00\x00"), "WIM"),
    (0, (b"vhdxfile",), "VHDX"),
)
#: The refusal's words by what the format is (``archive_foreign.image``, ``.disk``).
_VARIANTS = {"ISO": "image", "WIM": "disk", "VHDX": "disk", "VHD": "disk"}
#: An LZH (LHarc, LHA) member's method at 2, its header's level at 20 (0-3).
_LZH = re.compile(rb"-(?:lh[0-7d]|lz[s45])-")
#: A tar header's numeric fields: octal digits, padded with spaces or NULs.
_OCTAL = re.compile(rb"[ \x00]*[0-7]+[ \x00]*")
#: A VHD's footer: 512 bytes, its cookie first, its checksum at 64 (``_vhd_footer``).
TAIL = 512
#: The member's first bytes kept to tell its format (``foreign``): up to an ISO image's mark.
HEAD = 32769 + 5


def foreign(first: bytes, last: bytes = b"") -> dict[str, Any] | None:
    """The format (``format``, and ``variant`` ``image``, ``disk`` or ``program``) of a member
    whose first bytes (``HEAD`` of them) or last (``TAIL``) are an archive of a format not
    read here (``_MAGIC``, ``_headed``), a disk image or a program, or None."""
    if first[:3] == b"\x1f\x8b\x08" and len(first) > 3 and not first[3] & 0xE0:
        return {"format": "gzip"}
    level, block = first[3:4], first[4:10]
    if first[:3] == b"BZh" and b"1" <= level <= b"9" and block in (b"1AY&SY", b"\x17rE8P\x90"):
        return {"format": "bzip2"}
    if _program(first):
        return {"format": "EXE", "variant": "program"}
    name = _headed(first)
    if name is None and (_vhd_footer(first[:TAIL]) or _vhd_footer(last)):
        name = "VHD"  # a dynamic one has its footer's copy first, a fixed one only last
    for offset, magics, format_name in _MAGIC:
        if name is None and first.startswith(magics, offset):  # not a slice: a 32 KiB copy
            name = format_name
    if name is None:
        return None
    return {"format": name, **({"variant": _VARIANTS[name]} if name in _VARIANTS else {})}


def _program(first: bytes) -> bool:
    """Whether ``first`` starts a Windows program (a PE: ``MZ``, and at the offset its DOS
    header gives, ``PE\\0\\0``): an ``.exe``, ``.dll``, ``.sys`` or ``.scr``, a self-extracting
    archive (7-Zip's, WinRAR's, a CAB's) and an installer alike (12-07, night: an executable
    is never a document, and what a self-extracting one holds is not read here)."""
    if not first.startswith(b"MZ") or len(first) < 64:
        return False
    at = struct.unpack_from("<I", first, 0x3C)[0]
    return at >= 64 and first.startswith(b"PE\x00\x00", at)


def _vhd_footer(block: bytes) -> bool:
    """Whether ``block`` is a VHD's footer: 512 bytes, the cookie ``conectix`` and, at 64, the
    ones' complement of the sum of its other bytes (Microsoft's VHD specification)."""
    if len(block) != TAIL or not block.startswith(b"conectix"):
        return False
    (checksum,) = struct.unpack_from(">I", block, 64)
    return bool(checksum == ~(sum(block) - sum(block[64:68])) & 0xFFFFFFFF)


def _headed(first: bytes) -> str | None:
    """The format of an archive with no fixed magic, told by its first header read as its
    format writes it: a V7 tar (a 512-byte header whose octal checksum is the sum of its
    bytes, the checksum's own counted as spaces, as ``tarfile`` reads one), ARJ (``60 EA``, the
    basic header's size and its CRC-32 after it), LZH (its method at 2 and header level at
    20); None for any other."""
    if len(first) >= 512 and first[0] and _OCTAL.fullmatch(first[148:156]):
        fields = first[100:108], first[108:116], first[116:124], first[124:136], first[136:148]
        total = 256 + sum(first[:148]) + sum(first[156:512])
        if all(_OCTAL.fullmatch(field) for field in fields) and total == int(
            first[148:156].strip(b" \x00"), 8
        ):
            return "tar"
    if first[:2] == b"\x60\xea" and len(first) > 8:
        size = struct.unpack_from("<H", first, 2)[0]
        crc = first[4 + size : 8 + size]
        if (
            0 < size <= 2600
            and len(crc) == 4
            and struct.unpack("<I", crc)[0] == zlib.crc32(first[4 : 4 + size])
        ):
            return "ARJ"
    if _LZH.match(first, 2) and len(first) > 21 and first[20] <= 3:
        return "LZH"
    return None
