"""网上营业厅 pages (``/hall/``): the applicant's side. Views: ``applicant_views``."""

from django.urls import URLPattern, URLResolver, path

from certhall.hall.web import applicant_views as views

app_name = "hall-applicant"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("applications/", views.application_list, name="list"),
    path("new/", views.new_application, name="new"),
    path("renew/", views.renew, name="renew"),
    path("applications/<str:number>/", views.detail, name="detail"),
    path("applications/<str:number>/handler/", views.handler_step, name="handler"),
    path("applications/<str:number>/delivery/", views.delivery_step, name="delivery"),
    path("applications/<str:number>/documents/", views.documents_step, name="documents"),
    path("applications/<str:number>/confirm/", views.confirm_step, name="confirm"),
    path("applications/<str:number>/cancel/", views.cancel, name="cancel"),
    path("applications/<str:number>/resubmit/", views.resubmit, name="resubmit"),
    path("applications/<str:number>/forms/<slug:key>.pdf", views.form_pdf, name="form-pdf"),
]
