"""An attacker's probe (12-07, helper h5): an enterprise's account and a CA clerk's, through the
test client and the JSON API. What failed before its fix is marked in the test's docstring;
the rest was tried and found sound (docs/security.md, "A probe of 12-07, afternoon")."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from certhall.accounts.models import Handler, Organization, Provider, Role, User
from certhall.ca.models import CertificateAuthority
from certhall.hall.models import Application
from certhall.rules import SHANGHAI
from tests.hall.conftest import FRIDAY, LEGAL_REP_ID, at
from tests.hall.test_year_end import counter_draft, ending_at
from tests.hall.web.staff_support import login, online_paid_at, text

pytestmark = pytest.mark.django_db

ENDS = datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def paid(applicant: User, handler: Handler) -> Application:
    return online_paid_at(applicant, handler, FRIDAY)


# --- private answers are never stored by a browser or a proxy --------------------------------


def _applicant_urls(application: Application) -> list[str]:
    reference = application.payment_reference
    return [
        "/payments/orders/",
        f"/payments/orders/{reference}",
        f"/payments/receipt/{reference}.pdf",
        "/api/hall/applications",
        f"/api/hall/applications/{application.number}",
        "/api/payments/orders",
        f"/api/payments/orders/{reference}",
        "/api/accounts/me",
        "/api/accounts/handlers",
        f"/hall/applications/{application.number}/",
        "/accounts/profile/",
    ]


def test_every_private_answer_says_no_store(
    applicant: User, paid: Application, make_user: Any
) -> None:
    """Before: the orders' pages and every JSON answer of the API (an application with the
    legal representative's ID number, the handler's phone, an order) carried no Cache-Control:
    a browser's disk cache or a shared proxy could keep them after logout."""
    client = login(applicant)
    staff = login(make_user(Role.CA_ADMIN))
    officer = login(make_user(Role.REFUND_OFFICER))
    asked = [(client, url) for url in _applicant_urls(paid)]
    asked += [(staff, "/payments/invoices/"), (officer, "/api/refunds/applications")]
    with at(FRIDAY):
        for who, url in asked:
            response = who.get(url)
            assert response.status_code == 200, (url, response.status_code)
            cache = response.get("Cache-Control", "")
            assert "no-store" in cache and "private" in cache, (url, cache)


def test_a_refusal_to_an_account_is_not_stored_either(applicant: User) -> None:
    with at(FRIDAY):
        response = login(applicant).get("/payments/orders/ZF20261120-999999")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def test_public_answers_keep_their_own_caching(hall_ca: Any, applicant: User) -> None:
    """The CA certificate is public: its own max-age, a logged-in account's request too."""
    slug = CertificateAuthority.objects.order_by("pk").first().slug  # type: ignore[union-attr]
    response = login(applicant).get(f"/ca/{slug}.crt")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=86400"


# --- file names come from the row, not from the address -------------------------------------


@pytest.mark.parametrize("spelled", ["%0A{number}", "{lower}%09", "%20{number}"])
def test_a_staff_download_is_named_by_the_application_not_the_link(
    spelled: str, paid: Application, reviewer: User
) -> None:
    """Before: the reviewer's download named the file after the number as the link spelled it
    (``access.load`` strips blanks and folds case): a link with ``%0A`` before the number was an
    HTTP 500 (a line break in Content-Disposition), a tab or lower case went into the name."""
    number = spelled.format(number=paid.number, lower=paid.number.lower())
    document = paid.documents.order_by("pk").first()
    assert document is not None
    client = login(reviewer)
    with at(FRIDAY):
        got = client.get(f"/console/applications/{number}/documents/{document.pk}")
        form = client.get(f"/console/applications/{number}/forms/org_application.pdf")
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    assert got.status_code == 200
    assert got["Content-Disposition"] == (
        f'attachment; filename="{paid.number}-{document.kind}.{extension[document.content_type]}"'
    )
    assert form.status_code == 200, text(form)[:300]
    assert f'filename="{paid.number}-org_application.pdf"' in form["Content-Disposition"]


# --- another CA's certificates are not this CA's clerk's business ----------------------------


def test_the_counter_lists_only_this_cas_certificates_of_the_customer(
    admin: User,
    hall_ca: object,
    organization: Organization,
    clerk: User,
    handler: Handler,
    other_provider: Provider,
) -> None:
    """Before: the counter's application page listed every valid certificate of the customer,
    another CA's too (serial, end, Ukey): the one list of certificates that did not ask
    ``accounts.visibility``; and one issued to the customer's USCC before it had an account
    (which ``belongs_to`` counts and the counter may act on) was missing from it."""
    ours = ending_at(admin, organization, ENDS)
    theirs = ending_at(admin, organization, ENDS)
    by_uscc = ending_at(admin, organization, ENDS)
    type(by_uscc).objects.filter(pk=by_uscc.pk).update(organization=None, uscc=organization.uscc)
    other_ca = CertificateAuthority.objects.get(pk=theirs.ca_id)
    other_ca.pk = None
    other_ca.slug, other_ca.provider = "other-ca", other_provider
    other_ca.save()
    type(theirs).objects.filter(pk=theirs.pk).update(ca=other_ca)
    with at(FRIDAY):
        draft = counter_draft(clerk, organization, handler)
        client = login(clerk)
        client.post("/console/counter/", {"point": "kejiyuan"})
        page = text(client.get(f"/console/applications/{draft.number}/"))
    assert ours.serial in page
    assert by_uscc.serial in page
    assert theirs.serial not in page


# --- a registration's claim holds nobody else's certificates ---------------------------------


def test_a_claimed_uscc_holds_no_certificate_issued_to_it_before(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """Before: a registration that typed an enterprise's USCC (a claim, ``licence_unchecked``,
    the enterprise's licence never seen) held every certificate issued to that USCC before the
    enterprise had an account here (a batch's): 我的证书 listed them and the PEM downloaded, the
    renewal was quoted and an application for it opened (a line that blocks the enterprise's
    own), although "nothing of anyone else is attached to the organisation while it is a claim"
    (docs/accounts.md). ``Certificate.belongs_to`` and ``of_organization`` counted the USCC
    whatever the organisation's proof."""
    from certhall.certlogin.services import organization_certificates
    from certhall.errors import NotFound
    from certhall.hall import renewal, services
    from certhall.hall.items import ItemRequest

    cert = ending_at(admin, organization, ENDS)
    type(cert).objects.filter(pk=cert.pk).update(organization=None)  # issued to the USCC
    Organization.objects.filter(pk=organization.pk).update(licence_unchecked=True)
    applicant.refresh_from_db()
    client = login(applicant)
    renew = ItemRequest(business="renew", serial=cert.serial, years=1)
    with at(FRIDAY):
        assert organization_certificates(applicant) == []
        assert cert.serial not in text(client.get("/my/"))
        assert client.get(f"/my/certificates/{cert.serial}.pem").status_code == 404
        with pytest.raises(NotFound):
            renewal.lookup(applicant, cert.serial, 1)
        draft = services.create_draft(applicant)
        with pytest.raises(NotFound) as unknown:
            services.add_item(applicant, draft.number, renew)
        assert unknown.value.code == "certificate_unknown"
        # proven (a reviewer saw the licence, or the certificate logged in): now it holds them
        Organization.objects.filter(pk=organization.pk).update(licence_unchecked=False)
        applicant.refresh_from_db()
        assert organization_certificates(applicant) == [type(cert).objects.get(pk=cert.pk)]
        assert renewal.lookup(applicant, cert.serial, 1).certificate.pk == cert.pk


# --- 404, not 403: another enterprise's objects read as missing ones ------------------------


def test_another_enterprises_order_reads_as_a_missing_one(
    applicant: User, handler: Handler, stranger: User
) -> None:
    """Found sound: the order page, the receipt and the API answer another enterprise's order
    exactly as an order that does not exist (the reference aside)."""
    with at(FRIDAY):
        theirs = online_paid_at(applicant, handler, FRIDAY).payment_reference
        missing = theirs[:-6] + "999999"
        client = login(stranger)
        for pattern in (
            "/payments/orders/{}",
            "/payments/receipt/{}.pdf",
            "/api/payments/orders/{}",
        ):
            a = client.get(pattern.format(theirs))
            b = client.get(pattern.format(missing))
            assert a.status_code == b.status_code == 404, pattern
            assert text(a).replace(theirs, "X") == text(b).replace(missing, "X"), pattern


# --- mass assignment through the API ---------------------------------------------------------


def test_extra_fields_in_a_body_set_nothing(
    applicant: User, handler: Handler, stranger: User, other_provider: Provider
) -> None:
    """Found sound: the API's bodies are schemas; a field they do not name (state, owner,
    provider, fee, payment) is ignored, what the service decides stays the service's."""
    client = login(applicant)
    token = client.get("/api/accounts/csrf").json()["csrf_token"]
    extra = {
        "state": "approved",
        "organization_id": stranger.organization_id,
        "organization": stranger.organization_id,
        "provider_id": other_provider.pk,
        "entered_by_id": stranger.pk,
        "fee_total": "0.00",
        "total": "0.00",
        "payment_reference": "ZF20261120-000001",
        "approved_at": "2026-11-20T10:00:00+08:00",
    }

    def send(method: str, url: str, body: dict[str, Any]) -> Any:
        return getattr(client, method)(
            url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token
        )

    with at(FRIDAY):
        made = send("post", "/api/hall/applications", {"handler_id": handler.pk, **extra})
        assert made.status_code == 201, made.content
        number = made.json()["number"]
        item = {
            "business": "new",
            "cert_type": "personal",
            "years": 2,
            "person_name": "王五",
            "person_id_number": LEGAL_REP_ID,
            "fee": "0.00",
            "done_at": "2026-11-20T10:00:00+08:00",
        }
        added = send("post", f"/api/hall/applications/{number}/items", item)
        assert added.status_code == 201, added.content
        patched = send("patch", f"/api/hall/applications/{number}", {"address": "x", **extra})
        assert patched.status_code == 200, patched.content
    row = Application.objects.get(number=number)
    assert row.state == "draft" and row.approved_at is None
    assert row.organization_id == applicant.organization_id and row.entered_by_id == applicant.pk
    assert row.provider_id != other_provider.pk
    assert row.payment_reference in ("", None)
    assert row.items.get().fee > 0


# --- CSRF on every unsafe page route ---------------------------------------------------------

#: The page routes that take a POST without the token: servers calling, not browsers (each
#: authenticates its request otherwise: a gateway's signature, an OCSP request is a read).
SERVER_TO_SERVER = {"payments-notify", "ocsp", "/ocsp/", "hall-identity:notify"}
#: A value for each named group of a regular-expression route.
SAMPLES = {"encoded": "MAA=", "serial": "1f", "fmt": "pem", "reference": "ZF20261120-000001"}


def _routes(patterns: list[Any], prefix: str = "", space: str = "") -> list[tuple[str, str, Any]]:
    """(route, name with its namespaces, pattern) of every page route under ``patterns``."""
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            if route.startswith("api/"):
                continue  # ninja's, CSRF-checked by its session (tests/web/test_errors.py)
            inner = f"{space}{pattern.namespace}:" if pattern.namespace else space
            found += _routes(pattern.url_patterns, route, inner)
        else:
            found.append((route, f"{space}{pattern.name}", pattern))
    return found


def _concrete(route: str) -> str:
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:str|slug|path):\w+>", "x1", route)
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLES[m[1]], route)
    return "/" + route.strip("^$").replace("\\.", ".")


def test_every_page_route_refuses_a_post_without_the_csrf_token(applicant: User) -> None:
    """Found sound: every page route of the site (the resolver's whole tree, the API aside)
    answers a POST without the token with the 403 page, a logged-in enterprise's included;
    only the server-to-server routes are exempt."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant)
    exempt, tried = set(), 0
    for route, name, pattern in _routes(get_resolver().url_patterns):
        url = _concrete(route)
        if getattr(pattern.callback, "csrf_exempt", False):
            exempt.add(url if pattern.name is None else name)
            continue
        response = client.post(url, {"x": "1"})
        assert response.status_code == 403, (url, response.status_code)
        assert "页面已过期" in text(response), url
        tried += 1
    assert exempt == SERVER_TO_SERVER
    assert tried > 100


# --- one cache rule: every page route of every role (web.private) ----------------------------

#: Public answers with their own caching (docs/security.md): the CA certificates, the CRLs and
#: OCSP (its refusal of a malformed request ``no-store``), whoever asks.
OWN_CACHING = {"ca-certificate", "crl", "ocsp", "/ocsp/", "ocsp-get"}


def _cache_of_every_route(client: Client) -> dict[str, str]:
    """The Cache-Control of a GET of every page route (sample arguments: a 404 answers too),
    by name (or URL when unnamed); logging out left out."""
    seen = {}
    for route, name, pattern in _routes(get_resolver().url_patterns):
        if "logout" in route:
            continue
        url = _concrete(route)
        response = client.get(url)
        seen[url if pattern.name is None else name] = response.get("Cache-Control", "")
    return seen


def test_every_page_route_of_every_role_is_private(applicant: User, make_user: Any) -> None:
    """The one rule (12-07, helper h5): the views' own ``never_cache`` are gone, and every
    answer to an enterprise, a reviewer, a CA admin, a refund officer or an auditor, 404s and
    refusals included, is ``private, no-store``; only the public certificates and CRLs keep their
    own caching."""
    roles = [applicant] + [
        make_user(role) for role in (Role.REVIEWER, Role.CA_ADMIN, Role.REFUND_OFFICER)
    ]
    for user in roles:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        with at(FRIDAY):
            seen = _cache_of_every_route(client)
        assert len(seen) > 100
        public = {name for name, cache in seen.items() if "public" in cache}
        assert public <= OWN_CACHING, (user.role, public)
        wrong = {
            name: cache
            for name, cache in seen.items()
            if name not in OWN_CACHING and not ("private" in cache and "no-store" in cache)
        }
        assert not wrong, (user.role, wrong)


def test_anonymous_pages_private_by_the_list_and_the_rest_cacheable(hall_ca: Any) -> None:
    """A visitor without a session: the pages that are one person's anyway (web.private's
    ALWAYS_PRIVATE: 登录, 注册, the refund pages, 查看答复, 证书状态查询, the identity link) are
    ``private, no-store`` although no view says so any more; the portal's notices, the CA
    certificate and the CRL stay cacheable (no ``no-store``) when they set no cookie."""
    from certhall.web.private import ALWAYS_PRIVATE

    client = Client(raise_request_exception=False)
    client.cookies["csrftoken"] = "x" * 32  # a returning visitor: no cookie set again
    with at(FRIDAY):
        seen = _cache_of_every_route(client)
    for name in ALWAYS_PRIVATE:
        assert seen[name] == "private, no-store", (name, seen[name])
    slug = CertificateAuthority.objects.order_by("pk").first().slug  # type: ignore[union-attr]
    for url in ("/notices/", f"/ca/{slug}.crt", f"/crl/{slug}.crl"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.get("Cache-Control", ""), url
