"""Configuring a programme: the government runs the refund again with new windows, or corrects
the announced one (its CAs' counters from 附件2, say).

Refund officers (the government's staff) create and edit programmes; every change is audited
with the programme before and after (``refunds.programme.create`` / ``.update``). Once a
programme has applications, what decides the amounts is locked: the business window, the
covered businesses, the participating CAs and the second-review threshold. Changing them then
would change amounts already applied for, reviewed or paid; the name, the announcement, the
application window, the hotline and the counters stay editable (extending the window is the
usual correction). A new programme can start as a copy of an existing one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from certhall import money
from certhall.accounts.models import Provider, Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import Conflict, InvalidInput
from certhall.messages import day_text
from certhall.pki import identity
from certhall.portal import notices, search
from certhall.portal.models import Notice, NoticeCategory
from certhall.refunds.models import Business, Programme, ProgrammeCA, RefundApplication
from certhall.refunds.records import get_programme, programme_summary

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,48}")
#: The first segments of /refunds/'s own pages (refunds.urls): a programme with one of these
#: slugs would have its page under /refunds/<slug>/ answered by that page instead (进度查询,
#: the console, the counter), unreachable. tests/refunds/test_programmes.py reads the routes.
RESERVED_SLUGS = frozenset({"progress", "applications", "counter", "console"})
#: Fields that decide amounts: fixed once the programme has applications.
LOCKED = ("business_from", "business_to", "businesses", "cas", "second_review_above")


@dataclass(frozen=True)
class Counter:
    name: str
    address: str
    hours: str


@dataclass(frozen=True)
class ProgrammeInput:
    """A programme as an officer enters it; ``cas`` maps a provider's slug to its counters, in
    the order the CAs are shown."""

    slug: str
    name: str
    announcement: str
    announced_on: date | None
    apply_from: date
    apply_to: date
    business_from: date
    business_to: date
    businesses: tuple[str, ...]
    hotline: str
    hotline_name: str
    second_review_above: money.Money
    cas: tuple[tuple[str, tuple[Counter, ...]], ...]
    #: The portal notice announcing it (its id), or None.
    notice: int | None = None

    def decides(self) -> dict[str, Any]:
        """The locked fields' values (of a stored programme: ``parse(as_form(p)).decides()``)."""
        return {
            "business_from": self.business_from,
            "business_to": self.business_to,
            "businesses": sorted(self.businesses),
            "cas": sorted(slug for slug, _ in self.cas),
            "second_review_above": self.second_review_above.yuan,
        }


def parse(data: Mapping[str, Any]) -> ProgrammeInput:
    """A :class:`ProgrammeInput` from form or JSON values; InvalidInput naming the field.

    ``businesses`` is a list of Business values; ``cas`` a list of provider slugs, and
    ``counters:<slug>`` each CA's counters, a line per counter: ``名称|地址|办理时间``."""
    slug = _text(data, "slug", 50)
    if not SLUG.fullmatch(slug):
        raise InvalidInput(code="refund_programme_slug", value=slug)
    businesses = tuple(dict.fromkeys(_list(data, "businesses")))
    if not businesses or not set(businesses) <= set(Business.values):
        raise InvalidInput(code="refund_programme_businesses")
    cas = tuple(dict.fromkeys(_list(data, "cas")))
    if not cas:
        raise InvalidInput(code="refund_programme_no_ca")
    form = ProgrammeInput(
        slug=slug,
        name=_required(data, "name", 200),
        announcement=_text(data, "announcement", 20_000),
        announced_on=_day(data, "announced_on") if _text(data, "announced_on", 10) else None,
        apply_from=_day(data, "apply_from"),
        apply_to=_day(data, "apply_to"),
        business_from=_day(data, "business_from"),
        business_to=_day(data, "business_to"),
        businesses=businesses,
        hotline=_required(data, "hotline", 64),
        hotline_name=_required(data, "hotline_name", 64),
        second_review_above=money.parse(
            _text(data, "second_review_above", 20) or "0", what=FIELDS["second_review_above"]
        ),
        cas=tuple((ca, _counters(ca, _text(data, f"counters:{ca}", 4000))) for ca in cas),
        notice=_notice_id(_text(data, "notice", 20)),
    )
    if form.apply_from > form.apply_to:
        raise InvalidInput(code="refund_programme_window", what="申请时间")
    if form.business_from > form.business_to:
        raise InvalidInput(code="refund_programme_window", what="业务期间")
    return form


def save_programme(actor: User, data: Mapping[str, Any], *, existing: str | None) -> Programme:
    """Create the programme ``data`` describes (``existing`` None) or update ``existing`` with
    it; ``data`` as :func:`parse` reads it. Refusals, bad input among them, are audited."""
    action = "refunds.programme." + ("update" if existing else "create")
    with audit.refusals_recorded(
        actor, action, object_type="programme", object_id=existing or str(data.get("slug"))[:50]
    ):
        require_role(actor, Role.REFUND_OFFICER)
        form = parse(data)
        providers = _providers([slug for slug, _ in form.cas])
        try:
            with transaction.atomic():
                return _save(actor, action, form, existing, providers)
        except IntegrityError:  # the slug taken at the same moment
            raise Conflict(code="refund_programme_slug_taken", slug=form.slug) from None


def _save(
    actor: User,
    action: str,
    form: ProgrammeInput,
    existing: str | None,
    providers: dict[str, Provider],
) -> Programme:
    if existing is None:
        if form.slug in RESERVED_SLUGS:
            raise InvalidInput(code="refund_programme_slug_reserved", slug=form.slug)
        if Programme.objects.filter(slug=form.slug).exists():
            raise Conflict(code="refund_programme_slug_taken", slug=form.slug)
        programme, before = Programme(), None
    else:
        programme = Programme.objects.select_for_update().get(pk=get_programme(existing).pk)
        before = programme_summary(programme)
        if form.slug != programme.slug:  # records and links name it
            raise InvalidInput(code="refund_programme_slug_fixed", slug=programme.slug)
        if has_applications(programme):
            stored = parse(as_form(programme)).decides()
            changed = [k for k, v in form.decides().items() if stored[k] != v]
            if changed:
                raise Conflict(code="refund_programme_locked", fields=_labels(changed))
    for field in (
        "slug",
        "name",
        "announcement",
        "announced_on",
        "apply_from",
        "apply_to",
        "business_from",
        "business_to",
        "hotline",
        "hotline_name",
    ):
        setattr(programme, field, getattr(form, field))
    programme.businesses = list(form.businesses)
    programme.second_review_above = form.second_review_above.yuan
    programme.notice = _notice(form.notice, programme)
    programme.save()
    programme.cas.exclude(provider__slug__in=providers).delete()
    for position, (slug, counters) in enumerate(form.cas):
        ProgrammeCA.objects.update_or_create(
            programme=programme,
            provider=providers[slug],
            defaults={
                "position": position,
                "counters": [c.__dict__ for c in counters],
            },
        )
    audit.record(
        actor,
        action,
        object_type="programme",
        object_id=programme.slug,
        before=before,
        after=programme_summary(programme),
    )
    search.put(programme_document(programme))
    return programme


def programme_document(programme: Programme) -> search.Document:
    """The programme as one search document of the portal (kind ``refund``, 费用返还): what
    its public page ``/refunds/<slug>/`` shows, with the words the page shows above them.
    Every programme is public (``/refunds/`` lists them all); dated by its announcement."""
    lines = [
        f"申请时间：{day_text(programme.apply_from)}至{day_text(programme.apply_to)}",
        f"业务期间：{day_text(programme.business_from)}至{day_text(programme.business_to)}"
        "（含首尾两日）",
        f"返还业务：{'、'.join(programme.covered_labels)}",
        f"咨询电话：{programme.hotline_name} {programme.hotline}",
    ]
    for pca in programme.cas.select_related("provider").order_by("position"):
        lines.append(f"办理点：{pca.provider.name}")
        lines += [f"{c['name']} {c['address']} {c['hours']}" for c in pca.counters]
    lines.append(programme.announcement)
    return search.Document(
        "refund",
        programme.slug,
        title=programme.name,
        body="\n".join(line for line in lines if line),
        url=f"/refunds/{programme.slug}/",
        day=programme.announced_on or programme.apply_from,
    )


def has_applications(programme: Programme) -> bool:
    return RefundApplication.objects.filter(programme=programme).exists()


def as_form(programme: Programme) -> dict[str, Any]:
    """The values of the editor's form for ``programme`` (what :func:`parse` reads back)."""
    summary = programme_summary(programme)
    values: dict[str, Any] = {
        field: getattr(programme, field) or ""
        for field in ("slug", "name", "announcement", "hotline", "hotline_name")
    }
    for field in ("announced_on", "apply_from", "apply_to", "business_from", "business_to"):
        day = getattr(programme, field)
        values[field] = day.isoformat() if day else ""
    values["businesses"] = list(programme.businesses)
    values["second_review_above"] = str(programme.second_review_above)
    values["cas"] = [ca["slug"] for ca in summary["cas"]]
    values["notice"] = str(programme.notice_id or "")
    for ca in summary["cas"]:
        values[f"counters:{ca['slug']}"] = "\n".join(
            f"{c['name']}|{c['address']}|{c['hours']}" for c in ca["counters"]
        )
    return values


#: The editor's field names, as the form labels them.
FIELDS = {
    "slug": "项目代号",
    "name": "项目名称",
    "announcement": "公告内容",
    "announced_on": "公告日期",
    "apply_from": "申请开始日期",
    "apply_to": "申请截止日期",
    "business_from": "业务期间开始日期",
    "business_to": "业务期间结束日期",
    "businesses": "返还的业务",
    "cas": "参与机构",
    "counters": "受理点",
    "hotline": "咨询电话",
    "hotline_name": "咨询热线名称",
    "second_review_above": "二次审核金额",
    "notice": "项目公告",
}


def notice_choices(programme: Programme | None) -> list[Notice]:
    """The notices the editor offers: the portal's published 费用返还 notices no other
    programme names (and the one ``programme`` names, whatever it is now), newest first."""
    others = Programme.objects.exclude(notice=None)
    offered = notices.published().filter(category=NoticeCategory.REFUND)
    if programme is not None:
        others = others.exclude(pk=programme.pk)
        offered |= Notice.objects.filter(refund_programme=programme)
    return list(offered.exclude(pk__in=others.values("notice_id")).order_by("-published_on", "-pk"))


def _notice_id(text: str) -> int | None:
    if not text:
        return None
    if not text.isdecimal() or not text.isascii():
        raise InvalidInput(code="refund_programme_notice", value=text)
    return int(text)


def _notice(pk: int | None, programme: Programme) -> Notice | None:
    """The published notice ``pk``, which no other programme names; None for None."""
    if pk is None:
        return None
    if pk == programme.notice_id:  # kept as it is (withdrawn since, say)
        return programme.notice
    notice = notices.published().filter(pk=pk).first()
    if notice is None:
        raise InvalidInput(code="refund_programme_notice", value=str(pk))
    other = Programme.objects.filter(notice=notice).exclude(pk=programme.pk).first()
    if other is not None:
        raise Conflict(code="refund_programme_notice_taken", title=notice.title, name=other.name)
    return notice


def _labels(fields: Sequence[str]) -> str:
    return "、".join(dict.fromkeys(FIELDS[f] for f in fields))


def _providers(slugs: Sequence[str]) -> dict[str, Provider]:
    found = {p.slug: p for p in Provider.objects.filter(slug__in=slugs)}
    for slug in slugs:
        if slug not in found:
            raise InvalidInput(code="refund_ca_unknown", ca=slug[:50])
    return found


def _counters(ca: str, text: str) -> tuple[Counter, ...]:
    counters = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in re.split(r"[|｜]", line)]
        if len(parts) != 3 or not all(parts) or any(len(p) > 200 for p in parts):
            name = Provider.objects.filter(slug=ca).values_list("name", flat=True).first()
            raise InvalidInput(
                code="refund_programme_counter", ca=name or ca, line=line.strip()[:60]
            )
        counters.append(Counter(*parts))
    return tuple(counters)


def _text(data: Mapping[str, Any], field: str, limit: int) -> str:
    value = data.get(field)
    text = "" if value is None else str(value).strip()
    name = field.partition(":")[0]  # counters:<slug>: 受理点
    return identity.visible_text(
        text, limit, FIELDS[name], lines=name in ("announcement", "counters")
    )


def _required(data: Mapping[str, Any], field: str, limit: int) -> str:
    text = _text(data, field, limit)
    if not text:
        raise InvalidInput(code="refund_programme_missing", field=FIELDS[field])
    return text


def _list(data: Mapping[str, Any], field: str) -> list[str]:
    getlist = getattr(data, "getlist", None)
    values = getlist(field) if getlist else data.get(field) or []
    if isinstance(values, str):
        values = [values]
    texts = [str(v).strip() for v in values]
    return [identity.visible_text(text, 50, FIELDS[field]) for text in texts if text]


def _day(data: Mapping[str, Any], field: str) -> date:
    text = _text(data, field, 10)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(code="refund_programme_date", field=FIELDS[field], value=text) from None
