from django.apps import AppConfig


class HallConfig(AppConfig):
    name = "certhall.hall"
    verbose_name = "网上营业厅"

    def ready(self) -> None:
        # Paid and refunded orders move their application, inside the payment's transaction.
        from certhall.hall import calendar, payment
        from certhall.payments import signals
        from certhall.rules import workdays

        # The rules count working days with the operator's imported holiday arrangements.
        workdays.install(calendar.provider)

        signals.order_paid.connect(payment.on_order_paid, dispatch_uid="hall.order_paid")
        signals.order_refunded.connect(
            payment.on_order_refunded, dispatch_uid="hall.order_refunded"
        )
