"""下载: the files the portal offers, each with its version, size and sha256.

Two sources, one table:

* **built by the platform** (``build``, run by ``certhall setup`` and
  ``certhall portal build-downloads``): the three application forms blank (every field empty,
  every box unchecked: ``certhall.forms.render_blank_forms``) and as filled-in specimens
  (填写样例, rendered by ``certhall.forms`` from sample data), and the certificate helper
  (:mod:`certhall.portal.helper`). A rebuild replaces the row of the same ``build_key``;
* **uploaded by staff** (manuals ...): PDF, DOCX, XLSX or ZIP by content, at most 20 MB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import QuerySet

from certhall import clock, config
from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.errors import InvalidInput, NotFound
from certhall.forms import FORM_FILES, render_blank_forms, render_forms_for
from certhall.forms.data import Applicant, CertificateRequest, FormData, Handler, Holder
from certhall.pki import identity
from certhall.portal import files, helper, search
from certhall.portal.access import require_editor
from certhall.portal.models import Download, DownloadKind
from certhall.rules import Business, CertType, default_catalog

UPLOAD_MAX = 20 * 1024 * 1024
#: A download's 说明, as long as a notice's 摘要 (it was unbounded: a page of the list each).
DESCRIPTION_MAX = 1000

FORM_TITLES = {
    "unit_application": ("《单位数字证书申请表》填写样例", "机构证书（ODC证书）各项业务使用。"),
    "org_application": ("《机构数字证书申请表》填写样例", "机构个人证书（法人证书）各项业务使用。"),
    "personal_annex": ("《机构个人数字证书附页》填写样例", "机构个人证书每位持证人一栏。"),
}


#: The blank forms: the form's own name as title (listed before its specimen).
BLANK_TITLES = {
    "unit_application": ("《单位数字证书申请表》", "机构证书（ODC证书）各项业务使用。"),
    "org_application": ("《机构数字证书申请表》", "机构个人证书（法人证书）各项业务使用。"),
    "personal_annex": ("《机构个人数字证书附页》", "机构个人证书每位持证人一栏。"),
}
BLANK_NOTE = "空白表：各项留空，打印后用黑色签字笔填写，随附资料由受理人核对。"


def blank_file_name(key: str) -> str:
    return FORM_FILES[key].replace(".pdf", "（空白表）.pdf")


def _specimen() -> FormData:
    catalog = default_catalog()
    org = catalog.offer(Business.NEW, CertType.ORG).fee_for(1)
    personal = catalog.offer(Business.NEW, CertType.PERSONAL).fee_for(1)
    return FormData(
        form_number="YANGLI-0001",
        application_date=date(2026, 1, 5),
        applicant=Applicant(
            name="深圳市示例医疗器械有限公司",
            uscc="91350100M000100Y43",
            legal_representative="张三",
            address="深圳市南山区科技园示例路1号",
            phone="0755-00000000",
        ),
        handler=Handler(
            name="李四", id_kind="resident_id", id_number="44030519900101123X", phone="13800138000"
        ),
        requests=(
            CertificateRequest(
                cert_type=CertType.ORG, business=Business.NEW, years=1, fee_yuan=org
            ),
            CertificateRequest(
                cert_type=CertType.PERSONAL,
                business=Business.NEW,
                years=1,
                holder=Holder(
                    name="张三",
                    id_kind="resident_id",
                    id_number="11010519491231002X",
                    title="法定代表人",
                ),
                fee_yuan=personal,
            ),
        ),
    )


#: The helper's title on 下载: a customer's words (it was "证书助手（certhall agent）", the
#: command's English name on a phone's download page), saying where it runs.
HELPER_TITLE = "证书助手（电脑端）"


def build(actor: User) -> list[Download]:
    """(Re)build the platform's own downloads; the rows built."""
    require_editor(actor)
    built: list[Download] = []
    catalog_version = default_catalog().version
    for key, data in render_blank_forms(invariant=True).items():
        title, use = BLANK_TITLES[key]
        built.append(
            _put_built(
                actor, f"form-blank:{key}", DownloadKind.FORM, title, catalog_version,
                f"{BLANK_NOTE}{use}", blank_file_name(key), data,
            )
        )  # fmt: skip
    forms = render_forms_for(_specimen(), invariant=True)
    for key, data in forms.items():
        title, description = FORM_TITLES[key]
        built.append(
            _put_built(
                actor, f"form:{key}", DownloadKind.FORM, title, catalog_version, description,
                FORM_FILES[key], data,
            )
        )  # fmt: skip
    helper_bytes = helper.build(config.get().base_url)
    built.append(
        _put_built(
            actor, "helper", DownloadKind.HELPER, HELPER_TITLE, helper.version(),
            "\n".join(helper.INSTRUCTIONS), helper.FILE_NAME, helper_bytes,
        )
    )  # fmt: skip
    return built


def _put_built(
    actor: User,
    key: str,
    kind: str,
    title: str,
    version: str,
    description: str,
    name: str,
    data: bytes,
) -> Download:
    blob = files.store([data], accept=files.BUILT_TYPES, limit=len(data) + 1)
    with transaction.atomic():
        row = Download.objects.select_for_update().filter(build_key=key).first()
        if row is not None and row.sha256 == blob.sha256 and row.version == version:
            return row
        fields = {
            "kind": kind,
            "title": title,
            "version": version,
            "description": description,
            "name": name,
            "sha256": blob.sha256,
            "size": blob.size,
            "content_type": blob.content_type,
            "uploaded_by": actor,
            "created_at": clock.now(),
        }
        row, _ = Download.objects.update_or_create(build_key=key, defaults=fields)
        if row.published:
            search.put(download_document(row))
        audit.record(
            actor,
            "portal.download.build",
            object_type="download",
            object_id=key,
            after={"sha256": blob.sha256, "size": blob.size, "version": version},
        )
    return row


def upload(
    actor: User,
    *,
    kind: str,
    title: str,
    version: str,
    description: str,
    name: str,
    chunks: Iterable[bytes],
) -> Download:
    """Publish an editor's file (type by content, size-limited, a broken file or a PDF out of
    ``files.PUBLISHED_PDF`` refused: ``files.store``); a refusal stores nothing and is audited
    (``portal.download.upload``, the file's name and the title)."""
    refused = audit.Refused(after={"name": name[:200], "title": title[:200]})
    with audit.refusals_recorded(
        actor, "portal.download.upload", object_type="download", refused=refused
    ):
        return _upload(actor, kind, title, version, description, name, chunks)


def _upload(
    actor: User,
    kind: str,
    title: str,
    version: str,
    description: str,
    name: str,
    chunks: Iterable[bytes],
) -> Download:
    require_editor(actor)
    if kind not in DownloadKind.values:
        raise InvalidInput(code="download_kind", value=kind)
    title = " ".join(title.split())
    version = version.strip() or "1"
    if not title:
        raise InvalidInput(code="notice_field_missing", what="名称")
    identity.visible_text(title, 200, "名称")
    identity.visible_text(version, 40, "版本")
    identity.visible_text(description, DESCRIPTION_MAX, "说明", lines=True)
    blob = files.store(chunks, accept=files.OFFICE_TYPES, limit=UPLOAD_MAX)
    with transaction.atomic():
        row = Download.objects.create(
            kind=kind,
            title=title,
            version=version,
            description=description.strip(),
            name=files.safe_name(name, blob.content_type),
            sha256=blob.sha256,
            size=blob.size,
            content_type=blob.content_type,
            uploaded_by=actor,
            created_at=clock.now(),
        )
        search.put(download_document(row))
        audit.record(
            actor,
            "portal.download.upload",
            object_type="download",
            object_id=row.pk,
            after={
                "title": title,
                "sha256": blob.sha256,
                "size": blob.size,
                "type": row.content_type,
            },
        )
    return row


def withdraw(actor: User, download: Download) -> None:
    require_editor(actor)
    with transaction.atomic():
        Download.objects.filter(pk=download.pk).update(published=False)
        search.remove("download", str(download.pk))
        audit.record(
            actor, "portal.download.withdraw", object_type="download", object_id=download.pk
        )


def download_document(row: Download) -> search.Document:
    """A download as the search finds it (12-07: 申请表, 空白表, 证书助手 or 驱动 found guides
    naming the forms, never 下载 where they are): its title, what it is, its 说明 (the
    helper's is its steps, ``helper.INSTRUCTIONS``), undated like the guide."""
    body = "\n".join([row.get_kind_display(), row.description, f"版本：{row.version}", row.name])
    url = f"/downloads/#download-{row.pk}"
    return search.Document("download", str(row.pk), row.title, body, url, None)


def public() -> QuerySet[Download]:
    return Download.objects.filter(published=True).order_by("kind", "title", "-created_at")


def get_public(pk: int) -> Download:
    row = public().filter(pk=pk).first()
    if row is None:
        raise NotFound(code="download_not_found")
    return row


def verify(row: Download) -> bytes:
    """The file's bytes, checked against the recorded sha256."""
    data = files.path_of(row.sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise NotFound(code="download_not_found")
    return data
