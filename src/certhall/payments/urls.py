from django.urls import path, re_path

from certhall.payments import views

urlpatterns = [
    path("payments/orders/", views.order_list, name="payments-orders"),
    path("payments/orders/<str:reference>", views.order_detail, name="payments-order"),
    path(
        "payments/orders/<str:reference>/invoice",
        views.invoice_request,
        name="payments-invoice-request",
    ),
    path(
        "payments/orders/<str:reference>/refund-sent",
        views.refund_sent,
        name="payments-refund-sent",
    ),
    path(
        "payments/orders/<str:reference>/refund-stop",
        views.refund_stop,
        name="payments-refund-stop",
    ),
    path(
        "payments/orders/<str:reference>/refund-retry",
        views.refund_retry,
        name="payments-refund-retry",
    ),
    path(
        "payments/orders/<str:reference>/refund-alert-handled",
        views.refund_alert_handled,
        name="payments-refund-alert-handled",
    ),
    path("payments/invoices/", views.invoice_queue, name="payments-invoices"),
    path(
        "payments/surplus/<int:surplus_id>/return",
        views.surplus_return,
        name="payments-surplus-return",
    ),
    path(
        "payments/surplus/<int:surplus_id>/returned-by-hand",
        views.surplus_hand,
        name="payments-surplus-hand",
    ),
    path(
        "payments/discrepancies/<int:discrepancy_id>/handled",
        views.discrepancy_handled,
        name="payments-discrepancy-handled",
    ),
    path(
        "payments/invoices/<int:invoice_id>/issue",
        views.invoice_issue,
        name="payments-invoice-issue",
    ),
    path(
        "payments/invoices/<int:invoice_id>/reverse",
        views.invoice_reverse,
        name="payments-invoice-reverse",
    ),
    path("payments/invoices/<int:invoice_id>.pdf", views.invoice_pdf, name="payments-invoice-pdf"),
    path(
        "payments/invoices/<int:invoice_id>-red.pdf",
        views.invoice_pdf,
        {"reversal": True},
        name="payments-invoice-reversal-pdf",
    ),
    path("payments/sandbox/<str:reference>", views.sandbox_page, name="payments-sandbox"),
    path("payments/notify/<slug:gateway>", views.notify_view, name="payments-notify"),
    re_path(
        r"^payments/receipt/(?P<reference>[A-Za-z0-9-]{1,32})\.pdf$",
        views.receipt_pdf,
        name="payments-receipt",
    ),
]
