from django.apps import AppConfig


class CertloginConfig(AppConfig):
    name = "certhall.certlogin"
    verbose_name = "证书登录"

    def ready(self) -> None:
        from certhall.certlogin import conf

        conf.get()  # a bad CERTHALL_AGENT_URL fails at start-up, not at the first login
