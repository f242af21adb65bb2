from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "certhall.audit"
    verbose_name = "审计日志"
