from django.urls import path

from certhall.certlogin import views

urlpatterns = [
    path("login/certificate/", views.login_page, name="certlogin-page"),
    path("login/certificate/challenge", views.challenge, name="certlogin-challenge"),
    path("login/certificate/verify", views.verify, name="certlogin-verify"),
    path("my/", views.my_home, name="my-home"),
    path("logout/", views.logout_view, name="logout"),
]
