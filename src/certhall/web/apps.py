from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "certhall.web"
    verbose_name = "网站"
