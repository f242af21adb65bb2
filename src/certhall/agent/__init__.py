"""证书助手 (the certificate helper): ``certhall agent``, a local server on the user's computer.

It lets pages of one configured hall origin list the certificates on the inserted Ukeys, have a
login challenge signed after the user typed the PIN into the helper's own page, and install a
renewed certificate. No private key and no PIN ever leave the helper. No Django.

* :mod:`~certhall.agent.protocol`  the messages the helper signs (shared with the hall)
* :mod:`~certhall.agent.ukey`      token access (list without login, sign, renewal steps)
* :mod:`~certhall.agent.requests`  pending requests waiting for a PIN, long-polled by the page
* :mod:`~certhall.agent.server`    the HTTP server: origin, host and CORS checks; the PIN page

docs/certificate-login.md describes the API and the security model.
"""

#: The helper's default port on 127.0.0.1 (``certhall agent --port``).
DEFAULT_PORT = 17443
