from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "certhall.refunds"
    label = "refunds"
    verbose_name = "数字证书费用返还"
