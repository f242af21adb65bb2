from django.urls import path

from certhall.accounts import views

urlpatterns = [
    path("register/", views.register_page, name="accounts-register"),
    path("login/", views.login_page, name="accounts-login"),
    path("logout/", views.logout_view, name="accounts-logout"),
    path("profile/", views.profile_page, name="accounts-profile"),
    path("password/", views.password_page, name="accounts-password"),
    path("email/", views.email_view, name="accounts-email"),
    path("handlers/", views.handlers_page, name="accounts-handlers"),
]
