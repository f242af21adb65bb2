"""A certificate another CA of the platform issued: only that CA renews, changes or revokes it.

Before 12-07 a home clerk could add a line for it (the revocation step refused it later, after
the fee was taken), and 我的证书 listed it with 在线续期, which an enterprise could start here.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from certhall.accounts.models import Handler, Organization, Provider, User
from certhall.ca.models import CertificateAuthority
from certhall.certlogin.services import organization_certificates
from certhall.errors import Forbidden, NotFound
from certhall.hall import renewal, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import ApplicationItem
from certhall.rules import SHANGHAI
from tests.hall.conftest import FRIDAY, at
from tests.hall.test_year_end import counter_draft, ending_at

pytestmark = pytest.mark.django_db

ENDS = datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI)


def test_a_certificate_of_another_ca_is_refused_at_the_counter_and_unknown_online(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    clerk: User,
    handler: Handler,
    other_provider: Provider,
) -> None:
    cert = ending_at(admin, organization, ENDS)
    revoke = ItemRequest(business="revoke", serial=cert.serial, revocation_reason="keyCompromise")
    renew = ItemRequest(business="renew", serial=cert.serial, years=1)
    with at(FRIDAY):
        # ours: the counter takes the line and the enterprise is quoted (the controls)
        draft = counter_draft(clerk, organization, handler)
        services.add_item(clerk, draft.number, revoke)
        services.remove_item(clerk, draft.number, draft.items.get().pk)
        assert renewal.lookup(applicant, cert.serial, 1).certificate == cert
        assert organization_certificates(applicant) == [cert]  # 我的证书, with 在线续期

        CertificateAuthority.objects.filter(pk=cert.ca_id).update(provider=other_provider)
        with pytest.raises(Forbidden) as refused:
            services.add_item(clerk, draft.number, revoke)
        assert refused.value.code == "certificate_other_provider"
        assert "其他电子认证服务机构" in refused.value.message

        online = services.create_draft(applicant, handler_id=handler.pk)
        with pytest.raises(NotFound) as unknown:
            services.add_item(applicant, online.number, renew)
        assert unknown.value.code == "certificate_unknown"
        with pytest.raises(NotFound):
            renewal.lookup(applicant, cert.serial, 1)
        assert organization_certificates(applicant) == []
    assert not ApplicationItem.objects.filter(target_certificate=cert).exists()
