"""The staff consoles under /console/ (see ``staff_views`` and docs/hall.md "Staff consoles")."""

from django.urls import URLPattern, URLResolver, path

from certhall.hall.web import calendar_views, licence_views
from certhall.hall.web import staff_views as views

app_name = "hall-staff"

APPLICATION = "applications/<str:number>/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("counter/", views.counter_page, name="counter"),
    path("counter/open", views.counter_open, name="counter-open"),
    path(
        "counter/organizations/<int:organization_id>/licence",
        licence_views.check_licence,
        name="counter-licence",
    ),
    path("review/", views.review_queue, name="review"),
    path("issuance/", views.issuance_queue, name="issuance"),
    path("ukeys/", views.ukey_stock, name="ukeys"),
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path(APPLICATION, views.application_page, name="application"),
    path(APPLICATION + "items", views.add_item, name="add-item"),
    path(APPLICATION + "items/<int:item_id>/remove", views.remove_item, name="remove-item"),
    *(
        path(APPLICATION + action, views.application_action, {"action": action}, name=action)
        for action in views.ACTIONS
    ),
    path(APPLICATION + "documents/<int:document_id>", views.document_file, name="document"),
    path(APPLICATION + "forms/<slug:key>.pdf", views.form_pdf, name="form"),
]
