"""certhall: the certificate service platform (CA, business hall, fee refunds, portal)."""

__version__ = "0.1.0"
