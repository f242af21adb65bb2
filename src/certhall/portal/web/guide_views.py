"""办事指南 pages: thin views over :mod:`certhall.portal.guide` (the rules catalog)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from certhall.portal import guide


@require_safe
def guide_index(request: HttpRequest) -> HttpResponse:
    guides = guide.all_guides()
    return render(request, "portal/guide_index.html", {"guides": guides, "section": "guide"})


@require_safe
def guide_detail(request: HttpRequest, business: str) -> HttpResponse:
    page = guide.business_guide(business)
    others = [g for g in guide.all_guides() if g.key != page.key]
    return render(
        request, "portal/guide_detail.html", {"g": page, "others": others, "section": "guide"}
    )
