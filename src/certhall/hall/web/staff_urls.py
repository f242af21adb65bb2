"""The staff consoles under /console/ (see ``staff_views`` and docs/hall.md "Staff consoles")."""

from django.urls import URLPattern, URLResolver, path

from certhall.hall.web import staff_views as views

app_name = "hall-staff"

APPLICATION = "applications/<str:number>/"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("counter/", views.counter_page, name="counter"),
    path("counter/open", views.counter_open, name="counter-open"),
    path("review/", views.review_queue, name="review"),
    path("issuance/", views.issuance_queue, name="issuance"),
    path("ukeys/", views.ukey_stock, name="ukeys"),
    path(APPLICATION, views.application_page, name="application"),
    path(APPLICATION + "items", views.add_item, name="add-item"),
    path(APPLICATION + "items/<int:item_id>/remove", views.remove_item, name="remove-item"),
    path(APPLICATION + "checklist", views.checklist, name="checklist"),
    path(APPLICATION + "submit", views.submit, name="submit"),
    path(APPLICATION + "resubmit", views.resubmit, name="resubmit"),
    path(APPLICATION + "payment", views.take_payment, name="payment"),
    path(APPLICATION + "approve", views.approve, name="approve"),
    path(APPLICATION + "return", views.return_application, name="return"),
    path(APPLICATION + "issue", views.issue, name="issue"),
    path(APPLICATION + "deliver", views.deliver, name="deliver"),
    path(APPLICATION + "cancel", views.cancel, name="cancel"),
    path(APPLICATION + "refund", views.refund, name="refund"),
    path(APPLICATION + "documents/<int:document_id>", views.document_file, name="document"),
    path(APPLICATION + "forms/<slug:key>.pdf", views.form_pdf, name="form"),
]
