import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    """A model change without its migration fails here, not on someone's production deploy."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_no_migration_replaces_another() -> None:
    """The CLI's start-up check (``cli.main._pending_migrations``) takes "every file on disk is
    recorded" for "nothing pending"; a squashed migration would need Django's rules for it."""
    from django.db.migrations.loader import MigrationLoader

    assert MigrationLoader(None, ignore_no_migrations=True).replacements == {}
