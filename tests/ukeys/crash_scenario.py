"""The process the crash tests kill: ``python -m tests.ukeys.crash_scenario COMMAND`` against an
instance home (``CERTHALL_HOME``, set up with ``certhall setup --demo``).

* ``prepare N``: N approved online 新办 applications of the demo enterprise; prints their numbers;
* ``issue NUMBER SERIAL``: the issuer issues NUMBER onto the stock Ukey SERIAL (with
  ``CERTHALL_CRASH_PAUSE`` set, the process stops at that point and is killed there);
* ``inspect NUMBER SERIAL``: JSON of what the registry, the Ukey and its token hold.
"""

from __future__ import annotations

import json
import sys


def _setup() -> None:
    import django

    django.setup()


def prepare(count: int) -> None:
    from certhall.accounts.models import Handler, User
    from certhall.hall import review, services
    from tests.hall.conftest import HANDLER_ID, PHONE, online_draft, pay_online

    applicant = User.objects.get(username="demo-applicant")
    reviewer = User.objects.get(username="demo-reviewer")
    handler, _ = Handler.objects.get_or_create(
        organization=applicant.organization,
        id_number=HANDLER_ID,
        defaults={"name": "李四", "id_kind": Handler.IdKind.RESIDENT_ID, "phone": PHONE},
    )
    numbers = []
    for _ in range(count):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
        review.approve(reviewer, draft.number)
        numbers.append(draft.number)
    print(json.dumps(numbers))


def issue(number: str, serial: str) -> None:
    from certhall.accounts.models import User
    from certhall.hall import issuance
    from certhall.hall.models import Application

    issuer = User.objects.get(username="demo-issuer")
    line = Application.objects.get(number=number).items.get()
    issuance.issue_application(issuer, number, tokens={line.pk: serial})


def inspect(number: str, serial: str) -> None:
    from certhall.ca.models import Certificate
    from certhall.hall.models import Application
    from certhall.tokens import list_certificates, private_key_labels
    from certhall.ukeys import services
    from certhall.ukeys.models import TokenWrite, Ukey

    application = Application.objects.get(number=number)
    ukey = Ukey.objects.get(serial=serial)
    on_token: dict[str, int] = {}
    if ukey.status == "in_stock":
        with services.stock_session(ukey) as (session, _pin):
            on_token = {
                "keys": len(private_key_labels(session)),
                "certificates": len(list_certificates(session)),
            }
    writes = TokenWrite.objects.filter(application=number)
    print(
        json.dumps(
            {
                "state": application.state,
                "ukey": ukey.status,
                "on_token": on_token,
                "open_writes": writes.filter(state="open").count(),
                "writes": list(writes.values_list("state", flat=True)),
                "certificates": [
                    [c.serial, c.status, c.revocation_reason]
                    for c in Certificate.objects.filter(profile="personal").order_by("pk")
                ],
                "on_ukey": list(ukey.certificates.values_list("serial", flat=True)),
            }
        )
    )


if __name__ == "__main__":
    _setup()
    command, *args = sys.argv[1:]
    if command == "prepare":
        prepare(int(args[0]))
    elif command == "issue":
        issue(*args)
    elif command == "inspect":
        inspect(*args)
    else:
        raise SystemExit(f"unknown command {command}")
