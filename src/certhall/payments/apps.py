from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "certhall.payments"
    verbose_name = "支付"

    def ready(self) -> None:
        from certhall.payments import gateways, invoices, sandbox, signals

        # The stand-in for the real gateways' side, used while CERTHALL_PAYMENT_SANDBOX is on
        # (registered here, below it: the sandbox is a client of the order services).
        gateways.register_stand_in(sandbox.STAND_IN)

        # A refunded order's invoice is withdrawn, or due for its red-letter invoice.
        signals.order_refunded.connect(
            invoices.on_order_refunded, dispatch_uid="payments.invoice_refunded"
        )
