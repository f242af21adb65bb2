"""Messages of certlogin (certhall.certlogin)."""

from certhall.messages.agent import HELPER_PAGE
from certhall.messages.common import CONTACT_US

MESSAGES: dict[str, str] = {
    "login_conflict": "登录冲突，请重试。",
    "challenge_unknown": "登录请求无效或已失效，请刷新页面后重新登录。",
    "challenge_used": "该登录请求已经使用过，请刷新页面后重新登录。",
    "challenge_expired": "登录请求已超时（有效期2分钟），请重新登录。",
    "bad_certificate": "证书格式不正确，无法登录。",
    "origin_mismatch.login": "签名所针对的网站地址与本站不符，登录被拒绝。",
    "bad_signature.login": "签名验证失败，登录被拒绝。请确认使用的是该证书对应的Ukey。",
    "certificate_not_yet_valid": "证书尚未生效，无法登录。",
    "certificate_expired": "证书已过期，无法登录。请到受理点办理续期后再登录。",
    "unknown_ca": "该证书不是本平台信任的CA签发的，无法登录。",
    "key_usage": "该证书不能用于数字签名，无法登录。",
    "certificate_revoked.login": "证书已吊销，无法登录。",
    "unknown_certificate": "本平台的签发记录中没有该证书，无法登录。",
    "crl_unavailable": (
        "暂时无法确认该证书的吊销状态（该CA的证书吊销列表不可用或已过期），请稍后再试。"
    ),
    "no_uscc": "证书中没有有效的统一社会信用代码，无法确认所属单位。",
    "account_disabled.login": f"该证书对应的账户已被停用，请{CONTACT_US}。",
    "no_organization": "该账户不属于任何单位。",
    "chain_invalid": "证书链格式不正确。",
    "certificate_too_large": "证书文件过大。",
    "certificate_malformed": "不是 X.509 证书（PEM 或 DER 格式）。",
    "crl_malformed": "不是 X.509 CRL（PEM 或 DER 格式）。",
    "not_a_ca": "{subject} 不是 CA 证书（basicConstraints 中没有 cA）。",
    "crl_issuer": "该 CRL 由 {issuer} 签发，而不是由 {name} 签发。",
    "crl_signature": "用 {name} 的公钥验证该 CRL 的签名失败。",
    "crl_stale": "该 CRL 已过期（超过其 nextUpdate）：该CA尚未发布新的 CRL。",
    "crl_url": "--crl-url 须为 http(s) 地址。",
    "crl_url.missing": "{name} 没有 CRL 地址：请提供 CRL 文件。",
    "crl_needs_fingerprint": "--crl 须与 --fingerprint 一起使用。",
    "own_ca": "这是本平台自己的CA，已受信任。",
    "exists": "CA 证书 {fingerprint}… 已导入。",
    "crl_fetch": "无法从 {url} 获取 CRL：{error}。",
    "crl_too_large": "{url} 上的 CRL 超过 64 MB。",
    "crl_older": "CRL 编号 {number} 比已保存的（{stored}）旧。",
    "fingerprint": "请至少提供指纹的前8位十六进制数字。",
    "fingerprint.ambiguous": "指纹 {prefix}… 对应多个CA：请提供更多位数字。",
    "trusted_ca_unknown": "没有指纹为 {prefix}… 的受信任CA。",
    "trusted_ca_state": "{name} 已经是{state}状态。",
}

# The certificate login page's script (certlogin/login.js)
MESSAGES.update(
    {
        "login_page_no_ukey": "证书助手已连接，但未检测到Ukey。请插入Ukey后点击“刷新证书列表”。",
        "login_page_no_certificate": "Ukey中没有可用于登录的证书。",
        "login_page_choose": "证书助手已连接，请选择证书。",
        "page_label.certificate": (
            "颁发者：{issuer}　序列号：{serial}　有效期：{not_before} 至 {not_after}　Ukey：{ukey}"
        ),
        "page_label.expired": "　（已过期）",
        "page_label.pin_locked": "　（PIN已锁定）",
        "login_page_no_helper": ("未检测到证书助手。请安装并启动证书助手后点击“刷新证书列表”。"),
        "login_page_must_change": (
            "该Ukey须先修改PIN码：请在证书助手窗口中设置新PIN码，设置后将继续登录。"
        ),
        "login_page_working": "正在处理，请稍候……",
        "login_page_pin_changed": "PIN码已修改，请使用新PIN码登录。",
        "login_page_verifying": "签名完成，正在验证证书……",
        "login_page_entering": "登录成功，正在进入……",
        "login_page_failed": "登录失败，请重试。",
        "login_page_asking_pins": "请在证书助手弹出的窗口中输入原PIN码和新PIN码……",
        "login_page_preparing": "正在准备登录……",
        "login_page_no_challenge": "无法获取登录请求，请稍后再试。",
    }
)

#: The words the login page's script reads (``messages.SCRIPT_WORDS``).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "certlogin/login.js": (
        *HELPER_PAGE,
        *(code for code in MESSAGES if code.startswith("login_page_")),
        "page_label.certificate",
        "page_label.expired",
        "page_label.pin_locked",
    ),
}
