"""The business rules of the seeds as data + pure functions. No Django.

* ``catalog.json``  the rules as versioned data: certificate types, the six businesses with fee,
                    documents and channels per certificate type, service points and hours, the
                    weekend rule, processing times, the online renewal window, the payee,
                    the postage of a mailed Ukey
* ``catalog``       the frozen dataclasses and enums (``Business``, ``CertType``, ``Channel``)
* ``loader``        validates ``catalog.json`` at load (``default_catalog()``, ``load_catalog``)
* ``workdays``      the Chinese statutory working-day calendar (``add_working_days``)
* ``hours``         whether a service point is open at a moment (Asia/Shanghai)
* ``quote``         ``quote()`` and ``enforce()``: the one place every channel asks

docs/rules.md lists every rule with its source and every decision where the seed is silent.
"""

from certhall.rules.catalog import Business, Catalog, CertType, Channel, ServicePoint
from certhall.rules.hours import SHANGHAI, PointStatus, is_open, local, point_status
from certhall.rules.loader import default_catalog, load_catalog, parse_catalog
from certhall.rules.quote import Processing, Quote, QuoteRefused, Refusal, enforce, quote
from certhall.rules.workdays import (
    CalendarUnknown,
    DayKind,
    add_working_days,
    day_kind,
    holiday_name,
    is_working_day,
    known_years,
    skipped_days,
)

__all__ = [
    "SHANGHAI",
    "Business",
    "CalendarUnknown",
    "Catalog",
    "CertType",
    "Channel",
    "DayKind",
    "PointStatus",
    "Processing",
    "Quote",
    "QuoteRefused",
    "Refusal",
    "ServicePoint",
    "add_working_days",
    "day_kind",
    "default_catalog",
    "enforce",
    "holiday_name",
    "is_open",
    "is_working_day",
    "known_years",
    "load_catalog",
    "local",
    "parse_catalog",
    "point_status",
    "quote",
    "skipped_days",
]
