"""办事指南 pages: thin views over :mod:`certhall.portal.guide` (the rules catalog)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from certhall.portal import guide
from certhall.rules import default_catalog


@require_safe
def guide_index(request: HttpRequest) -> HttpResponse:
    guides = guide.all_guides()
    context = {"guides": guides, "section": "guide", "introduction": guide.INTRODUCTION}
    return render(request, "portal/guide_index.html", context)


@require_safe
def guide_detail(request: HttpRequest, business: str) -> HttpResponse:
    page = guide.business_guide(business)
    others = [g for g in guide.all_guides() if g.key != page.key]
    return render(
        request, "portal/guide_detail.html", {"g": page, "others": others, "section": "guide"}
    )


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
