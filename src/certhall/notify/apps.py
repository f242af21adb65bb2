from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "certhall.notify"
    verbose_name = "通知"
