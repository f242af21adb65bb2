from django.apps import AppConfig


class CaConfig(AppConfig):
    name = "certhall.ca"
    verbose_name = "证书颁发机构"
