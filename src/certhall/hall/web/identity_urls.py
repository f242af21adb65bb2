"""经办人实名核验 pages reached without a login: the phone (by the QR code's token), the liveness
sandbox, and the provider's notify URL (``hall.web.identity_views``)."""

from django.urls import URLPattern, path

from certhall.hall.web import identity_views as views

app_name = "hall-identity"
urlpatterns: list[URLPattern] = [
    path("m/<str:token>/", views.phone, name="phone"),
    path("sandbox/<str:token>/", views.sandbox, name="sandbox"),
    path("notify/<slug:provider>", views.notify, name="notify"),
]
