"""Messages of the lifecycle engine (certhall.lifecycle): refused and lost state changes.

Every state machine has its own codes (API clients tell an order from a Ukey by the code); the
wording is one template for all of them.
"""

#: The wording of every state machine's refused and lost changes (the portal's and the refund
#: programme's codes use them too). ``onward`` is （可变为：…） or （已是最终状态）.
REFUSED = "{noun} {key} 当前为“{current}”，不能变为“{target}”{onward}。"
CHANGED = "{noun} {key} 刚被他人处理，现为“{current}”：请刷新后再试。"

MESSAGES: dict[str, str] = {
    "lifecycle_onward": "（可变为：{possible}）",
    "lifecycle_onward.final": "（已是最终状态）",
    "application_state": REFUSED,
    "application_changed": CHANGED,
    "order_transition": REFUSED,
    "order_not_payable": "{noun} {key} 当前为“{current}”，不能付款。",
    "order_changed": CHANGED,
    "invoice_transition": REFUSED,
    "invoice_changed": CHANGED,
    "surplus_transition": REFUSED,
    "surplus_changed": CHANGED,
    "discrepancy_transition": REFUSED,
    "discrepancy_changed": CHANGED,
    "ukey_transition": REFUSED,
    "ukey_changed": CHANGED,
    "ukey_not_in_stock": "{noun} {key} 当前为“{current}”：只能向库存中的Ukey制证。",
    "ukey_not_unlockable": (
        "{noun} {key} 当前为“{current}”：只有库存、已发放或已锁定的Ukey可以解锁。"
    ),
    "ukey_reported_otherwise": "Ukey {serial} 已登记为“{reported}”，不是“{cause}”。",
    "ukey_has_valid_certificates": (
        "Ukey {serial} 上仍有有效证书：请先吊销（介质补办会自动吊销）再注销。"
    ),
    "ukey_status_unknown": "未知的Ukey状态“{status}”，可选：{choices}。",
    "identity_state": REFUSED,
    "identity_changed": CHANGED,
    "renewal_state": REFUSED,
    "renewal_changed": CHANGED,
    "sms_code_transition": REFUSED,
    "token_write_state": REFUSED,
    "token_write_changed": CHANGED,
    "ukey_busy": "Ukey {serial} 正在制证中，请稍后再试。",
    "ukey_label_busy": "标签为“{label}”的Ukey正在入库，请稍后再试或换一个标签。",
    "ukey_not_empty": (
        "Ukey {serial} 上已有密钥或证书，不能作为库存Ukey制证：请先运行恢复"
        "（certhall ukeys recover）或将其登记为损坏。"
    ),
    "sms_code_changed": "验证码已被使用或已失效，请重新获取。",
}
