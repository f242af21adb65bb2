"""certhall's CA core: profiles, identity numbers, CSRs, issuance, CRLs and OCSP.

Framework-free (no Django, no database): services call these functions with the data they
fetched and persist what comes back. Modules:

* ``der``        minimal DER encoders (and a tiny reader) for what is encoded by hand
* ``identity``   统一社会信用代码 (USCC) and resident ID number validation
* ``profiles``   the certificate profiles (机构证书 ``org``, 机构个人证书 ``personal``), validity
* ``keys``       subscriber key policy, signing with any issuer key (file, token, HSM)
* ``csr``        loading and checking PKCS#10 requests
* ``issuance``   subscriber certificates
* ``authority``  root, issuing CA and OCSP responder certificates
* ``crl``        fast full CRLs
* ``ocsp``       OCSP requests and responses
"""
