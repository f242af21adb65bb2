"""Messages of payments (certhall.payments)."""

MESSAGES: dict[str, str] = {
    # gateway notifications (payments.notify, payments.signing)
    "notify_too_large": "通知内容过大。",
    "notify_encoding": "通知内容不是UTF-8编码。",
    "notify_field_twice": "通知字段 {field} 出现了不止一次。",
    "notify_empty": "通知内容为空。",
    "notify_field": "通知缺少字段 {field} 或其值过长。",
    "wrong_app": "通知的 app_id “{app_id}” 不是本平台的。",
    "notify_status": "未知的交易状态 {status}。",
    "notify_amount": "通知金额“{amount}”格式不正确（应为如 300.00 的元金额）。",
    "order_not_found.notify": "通知的订单 {reference} 不存在。",
    "bad_signature.sign_type": "通知签名类型必须是 {expected}，收到的是“{got}”。",
    "bad_signature.base64": "通知签名不是有效的base64。",
    "bad_signature.missing": "通知没有签名。",
    "bad_signature.notify": "通知签名验证失败。",
    # bank statements (payments.reconcile)
    "statement_too_large": "对账单超过 {mib} MiB。",
    "statement_encoding": "对账单既不是UTF-8也不是GB18030编码。",
    "statement_date": "日期“{value}”无法识别（应为 YYYY-MM-DD）。",
    "statement_empty": "对账单是空的。",
    "statement_header": "对账单第1行应为表头 date,amount,payer,note[,serial]，而不是：{got}。",
    "statement_too_long": "对账单最多 {limit} 行。",
    "statement_malformed": (
        "对账单第{line}行不是有效的CSV（每个字段最多 {limit} 个字符），整个文件未导入。"
    ),
    "statement_text_chars": "{what}的第{where}个字符（{char}）是{kind}，请核对银行流水。",
    "statement_columns": "应有 {want} 列，实有 {got} 列。",
    "invoice_order_unpaid": "订单 {reference} 当前为“{status}”：付款后才能申请开具发票。",
    "invoice_exists": "订单 {reference} 已申请过发票（每个订单只开一张发票）。",
    "invoice_status": "未知的发票状态（可选：已申请、已开具）。",
    "invoice_kind": "请选择发票类型：增值税普通发票或增值税专用发票。",
    "invoice_email_missing": "请填写接收电子发票的电子邮箱。",
    "invoice_number": (
        "发票号码应为20位数字（数电发票），或发票代码（10或12位）连同8位发票号码"
        "（以税务系统开具的发票为准）。"
    ),
    "invoice_number_without_code": (
        "8位发票号码请连同发票代码一起填写（发票代码在前，如 044031900111 00012345）："
        "发票号码随发票代码每年从头编号，只凭号码无法确定是哪一张发票。"
    ),
    "invoice_not_found": "没有编号为 {id} 的发票申请。",
    "invoice_number_taken": "发票号码 {number} 已用于另一张发票。",
    "invoice_pdf_missing": "请上传税务系统开具的电子发票（PDF文件）。",
    "invoice_pdf_type": "电子发票只接受PDF文件（按文件内容识别，不看扩展名）。",
    "invoice_pdf_size": "电子发票文件不能为空，且不能超过 {limit} MB。",
    # A broken PDF, before it is kept for the customer (payments.invoices): the store's codes.
    "file_incomplete.invoice": (
        "电子发票文件不完整（上传中断或文件已损坏），请从税务系统重新下载后上传。"
    ),
    "pdf_unreadable.invoice": "电子发票PDF文件已损坏，打不开，请从税务系统重新下载后上传。",
    "pdf_encrypted.invoice": (
        "电子发票PDF文件设置了打开密码，客户无法打开，请上传税务系统开具的未加密PDF文件。"
    ),
    "pdf_no_pages.invoice": "电子发票PDF文件中没有页面，请从税务系统重新下载后上传。",
    "pdf_too_many_pages.invoice": (
        "电子发票PDF文件超过 {limit} 页的限制，请确认上传的是税务系统开具的发票文件。"
    ),
    "pdf_too_complex.invoice": (
        "电子发票PDF文件结构过于复杂，无法读取，请从税务系统重新下载后上传。"
    ),
    "pdf_page_too_large.invoice": (
        "电子发票PDF文件第 {page} 页为 {width} × {height} 毫米，"
        "超过限制（每边不超过 {side} 毫米），请确认上传的是税务系统开具的发票文件。"
    ),
    "invoice_pdf_not_issued": "编号为 {id} 的发票尚未开具，暂无电子发票可下载。",
    "bad_reference": "“{text}”不是订单号（格式如 ZF20261120-000123）。",
    "order_not_found": "没有订单号为 {reference} 的订单。",
    "order_paid": "该业务已支付（订单 {reference}），无需再次支付。",
    "order_reference_busy": "暂时无法生成订单号，请稍后重试。",
    "payment_concurrent": "订单 {reference} 的收款已由另一请求记录。",
    "sandbox_disabled": "沙箱支付未启用。",
    "trade_mismatch": "交易 {trade_no} 已入账到订单 {reference}，与本次通知不符。",
    # orders, receipts and the counter (payments.services, payments.receipts, payments.api)
    "order_not_paid": "订单 {reference} {status}，支付后才能开具收据。",
    "order_numbers_used_up": "今日订单号已用完，请明天再试。",
    "order_status_unknown": "未知的订单状态“{status}”（可选：{choices}）。",
    "refund_not_owed": "订单 {reference} 没有待退回的退款（尚未退款，或已登记退回）。",
    "order_text_empty": "{what}不能为空。",
    "order_items_count": "订单明细须有1到{limit}项。",
    "order_purpose": "订单用途“{purpose}” 无效（如 hall.application）。",
    "order_staff_only": "只有电子认证服务机构的工作人员可以为单位开具订单。",
    "payment_already_recorded": "交易 {transaction_id} 已入账（订单 {reference}）。",
    "counter_method": "柜台收款方式只能是：{choices}。",
    "invoice_staff_only": "发票由受理员或CA管理员开具。",
    # gateways and their keys (payments.gateways, payments.keys, payments.sandbox)
    "gateway_unknown": "没有名为“{name}” 的在线支付网关。",
    "gateway_key_missing": "支付网关 {gateway} 没有公钥：请把网关的RSA公钥（PEM格式）放在 {path}。",
    "gateway_key_not_pem": "{path} 不是PEM格式的公钥。",
    "gateway_key_weak": "{path} 必须是至少2048位的RSA公钥。",
    "sandbox_key_locked": "无法用本实例的CA密钥口令打开模拟支付网关的密钥 {path}。",
    "sandbox_key_not_rsa": "{path} 不是RSA私钥。",
    "order_not_payable.sandbox": "订单 {reference} {status}，无需支付。",
    "sandbox_action": "请选择“确认支付”或“取消”。",
    # refunds through the online gateways (payments.gateways, payments.sandbox,
    # payments.refunding)
    "gateway_refund_method": "订单 {reference} 不是通过{gateway}网上支付的，不能经{gateway}退款。",
    "refund_gateway_only": "只有支付网关 {gateway} 的系统账户可以登记其自动退款。",
    "gateway_refund_amount": "退款金额必须大于零。",
    "gateway_refund_exceeds": "退款金额 {amount} 元超过订单 {reference} 的实付金额 {paid} 元。",
    "gateway_refund_unavailable": "未配置{gateway}的退款接口：请在支付平台退款后人工登记。",
    "gateway_refund_failed": "支付平台暂时无法受理退款（{error}），将稍后重试。",
    # the automatic refund and finance's hand (payments.services, payments.refunding)
    "refund_gateway_pending": (
        "订单 {reference} 的退款正由系统经{gateway}原路自动退回（退款单号 {refund_no}），"
        "不能人工登记：请等待自动退款完成，不要在{gateway}商户后台重复退款；"
        "如需改为人工退款，请先停止自动退款。"
    ),
    "refund_gateway_calling": (
        "系统正在向{gateway}发起订单 {reference} 的退款（退款单号 {refund_no}），"
        "请等待支付平台的结果，不要在{gateway}商户后台重复退款。"
    ),
    "refund_not_automatic": "订单 {reference} 的退款不经支付平台自动退回，由财务退回后登记。",
    "refund_auto_stopped": "订单 {reference} 的自动退款已停止，由财务退回后人工登记。",
    "refund_retry_not_failed": (
        "订单 {reference} 的自动退款没有失败，无需立即重试：系统会按时发起退款。"
    ),
    "gateway_refund_retry_failed": "订单 {reference} 立即重试未成功：{error}。",
    "sandbox_trade_unknown": "{gateway}没有订单 {reference} 的交易（交易不存在）。",
    "sandbox_refund_no_reused": "退款单号 {refund_no} 已用于另一笔退款（金额或交易不同）。",
    "sandbox_refund_exceeds": "退款金额 {amount} 元超过交易可退金额 {left} 元。",
    "sandbox_refund_busy": "退款单号 {refund_no} 正在处理，请稍后重试。",
    # money that arrived for an order no longer waiting for it (payments.surplus)
    "surplus_not_found": "没有编号为 {id} 的多余到账记录。",
    "surplus_return_calling": (
        "系统正在经{gateway}退回订单 {reference} 多付的 {amount} 元（退款单号 {refund_no}），"
        "请等待支付平台的结果：不能重复退回，也不能登记手工退回，"
        "请勿在{gateway}商户后台重复退款。"
    ),
    "surplus_returned": "订单 {reference} 多付的{gateway}付款 {amount} 元已退回，无需再退。",
    "surplus_return_failed": (
        "经{gateway}退回订单 {reference} 多付的 {amount} 元未成功：{error}"
        "。可稍后再试，或在{gateway}商户后台退款后登记“已手工退回”。"
    ),
    "surplus_call_failed": "支付平台暂时无法受理退款（{error}）。",
    # the words of the pages (payments.views): finance's refunds page and the order page
    "surplus_page_section": "多余到账，待退回（{count}）",
    "surplus_page_section_intro": (
        "这些款项是支付平台在订单已支付、已取消或已退款后又通知到账的付款，未入账到订单，"
        "须退回付款人：点“原路退回”由系统经原支付平台退款（退款单号由系统生成，重复提交不会重复退款）；"
        "如已在商户后台或以其他方式退回，填写退回流水号后点“已手工退回”。"
        "系统退款进行中不能登记手工退回。"
    ),
    "surplus_page_return_button": "原路退回",
    "surplus_page_hand_button": "已手工退回",
    "surplus_page_hand_label": "退回流水号",
    "surplus_page_calling": "正在经{gateway}退回（退款单号 {refund_no}），等待支付平台结果",
    "surplus_page_last_error": "上次退回未成功：{error}",
    "surplus_page_confirm": "确定经{gateway}原路退回订单 {reference} 多付的 {amount} 元？",
    "surplus_page_done_gateway": (
        "已经{gateway}原路退回订单 {reference} 多付的 {amount} 元（退款单号 {refund_id}），"
        "已通知客户。"
    ),
    "refund_page_done_stop": (
        "已停止订单 {reference} 的自动退款：请在支付平台商户后台退款后登记退款单号。"
    ),
    "refund_page_done_retry": (
        "支付平台已受理订单 {reference} 的退款（退款单号 {refund_id}），已自动登记。"
    ),
    "refund_page_done_sent": "已登记订单 {reference} 的退款已退回。",
    "surplus_page_done_hand": (
        "已登记订单 {reference} 多付的 {amount} 元已手工退回（{sent_reference}），已通知客户。"
    ),
    "surplus_page_customer_owed": (
        "{time} 又收到一笔{gateway}付款 {amount} 元（交易号 {trade_no}）。"
        "本订单当时已无需付款，这笔款项未入账，将原路退回付款账户。"
    ),
    "surplus_page_customer_returned": (
        "{time} 又收到一笔{gateway}付款 {amount} 元（交易号 {trade_no}），未入账，"
        "已于 {date} 原路退回付款账户（{reference}）。"
    ),
    "surplus_page_customer_heading": "多付款项",
    # the gateways' daily bills (payments.gateway_bills, payments.gateways.read_bill)
    "trade_mismatch.bill": "交易 {trade_no} 已入账到订单 {reference}，与对账单不符。",
    "gateway_bill_line": (
        "对账单第{line}行{what}记录的字段 {field} 缺失或格式不正确，整份对账单未核对。"
    ),
    "gateway_bill_text_chars": (
        "对账单第{line}行{record}记录的字段 {what} 的第{where}个字符（{char}）是{kind}，"
        "整份对账单未核对。"
    ),
    "gateway_bill_future": "{day} 还未到：只能核对已有对账单的日期（今天或以前）。",
    "gateway_bill_unavailable": "未配置{gateway}的对账单下载接口，无法核对。",
    "discrepancy_not_found": "没有编号为 {id} 的对账差异。",
    "discrepancy_page_section": "对账差异，待处理（{count}）",
    "discrepancy_page_intro": (
        "每日核对支付平台对账单时发现、系统无法自动处理的差异：请在支付平台商户后台和本平台记录中核实，"
        "处理后填写处理说明并点“已处理”。对账单中有付款而本平台漏收通知的订单，系统已自动补单，不在此列。"
    ),
    "discrepancy_page_handle_button": "已处理",
    "bill_run_page_section": "对账单未能核对（{count}）",
    "bill_run_page_intro": (
        "以下日期的支付平台对账单未能下载或核对，系统每小时自动重试；"
        "问题解决后也可由管理员运行 certhall payments reconcile-gateway 立即核对。"
    ),
    "bill_run_page_row": "{gateway} {day} 的对账单：已尝试 {attempts} 次，最近一次失败：{error}",
    "gateway_bill_run_failed": "系统内部错误（详情已记入服务器日志）。",
    "discrepancy_page_note_label": "处理说明",
    "discrepancy_page_done": "已将{gateway}对账差异 {reference} 标记为已处理。",
    "refund_alert_none": "订单 {reference} 没有重复退款告警。",
    "refund_alert_handled": "订单 {reference} 的重复退款告警已处理。",
    "refund_alert_page_done": "已将订单 {reference} 的重复退款告警标记为已处理。",
    "done_invoice_requested": "已提交开票申请，开具后可在本页下载电子发票。",
    "done_invoice_issued": "已登记发票号码 {number}，已上传电子发票并通知客户。",
    "done_invoice_reversed": "已登记红字发票 {number}，原发票已冲销。",
}
