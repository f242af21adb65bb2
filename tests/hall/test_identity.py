"""经办人实名核验 of an online 新办: the QR code's phone URL, both ID photos, the liveness
provider's signed outcome (the local sandbox behind the provider interface), expiry, and what
submission and review make of it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.test import Client

from certhall import config
from certhall.accounts.models import Handler, User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.errors import CerthallError, Conflict, InvalidInput, NotFound
from certhall.hall import documents, identity, liveness, realname, review, services
from certhall.hall.models import Application, Document, IdentityCheck
from certhall.hall.states import State
from tests.hall.conftest import (
    FRIDAY,
    JPEG,
    MONDAY,
    ONLINE_NEW_DOCUMENTS,
    at,
    online_draft,
    pass_identity,
    pay_online,
    upload,
)

pytestmark = pytest.mark.django_db
Check = IdentityCheck.State


def _draft_without_identity(applicant: User, handler: Handler) -> Application:
    return online_draft(applicant, handler, identity_check=False)


def _photos(check: IdentityCheck) -> IdentityCheck:
    for side in ("front", "back"):
        content = ONLINE_NEW_DOCUMENTS[realname.SIDES[side]]
        check = identity.upload_photo(check.token, side, filename=f"{side}.jpg", chunks=[content])
    return check


def _answer(check: IdentityCheck, outcome: str, reason: str = "") -> None:
    body, signature = liveness.SANDBOX.notification(check.reference, outcome, reason)
    identity.receive_result("sandbox", body, signature, "198.51.100.7")


def test_the_phone_uploads_both_photos_and_the_provider_passes_the_check(
    applicant: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        assert documents.missing(draft, draft.items.all()) == [
            "缺少：经办人身份证正面照",
            "缺少：经办人身份证反面照",
            "未完成经办人实名核验（请在“实名核验”一步用手机扫码完成）",
        ]
        check = identity.start(applicant, draft.number)
        assert check.state == Check.WAITING and len(check.token) >= 43
        check = identity.upload_photo(check.token, "front", filename="f.jpg", chunks=[JPEG])
        assert check.state == Check.WAITING  # one side is not enough
        check = identity.upload_photo(check.token, "back", filename="b.jpg", chunks=[JPEG + b"b"])
        assert check.state == Check.PHOTOS
        check, url = identity.begin(check.token)
        assert check.state == Check.VERIFYING and check.reference.startswith("SBX")
        assert url == f"/hall/identity/sandbox/{check.token}/"
        _answer(check, "passed")
        check.refresh_from_db()
        assert check.state == Check.PASSED and check.finished_at is not None
        current = documents.current(draft)
        assert current["handler_id_front"].sha256 == check.front_sha256
        assert current["handler_id_back"].uploaded_by == applicant  # on the applicant's behalf
        assert documents.missing(draft, draft.items.all()) == []
        assert services.submit(applicant, draft.number).state == State.AWAITING_PAYMENT
    actions = list(
        AuditEvent.objects.filter(action__startswith="hall.identity")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "hall.identity.start",
        "hall.identity.photos",
        "hall.identity.begin",
        "hall.identity.passed",
    ]
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("outcome", "state"), [("failed", Check.FAILED), ("timeout", Check.TIMED_OUT)]
)
def test_a_failed_or_timed_out_check_does_not_count_and_submission_is_refused(
    applicant: User, handler: Handler, outcome: str, state: str
) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check = pass_identity(applicant, draft.number, outcome=outcome)
        assert check.state == state
        with pytest.raises(InvalidInput, match="未完成经办人实名核验") as refused:
            services.submit(applicant, draft.number)
        assert refused.value.code == "documents_incomplete"
        # the next check starts afresh and can pass
        assert pass_identity(applicant, draft.number).state == Check.PASSED
        assert services.submit(applicant, draft.number).state == State.AWAITING_PAYMENT


def test_the_sandbox_reason_reaches_the_check(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check, _ = identity.begin(_photos(identity.start(applicant, draft.number)).token)
        _answer(check, "failed", "人脸与证件照片不一致")
        check.refresh_from_db()
    assert (check.state, check.reason) == (Check.FAILED, "人脸与证件照片不一致")


def test_a_failed_check_shows_the_phone_a_way_back_to_the_step(
    applicant: User, handler: Handler
) -> None:
    """A customer who does it all on the phone (the QR code's link tapped, not scanned) read
    请在电脑上重新生成二维码后再试 and nothing to tap: the passed page links back to the
    application, the failed one and one made void by a newer code now to the wizard's 实名核验
    step (a login first)."""
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check, _ = identity.begin(_photos(identity.start(applicant, draft.number)).token)
        _answer(check, "failed", "人脸与证件照片不一致")
        failed = Client().get(f"/hall/identity/m/{check.token}/").content.decode()
        other = _draft_without_identity(applicant, handler)
        voided = identity.start(applicant, other.number)
        identity.start(applicant, other.number)
        void = Client().get(f"/hall/identity/m/{voided.token}/").content.decode()
    assert "人脸与证件照片不一致" in failed
    assert f'href="/hall/applications/{draft.number}/identity/" id="phone-again"' in failed
    assert "已作废" in void
    assert f'href="/hall/applications/{other.number}/identity/" id="phone-again"' in void


def test_the_phone_page_speaks_to_a_phone_and_a_computer_alike(
    applicant: User, handler: Handler
) -> None:
    """Since 12-06 a handler may do 实名核验 on the phone that did the wizard (在本机上传身份证
    并核验): the phone's page and the invalid link said 请回到电脑上, 请在电脑上重新生成二维码
    and 电脑上最新的二维码, untrue there. Each now names the page where the application is
    being done, whichever device holds it."""
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check, _ = identity.begin(_photos(identity.start(applicant, draft.number)).token)
        _answer(check, "failed", "人脸与证件照片不一致")
        failed = Client().get(f"/hall/identity/m/{check.token}/").content.decode()
        passed = pass_identity(applicant, draft.number)
        done = Client().get(f"/hall/identity/m/{passed.token}/").content.decode()
        other = _draft_without_identity(applicant, handler)
        voided = identity.start(applicant, other.number)
        identity.start(applicant, other.number)
        void = Client().get(f"/hall/identity/m/{voided.token}/").content.decode()
        unknown = Client().get("/hall/identity/m/" + "0" * 32 + "/")
    pages = {"failed": failed, "passed": done, "void": void, "unknown": unknown.content.decode()}
    assert [name for name, page in pages.items() if "电脑" in page] == []
    assert "实名核验已通过。请回到办理申请的页面继续办理" in done
    assert "请回到办理申请的页面重新生成二维码后再试" in failed
    assert "此二维码已作废，请使用办理申请的页面上最新的二维码" in void
    assert unknown.status_code == 404
    assert "实名核验链接无效或已作废，请回到办理申请的页面重新生成二维码。" in pages["unknown"]


def test_a_new_check_voids_the_open_one(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        first = _photos(identity.start(applicant, draft.number))
        second = identity.start(applicant, draft.number)
        first.refresh_from_db()
        assert first.state == Check.CANCELLED and second.state == Check.WAITING
        with pytest.raises(Conflict) as refused:
            identity.begin(first.token)
        assert refused.value.code == "identity_state"
        assert identity.latest(draft) == second


def test_a_check_times_out_when_its_time_is_up(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check = identity.start(applicant, draft.number)
    with at(FRIDAY + timedelta(minutes=identity.VALID_MINUTES, seconds=1)):
        assert identity.by_token(check.token).state == Check.TIMED_OUT
        with pytest.raises(Conflict):
            identity.upload_photo(check.token, "front", filename="f.jpg", chunks=[JPEG])
    assert Document.objects.filter(application=draft, kind="handler_id_front").count() == 0
    assert AuditEvent.objects.filter(action="hall.identity.timed_out").count() == 1


def test_forged_or_malformed_notifications_change_nothing(
    applicant: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check, _ = identity.begin(_photos(identity.start(applicant, draft.number)).token)
        body, _signature = liveness.SANDBOX.notification(check.reference, "passed")
        for forged in ("0" * 64, ""):
            with pytest.raises(InvalidInput) as refused:
                identity.receive_result("sandbox", body, forged, "203.0.113.9")
            assert refused.value.code == "identity_signature"
        for bad in (b'{"reference": "x", "outcome": "maybe"}', b"[" * 100_000):
            with pytest.raises(InvalidInput) as refused:
                identity.receive_result("sandbox", bad, liveness.SANDBOX.sign(bad), "203.0.113.9")
            assert refused.value.code == "identity_notification"
        with pytest.raises(NotFound):
            identity.receive_result("wechat", body, "x", "203.0.113.9")
        check.refresh_from_db()
        assert check.state == Check.VERIFYING
        # refusals from one address are recorded once per window, not once each
        [event] = AuditEvent.objects.filter(action="hall.identity.notify")
        # the one refusal recorder: the error's code and words, like every refusal
        assert (event.result, event.object_type) == ("refused", "identity_check")
        assert (event.after["error"], event.after["provider"]) == ("identity_signature", "sandbox")
        assert event.after["source"] == "203.0.113.9" and event.after["message"]
        # the genuine one, twice: applied once
        _answer(check, "passed")
        _answer(check, "failed")
        check.refresh_from_db()
    assert check.state == Check.PASSED
    assert AuditEvent.objects.filter(action="hall.identity.passed").count() == 1


def test_new_photos_after_the_check_need_a_new_check(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)  # passed
        assert documents.missing(draft, draft.items.all()) == []
        upload(applicant, draft.number, "handler_id_front", JPEG + b"someone else")
        assert documents.missing(draft, draft.items.all()) == [
            "未完成经办人实名核验（请在“实名核验”一步用手机扫码完成）"
        ]


def test_only_an_online_new_being_prepared_has_a_check(
    applicant: User, handler: Handler, reviewer: User
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        with pytest.raises(Conflict) as refused:
            identity.start(applicant, draft.number)
        assert refused.value.code == "identity_not_editable"
        pay_online(draft.number, applicant)
    with at(MONDAY):
        # the reviewer sees the passed check with the application, and approves
        page = Client()
        page.force_login(reviewer)
        shown = page.get(f"/console/applications/{draft.number}/").content.decode()
        assert "经办人实名核验" in shown and "核验通过" in shown
        assert review.approve(reviewer, draft.number).state == State.APPROVED


def test_another_enterprise_cannot_start_a_check(
    stranger: User, applicant: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        with pytest.raises(CerthallError) as refused:
            identity.start(stranger, draft.number)
        assert refused.value.http_status in (403, 404)
    assert not draft.identity_checks.exists()


def test_without_a_provider_the_check_says_so(
    applicant: User, handler: Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dataclasses.replace(config.get(), identity_sandbox=False)
    monkeypatch.setattr(config, "get", lambda: settings)
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        with pytest.raises(NotFound, match="实名核验服务暂不可用"):
            identity.start(applicant, draft.number)
        assert Client().get(f"/hall/identity/sandbox/{'x' * 43}/").status_code == 404


# --- over HTTP: the phone pages and the notify URL --------------------------------------------


def test_the_phone_page_masks_the_handler_and_refuses_unknown_tokens(
    applicant: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check = identity.start(applicant, draft.number)
        phone = Client()
        page = phone.get(f"/hall/identity/m/{check.token}/").content.decode()
        assert draft.number in page and handler.id_number not in page
        assert handler.name not in page and handler.name[0] + "*" in page
        # a fresh code waits for the photos: it is not "void" (found by a probe on a phone)
        assert 'id="phone-next"' in page and "已作废" not in page
        assert "待拍摄上传身份证" in page and "待扫码" not in page  # it has been scanned
        assert phone.get(f"/hall/identity/m/{'A' * 43}/").status_code == 404
        refused = phone.post(f"/hall/identity/m/{check.token}/", {"side": "front"})
        assert refused.status_code == 400 and "请选择要上传的照片" in refused.content.decode()
        exe = phone.post(
            f"/hall/identity/m/{check.token}/",
            {"side": "front", "file": _file(b"MZ\x90\x00" * 64, "a.jpg")},
        )
        assert exe.status_code == 400
    assert not Document.objects.filter(application=draft, kind="handler_id_front").exists()


def _file(content: bytes, name: str):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_the_notify_url_checks_the_signature(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        check, _ = identity.begin(_photos(identity.start(applicant, draft.number)).token)
        body, signature = liveness.SANDBOX.notification(check.reference, "passed")
        provider = Client(enforce_csrf_checks=True)
        url = "/hall/identity/notify/sandbox"
        forged = provider.post(
            url, body, content_type="application/json", headers={"X-Identity-Signature": "00"}
        )
        assert forged.status_code == 400
        genuine = provider.post(
            url, body, content_type="application/json", headers={"X-Identity-Signature": signature}
        )
        assert genuine.status_code == 200 and genuine.content == b"success"
        check.refresh_from_db()
    assert check.state == Check.PASSED


def test_without_a_provider_the_hall_goes_on_and_the_reviewer_is_told(
    applicant: User, handler: Handler, reviewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never stop the hall for want of an outside service: with no liveness provider the
    photos are uploaded with the documents, the application can be submitted, and the reviewer
    reads that nobody checked them."""
    settings = dataclasses.replace(config.get(), identity_sandbox=False)
    monkeypatch.setattr(config, "get", lambda: settings)
    customer = Client()
    customer.force_login(applicant)
    with at(FRIDAY):
        draft = _draft_without_identity(applicant, handler)
        docs = customer.get(f"/hall/applications/{draft.number}/documents/").content.decode()
        assert 'id="to-confirm"' in docs and "缺少：经办人身份证正面照" in docs
        assert "photo-by-phone" not in docs  # uploaded here, with the other documents
        page = customer.get(f"/hall/applications/{draft.number}/identity/").content.decode()
        assert 'id="identity-unavailable"' in page and 'id="identity-start"' not in page
        for kind in ("handler_id_front", "handler_id_back"):
            upload(applicant, draft.number, kind, ONLINE_NEW_DOCUMENTS[kind])
        assert documents.missing(draft, draft.items.all()) == []
        assert services.submit(applicant, draft.number).state == State.AWAITING_PAYMENT
        pay_online(draft.number, applicant)
    staff = Client()
    staff.force_login(reviewer)
    with at(MONDAY):
        shown = staff.get(f"/console/applications/{draft.number}/").content.decode()
    assert 'id="identity-unverified"' in shown and "须核验经办人身份证原件" in shown
