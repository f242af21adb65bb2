from django.urls import include, path, re_path

from certhall.api import api
from certhall.ca import views as ca_views
from certhall.web import status as web_status
from certhall.web import views as web_views

handler400 = "certhall.web.errors.bad_request"
handler403 = "certhall.web.errors.permission_denied"
handler404 = "certhall.web.errors.page_not_found"
handler500 = "certhall.web.errors.server_error"

urlpatterns = [
    path("", web_views.home, name="home"),
    path("healthz", web_views.healthz, name="healthz"),
    path("status/", web_status.status_page, name="status"),
    path("api/", api.urls),
    path("", include("certhall.certlogin.urls")),
    path("accounts/", include("certhall.accounts.urls")),
    path("", include("certhall.payments.urls")),
    path("console/audit/", include("certhall.audit.urls")),
    path("", include("certhall.hall.urls")),
    path("refunds/", include("certhall.refunds.urls")),
    path("", include("certhall.portal.urls")),
    path("crl/<slug:slug>.crl", ca_views.crl, name="crl"),
    path("ca/<slug:slug>.crt", ca_views.ca_certificate, name="ca-certificate"),
    path("ocsp", ca_views.ocsp_post, name="ocsp"),
    path("ocsp/", ca_views.ocsp_post),
    re_path(r"^ocsp/(?P<encoded>[A-Za-z0-9+/=%]+)$", ca_views.ocsp_get, name="ocsp-get"),
]
