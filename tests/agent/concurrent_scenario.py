"""``python -m tests.agent.concurrent_scenario MODULE CONF SECONDS``: the helper's threads on
one Ukey at once, in a process of its own (two PKCS#11 calls at once can kill it).

A renewal whose install was lost keeps its logged-in session (request A). Its retry (new
requests on the same certificate: login, the renewal key found again, CSR, signature) runs in
one thread while two others do what the sweeper and every poll and page do meanwhile: probe the
kept session's Ukey (``Registry.sweep``) and list the certificates. Prints the failures seen
(one a line) and ``ok``; any failure, or the process dying, is the helper failing a renewal."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from certhall.agent.requests import Registry
from certhall.agent.ukey import Ukeys
from tests.agent.support import HALL, PIN
from tests.support.threads import side_by_side


def main(module: str, conf: str, seconds: float) -> int:
    ukeys = Ukeys(module, Path(conf))
    registry = Registry(ukeys)
    (entry,) = ukeys.list_certificates()
    kept = registry.create("renew", HALL, entry.fingerprint, years=1)
    registry.submit_pin(kept.id, kept.form_token, PIN)
    assert kept.state == "done" and kept.session is not None, kept.error
    failures: list[str] = []  # the works' own findings, beside what they raise
    stop = time.monotonic() + seconds

    def retry() -> None:
        while time.monotonic() < stop:
            request = registry.create("renew", HALL, entry.fingerprint, years=1)
            registry.submit_pin(request.id, request.form_token, PIN)
            if request.state != "done":
                failures.append(f"retry {request.state}: {request.error}")
            registry.cancel(request.id)

    def probe() -> None:
        while time.monotonic() < stop:
            registry.sweep()
            ukeys.list_certificates()
            if kept.state != "done":
                failures.append(f"kept request {kept.state}: {kept.error}")
                return

    failures += side_by_side(retry, probe, probe, probe)
    registry.close()
    for failure in failures:
        print(failure)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
