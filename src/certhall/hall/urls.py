"""Web pages of the hall (the applicant's pages and the review, counter and issuer consoles)
come with the pages; the JSON API is ``certhall.hall.api`` under ``/api/hall/``."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
