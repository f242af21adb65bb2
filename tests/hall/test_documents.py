"""Uploads: type sniffed from the content, size-limited, content-addressed outside the web
root; the counter checklist."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from certhall.accounts.models import Handler, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound
from certhall.hall import counter, documents, services, storage
from certhall.hall.models import Document
from tests.hall.conftest import EXE, FRIDAY, JPEG, PDF, PNG, at, online_draft, upload

pytestmark = pytest.mark.django_db


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
def test_accepted_types_are_sniffed_and_stored_by_hash(
    applicant: User, uploads: Path, content: bytes, content_type: str
) -> None:
    import hashlib

    with at(FRIDAY):
        draft = services.create_draft(applicant)
        # the name and extension say nothing: the content decides
        document = upload(applicant, draft.number, "licence_copy", content, name="x.txt")
    digest = hashlib.sha256(content).hexdigest()
    assert (document.sha256, document.size, document.content_type) == (
        digest,
        len(content),
        content_type,
    )
    path = uploads / digest[:2] / digest
    assert path.read_bytes() == content
    assert stored_files(uploads) == [path]  # no temporary file left
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # outside the web root: neither under STATIC_ROOT nor served by a URL
    assert not str(path).startswith(str(settings.STATIC_ROOT))
    assert documents.open_document(applicant, draft.number, document.pk)[1] == content


def test_staff_reads_of_an_enterprises_copies_are_audited(
    applicant: User, reviewer: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        copy = draft.documents.get(kind="licence_copy")
        documents.open_document(applicant, draft.number, copy.pk)  # its own: not audited
        assert not AuditEvent.objects.filter(action="hall.document.read").exists()
        documents.open_document(reviewer, draft.number, copy.pk)
    event = AuditEvent.objects.get(action="hall.document.read")
    assert (event.actor_id, event.object_id) == (reviewer.pk, str(copy.pk))
    assert event.after == {"application": draft.number, "kind": "licence_copy"}


def test_an_exe_named_pdf_is_refused_and_nothing_is_stored(applicant: User, uploads: Path) -> None:
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        with pytest.raises(InvalidInput) as refused:
            upload(applicant, draft.number, "licence_copy", EXE, name="licence.pdf")
    assert refused.value.code == "file_type"
    assert "PDF、JPEG或PNG" in refused.value.message
    assert stored_files(uploads) == []
    assert not Document.objects.exists()
    event = AuditEvent.objects.filter(action="hall.document.upload").get()
    assert event.result == "refused" and event.after["error"] == "file_type"


@pytest.mark.parametrize("content", [b"", b"%PD", b"GIF89a" + b"\x00" * 10, b"<html>%PDF-"])
def test_other_content_is_refused(applicant: User, uploads: Path, content: bytes) -> None:
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        with pytest.raises(InvalidInput):
            upload(applicant, draft.number, "licence_copy", content)
    assert stored_files(uploads) == []


def test_oversized_is_refused_and_nothing_is_stored(applicant: User, uploads: Path) -> None:
    chunk = b"\x00" * (1024 * 1024)
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        with pytest.raises(InvalidInput) as refused:
            documents.upload(
                applicant,
                draft.number,
                "licence_copy",
                filename="big.pdf",
                chunks=[b"%PDF-1.7\n", *([chunk] * 5)],
            )
    assert refused.value.code == "file_too_big"
    assert "5 MB" in refused.value.message
    assert stored_files(uploads) == []
    assert not Document.objects.exists()
    # exactly at the limit is accepted
    blob = storage.store([b"%PDF-", b"\x00" * (storage.MAX_BYTES - 5)])
    assert blob.size == storage.MAX_BYTES


def test_same_content_is_stored_once(applicant: User, uploads: Path) -> None:
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        first = upload(applicant, draft.number, "licence_copy", PDF)
        second = upload(applicant, draft.number, "legal_rep_id_copy", PDF)
        third = upload(applicant, draft.number, "licence_copy", PDF)  # again: replaces first
    assert first.sha256 == second.sha256 == third.sha256
    assert len(stored_files(uploads)) == 1
    first.refresh_from_db()
    assert first.superseded and not third.superseded
    assert set(documents.current(draft)) == {"licence_copy", "legal_rep_id_copy"}


@given(st.binary(max_size=64))
def test_sniff_accepts_exactly_the_three_signatures(head: bytes) -> None:
    kind = storage.sniff(head)
    expected = (
        "application/pdf"
        if head.startswith(b"%PDF-")
        else "image/jpeg"
        if head.startswith(b"\xff\xd8\xff")
        else "image/png"
        if head.startswith(b"\x89PNG\r\n\x1a\n")
        else None
    )
    assert kind == expected


def test_the_ukey_is_not_uploaded_and_kinds_are_known(applicant: User) -> None:
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        for kind in ("ukey", "passport_photo", "../../etc/passwd"):
            with pytest.raises(InvalidInput):
                upload(applicant, draft.number, kind, PDF)


def test_uploads_only_while_editable_and_only_by_the_owner(
    applicant: User, stranger: User, handler: Handler, clerk: User, uploads: Path
) -> None:
    from tests.hall.conftest import online_draft

    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        before = len(stored_files(uploads))
        with pytest.raises(NotFound):  # another enterprise's: as if there were none
            upload(stranger, draft.number, "licence_copy", PNG + b"x")
        with pytest.raises(Forbidden):
            upload(clerk, draft.number, "licence_copy", PNG + b"x")  # online: the applicant's
        services.submit(applicant, draft.number)
        with pytest.raises(Conflict):
            upload(applicant, draft.number, "licence_copy", PNG + b"y")
    assert len(stored_files(uploads)) == before


def test_counter_checklist(clerk: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = counter.open_application(
            clerk,
            point="kejiyuan",
            customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )
        from certhall.hall.items import ItemRequest

        services.add_item(clerk, draft.number, ItemRequest(business="new", cert_type="org"))
        lines = list(draft.items.all())
        assert documents.required(draft, lines) == [
            "org_form",
            "licence_copy",
            "legal_rep_id_copy",
            "handler_id_copy",
        ]
        for kind in documents.required(draft, lines):
            documents.check_at_counter(clerk, draft.number, kind)
        # 注2: the licence and the handler's ID need their originals seen
        assert documents.missing(draft, lines) == [
            "须核验原件：单位新版营业执照复印件一份",
            "须核验原件：经办人有效身份证复印件一份(正反两面复印在同一张A4纸)",
        ]
        documents.check_at_counter(clerk, draft.number, "licence_copy", original_seen=True)
        documents.check_at_counter(clerk, draft.number, "handler_id_copy", original_seen=True)
        assert documents.missing(draft, lines) == []
        paper = Document.objects.get(application=draft, kind="licence_copy")
        assert (paper.medium, paper.original_seen, paper.original_seen_by) == (
            "paper",
            True,
            clerk,
        )
        with pytest.raises(InvalidInput):
            documents.check_at_counter(clerk, draft.number, "handler_id_front")
        submitted = services.submit(clerk, draft.number)
    assert submitted.state == "awaiting_payment" and submitted.total == 300
