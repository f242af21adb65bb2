"""What-if settings for the OCSP benchmark: certhall's settings with persistent SQLite
connections (``CONN_MAX_AGE`` 600 instead of 0), everything else unchanged."""

from certhall.settings import *  # noqa: F403
from certhall.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 600
