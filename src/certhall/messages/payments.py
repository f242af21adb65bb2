"""Messages of payments (certhall.payments)."""

MESSAGES: dict[str, str] = {
    "bad_reference": "“{text}”不是订单号（格式如 ZF20261120-000123）",
    "order_not_found": "没有订单号为 {reference} 的订单",
    "order_paid": "该业务已支付（订单 {reference}），无需再次支付",
    "order_reference_busy": "暂时无法生成订单号，请稍后重试",
    "payment_concurrent": "订单 {reference} 的收款已由另一请求记录",
    "sandbox_disabled": "沙箱支付未启用",
    "trade_mismatch": "交易 {trade_no} 已入账到订单 {reference}，与本次通知不符",
}
