"""审计日志: the auditors' pages under /console/audit/."""

from django.urls import URLPattern, path

from certhall.audit import views

app_name = "audit"

urlpatterns: list[URLPattern] = [
    path("", views.log_page, name="log"),
    path("<int:seq>/", views.event_page, name="event"),
    path("verify", views.verify, name="verify"),
    path("export.csv", views.export_csv, name="export"),
]
