"""Web pages of the hall: the applicant's pages and the staff consoles (review, counter, issuer).
The JSON API over the same services is ``certhall.hall.api`` under ``/api/hall/``."""

from django.urls import include, path

urlpatterns = [
    path("hall/identity/", include("certhall.hall.web.identity_urls")),
    path("hall/", include("certhall.hall.web.applicant_urls")),
    path("console/", include("certhall.hall.web.staff_urls")),
]
