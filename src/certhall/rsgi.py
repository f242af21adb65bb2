"""The application ``certhall serve`` runs in granian: Django behind the gateway, with the
pre-signed OCSP answers as its fast path (docs/security.md, "Serving stack")."""

import os

from django.core.wsgi import get_wsgi_application

from certhall.config import private_process

private_process()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhall.settings")
django_app = get_wsgi_application()

from certhall import config  # noqa: E402
from certhall.ca.ocsp_serve import (  # noqa: E402 - needs Django set up
    AnswerStore,
    OCSPFastPath,
    OCSPResponderPath,
)
from certhall.web.gateway import Gateway  # noqa: E402

# The responder path keeps the "unknown" answers it signs in the fast path's store.
answers = AnswerStore()
application = Gateway(
    django_app,
    threads=config.get().serve_threads,
    fast_paths=(OCSPFastPath(answers), OCSPResponderPath(answers)),
    fast_listen=config.get().ocsp_listen,
)
