from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "certhall.notify"
    verbose_name = "通知"

    def ready(self) -> None:
        # Fail at start-up, not at the first text message: CERTHALL_SMS_BACKEND must import.
        from certhall.notify.backends import sms_backend

        sms_backend()
