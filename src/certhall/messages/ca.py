"""Messages of the CA services (certhall.ca): issuance, renewal and revocation."""

MESSAGES: dict[str, str] = {
    "renewal_beyond_ca": (
        "续期{years}年后证书将于 {end} 到期，超过签发CA的有效期（至 {ca_end}）："
        "最多可续期 {fits} 年，或待CA证书更新后再办理。"
    ),
    "renewal_beyond_ca.none": (
        "续期后证书将于 {end} 到期，超过签发CA的有效期（至 {ca_end}），目前无法续期："
        "请待CA证书更新后再办理。"
    ),
    "renew_revoked": "证书 {serial} 已吊销，不能续期：请办理新证书。",
}
