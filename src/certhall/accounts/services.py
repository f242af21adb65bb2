"""Account services: system actors, staff accounts, demo accounts."""

from __future__ import annotations

import getpass

from django.db import transaction

from certhall.accounts.models import Provider, Role, User
from certhall.errors import NotFound

HOME_PROVIDER_SLUG = "szca"
HOME_PROVIDER_NAME = "深圳市电子商务安全证书管理有限公司"


def home_provider() -> Provider:
    """The provider whose CA this instance operates (created on first use)."""
    provider, _ = Provider.objects.get_or_create(
        slug=HOME_PROVIDER_SLUG, defaults={"name": HOME_PROVIDER_NAME}
    )
    return provider


def system_actor(name: str | None = None) -> User:
    """The actor for command-line and scheduled operations, named after the OS user."""
    username = f"system-{name or getpass.getuser()}"
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": Role.CA_ADMIN, "is_system": True, "provider": home_provider()},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    return user


def get_user(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound(f"no account named {username!r}") from None
