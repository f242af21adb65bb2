"""网上营业厅 pages (/hall/), the documents step: an upload refused on the page (its file, its
type), and returned documents replaced and resubmitted (the rest of the hall's pages:
test_applicant_pages.py). The pages call the same services as the JSON API; these tests
check what a person sees and that nothing changes where it must not (another enterprise and
CSRF: test_applicant_access.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from certhall.accounts.models import Handler, User
from certhall.hall import documents, review, storage
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.web.errors import attempt
from tests.hall.conftest import (
    EXE,
    FRIDAY,
    JPEG,
    at,
    online_draft,
    pay_online,
)
from tests.hall.web.conftest import draft_without_documents, file, text
from tests.support.refused import marked

pytestmark = pytest.mark.django_db


def _row_refusal(page: str, kind: str) -> str:
    """The words of the refusal shown in the row of ``kind`` (the page's only ``#form-error``)."""
    start = page.index(f'<tr data-kind="{kind}">')
    row = page[start : page.index("</tr>", start)]
    assert page.count('id="form-error"') == 1 and 'id="form-error"' in row, row
    return row


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"%PDF-" + b"0" * storage.MAX_BYTES, "文件超过 5 MB 的大小限制"),
        (EXE, "PDF"),
        (b"", "空"),
    ],
    ids=["oversized", "exe-named-pdf", "empty"],
)
def test_bad_upload_is_explained_on_the_page(
    client_a: Client, applicant: User, handler: Handler, content: bytes, words: str
) -> None:
    draft = draft_without_documents(client_a, applicant, handler)
    with at(FRIDAY):
        response = client_a.post(
            f"/hall/applications/{draft.number}/documents/",
            {"kind": "licence_copy", "file": file(content, "licence.pdf")},
        )
    assert response.status_code == 400
    assert words in _row_refusal(text(response), "licence_copy")
    assert marked(text(response)) == ["file"]  # that row's file (web.refused), no other row's
    assert not draft.documents.exists()


def test_upload_without_a_file(client_a: Client, applicant: User, handler: Handler) -> None:
    draft = draft_without_documents(client_a, applicant, handler)
    response = client_a.post(
        f"/hall/applications/{draft.number}/documents/", {"kind": "licence_copy"}
    )
    assert response.status_code == 400
    assert "请选择要上传的文件" in _row_refusal(text(response), "licence_copy")
    assert marked(text(response)) == ["file"]


@pytest.mark.parametrize(
    ("kind", "words"),
    [("nonsense", "未知的资料类型"), ("ukey", "Ukey须带到受理点"), ("资" * 33, "资料类型不能超过")],
    ids=["unknown", "ukey", "too-long"],
)
def test_a_document_type_refused_names_it(
    client_a: Client, applicant: User, handler: Handler, kind: str, words: str
) -> None:
    """资料类型: the kind a row's form sends, hidden. One no row shows (a mangled form, the Ukey,
    one past its bound) is refused above the rows naming ``kind``, which no field shows: none is
    marked (a row's file would say the file was wrong)."""
    draft = draft_without_documents(client_a, applicant, handler)
    url = f"/hall/applications/{draft.number}/documents/"
    response = client_a.post(url, {"kind": kind, "file": file(b"%PDF-1.4", "a.pdf")})
    page = text(response)
    assert response.status_code == 400 and words in page, page
    assert page.count('id="form-error"') == 1 and page.index('id="form-error"') < page.index(
        'id="documents"'
    )
    assert marked(page) == []
    _, error = attempt(
        lambda: documents.upload(applicant, draft.number, kind, filename="a", chunks=[b"%PDF-"])
    )
    assert error is not None and error.fields == ("kind",)  # the API's field too
    assert not draft.documents.exists()


def test_returned_documents_are_replaced_and_resubmitted(
    client_a: Client, applicant: User, handler: Handler, reviewer: User
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        client_a.post(f"/hall/applications/{draft.number}/confirm/")
        pay_online(draft.number, applicant)
        licence = draft.documents.get(kind="licence_copy")
        review.return_application(
            reviewer, draft.number, reasons={licence.pk: "营业执照复印件未加盖公章"}
        )
        detail = text(client_a.get(f"/hall/applications/{draft.number}/"))
        assert "单位新版营业执照复印件一份：营业执照复印件未加盖公章" in detail
        early = client_a.post(f"/hall/applications/{draft.number}/resubmit/", follow=True)
        assert "须重新提交：单位新版营业执照复印件一份" in text(early)
        client_a.post(
            f"/hall/applications/{draft.number}/documents/",
            {"kind": "licence_copy", "file": file(JPEG + b"stamped", "licence.jpg")},
        )
        response = client_a.post(f"/hall/applications/{draft.number}/resubmit/")
    assert response.status_code == 303
    assert Application.objects.get(pk=draft.pk).state == State.RESUBMITTED
