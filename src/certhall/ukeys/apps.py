from django.apps import AppConfig


class UkeysConfig(AppConfig):
    name = "certhall.ukeys"
    verbose_name = "Ukey库存"
