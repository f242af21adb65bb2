from django.urls import path, re_path

from certhall.certlogin import views

urlpatterns = [
    path("login/certificate/", views.login_page, name="certlogin-page"),
    path("login/certificate/challenge", views.challenge, name="certlogin-challenge"),
    path("login/certificate/verify", views.verify, name="certlogin-verify"),
    path("my/", views.my_home, name="my-home"),
    re_path(
        r"^my/certificates/(?P<serial>[0-9a-fA-F]{1,64})\.(?P<fmt>pem|der)$",
        views.my_certificate,
        name="my-certificate",
    ),
    re_path(
        r"^my/certificates/(?P<serial>[0-9a-fA-F]{1,64})/chain\.pem$",
        views.my_chain,
        name="my-chain",
    ),
    path("logout/", views.logout_view, name="logout"),
]
