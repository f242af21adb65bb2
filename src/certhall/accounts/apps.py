from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "certhall.accounts"
    verbose_name = "账户与角色"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from certhall.accounts import timeout

        user_logged_in.connect(timeout.on_login, dispatch_uid="certhall-session-clocks")
