"""Where tests may send the platform's own HTTP requests: nowhere they did not start.

The platform posts to its own base URL (``CERTHALL_BASE_URL``): the payment sandbox delivers
its notifications there (``certhall.payments.sandbox``, from a thread and again from the jobs'
round). Its default, ``http://127.0.0.1:8000``, is where ``make run`` serves: a test that left
the default delivered a sandbox notification to a developer's running server. So every test
process reserves a port of its own (bound, never listening, held until the process ends: a
connection to it is refused, and no other program can listen on it) and makes it the base URL
(``tests/settings.py``); the processes a test starts get it too (:func:`subprocess_env`) unless
the test names the server it started.
"""

from __future__ import annotations

import os
import socket

#: The reserving sockets, held for the life of the process.
_held: list[socket.socket] = []


def free_port() -> int:
    """A port nobody listens on now, for a server the test is about to start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reserved_base_url() -> str:
    """``http://127.0.0.1:PORT`` on a port this process keeps bound without listening: a
    request to it is refused at once, whatever else runs on the machine. (No SO_REUSEADDR:
    another socket cannot bind the port beside it.)"""
    reserving = socket.socket()
    reserving.bind(("127.0.0.1", 0))
    _held.append(reserving)
    return f"http://127.0.0.1:{reserving.getsockname()[1]}"


def subprocess_env(**values: str) -> dict[str, str]:
    """The environment of a ``certhall`` process a test starts: this one's without its
    ``CERTHALL_*`` settings, but with the reserved base URL (``tests/settings.py`` set it), then
    ``values`` (a test that starts a server names it as ``CERTHALL_BASE_URL``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHALL_")}
    env["CERTHALL_BASE_URL"] = os.environ["CERTHALL_BASE_URL"]
    env.update(values)
    return env
