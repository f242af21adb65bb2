"""我的证书: the organisation downloads its own certificates (PEM, DER) and their CA chain; another
organisation's certificate is refused (object-level), staff and anonymous users get nothing."""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.test import Client

from certhall.accounts.models import Role, User
from certhall.ca.models import CertificateAuthority
from certhall.pki.issuance import Subscriber
from tests.certlogin.support import issue_ours


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_certificates_pem_der_and_chain(admin: User, ca, make_user) -> None:  # type: ignore[no-untyped-def]
    _, cert, mine = issue_ours(admin)
    applicant = make_user(Role.APPLICANT)
    client = login(applicant)
    page = client.get("/my/").content.decode()
    for link in (
        f"/my/certificates/{mine.serial}.pem",
        f"/my/certificates/{mine.serial}.der",
        f"/my/certificates/{mine.serial}/chain.pem",
    ):
        assert f'href="{link}"' in page

    pem = client.get(f"/my/certificates/{mine.serial}.pem")
    assert pem.status_code == 200
    assert pem["Content-Disposition"] == f'attachment; filename="{mine.serial}.pem"'
    assert x509.load_pem_x509_certificate(pem.content) == cert

    der = client.get(f"/my/certificates/{mine.serial.upper()}.der")
    assert der.status_code == 200 and der["Content-Type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(der.content) == cert

    chain = client.get(f"/my/certificates/{mine.serial}/chain.pem")
    assert chain.status_code == 200
    issuing, root = x509.load_pem_x509_certificates(chain.content)
    assert cert.issuer == issuing.subject and issuing.issuer == root.subject == root.issuer
    root_der = bytes(CertificateAuthority.objects.get(kind="root").certificate_der)
    assert root_der == root.public_bytes(Encoding.DER)
    cert.verify_directly_issued_by(issuing)
    issuing.verify_directly_issued_by(root)


def test_another_organisations_certificate_is_refused(admin: User, ca, make_user) -> None:  # type: ignore[no-untyped-def]
    other = Subscriber(org_name="深圳市另一家科技有限公司", uscc="91440300MA5DC6QW9B")
    _, _, theirs = issue_ours(admin, other)
    applicant = make_user(Role.APPLICANT)
    client = login(applicant)
    assert theirs.serial not in client.get("/my/").content.decode()
    for url in (
        f"/my/certificates/{theirs.serial}.pem",
        f"/my/certificates/{theirs.serial}.der",
        f"/my/certificates/{theirs.serial}/chain.pem",
    ):
        response = client.get(url)
        # answered as a serial that does not exist: no 403 tells that it does
        assert response.status_code == 404, url
        assert b"BEGIN CERTIFICATE" not in response.content
        nothing = client.get(url.replace(theirs.serial, "7" * len(theirs.serial)))
        assert response.content.replace(theirs.serial.encode(), b"7" * len(theirs.serial)) == (
            nothing.content
        ), url
    assert client.get("/my/certificates/abcdef0123.pem").status_code == 404
    # staff use their console; anonymous users are sent to the certificate login
    assert (
        login(make_user(Role.CLERK)).get(f"/my/certificates/{theirs.serial}.pem").status_code == 403
    )
    anonymous = Client().get(f"/my/certificates/{theirs.serial}.pem")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/certificate/")


def test_a_certificate_in_the_renewal_window_says_so_and_links_to_renewal(  # type: ignore[no-untyped-def]
    admin: User, ca, make_user
) -> None:
    import time_machine

    from certhall.rules import default_catalog

    _, _, mine = issue_ours(admin)
    applicant = make_user(Role.APPLICANT)
    link = f'href="/hall/renew/?serial={mine.serial}"'
    assert link not in login(applicant).get("/my/").content.decode()  # a year to go
    days = default_catalog().online_renewal.days_before_expiry
    with time_machine.travel(mine.not_after - timedelta(days=days - 1), tick=False):
        page = login(applicant).get("/my/").content.decode()
    assert link in page and "即将到期" in page
    with time_machine.travel(mine.not_after + timedelta(days=2), tick=False):
        page = login(applicant).get("/my/").content.decode()
    assert 'id="org-certificates"' in page and link not in page  # expired: a new one instead


def test_no_certificate_yet_leads_to_the_hall(make_user) -> None:  # type: ignore[no-untyped-def]
    """An enterprise without a certificate here is offered the way to one (found at 390 px: an
    empty 我的证书 was a dead end)."""
    page = login(make_user(Role.APPLICANT)).get("/my/").content.decode()
    assert "本平台没有该单位的证书记录" in page and 'href="/hall/new/"' in page
