from django.apps import AppConfig


class HallConfig(AppConfig):
    name = "certhall.hall"
    verbose_name = "网上营业厅"
