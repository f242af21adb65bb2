"""Messages of payments (certhall.payments)."""

MESSAGES: dict[str, str] = {
    "invoice_order_unpaid": "订单 {reference} 当前为“{status}”：付款后才能申请开具发票。",
    "invoice_exists": "订单 {reference} 已申请过发票（每个订单只开一张发票）。",
    "invoice_status": "未知的发票状态（可选：已申请、已开具）。",
    "invoice_kind": "请选择发票类型：增值税普通发票或增值税专用发票。",
    "invoice_email_missing": "请填写接收电子发票的电子邮箱。",
    "invoice_number": "发票号码应为8-20位数字（以税务系统开具的发票为准）。",
    "invoice_not_found": "没有编号为 {id} 的发票申请。",
    "invoice_number_taken": "发票号码 {number} 已用于另一张发票。",
    "invoice_pdf_missing": "请上传税务系统开具的电子发票（PDF文件）。",
    "invoice_pdf_type": "电子发票只接受PDF文件（按文件内容识别，不看扩展名）。",
    "invoice_pdf_size": "电子发票文件不能为空，且不能超过 {limit} MB。",
    "invoice_pdf_not_issued": "编号为 {id} 的发票尚未开具，暂无电子发票可下载。",
    "bad_reference": "“{text}”不是订单号（格式如 ZF20261120-000123）",
    "order_not_found": "没有订单号为 {reference} 的订单",
    "order_paid": "该业务已支付（订单 {reference}），无需再次支付",
    "order_reference_busy": "暂时无法生成订单号，请稍后重试",
    "payment_concurrent": "订单 {reference} 的收款已由另一请求记录",
    "sandbox_disabled": "沙箱支付未启用",
    "trade_mismatch": "交易 {trade_no} 已入账到订单 {reference}，与本次通知不符",
}
