from django.apps import AppConfig


class HallConfig(AppConfig):
    name = "certhall.hall"
    verbose_name = "网上营业厅"

    def ready(self) -> None:
        from certhall.ca import renewal as ca_renewal
        from certhall.hall import calendar, payment
        from certhall.hall import renewal as hall_renewal
        from certhall.payments import signals
        from certhall.rules import default_catalog, workdays

        # The rules catalog is parsed and validated now, once: a broken catalog stops the
        # process at start-up (ConfigurationError, one line from the CLI), not a request.
        default_catalog()
        # The rules count working days with the operator's imported holiday arrangements.
        workdays.install(calendar.provider)
        # Paid and refunded orders move their application, inside the payment's transaction.
        signals.order_paid.connect(payment.on_order_paid, dispatch_uid="hall.order_paid")
        signals.order_refunded.connect(
            payment.on_order_refunded, dispatch_uid="hall.order_refunded"
        )
        # An online renewal the round will cancel is not paid first (12-07).
        signals.payment_starting.connect(
            hall_renewal.on_payment_starting, dispatch_uid="hall.payment_starting"
        )
        # A Ukey's 介质补办 that closes an online renewal ends its application, in its transaction.
        ca_renewal.renewal_closed.connect(
            hall_renewal.on_renewal_closed, dispatch_uid="hall.renewal_closed"
        )
