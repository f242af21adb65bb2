"""Offline applications at a participating CA's counter (线下申请), for the announcement's special
cases only: the enterprise deregistered or changed, the certificate expired or lost.

The counter staff enter it against the announcement's checklist (三、(二) 1-3)::

    licence            企业营业执照原件及复印件                      always
    change_proof       企业注销或变更的有关证明材料                  deregistered / changed
    person_id          法定代表人/负责人有效身份证件原件及复印件     always (居民身份证, 港澳/台湾
                                                                     通行证 or 护照)
    bank_card          法定代表人/负责人本人银行卡原件及复印件       not for an institutional
                                                                     executive partner
    delegate_id        委派代表的身份证原件及复印件                  partnership whose executive
                                                                     partner is an institution
    opening_permit     申请单位的开户许可证原件及复印件              that partnership, instead of
                                                                     the bank card

Every copy is marked as signed and fingerprinted (签字按指纹). The refund goes to the legal
representative's own bank card (account name = the person's name), or for that partnership to
the applicant's own account (account name = the enterprise's name).

The phone the application registers is proven at the desk before anything is stored (12-07:
the number and the amount go to it by SMS, and 进度查询 opens with a code sent to it, so a
mistyped phone handed them to a stranger): the clerk asks a code for it
(:func:`request_phone_code`, the one SMS-code mechanism ``accounts.codes``, purpose
``refund_counter``), the representative reads it from their phone, and :func:`enter_offline`
takes it in the application's transaction. Wrong codes count per phone (5 in 15 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from certhall import clock, ratelimit
from certhall.accounts import codes
from certhall.accounts.models import Organization, SmsCode, User
from certhall.accounts.permissions import require_role
from certhall.accounts.validation import mobile
from certhall.accounts.validation import text as free_text
from certhall.accounts.validation import uscc as valid_uscc
from certhall.audit import services as audit
from certhall.errors import InvalidInput, about
from certhall.pki.identity import ID_DOCUMENT_KINDS, validate_id_document
from certhall.refunds import notices
from certhall.refunds.eligibility import explain
from certhall.refunds.models import Channel, PayeeKind, RefundApplication, SpecialCase
from certhall.refunds.records import get_programme
from certhall.refunds.services import (
    COUNTER_ROLES,
    BankAccount,
    create_application,
    require_not_applied,
    require_participating,
    require_window,
    submitting,
)

#: (key, label) in the announcement's order.
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("licence", "企业营业执照原件及复印件"),
    ("change_proof", "企业注销或变更的有关证明材料"),
    ("person_id", "法定代表人/负责人有效身份证件原件及复印件"),
    ("bank_card", "法定代表人/负责人本人银行卡原件及复印件"),
    ("delegate_id", "委派代表的身份证原件及复印件"),
    ("opening_permit", "申请单位的开户许可证原件及复印件"),
)
LABELS = dict(CHECKLIST)
#: Material that is a proof, not a copy to sign (the announcement asks signatures on copies).
NOT_SIGNED = frozenset({"change_proof"})
#: Wrong codes typed for a phone at a counter (as for a registration's).
CODE_LIMIT = ratelimit.Limit("refund_counter_code", 5, 900, "rate_limited_refund_counter_code")


def required_items(special_case: str, partnership: bool) -> list[str]:
    """The checklist items this case needs, in the announcement's order. A partnership whose
    executive partner is an institution gives its delegate's ID instead of the legal
    representative's and its opening permit instead of the bank card (the announcement's items 2
    and 3: "合伙企业执行事务合伙人为机构的,则提供..."; the institution has neither)."""
    needed = {"licence"}
    if special_case in (SpecialCase.DEREGISTERED, SpecialCase.CHANGED):
        needed.add("change_proof")
    needed |= {"delegate_id", "opening_permit"} if partnership else {"person_id", "bank_card"}
    return [key for key, _ in CHECKLIST if key in needed]


@dataclass(frozen=True)
class OfflineEntry:
    uscc: str
    enterprise_name: str
    special_case: str
    person_name: str
    id_kind: str
    id_number: str
    phone: str
    account: BankAccount
    #: A partnership whose executive partner is an institution (合伙企业执行事务合伙人为机构).
    partnership: bool = False
    delegate_name: str = ""
    delegate_id_number: str = ""
    #: Checklist keys received (original seen, copy taken) and copies signed and fingerprinted.
    received: frozenset[str] = field(default_factory=frozenset)
    signed: frozenset[str] = field(default_factory=frozenset)
    #: The SMS code sent to ``phone`` (:func:`request_phone_code`), read out by the person.
    code: str = ""


def _checklist(entry: OfflineEntry) -> dict[str, object]:
    needed = required_items(entry.special_case, entry.partnership)
    missing = [LABELS[k] for k in needed if k not in entry.received]
    if missing:
        raise InvalidInput(code="refund_checklist_missing", items="、".join(missing))
    unsigned = [LABELS[k] for k in needed if k not in NOT_SIGNED and k not in entry.signed]
    if unsigned:
        raise InvalidInput(code="refund_checklist_unsigned", items="、".join(unsigned))
    record: dict[str, object] = {
        "items": {
            k: {"label": LABELS[k], "received": True, "signed": k not in NOT_SIGNED} for k in needed
        },
        "partnership": entry.partnership,
    }
    # That partnership's legal representative is the institution: its delegate is the person.
    if not entry.partnership or entry.person_name.strip() or entry.id_number.strip():
        record["person_name"] = free_text(entry.person_name, "法定代表人/负责人姓名", 64)
        record["id_kind"] = entry.id_kind
        record["id_kind_label"] = ID_DOCUMENT_KINDS.get(entry.id_kind, "")
        record["id_number"] = validate_id_document(entry.id_kind, entry.id_number)
    if entry.partnership:
        record["delegate_name"] = free_text(entry.delegate_name, "委派代表姓名", 64)
        record["delegate_id_number"] = validate_id_document("resident_id", entry.delegate_id_number)
    return record


def request_phone_code(
    actor: User, programme_slug: str, phone: str, *, client: str | None
) -> codes.CodeSent:
    """Send the code that proves ``phone`` at the counter (``accounts.codes``: its limits, its
    audit ``accounts.code.send`` with the clerk as actor). A refusal is audited."""
    with audit.refusals_recorded(
        actor,
        "refunds.counter.code",
        object_type="refund_programme",
        object_id=programme_slug.strip()[:50],
    ):
        require_role(actor, *COUNTER_ROLES)
        programme = get_programme(programme_slug)
        require_participating(programme, actor)
        require_window(programme)
        return codes.request_code(phone, SmsCode.Purpose.REFUND_COUNTER, client=client, actor=actor)


def enter_offline(
    actor: User, programme_slug: str, entry: OfflineEntry, *, now: datetime | None = None
) -> RefundApplication:
    """A counter's offline application (audited), once ``entry.code`` proves ``entry.phone``;
    the enterprise then follows it with the application number, its USCC and an SMS code to
    that phone. A refusal is audited; nothing is stored and the code stays usable."""
    with submitting(actor, programme_slug):
        return _enter_offline(actor, programme_slug, entry, now or clock.now())


def _enter_offline(
    actor: User, programme_slug: str, entry: OfflineEntry, now: datetime
) -> RefundApplication:
    require_role(actor, *COUNTER_ROLES)
    programme = get_programme(programme_slug)
    require_participating(programme, actor)
    require_window(programme)
    if entry.special_case not in SpecialCase.values:
        raise InvalidInput(code="refund_special_case").naming("special_case")
    code = valid_uscc(entry.uscc)
    require_not_applied(programme, code)
    with about("enterprise_name"):
        name = free_text(entry.enterprise_name, "企业名称", 128)
    checklist = _checklist(entry)
    if entry.partnership:
        account = entry.account.checked(name, "企业名称")
        payee = PayeeKind.ENTERPRISE
    else:
        account = entry.account.checked(str(checklist["person_name"]), "法定代表人/负责人姓名")
        payee = PayeeKind.LEGAL_REPRESENTATIVE
    phone = mobile(entry.phone)
    if not entry.code.strip():
        raise InvalidInput(code="refund_counter_code_empty").naming("code")
    guess = codes.reserve_guess(
        phone, SmsCode.Purpose.REFUND_COUNTER, [(CODE_LIMIT, phone)], now=now
    )
    try:
        with transaction.atomic():  # the code, and the SMS with its number, go with it
            codes.take(phone, SmsCode.Purpose.REFUND_COUNTER, entry.code, now)
            application = create_application(
                actor,
                programme,
                explain(programme, code),
                enterprise_name=name,
                channel=Channel.OFFLINE,
                account=account,
                payee_kind=payee,
                phone=phone,
                # the enterprise's organisation, never a registration's claim on its USCC (a
                # stranger can register a deregistered enterprise's: docs/accounts.md, "Who
                # proves ...")
                organization=Organization.objects.filter(
                    uscc=code, licence_unchecked=False
                ).first(),
                provider_id=actor.provider_id,
                special_case=entry.special_case,
                checklist=checklist,
            )
            notices.told(actor, application)
    except codes.CodeRefused as refused:  # a guess at the code: it counts
        raise InvalidInput(code="refund_counter_code", reason=refused.message).naming(
            "code"
        ) from None
    except BaseException:
        ratelimit.release(guess)  # not a guess at the code: it does not count
        raise
    ratelimit.release(guess)
    return application
