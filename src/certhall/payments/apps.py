from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "certhall.payments"
    verbose_name = "支付"

    def ready(self) -> None:
        from certhall.payments import invoices, signals

        # A refunded order's invoice is withdrawn, or due for its red-letter invoice.
        signals.order_refunded.connect(
            invoices.on_order_refunded, dispatch_uid="payments.invoice_refunded"
        )
