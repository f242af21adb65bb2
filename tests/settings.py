"""Test settings: every test process (each xdist worker too) gets its own instance home, so
SoftHSM tokens, key files and the SQLite database never leak between runs or workers.

``CERTHALL_DATABASE_URL`` selects PostgreSQL (the Makefile sets it from
``CERTHALL_TEST_POSTGRES_URL`` for the second pass over the database tests)."""

import atexit
import os
import shutil
import tempfile

# Always a new home: xdist workers inherit the controller's environment, and two processes must
# never share one SoftHSM token store.
_home = tempfile.mkdtemp(prefix=f"certhall-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
os.environ["CERTHALL_HOME"] = _home
atexit.register(shutil.rmtree, _home, ignore_errors=True)

# Always a base URL on a port this process holds without listening (never make run's :8000):
# what the platform posts to its own address (the payment sandbox's notifications) is refused
# unless a test starts its own server and names it (tests/support/network.py).
from tests.support.network import reserved_base_url  # noqa: E402

os.environ["CERTHALL_BASE_URL"] = reserved_base_url()

from certhall.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 in prod

# WhiteNoise warned "No directory at: .../static/" at every start (57 times a run): the tests
# collect no static files; an empty directory stands for them.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
