"""Messages of the CA core (certhall.pki): profiles, validity, CSRs, identities."""

MESSAGES: dict[str, str] = {
    "validity_missing": "证书须有有效年限或到期时间。",
    "validity_end_past": "证书到期时间（{end} UTC）早于生效时间：原证书已过期，请办理续期。",
}
