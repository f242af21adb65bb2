"""网上营业厅 pages (``/hall/``): the applicant's side (``applicant_views``, ``applicant_new``,
``applicant_renew``)."""

from django.urls import URLPattern, URLResolver, path

from certhall.hall.web import applicant_new as new
from certhall.hall.web import applicant_renew as renew
from certhall.hall.web import applicant_views as views
from certhall.hall.web import identity_views as identity

app_name = "hall-applicant"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("applications/", views.application_list, name="list"),
    path("new/", new.new_application, name="new"),
    path("renew/", renew.renew, name="renew"),
    path("applications/<str:number>/", views.detail, name="detail"),
    path("applications/<str:number>/continue/", views.continue_draft, name="continue"),
    path("applications/<str:number>/details/", new.details_step, name="details"),
    path("applications/<str:number>/handler/", new.handler_step, name="handler"),
    path("applications/<str:number>/delivery/", new.delivery_step, name="delivery"),
    path("applications/<str:number>/documents/", new.documents_step, name="documents"),
    path("applications/<str:number>/identity/", identity.identity_step, name="identity"),
    path("applications/<str:number>/confirm/", new.confirm_step, name="confirm"),
    path("applications/<str:number>/cancel/", views.cancel, name="cancel"),
    path("applications/<str:number>/resubmit/", views.resubmit, name="resubmit"),
    path("applications/<str:number>/forms/<slug:key>.pdf", views.form_pdf, name="form-pdf"),
]
