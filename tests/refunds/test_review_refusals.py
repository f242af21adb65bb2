"""A refused step on a refund application is audited, as a payout batch's refused release is:
an officer's second approval of their own first one, another role's decision, another
enterprise's supply, a counter's entry refused. Before 12-06 (a probe) the review services
and the applications' submit and supply wrote nothing when they refused, over the API too:
the log could not tell a probe of separation of duties from nothing at all."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhall.accounts.models import Provider, Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import CerthallError
from certhall.refunds import review, services
from certhall.refunds.counter import enter_offline
from certhall.refunds.models import Programme
from tests.refunds.conftest import NAME
from tests.refunds.test_applications import apply, offline_entry, records  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("records", "frozen")]


def refusals() -> list[tuple[str, str, str, str]]:
    rows = AuditEvent.objects.filter(result="refused").order_by("seq")
    return [(e.actor.partition(":")[2], e.action, e.object_id, e.after["error"]) for e in rows]


def test_each_refused_step_is_audited(
    actors: dict[str, User], open_programme: Programme, outsider: Provider
) -> None:
    stranger = User.objects.create(username="clerk-out", role=Role.CLERK, provider=outsider)
    application = apply(actors, open_programme)  # 700.00: two officers
    number = application.number
    review.approve(actors["officer"], number)
    steps = [
        lambda: review.approve(actors["officer"], number),  # the first officer again
        lambda: review.approve(actors["clerk"], number),
        lambda: review.reject(actors["officer2"], number, "   "),
        lambda: review.ask_more(actors["reviewer"], number, "请补充"),
        lambda: review.correct_account(actors["officer2"], number, application_account()),
        lambda: services.supply(actors["other_applicant"], number, "材料"),
        lambda: services.supply(actors["applicant"], number, "材料"),  # not asked for
        lambda: enter_offline(stranger, open_programme.slug, offline_entry()),
        lambda: enter_offline(actors["officer"], open_programme.slug, offline_entry()),
        lambda: apply(actors, open_programme),  # a second application
    ]
    for index, step in enumerate(steps):
        with pytest.raises(CerthallError):
            step()
            pytest.fail(f"step {index} was not refused")
    slug = open_programme.slug
    assert refusals() == [
        ("officer1", "refunds.application.approve", number, "refund_second_officer"),
        ("clerk-szca", "refunds.application.approve", number, "role_required"),
        ("officer2", "refunds.application.reject", number, "refund_reason_required"),
        ("reviewer", "refunds.application.ask_more", number, "role_required"),
        ("officer2", "refunds.application.correct_account", number, "refund_state"),
        ("app2", "refunds.application.resubmit", number, "refund_application_unknown"),
        ("app", "refunds.application.resubmit", number, "refund_supply_state"),
        ("clerk-out", "refunds.application.submit", slug, "refund_ca_not_participating"),
        ("officer1", "refunds.application.submit", slug, "role_required"),
        ("app", "refunds.application.submit", slug, "refund_already_applied"),
    ]
    # another enterprise's number was answered as missing; the log says whose it was
    other = AuditEvent.objects.get(result="refused", actor_id=actors["other_applicant"].pk)
    assert other.after.get("other_organization") is True


def application_account() -> services.BankAccount:
    return services.BankAccount(NAME, "6222020000000000001", "某银行")


def test_a_refused_decision_over_the_api_is_audited(
    actors: dict[str, User], open_programme: Programme
) -> None:
    number = apply(actors, open_programme).number
    client = Client()
    client.force_login(actors["clerk"])
    answer = client.post(
        f"/api/refunds/applications/{number}/reject",
        json.dumps({"reason": "不符合条件"}),
        content_type="application/json",
    )
    assert answer.status_code == 403
    assert refusals() == [("clerk-szca", "refunds.application.reject", number, "role_required")]


def _return_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("return.csv", b"", content_type="text/csv")


def test_another_roles_press_of_a_console_button_is_audited(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The officers' console asked the role at the door for its buttons too, before any
    service: a clerk's crafted POST was the 403 page and nothing in the log."""
    number = apply(actors, open_programme).number
    client = Client()
    client.force_login(actors["clerk"])
    console = "/refunds/console/"
    for path in (
        f"{console}applications/{number}/approve",
        f"{console}applications/{number}/reject",
        f"{console}batches/new",
        f"{console}batches/PB20220110-000001/release",
        f"{console}batches/settle",
        f"{console}programmes/sz-2021/",
    ):
        posted = {"reason": "x", "programme": "sz-2021", "bank_return": _return_file()}
        assert client.post(path, posted).status_code == 403
    assert refusals() == [
        ("clerk-szca", "refunds.application.approve", number, "role_required"),
        ("clerk-szca", "refunds.application.reject", number, "role_required"),
        ("clerk-szca", "refunds.batch.create", "sz-2021", "role_required"),
        ("clerk-szca", "refunds.batch.release", "PB20220110-000001", "role_required"),
        ("clerk-szca", "refunds.batch.settle", "sz-2021", "role_required"),
        ("clerk-szca", "refunds.programme.update", "sz-2021", "role_required"),
    ]
    anonymous = Client().post(f"{console}applications/{number}/approve")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert client.get(f"{console}applications/{number}/").status_code == 403  # pages as before
    assert client.get(f"{console}programmes/sz-2021/").status_code == 403
