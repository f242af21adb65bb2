"""Publishing and serving CRLs. A CRL is signed on every revocation and on schedule, and the
one served is never past its nextUpdate: a stale one is replaced before it is served."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from certhall import clock, config
from certhall.accounts.models import User
from certhall.accounts.services import system_actor
from certhall.audit import services as audit
from certhall.ca import signers
from certhall.ca.models import CRL, Certificate, CertificateAuthority
from certhall.ca.reasons import REASONS
from certhall.errors import Conflict
from certhall.pki.crl import AnyEntry, build_crl

#: Older CRLs are kept for a while for audits, then pruned (the newest one is all that is served).
KEEP_CRLS = 10
PUBLISH_ATTEMPTS = 5


#: Rows fetched per round trip while reading the revoked certificates.
FETCH_ROWS = 20_000


def _entries(ca: CertificateAuthority) -> Iterator[AnyEntry]:
    """The CRL entries of ``ca``, read with one SQL statement and no model or ORM conversion per
    row (docs/performance.md, "CRL").

    A row revoked by ``ca.services.revoke`` carries its entry's DER, which goes into the CRL as
    it is. Older rows are encoded here: the database gives their revocation time as whole
    seconds since the epoch (the CRL encodes whole seconds), which is four times cheaper to turn
    into a datetime than Django's text form; equal seconds are converted once (revocations come
    in batches).
    """
    table = connection.ops.quote_name(Certificate._meta.db_table)
    if connection.vendor == "sqlite":
        epoch = "CAST(strftime('%%s', revoked_at) AS INTEGER)"
    else:
        epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM revoked_at)) AS BIGINT)"
    # The table name comes from the model, the values are parameters.
    sql = (
        f"SELECT crl_entry, serial, {epoch}, revocation_reason FROM {table} "  # noqa: S608
        "WHERE ca_id = %s AND status = %s"
    )
    reasons = {name: REASONS.get(name) for name in (*REASONS, "")}
    times: dict[int, datetime] = {}
    fromtimestamp = datetime.fromtimestamp
    with connection.cursor() as cursor:
        cursor.execute(sql, [ca.pk, Certificate.Status.REVOKED])
        while rows := cursor.fetchmany(FETCH_ROWS):
            if len(times) > 100_000:
                times.clear()
            for stored, serial, seconds, reason in rows:
                if stored is not None:
                    yield stored if stored.__class__ is bytes else bytes(stored)
                    continue
                # The revoked_has_time_and_reason constraint guarantees revoked_at here.
                when = times.get(seconds)
                if when is None:
                    when = times[seconds] = fromtimestamp(seconds, UTC)
                yield int(serial, 16), when, reasons.get(reason)


class _Counted:
    """Counts entries as ``build_crl`` streams them, so a million rows are never a list."""

    def __init__(self, entries: Iterator[AnyEntry]) -> None:
        self._entries = entries
        self.count = 0

    def __iter__(self) -> Iterator[AnyEntry]:
        for entry in self._entries:
            self.count += 1
            yield entry


def publish_crl(actor: User, ca: CertificateAuthority) -> CRL:
    """Sign a new full CRL with the next CRLNumber.

    Reading the entries and signing happen outside any write transaction: for a large CA that
    takes seconds, and on SQLite a write transaction locks the whole database. Only storing the
    CRL takes the CA row lock. If another process stored a CRL meanwhile, its number is taken:
    read and sign again with the next one. So the newest CRL always holds every revocation
    committed before it was read, and numbers only grow.
    """
    validity = timedelta(hours=config.get().crl_validity_hours)
    issuer = signers.issuer_for(ca)
    for _attempt in range(PUBLISH_ATTEMPTS):
        # The revocation count before the entries: every revocation it counts is among them.
        last, counted = CertificateAuthority.objects.values_list("crl_number", "revocations").get(
            pk=ca.pk
        )
        number = last + 1
        now = clock.now()
        entries = _Counted(_entries(ca))
        der = build_crl(issuer, entries, number, now, now + validity)
        with transaction.atomic():
            locked = CertificateAuthority.objects.select_for_update().get(pk=ca.pk)
            if locked.crl_number != last:
                continue
            crl = CRL.objects.create(
                ca=ca,
                number=number,
                this_update=now,
                next_update=now + validity,
                entries=entries.count,
                der=der,
            )
            locked.crl_number, locked.crl_revocations = number, counted
            locked.save(update_fields=["crl_number", "crl_revocations"])
            CRL.objects.filter(ca=ca, number__lte=number - KEEP_CRLS).delete()
            audit.record(
                actor,
                "ca.crl.publish",
                object_type="crl",
                object_id=f"{ca.slug}#{number}",
                after={"entries": entries.count, "next_update": crl.next_update.isoformat()},
            )
            return crl
    raise Conflict(code="crl_busy", ca=ca.slug)


def current_crl(ca: CertificateAuthority) -> CRL:
    """The newest CRL, replaced first if it is past (or within a minute of) its nextUpdate."""
    crl = CRL.objects.filter(ca=ca).order_by("-number").first()
    if crl is None or crl.next_update <= clock.now() + timedelta(minutes=1):
        crl = publish_crl(system_actor("crl"), ca)
    return crl


def refresh_due(now: datetime | None = None) -> list[CRL]:
    """Scheduled job: re-sign every CA's CRL once half its validity has passed, or at once
    when a committed revocation is missing from it."""
    now = now or clock.now()
    published = []
    for ca in CertificateAuthority.objects.all():
        crl = CRL.objects.filter(ca=ca).order_by("-number").first()
        if (
            crl is None
            or ca.revocations > ca.crl_revocations
            or now >= crl.this_update + (crl.next_update - crl.this_update) / 2
        ):
            published.append(publish_crl(system_actor("scheduler"), ca))
    return published
