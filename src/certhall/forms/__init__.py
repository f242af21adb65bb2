"""The printed forms of seed 001 as PDF (reportlab, embedded CJK TrueType font). No Django.

::

    from certhall.forms import FormData, Applicant, Handler, Holder, CertificateRequest
    from certhall.forms import render_forms_for

    pdfs = render_forms_for(data)      # {"unit_application": b"%PDF...", ...}
    blank = render_blank_forms()       # the same three forms, every field empty

See docs/forms.md for the fields, the layout and the decisions.
"""

from certhall.forms.data import (
    Applicant,
    CertificateRequest,
    FormData,
    Handler,
    Holder,
    blank_form_data,
)
from certhall.forms.render import (
    FORM_FILES,
    render_blank_forms,
    render_forms_for,
    render_org_application,
    render_personal_annex,
    render_unit_application,
)

__all__ = [
    "FORM_FILES",
    "Applicant",
    "CertificateRequest",
    "FormData",
    "Handler",
    "Holder",
    "blank_form_data",
    "render_blank_forms",
    "render_forms_for",
    "render_org_application",
    "render_personal_annex",
    "render_unit_application",
]
