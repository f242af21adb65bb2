"""Refusals about amounts of money: malformed amounts (certhall.money), and amounts that do not
agree (orders, payments, notifications, applications, renewals)."""

MESSAGES: dict[str, str] = {
    "amount_float": "{what}必须是精确的十进制数，不能是浮点数。",
    "amount_invalid": "{what}“{value}”不是有效的金额。",
    "amount_type": "{what}必须是金额（元），不能是 {kind}。",
    "amount_precision": "{what}“{value}”最多只能有两位小数（精确到分）。",
    "amount_negative": "{what}不能为负数。",
    "amount_too_large": "{what}不能超过 {limit} 元。",
    "amount_too_large_for_words": "金额超过 {limit} 元，无法写成大写。",
    "amount_not_positive": "免费业务无需支付，不能创建金额为零的订单。",
    "order_amount_too_large": "订单金额不能超过 {limit} 元。",
    "order_items_total_mismatch": "订单明细合计 {total} 元与订单金额 {amount} 元不符。",
    "order_pending_exists": "该业务已有待支付订单 {reference}（{amount} 元），请先取消该订单。",
    # what: 收款金额 / 通知金额 / 订单金额; against: 订单 ZF... 的金额 / 申请 ... 的应付金额.
    "amount_mismatch": "{what} {amount} 元与{against} {expected} 元不符。",
    "payment_required": "续期费用 {fee} 元尚未支付，请先完成支付。",
}
