from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "certhall.portal"
    verbose_name = "公共服务门户"
