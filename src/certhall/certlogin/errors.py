"""Refusals of a certificate login: one stable code each, one message in Chinese.

The codes are the API (the login page's JSON and the audit log); docs/certificate-login.md lists
them. ``LoginRefused`` is a ``Forbidden`` (HTTP 403); a rate limit refuses with the platform's
``TooManyRequests`` (HTTP 429, ``rate_limited``).
"""

from __future__ import annotations

from certhall.errors import Forbidden

MESSAGES: dict[str, str] = {
    "challenge_unknown": "登录请求无效或已失效，请刷新页面后重新登录。",
    "challenge_used": "该登录请求已经使用过，请刷新页面后重新登录。",
    "challenge_expired": "登录请求已超时（有效期2分钟），请重新登录。",
    "bad_certificate": "证书格式不正确，无法登录。",
    "origin_mismatch": "签名所针对的网站地址与本站不符，登录被拒绝。",
    "bad_signature": "签名验证失败，登录被拒绝。请确认使用的是该证书对应的Ukey。",
    "certificate_not_yet_valid": "证书尚未生效，无法登录。",
    "certificate_expired": "证书已过期，无法登录。请到受理点办理续期后再登录。",
    "unknown_ca": "该证书不是本平台信任的CA签发的，无法登录。",
    "key_usage": "该证书不能用于数字签名，无法登录。",
    "certificate_revoked": "证书已吊销，无法登录。",
    "unknown_certificate": "本平台的签发记录中没有该证书，无法登录。",
    "crl_unavailable": "暂时无法确认该证书的吊销状态（该CA的证书吊销列表不可用或已过期），"
    "请稍后再试。",
    "no_uscc": "证书中没有有效的统一社会信用代码，无法确认所属单位。",
    "account_disabled": "该证书对应的账户已被停用，请联系客服。",
}


class LoginRefused(Forbidden):
    """A certificate login that was refused (and audited)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(MESSAGES[code], code=code)
        self.detail = detail
