"""Broken uploads get a clear Chinese error and leave nothing (12-07): a JPEG or PNG cut short
after its header (a phone's upload on a bad connection), a PDF cut short, one that does not
open, has an open password, no page, too many pages or a page over A3 with room; each made
from a real file cut or altered here, each beside its intact file, which is accepted."""

from __future__ import annotations

import functools
import io
import os
import random
import re
import select
import signal
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from certhall.accounts.models import Handler, User
from certhall.audit.models import AuditEvent
from certhall.errors import InvalidInput, TooManyRequests
from certhall.hall import checking, identity, storage
from certhall.portal import files
from tests.hall.conftest import FRIDAY, at, upload
from tests.hall.test_image_sizes import draft_without_documents, stored_files
from tests.support.images import _chunk, bomb_png, encrypted, pdf, png, without_eof

pytestmark = pytest.mark.django_db

INCOMPLETE_WORDS = "文件不完整（上传中断或文件已损坏），请重新拍照或扫描后上传。"


@functools.cache
def photo() -> bytes:
    """A phone's photo: a 1600 x 1200 JPEG of noise (its scan is most of the file)."""
    out = io.BytesIO()
    Image.effect_noise((1600, 1200), 40).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


@functools.cache
def progressive() -> bytes:
    """A phone's photo saved progressive (its scans one after another)."""
    return save(Image.effect_noise((1600, 1200), 40).convert("RGB"), "JPEG", progressive=True)


@functools.cache
def grey() -> bytes:
    """A scanner's grey JPEG of a page."""
    return save(Image.effect_noise((1240, 1754), 40), "JPEG", quality=90)


def scan_start(jpeg: bytes) -> int:
    """Where the JPEG's scan header (SOS) starts."""
    return jpeg.index(b"\xff\xda")


def with_thumbnail(jpeg: bytes) -> bytes:
    """``jpeg`` with an APP1 segment holding a small JPEG, as EXIF holds a thumbnail (its own
    scan and end of image come before the photo's)."""
    thumbnail = Image.new("L", (16, 16), 90)
    out = io.BytesIO()
    thumbnail.save(out, "JPEG")
    body = b"Exif\x00\x00" + out.getvalue()
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


@functools.cache
def scan_png() -> bytes:
    """A scanner's PNG: 600 x 400 RGB of noise (its compressed data is most of the file)."""
    out = io.BytesIO()
    Image.effect_noise((600, 400), 40).convert("RGB").save(out, "PNG")
    return out.getvalue()


def save(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def png_data_altered(content: bytes, alter: Callable[[bytes], bytes]) -> bytes:
    """The PNG ``content`` with its compressed data (its IDATs' data joined) altered by
    ``alter`` and written back as one IDAT, every checksum right: only the data is damaged."""
    chunks, pos = [], 8
    while pos < len(content):
        length, kind = struct.unpack_from(">I4s", content, pos)
        chunks.append((kind, content[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    data = alter(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    head = b"".join(_chunk(kind, body) for kind, body in chunks if kind == b"IHDR")
    return content[:8] + head + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def overwritten(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new) :]


def in_idats(content: bytes, size: int) -> bytes:
    """A PNG of one IDAT with its data split into IDATs of ``size`` bytes."""
    data = content[41:-16]  # signature, IHDR, the IDAT's length and type ... its CRC, IEND
    parts = (_chunk(b"IDAT", data[i : i + size]) for i in range(0, len(data), size))
    return content[:33] + b"".join(parts) + content[-12:]


def with_segment(jpeg: bytes, marker: int, body: bytes = b"abcd") -> bytes:
    """``jpeg`` with a segment of ``marker`` before its first quantisation table."""
    at = jpeg.index(b"\xff\xdb")
    return jpeg[:at] + bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body + jpeg[at:]


def with_chunk(content: bytes, kind: bytes, body: bytes = b"zz") -> bytes:
    """The PNG ``content`` with a chunk of ``kind`` after its IHDR."""
    return content[:33] + _chunk(kind, body) + content[33:]


def lying_count(pages: int) -> bytes:
    """A PDF of ``pages`` pages whose page tree says it has 1 (the byte offsets kept)."""
    content = pdf(pages)
    count = f"/Count {pages}".encode()
    assert content.count(count) == 1
    return content.replace(count, b"/Count 1".ljust(len(count)))


BROKEN: dict[str, tuple[Callable[[], bytes], str]] = {
    # images: the header reads, the file ends before the image does
    "jpeg-cut-after-header": (lambda: photo()[: scan_start(photo()) + 14], "file_incomplete"),
    "jpeg-cut-halfway": (lambda: photo()[: len(photo()) // 2], "file_incomplete"),
    "jpeg-cut-before-eoi": (lambda: photo()[:-2], "file_incomplete"),
    "jpeg-with-thumbnail-cut": (
        lambda: with_thumbnail(photo())[: len(with_thumbnail(photo())) // 2],
        "file_incomplete",
    ),
    "jpeg-cut-after-frame": (
        lambda: photo()[: photo().index(b"\xff\xc0") + 19],
        "file_incomplete",
    ),
    "png-cut-after-ihdr": (lambda: png()[:33], "file_incomplete"),
    "png-cut-in-idat": (lambda: png(600, 400)[:-40], "file_incomplete"),
    "png-without-iend": (lambda: png()[:-12], "file_incomplete"),
    # PDFs
    # images whose compressed pixel data is damaged, the file whole (12-07: decoded)
    "png-data-byte-changed": (
        lambda: png_data_altered(scan_png(), lambda d: overwritten(d, len(d) // 2, b"\x5a")),
        "image_damaged",
    ),
    "png-data-zeroed": (
        lambda: png_data_altered(scan_png(), lambda d: overwritten(d, len(d) // 2, bytes(4096))),
        "image_damaged",
    ),
    "png-data-short": (  # the deflate stream ends before the last rows
        lambda: png_data_altered(scan_png(), lambda d: d[: len(d) // 2]),
        "image_damaged",
    ),
    "jpeg-scan-garbage": (
        lambda: overwritten(photo(), len(photo()) // 2, random.Random(7).randbytes(4096)),
        "image_damaged",
    ),
    "jpeg-marker-in-scan": (
        lambda: overwritten(photo(), len(photo()) // 2, b"\xff\xc4"),
        "image_damaged",
    ),
    # a scan libjpeg decodes on with a warning, grey where data is missing, and Pillow accepted
    # (12-07, later): a photo cut and closed with an end of image by a broken program, a run
    # of the scan zeroed
    "jpeg-scan-cut-and-closed": (
        lambda: photo()[: len(photo()) // 2] + b"\xff\xd9",
        "image_damaged",
    ),
    "jpeg-progressive-cut-and-closed": (
        lambda: progressive()[: len(progressive()) * 2 // 3] + b"\xff\xd9",
        "image_damaged",
    ),
    "jpeg-grey-cut-and-closed": (
        lambda: grey()[: len(grey()) - 4000] + b"\xff\xd9",
        "image_damaged",
    ),
    "jpeg-scan-zeroed": (
        lambda: overwritten(photo(), len(photo()) // 2, bytes(4096)),
        "image_damaged",
    ),
    # a segment or chunk the decoder does not know and refuses, so the reviewer's browser
    # showed a broken image; Pillow was not given it (a probe of 12-07)
    "jpeg-jpg7-marker": (lambda: with_segment(photo(), 0xF7), "image_damaged"),
    "jpeg-reserved-marker": (lambda: with_segment(photo(), 0x02), "image_damaged"),
    "png-unknown-critical-chunk": (lambda: with_chunk(png(600, 400), b"XXXX"), "image_damaged"),
    "pdf-cut-halfway": (lambda: pdf(3)[: len(pdf(3)) // 2], "file_incomplete"),
    "pdf-without-eof": (lambda: without_eof(pdf()), "file_incomplete"),
    "pdf-without-xref": (lambda: pdf().replace(b"startxref", b"startxrex"), "file_incomplete"),
    "pdf-garbage": (
        lambda: b"%PDF-1.7\n" + b"x" * 500 + b"\nstartxref\n9\n%%EOF\n",
        "pdf_unreadable",
    ),
    "pdf-password": (lambda: encrypted(pdf()), "pdf_encrypted"),
    "pdf-no-pages": (lambda: pdf(0), "pdf_no_pages"),
    "pdf-21-pages": (lambda: pdf(21), "pdf_too_many_pages"),
    "pdf-count-lies": (lambda: lying_count(25), "pdf_too_many_pages"),
    "pdf-a2-page": (lambda: pdf(1, 1191, 1684), "pdf_page_too_large"),
    "pdf-huge-user-unit": (
        lambda: pdf().replace(b"/Resources <<\n>>\n", b"/UserUnit 10    \n"),
        "pdf_page_too_large",
    ),
}


@pytest.mark.parametrize(("make", "code"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_file_is_refused_in_chinese_and_nothing_is_kept(
    applicant: User, handler: Handler, uploads: Path, make: Callable[[], bytes], code: str
) -> None:
    content = make()
    draft = draft_without_documents(applicant, handler)
    with at(FRIDAY), pytest.raises(InvalidInput) as refused:
        upload(applicant, draft.number, "licence_copy", content, name="licence")
    assert refused.value.code == code
    assert re.search(r"[\u4e00-\u9fff]", refused.value.message) and "{" not in refused.value.message
    assert not draft.documents.exists()
    assert stored_files(uploads) == []
    event = AuditEvent.objects.filter(action="hall.document.upload", result="refused").get()
    assert event.after["error"] == code


INTACT: dict[str, Callable[[], bytes]] = {
    "jpeg": photo,
    "jpeg-with-thumbnail": lambda: with_thumbnail(photo()),
    "jpeg-motion-photo": lambda: photo() + b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000,
    "jpeg-progressive": lambda: save(Image.effect_noise((800, 600), 40), "JPEG", progressive=True),
    "jpeg-cmyk": lambda: save(Image.effect_noise((400, 300), 40).convert("CMYK"), "JPEG"),
    "jpeg-with-comment-and-app15": lambda: with_segment(with_segment(photo(), 0xFE), 0xEF),
    # 12-07, later: decoded by libjpeg-turbo with its warnings as errors, all still accepted
    "jpeg-grey": grey,
    "jpeg-progressive-photo": progressive,
    "jpeg-4-4-4": lambda: save(
        Image.effect_noise((800, 600), 40).convert("RGB"), "JPEG", subsampling=0
    ),
    "jpeg-optimised": lambda: save(
        Image.effect_noise((800, 600), 40).convert("RGB"), "JPEG", optimize=True
    ),
    "jpeg-restart-markers": lambda: save(
        Image.effect_noise((800, 600), 40).convert("RGB"), "JPEG", restart_marker_blocks=8
    ),
    "png": lambda: png(600, 400),
    "png-private-ancillary-chunk": lambda: with_chunk(png(600, 400), b"prVt"),
    "png-of-noise": scan_png,
    "png-palette": lambda: save(Image.effect_noise((400, 300), 40).convert("P"), "PNG"),
    "png-16-bit": lambda: save(Image.effect_noise((400, 300), 40).convert("I;16"), "PNG"),
    "png-40-megapixels": lambda: bomb_png(6400, 6250),  # the bound, decoded in the child
    "png-data-in-many-idats": lambda: in_idats(png(600, 400), 3),
    "pdf-a4": pdf,
    "pdf-a3-landscape": lambda: pdf(1, 1191, 842),
    "pdf-20-pages": lambda: pdf(20),
    "pdf-500-mm": lambda: pdf(1, 1417, 1417),  # 499.9 mm
    "pdf-incremental-update": lambda: pdf() + b"\n% appended\n" + pdf()[-40:],
}


@pytest.mark.parametrize("make", INTACT.values(), ids=INTACT.keys())
def test_the_intact_file_is_accepted(
    applicant: User, handler: Handler, uploads: Path, make: Callable[[], bytes]
) -> None:
    draft = draft_without_documents(applicant, handler)
    with at(FRIDAY):
        document = upload(applicant, draft.number, "licence_copy", make(), name="licence")
    assert document.content_type in ("image/jpeg", "image/png", "application/pdf")
    assert len(stored_files(uploads)) == 1


def test_the_page_bound_names_the_page_and_its_size(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf())))
    writer.add_blank_page(1191, 1684)  # A2
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(InvalidInput) as refused:
        storage.store([out.getvalue()], base=tmp_path, pdf=storage.SCAN_PDF)
    assert refused.value.message == (
        "PDF文件第 2 页为 421 × 595 毫米，超过限制（每边不超过 500 毫米，A3纸为 297 × 420 毫米），"
        "请按A4或A3纸张扫描后重新上传。"
    )
    assert stored_files(tmp_path) == []


def test_a_pdf_that_would_keep_the_parser_busy_is_refused_in_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pypdf reads and checks every object in Python, and repairs a damaged file object by
    object: 34,000 pages with their startxref pointing nowhere, or 5 MB of digits, kept it
    busy for tens of seconds. Many objects are refused before it opens the file; whatever
    else keeps it busy is stopped by its child process's CPU time (12-07): 1 s here, the
    digits took pypdf 3 s of CPU on an idle machine."""
    monkeypatch.setattr(checking, "SECONDS", 1)
    many = pdf(3000)
    nowhere = many[: many.rindex(b"startxref")] + b"startxref\n12345\n%%EOF\n"
    digits = b"%PDF-1.7\n" + b"1" * 5_000_000 + b"\nstartxref\n9\n%%EOF\n"
    for content, most in ((many, 1.0), (nowhere, 1.0), (digits, 5.0)):
        started = time.perf_counter()
        with pytest.raises(InvalidInput) as refused:
            storage.store([content], base=tmp_path, pdf=storage.SCAN_PDF)
        assert refused.value.code == "pdf_too_complex"
        assert refused.value.message == (
            "PDF文件结构过于复杂，无法作为扫描件读取，请重新扫描或导出PDF后再上传。"
        )
        assert time.perf_counter() - started < most
    assert stored_files(tmp_path) == []


def test_counting_a_pdfs_objects_costs_the_child_not_the_web_worker(tmp_path: Path) -> None:
    """The objects were counted in the web worker before the child started: a 5 MiB upload of
    ``/Size 3000`` repeated is half a million matches read in Python, 0.6 s of the worker's CPU
    (2.5 s for the portal's 20 MiB), every other request of the process waiting on the
    interpreter (a probe of 12-07). Now the child counts them, under its CPU time; the worker's
    own CPU (the child's is not this process's) is what writing and hashing the file cost."""
    content = b"%PDF-1.7\n" + b"/Size 3000" * (storage.MAX_BYTES // 11) + b"\nstartxref\n9\n%%EOF\n"
    started = time.process_time()
    with pytest.raises(InvalidInput) as refused:
        storage.store([content], base=tmp_path, pdf=storage.SCAN_PDF)
    assert time.process_time() - started < 0.2
    assert refused.value.code == "pdf_too_complex"
    assert stored_files(tmp_path) == []


def test_the_checking_child_imports_nothing_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m`` puts the working directory first on the child's path: a ``json.py`` in
    the directory the server was started from was imported in place of the stdlib's, so every
    image was refused as damaged (or that file ran in every check). A probe of 12-07."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    (folder / "json.py").write_text('raise SystemExit("the working directory\'s json")\n')
    monkeypatch.chdir(folder)
    checking.stop()  # the next check starts a zygote from this directory
    blob = storage.store([png(600, 400)], base=tmp_path / "store", pdf=storage.SCAN_PDF)
    assert blob.content_type == "image/png"
    assert storage.store([pdf()], base=tmp_path / "store", pdf=storage.SCAN_PDF).size > 0


def test_a_child_kept_waiting_by_a_busy_machine_does_not_blame_the_file(
    applicant: User,
    handler: Handler,
    uploads: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A child that did not answer in time was the file's fault, whatever kept it: a whole
    photo was refused as damaged (图片文件已损坏) when the machine was too busy to run its
    check (a probe of 12-07). Here the child is given a pipe nobody writes to for its file: it
    waits in ``open``, no CPU used, as a starved one does; the photo is refused as the server's
    being busy, not stored, and the refusal audited. A child that used its CPU time stays the
    file's refusal (above)."""
    storage.store([png(600, 400)], base=tmp_path / "warm")  # a zygote started, in its own time
    monkeypatch.setattr(checking, "SECONDS", 1)
    monkeypatch.setattr(storage, "WAIT_FACTOR", 0.5)
    never_written = tmp_path / "never-written"
    os.mkfifo(never_written)
    starved: list[int] = []
    ask = checking._ask

    def starve(request: dict[str, Any], fds: list[int], timeout: float) -> Any:
        if "check" in request:
            request = {**request, "path": str(never_written)}
        reply = ask(request, fds, timeout)
        starved.extend([reply["pid"]] if "pid" in reply else [])
        return reply

    draft = draft_without_documents(applicant, handler)
    monkeypatch.setattr(checking, "_ask", starve)
    with at(FRIDAY), pytest.raises(TooManyRequests) as refused:
        upload(applicant, draft.number, "licence_copy", photo(), name="licence")
    assert starved
    assert refused.value.code == "rate_limited" and refused.value.http_status == 429
    assert refused.value.message == (
        "服务器正忙，未能及时检查上传的文件（不是文件的问题），文件未保存，请 60 秒后重新上传。"
    )
    assert not draft.documents.exists() and stored_files(uploads) == []
    event = AuditEvent.objects.filter(action="hall.document.upload", result="refused").get()
    assert event.after["error"] == "rate_limited"


def test_a_stopped_zygote_is_the_machine_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zygote that forks the checking children does not answer (stopped, starved): the
    upload is upload_busy after the wait, not a refusal of the file nor a wait for ever; the
    zygote is replaced and the next upload checked."""
    storage.store([png(600, 400)], base=tmp_path / "store")  # a zygote running
    monkeypatch.setattr(checking, "SECONDS", 1)
    monkeypatch.setattr(storage, "WAIT_FACTOR", 0.5)
    zygote = checking._zygote
    assert zygote is not None
    os.kill(zygote.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(TooManyRequests) as refused:
        storage.store([png(601, 400)], base=tmp_path / "store")
    assert 0.4 < time.monotonic() - started < 3
    assert refused.value.message.startswith("服务器正忙")
    assert zygote.process.poll() is not None and checking._zygote is not zygote
    monkeypatch.setattr(storage, "WAIT_FACTOR", 4)
    assert storage.store([png(601, 400)], base=tmp_path / "store").content_type == "image/png"


def test_the_checking_children_run_a_few_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server process's threads each started a child for their upload: 16 at once (2
    workers x 8 threads) of 2 s of CPU and 1 GiB each, on 2 cores (a probe of 12-07). At most
    ``CHILDREN_AT_ONCE`` run at once; an upload that finds no place in time is upload_busy,
    nothing kept; a check gives its place back."""
    monkeypatch.setattr(checking, "SECONDS", 1)
    monkeypatch.setattr(storage, "WAIT_FACTOR", 0.5)
    places = threading.BoundedSemaphore(storage.CHILDREN_AT_ONCE)
    monkeypatch.setattr(storage, "_children", places)
    for _ in range(storage.CHILDREN_AT_ONCE):  # every place taken by uploads being checked
        assert places.acquire(blocking=False)
    started = time.monotonic()
    with pytest.raises(TooManyRequests) as refused:
        storage.store([png(600, 400)], base=tmp_path / "store", pdf=storage.SCAN_PDF)
    assert 0.4 < time.monotonic() - started < 3
    assert refused.value.message.startswith("服务器正忙") and stored_files(tmp_path) == []
    places.release()  # one check ends: the next upload takes its place, and gives it back
    monkeypatch.setattr(storage, "WAIT_FACTOR", 4)  # its child's own wait, as served
    assert storage.store([png(600, 400)], base=tmp_path / "store").content_type == "image/png"
    assert places.acquire(blocking=False) and not places.acquire(blocking=False)


def test_each_way_in_has_its_own_pdf_bounds(tmp_path: Path) -> None:
    """Only the hall's documents are scans: a portal's manual of 60 pages is refused by the
    scan's bounds and published within the portal's (``portal.files.PUBLISHED_PDF``)."""
    with pytest.raises(InvalidInput) as refused:
        storage.store([pdf(60)], base=tmp_path, pdf=storage.SCAN_PDF)
    assert refused.value.code == "pdf_too_many_pages"
    blob = storage.store([pdf(60)], base=tmp_path, pdf=files.PUBLISHED_PDF)
    assert blob.content_type == "application/pdf"


def test_the_page_and_the_api_say_a_cut_photo_is_incomplete(
    applicant: User, handler: Handler, uploads: Path
) -> None:
    draft = draft_without_documents(applicant, handler)
    client = Client()
    client.force_login(applicant)
    cut = photo()[: len(photo()) // 2]
    with at(FRIDAY):
        page = client.post(
            f"/hall/applications/{draft.number}/documents/",
            {"kind": "licence_copy", "file": SimpleUploadedFile("IMG_1.jpg", cut)},
        )
        api = client.post(
            f"/api/hall/applications/{draft.number}/documents",
            {"kind": "licence_copy", "file": SimpleUploadedFile("IMG_1.jpg", cut)},
        )
    assert page.status_code == 400
    assert INCOMPLETE_WORDS in page.content.decode()
    assert api.status_code == 400
    assert api.json() == {
        "error": "file_incomplete",
        "message": INCOMPLETE_WORDS,
        "fields": ["file"],
    }
    assert not draft.documents.exists() and stored_files(uploads) == []


def test_an_id_photo_cut_and_closed_is_refused_on_the_handlers_phone(
    applicant: User, handler: Handler, uploads: Path
) -> None:
    """A handler's photo of the ID card that a broken program cut and closed with an end of
    image: libjpeg decodes it with the lower half grey and only warns, Pillow accepted it, and
    the real-name check's reviewer got half a card (12-07, later). Refused as damaged, in
    Chinese, on the phone's page; nothing stored; the whole photo then accepted."""
    cut = photo()[: len(photo()) // 2] + b"\xff\xd9"
    with at(FRIDAY):
        draft = draft_without_documents(applicant, handler, identity_check=False)
        check = identity.start(applicant, draft.number)
        phone = Client()
        url = reverse("hall-identity:phone", args=[check.token])
        refused = phone.post(url, {"side": "front", "file": SimpleUploadedFile("IMG_3.jpg", cut)})
        assert type(check).objects.get(pk=check.pk).front_sha256 == ""
        assert stored_files(uploads) == []
        accepted = phone.post(
            url, {"side": "front", "file": SimpleUploadedFile("IMG_3.jpg", photo())}
        )
    assert refused.status_code == 400
    assert (
        "图片文件已损坏，图像内容无法显示，请重新拍照或导出后再上传。" in refused.content.decode()
    )
    assert accepted.status_code == 303 and len(stored_files(uploads)) == 1


def test_a_child_that_ends_as_the_wait_runs_out_gives_its_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait for a child ran out just as it ended: killing it must not lose the answer it
    wrote, nor fail on a child already gone (a ChildProcessError was an upload's 500, seen on
    a loaded machine, 12-07, later). Here the wait runs out once the child has answered; its
    answer is taken, the photo stored."""
    read_until = checking._read_until
    ran_out: list[bool] = []

    def after_the_answer(fd: int, deadline: float | None) -> bytes | None:
        if deadline is not None and not ran_out:
            ran_out.append(True)
            select.select([fd], [], [])  # the child has written
            time.sleep(0.2)  # and ended
            return None
        return read_until(fd, deadline)

    monkeypatch.setattr(checking, "_read_until", after_the_answer)
    blob = storage.store([photo()], base=tmp_path)
    assert ran_out and blob.content_type == "image/jpeg"
    assert stored_files(tmp_path) == [storage.path_of(blob.sha256, tmp_path)]
