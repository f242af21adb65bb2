"""An uploaded image's pixel size, read from its header in the one upload store
(``hall.storage.store``): a PNG bomb (a few hundred KB declaring 20000 x 20000 px, 1.6 GB once
decoded) and an image whose header does not read are refused in Chinese on every way in (the
service, the 上传资料 page, the API, the handler's phone), quickly and leaving nothing behind;
a phone's photo is accepted."""

from __future__ import annotations

import io
import shutil
import struct
import time
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from certhall.accounts.models import Handler, User
from certhall.audit.models import AuditEvent
from certhall.errors import InvalidInput
from certhall.hall import documents, identity, storage
from certhall.hall.models import Application, Document
from tests.hall.conftest import FRIDAY, at, online_draft, upload
from tests.support.images import _chunk, bomb_png, jpeg, png

pytestmark = pytest.mark.django_db

BOMB_WORDS = (
    "图片为 20000 × 20000 像素，超过限制（最多 4000 万像素，每边不超过 10000 像素），"
    "请缩小图片或降低扫描分辨率后重新上传。"
)
UNREADABLE_WORDS = "图片文件已损坏或不完整，读不出它的尺寸，请重新拍照或导出后再上传。"


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return bomb_png(20_000, 20_000)


def phone_photo() -> bytes:
    """A portrait phone photo as the camera stores it: 3024 x 4032 px (12 MP), a JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (3024, 4032), (180, 170, 160)).save(out, "JPEG", quality=90)
    return out.getvalue()


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def draft_without_documents(
    applicant: User, handler: Handler, *, identity_check: bool = True
) -> Application:
    """A draft at 上传资料 with no document, and nothing in the store."""
    with at(FRIDAY):
        draft = online_draft(applicant, handler, identity_check=identity_check)
    Document.objects.filter(application=draft).delete()
    shutil.rmtree(storage.root())
    return draft


def timed(call):  # type: ignore[no-untyped-def]
    """``call()``'s result (or the CerthallError it raised) and the seconds it took."""
    started = time.perf_counter()
    try:
        result = call()
    except InvalidInput as error:
        result = error
    return result, time.perf_counter() - started


def test_the_bomb_is_small_and_declares_a_huge_image(bomb: bytes) -> None:
    assert len(bomb) < 1024 * 1024 < storage.MAX_BYTES
    assert struct.unpack(">II", bomb[16:24]) == (20_000, 20_000)  # IHDR's width and height
    with pytest.raises(Image.DecompressionBombError):  # Pillow's own guess says so too
        Image.open(io.BytesIO(bomb))


@pytest.mark.parametrize(
    ("width", "height", "refused"),
    [
        (10_000, 4_000, False),  # 40 MP exactly, 10000 px on a side: the bounds themselves
        (10_001, 100, True),  # a side over 10000 px
        (8_000, 5_001, True),  # 40,008,000 px
        (100, 20_000, True),
    ],
)
def test_the_bounds(tmp_path: Path, width: int, height: int, refused: bool) -> None:
    content = bomb_png(width, height)
    if refused:
        with pytest.raises(InvalidInput) as error:
            storage.store([content], base=tmp_path)
        assert error.value.code == "image_too_large"
        assert f"图片为 {width} × {height} 像素" in error.value.message
        assert stored_files(tmp_path) == []
    else:
        assert storage.store([content], base=tmp_path).content_type == "image/png"


def test_the_bomb_is_refused_quickly_and_nothing_is_stored(
    applicant: User, handler: Handler, uploads: Path, bomb: bytes
) -> None:
    draft = draft_without_documents(applicant, handler)
    with at(FRIDAY):
        refused, seconds = timed(
            lambda: upload(applicant, draft.number, "licence_copy", bomb, name="licence.png")
        )
    assert isinstance(refused, InvalidInput) and refused.code == "image_too_large"
    assert refused.message == BOMB_WORDS
    assert 0 < seconds < 1
    assert not draft.documents.exists()
    assert stored_files(uploads) == []  # no half-written file either
    event = AuditEvent.objects.filter(action="hall.document.upload", result="refused").get()
    assert event.after["error"] == "image_too_large"


@pytest.mark.parametrize(
    "content",
    [
        png()[:30],  # cut inside IHDR (cut after it, it is incomplete: test_broken_files)
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,  # the signature, then nothing of a PNG
        png()[:29] + b"\x00\x00\x00\x00" + png()[33:],  # IHDR's checksum wrong
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,  # a JPEG's first bytes, then nothing of one
        jpeg()[: jpeg().index(b"\xff\xc0")],  # cut before the frame header
    ],
    ids=["png-cut", "png-empty", "png-crc", "jpeg-empty", "jpeg-cut"],
)
def test_an_image_whose_header_does_not_read_is_refused(
    applicant: User, handler: Handler, uploads: Path, content: bytes
) -> None:
    draft = draft_without_documents(applicant, handler)
    with at(FRIDAY), pytest.raises(InvalidInput) as refused:
        upload(applicant, draft.number, "licence_copy", content, name="licence.jpg")
    assert (refused.value.code, refused.value.message) == ("image_unreadable", UNREADABLE_WORDS)
    assert not draft.documents.exists()
    assert stored_files(uploads) == []


def test_a_phone_photo_and_small_images_are_accepted(
    applicant: User, handler: Handler, uploads: Path
) -> None:
    draft = draft_without_documents(applicant, handler)
    with at(FRIDAY):
        photo = upload(applicant, draft.number, "licence_copy", phone_photo(), name="IMG_1.jpg")
        copy = upload(applicant, draft.number, "handler_id_copy", png(), name="copy.png")
    assert (photo.content_type, copy.content_type) == ("image/jpeg", "image/png")
    assert len(stored_files(uploads)) == 2


def licence_poster(applicant: User, url: str):  # type: ignore[no-untyped-def]
    """Posts of a file as the licence copy to ``url`` by the signed-in ``applicant``."""
    client = Client()
    client.force_login(applicant)

    def post(name: str, content: bytes):  # type: ignore[no-untyped-def]
        return client.post(url, {"kind": "licence_copy", "file": SimpleUploadedFile(name, content)})

    return post


def test_the_documents_page_refuses_the_bomb_in_chinese(
    applicant: User, handler: Handler, uploads: Path, bomb: bytes
) -> None:
    draft = draft_without_documents(applicant, handler)
    post = licence_poster(applicant, f"/hall/applications/{draft.number}/documents/")
    with at(FRIDAY):
        response, seconds = timed(lambda: post("licence.png", bomb))
        accepted = post("IMG_1.jpg", phone_photo())
    assert response.status_code == 400 and seconds < 1
    page = response.content.decode()
    assert BOMB_WORDS in page and 'id="form-error"' in page
    assert accepted.status_code in (302, 303)
    assert [d.content_type for d in draft.documents.all()] == ["image/jpeg"]
    assert len(stored_files(uploads)) == 1


def test_the_api_refuses_the_bomb_in_chinese(
    applicant: User, handler: Handler, uploads: Path, bomb: bytes
) -> None:
    draft = draft_without_documents(applicant, handler)
    post = licence_poster(applicant, f"/api/hall/applications/{draft.number}/documents")
    with at(FRIDAY):
        response, seconds = timed(lambda: post("a.png", bomb))
        cut = post("a.png", png()[:30])
        accepted = post("a.jpg", phone_photo())
    assert response.status_code == 400 and seconds < 1
    assert response.json() == {
        "error": "image_too_large",
        "message": BOMB_WORDS,
        "fields": ["file"],
    }
    assert cut.status_code == 400
    assert cut.json() == {
        "error": "image_unreadable",
        "message": UNREADABLE_WORDS,
        "fields": ["file"],
    }
    assert accepted.status_code == 201, accepted.content
    assert draft.documents.count() == 1 and len(stored_files(uploads)) == 1


def test_the_handlers_phone_refuses_the_bomb_in_chinese(
    applicant: User, handler: Handler, uploads: Path, bomb: bytes
) -> None:
    with at(FRIDAY):
        draft = draft_without_documents(applicant, handler, identity_check=False)
        check = identity.start(applicant, draft.number)
        phone = Client()
        url = reverse("hall-identity:phone", args=[check.token])
        response, seconds = timed(
            lambda: phone.post(
                url, {"side": "front", "file": SimpleUploadedFile("front.png", bomb)}
            )
        )
        refused_check = type(check).objects.get(pk=check.pk)
        accepted = phone.post(
            url, {"side": "front", "file": SimpleUploadedFile("IMG_2.jpg", phone_photo())}
        )
    assert response.status_code == 400 and seconds < 1
    assert BOMB_WORDS in response.content.decode()
    assert refused_check.front_sha256 == ""
    assert accepted.status_code == 303
    assert list(documents.current(draft)) == ["handler_id_front"]
    assert len(stored_files(uploads)) == 1


def _with_chunks(content: bytes, *chunks: bytes) -> bytes:
    """``content`` (a PNG) with ``chunks`` between its IHDR and its IDAT."""
    return content[:33] + b"".join(chunks) + content[33:]


def test_a_png_of_many_small_compressed_chunks_is_answered_at_once(tmp_path: Path) -> None:
    """Pillow's PNG reader decompressed every iCCP chunk before IDAT (up to 1 MiB each): 5,211
    chunks of 991 bytes, each 1 MB of zeros, in a 5 MiB upload took 18.7 s of the worker (and
    were accepted). The header is read without decompressing anything (12-06)."""
    profile = zlib.compress(b"\x00" * 1_000_000, 9)
    chunk = _chunk(b"iCCP", b"scanner\x00\x00" + profile)
    content = _with_chunks(png(), chunk * 4000)  # 4 MB, under the 4096 chunks before IDAT
    blob, seconds = timed(lambda: storage.store([content], base=tmp_path))
    assert blob.content_type == "image/png" and seconds < 1


def test_a_scan_with_a_large_profile_or_metadata_is_accepted(tmp_path: Path) -> None:
    """A PNG is what the browser shows whatever its ancillary chunks hold: an ICC profile over
    1 MiB (a scanner's device profile) or an XMP packet over 1 MiB (Photoshop's
    DocumentAncestors) was refused as damaged (Pillow's text-chunk limit)."""
    profile = bytes(range(256)) * 4400  # 1.1 MB
    xmp = b"<x:xmpmeta>" + b"<rdf:li>xmp.did:0123456789abcdef</rdf:li>" * 27_000 + b"</x:xmpmeta>"
    for chunk in (
        _chunk(b"iCCP", b"scanner\x00\x00" + zlib.compress(profile)),
        _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(xmp)),
    ):
        content = _with_chunks(png(), chunk)
        assert storage.store([content], base=tmp_path).content_type == "image/png"
    assert len(xmp) > 1 << 20 and len(profile) > 1 << 20


@pytest.mark.parametrize(
    "padding",
    [b"\xff" * 5_000_000, b"\xff\xfe\x00\x03a" * 1_000_000],
    ids=["fill-bytes", "comments"],
)
def test_a_jpeg_padded_before_its_frame_is_answered_at_once(tmp_path: Path, padding: bytes) -> None:
    """Pillow's JPEG reader walks the header byte by byte in Python: 5 MB of fill bytes before
    the frame header took 5 s of the worker, a million five-byte comments 3 s (12-06). Fill
    bytes are stepped over at once (and the image read); past 4096 segments the header is
    refused as unreadable."""
    content = jpeg()
    content = content[:2] + padding + content[2:]
    result, seconds = timed(lambda: storage.store([content], base=tmp_path))
    assert seconds < 1
    if padding.startswith(b"\xff\xff"):
        assert result.content_type == "image/jpeg"
    else:
        assert result.code == "image_unreadable"


def test_a_png_of_many_empty_chunks_is_refused_at_once(tmp_path: Path) -> None:
    """436,896 empty ancillary chunks before IDAT (a 5 MiB upload): 0.4 s walked one by one;
    past 4096 chunks the header is unreadable."""
    chunk = _chunk(b"tIME", b"")
    content = _with_chunks(png(), chunk * ((storage.MAX_BYTES - 1000) // len(chunk)))
    result, seconds = timed(lambda: storage.store([content], base=tmp_path))
    assert result.code == "image_unreadable" and seconds < 0.2
    assert storage.store([_with_chunks(png(), chunk * 4000)], base=tmp_path)
