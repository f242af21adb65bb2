"""certhall.reads.Prepared: the ORM's SQL compiled once, run with other values, giving the same
instances as the queryset itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.models import Max
from django.db.models.functions import Substr
from django.test.utils import CaptureQueriesContext

from certhall.accounts.models import Organization, Role, User
from certhall.reads import Prepared, keep_prefetched

pytestmark = pytest.mark.django_db


def _org(n: int) -> Organization:
    return Organization.objects.create(name=f"深圳第{n}医院", uscc=f"91440300MA5G{n:06d}")


def _fields(user: User) -> dict[str, object]:
    return {k: v for k, v in vars(user).items() if not k.startswith("_")}


def test_rows_are_what_the_queryset_gives_for_each_value() -> None:
    a, b = _org(1), _org(2)
    for i, org in enumerate((a, a, b)):
        User.objects.create(
            username=f"u{i}",
            role=Role.APPLICANT,
            organization=org,
            last_login=datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        )
    of_org = Prepared(lambda org: User.objects.filter(organization_id=org).order_by("-pk"))
    for org in (a, b, a):  # compiled once, run three times with other values
        expected = list(User.objects.filter(organization_id=org.pk).order_by("-pk"))
        got = of_org.rows(org.pk)
        assert [_fields(u) for u in got] == [_fields(u) for u in expected]
    # converters ran: an aware datetime in UTC on SQLite as on PostgreSQL, as the ORM gives it
    assert got[0].last_login == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert got[0].last_login.tzinfo is expected[0].last_login.tzinfo is UTC


def test_only_the_named_fields_and_the_key_are_loaded_the_rest_deferred() -> None:
    user = User.objects.create(
        username="alice", role=Role.APPLICANT, organization=_org(1), phone="13800000000"
    )
    # named out of the model's order: loaded into the right attributes all the same
    named = Prepared(
        lambda name: User.objects.filter(username=name), fields=("role", "username", "last_login")
    )
    got = named.first("alice")
    assert got is not None and got.pk == user.pk
    assert (got.username, got.role, got.last_login) == ("alice", Role.APPLICANT, None)
    assert got.get_deferred_fields() >= {"phone", "email"}
    with CaptureQueriesContext(connection) as queries:
        assert got.phone == "13800000000"  # loaded on access, as with only()
    assert len(queries) == 1
    assert named.first("bob") is None


def test_a_list_value_fills_an_in_clause_of_its_length() -> None:
    org = _org(1)
    users = [
        User.objects.create(username=f"u{i}", role=Role.APPLICANT, organization=org)
        for i in range(4)
    ]
    by_keys = Prepared(lambda keys: User.objects.filter(pk__in=keys).order_by("pk"))
    assert [u.username for u in by_keys.rows([users[0].pk, users[2].pk])] == ["u0", "u2"]
    assert [u.username for u in by_keys.rows([users[3].pk])] == ["u3"]
    assert [u.username for u in by_keys.rows([users[1].pk, users[3].pk])] == ["u1", "u3"]


def test_a_value_the_orm_does_not_pass_as_given_is_refused_on_first_use() -> None:
    # ``contains`` sends '%value%': the SQL does not carry the value itself.
    rewritten = Prepared(lambda name: User.objects.filter(username__contains=name))
    with pytest.raises(RuntimeError, match="not in the SQL"):
        rewritten.rows("ali")
    with pytest.raises(TypeError, match="value 0 is float"):
        Prepared(lambda x: User.objects.filter(pk=x)).rows(1.5)  # type: ignore[arg-type]


def test_limit_and_offset_are_parameters_of_one_statement() -> None:
    org = _org(1)
    for i in range(5):
        User.objects.create(username=f"u{i}", role=Role.APPLICANT, organization=org)
    ordered = Prepared(lambda org: User.objects.filter(organization_id=org).order_by("username"))
    with CaptureQueriesContext(connection) as queries:
        pages = [ordered.rows(org.pk, limit=2, offset=k) for k in (0, 2, 4)]
    assert [[u.username for u in page] for page in pages] == [["u0", "u1"], ["u2", "u3"], ["u4"]]
    assert len(queries) == 3 and all("LIMIT" in q["sql"] for q in queries)
    sliced = Prepared(lambda org: User.objects.filter(organization_id=org)[:2])
    with pytest.raises(RuntimeError, match="slice with rows"):
        sliced.rows(org.pk)


def test_related_rows_are_joined_in_and_set_as_select_related_sets_them() -> None:
    org = _org(1)
    User.objects.create(username="with", role=Role.APPLICANT, organization=org)
    User.objects.create(username="without", role=Role.REFUND_OFFICER)  # no organisation
    named = Prepared(
        lambda name: User.objects.filter(username=name),
        related={"organization": ("uscc", "name")},  # out of order, as above
    )
    with CaptureQueriesContext(connection) as queries:
        found = named.first("with")
        assert found is not None and found.organization == org
        assert (found.organization.name, found.organization.uscc) == (org.name, org.uscc)
        alone = named.first("without")  # the LEFT JOIN's nothing: None, not a row of Nones
        assert alone is not None and alone.organization is None
    assert len(queries) == 2  # one statement each, nothing loaded on access


def test_annotations_are_set_on_the_instances_as_the_queryset_sets_them() -> None:
    org = _org(1)
    for name in ("ann", "bo"):
        User.objects.create(username=name, role=Role.APPLICANT, organization=org)
    build = lambda org: (  # noqa: E731
        User.objects.filter(organization_id=org)
        .annotate(initial=Substr("username", 1, 1), joined=Max("organization__created_at"))
        .order_by("username")
    )
    got = Prepared(build, fields=("username",), annotations=("initial", "joined")).rows(org.pk)
    expected = list(build(org.pk))
    assert [(u.username, u.initial, u.joined) for u in got] == [
        (u.username, u.initial, u.joined) for u in expected
    ]
    assert got[0].initial == "a" and isinstance(got[0].joined, datetime)  # converted, as there


def test_rows_kept_as_prefetched_are_read_without_a_query() -> None:
    orgs = [_org(1), _org(2), _org(3)]
    for i, org in enumerate((orgs[0], orgs[1], orgs[0])):
        User.objects.create(username=f"u{i}", role=Role.APPLICANT, organization=org)
    members = Prepared(lambda keys: User.objects.filter(organization_id__in=keys).order_by("pk"))
    fresh = list(Organization.objects.filter(pk__in=[o.pk for o in orgs]).order_by("pk"))
    keep_prefetched(fresh, "users", members.rows([o.pk for o in fresh]))
    with CaptureQueriesContext(connection) as queries:
        assert [[u.username for u in o.users.all()] for o in fresh] == [["u0", "u2"], ["u1"], []]
        assert all(u.organization is o for o in fresh for u in o.users.all())
        assert fresh[0].users.count() == 2
    assert len(queries) == 0
    # a further filter is a query of that organisation's rows, as after prefetch_related
    assert [u.username for u in fresh[0].users.filter(username="u2")] == ["u2"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepares statements")
def test_on_postgresql_the_statement_is_prepared_once_per_connection() -> None:
    org = _org(1)
    User.objects.create(username="u", role=Role.APPLICANT, organization=org)
    of_org = Prepared(lambda org: User.objects.filter(organization_id=org))
    for _ in range(3):
        assert [u.username for u in of_org.rows(org.pk)] == ["u"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert sum('FROM "accounts_user" WHERE' in sql for sql in prepared) == 1
    # Django's own statements stay unprepared (connection poolers)
    list(User.objects.filter(organization_id=org.pk))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == len(prepared)
