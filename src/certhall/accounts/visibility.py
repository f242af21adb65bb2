"""Who may see what: one rule for every row that belongs to a customer and a CA.

Applications, orders, Ukeys and certificates each belong to one organisation (the enterprise
that is the customer) and one provider (the CA that serves it). The rule:

* an applicant (an enterprise's account) sees only its own organisation's rows;
* a CA's staff (clerk, reviewer, issuer, CA admin, auditor) see only their provider's rows,
  whatever organisation they belong to; system actors are CA admins of the home provider;
* any other role (the refund officer) sees none of them: Forbidden.

The models' managers are :class:`VisibleQuerySet` s: ``Model.objects.visible_to(actor)`` is
what list services start from, and ``Model.objects.require_visible(actor, row)`` checks a row a
get service has found. Both ask the same filter, so the list and the single row can never
disagree. To an enterprise, another enterprise's row is answered exactly as a row that does not
exist (the get service passes its own not-found refusal as ``missing``): the same status and the
same words, so nobody can probe which application, order or certificate numbers exist. A CA's
staff are told "another provider's" (403). What the actor may *do*
with a visible row is the business of each service (roles, channel, state).
"""

from __future__ import annotations

from typing import Any, Literal, Self, TypeVar

from django.db import models
from django.db.models import Q

from certhall.accounts.models import PROVIDER_ROLES, Role, User
from certhall.accounts.permissions import require_organization, require_provider, require_role
from certhall.errors import CerthallError

#: The roles that see rows of this kind at all.
VIEW_ROLES = (Role.APPLICANT, *sorted(PROVIDER_ROLES))

_M = TypeVar("_M", bound=models.Model)
Scope = Literal["organization", "provider"]


class VisibleQuerySet(models.QuerySet[_M]):
    """Rows with an ``organization`` and a ``provider`` (subclasses name other paths)."""

    #: The lookup from a row to its provider's primary key.
    provider_lookup = "provider_id"

    def of_organization(self, organization_id: int) -> Self:
        """The rows that belong to this organisation."""
        return self.filter(organization_id=organization_id)

    def visible_to(self, actor: User) -> Self:
        """The rows ``actor`` may see (Forbidden for a role that sees none of them)."""
        scope = self.scope(actor)
        return self.none() if scope is None else self.within(*scope)

    def scope(self, actor: User) -> tuple[Scope, int] | None:
        """Whose rows ``actor`` sees: an organisation's or a provider's, and its key (None: no
        rows at all). :meth:`visible_to` is ``within(*scope(actor))``; a read prepared once
        (``certhall.reads``) takes the key as its value."""
        require_role(actor, *VIEW_ROLES)
        if actor.role == Role.APPLICANT:
            own = actor.organization_id
            return None if own is None else ("organization", own)
        return None if actor.provider_id is None else ("provider", actor.provider_id)

    def within(self, scope: Scope, key: int) -> Self:
        """The rows of that organisation or that provider."""
        if scope == "organization":
            return self.of_organization(key)
        return self.filter(Q(**{self.provider_lookup: key}))

    def require_visible(
        self, actor: User, row: Any, *, missing: CerthallError | None = None
    ) -> None:
        """Forbidden unless ``row`` is one of the rows ``actor`` may see; to an applicant,
        ``missing`` (the refusal the service gives for a row that does not exist) instead.

        A row that carries its own ``organization_id`` and ``provider_id`` (the default paths)
        is checked on the values just loaded, without a query; other paths ask the database
        the same filter as :meth:`visible_to`."""
        if self._visible_as_loaded(actor, row):
            return
        if not self._checks_as_loaded() and self.visible_to(actor).filter(pk=row.pk).exists():
            return
        # No organisation or provider matches None: these raise the refusal each side reads
        # everywhere else ("belongs to another organisation" / "... another provider").
        if actor.role == Role.APPLICANT:
            if missing is not None:
                missing.for_audit = {"other_organization": True}  # the audit log knows
                raise missing
            require_organization(actor, None)
        require_provider(actor, None)

    def _checks_as_loaded(self) -> bool:
        cls = type(self)
        return (
            cls.provider_lookup == "provider_id"
            and cls.of_organization is VisibleQuerySet.of_organization
            and cls.visible_to is VisibleQuerySet.visible_to
        )

    def _visible_as_loaded(self, actor: User, row: Any) -> bool:
        """:meth:`visible_to`'s filter, evaluated on ``row`` as loaded (default paths only)."""
        if not self._checks_as_loaded():
            return False
        require_role(actor, *VIEW_ROLES)
        if actor.role == Role.APPLICANT:
            own = actor.organization_id
            return own is not None and row.organization_id == own
        return actor.provider_id is not None and row.provider_id == actor.provider_id
