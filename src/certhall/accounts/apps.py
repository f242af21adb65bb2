from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "certhall.accounts"
    verbose_name = "账户与角色"
