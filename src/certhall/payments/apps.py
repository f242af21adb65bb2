from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "certhall.payments"
    verbose_name = "支付"
