"""办事指南 pages: thin views over :mod:`certhall.portal.guide` (the rules catalog)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from certhall.errors import about
from certhall.pki.serials import parse_serial
from certhall.portal import guide
from certhall.rules import default_catalog
from certhall.web.errors import text_field


@require_safe
def guide_index(request: HttpRequest) -> HttpResponse:
    guides = guide.all_guides()
    context = {"guides": guides, "section": "guide", "introduction": guide.INTRODUCTION}
    return render(request, "portal/guide_index.html", context)


@require_safe
def guide_detail(request: HttpRequest, business: str) -> HttpResponse:
    """A business's guide; ``?serial=…&type=…`` (我的证书's card of a business done at a
    counter) names the certificate it is for and which type's section to read (docs/hall.md,
    "我的证书: every business from its card"). Nothing is looked up: the page is public, and
    the serial is only said back, refused when it is none (``parse_serial``)."""
    page = guide.business_guide(business)
    others = [g for g in guide.all_guides() if g.key != page.key]
    serial = text_field(request.GET, "serial", 80, what="证书序列号")
    if serial:
        with about("serial"):
            serial = parse_serial(serial)
    kind = request.GET.get("type", "")
    chosen = next((o for o in page.offers if o.cert == kind), None) if serial else None
    context = {"g": page, "others": others, "section": "guide", "serial": serial, "chosen": chosen}
    return render(request, "portal/guide_detail.html", context)


@require_safe
def contact(request: HttpRequest) -> HttpResponse:
    """联系我们: where every 联系客服 of the platform leads. The service points and, only when
    the operator's catalog names one, the service line (docs/portal.md)."""
    catalog = default_catalog()
    contact = catalog.contact
    context = {
        "points": guide.points(),
        "weekend_rule": catalog.weekend_rule.text,
        "contact": contact,
        "intro": guide.contact_intro(contact),
        "online": guide.CONTACT_ONLINE,
    }
    return render(request, "portal/contact.html", context)
