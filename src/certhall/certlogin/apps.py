from django.apps import AppConfig


class CertloginConfig(AppConfig):
    name = "certhall.certlogin"
    verbose_name = "证书登录"
