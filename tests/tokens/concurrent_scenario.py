"""``python -m tests.tokens.concurrent_scenario MODULE CONF SECONDS``: the server's threads on
one Ukey store at once, in a process of its own (two PKCS#11 calls at once can kill it).

Two counters' requests in one worker: one thread makes and deletes key pairs on Ukey ``a``
(issuance onto a stock Ukey), two others open sessions on Ukey ``b``, list its objects and close
them again (the checks before issuance, an unlock). Prints the failures seen (one a line) and
``ok``; any failure, or the process dying, is a counter's request failing."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from certhall.tokens import generate_keypair, open_token
from certhall.tokens.objects import delete_key_pair, list_objects
from tests.support.threads import side_by_side

PIN = "user-pin-1234"


def main(module: str, conf: str, seconds: float) -> int:
    stop = time.monotonic() + seconds

    def issue() -> None:
        with open_token(module, "a", PIN, conf=Path(conf)) as session:
            n = 0
            while time.monotonic() < stop:
                n += 1
                generate_keypair(session, f"k{n}", "ec")
                delete_key_pair(session, f"k{n}")

    def check() -> None:
        while time.monotonic() < stop:
            with open_token(module, "b", PIN, conf=Path(conf)) as session:
                list_objects(session)

    failures = side_by_side(issue, check, check)
    for failure in failures:
        print(failure)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
