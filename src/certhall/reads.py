"""Reads that every request makes, compiled once: the ORM writes the SQL, later calls only run it.

Django turns a queryset into SQL anew each time it is evaluated: 0.3-0.8 ms of CPU here for the
reads of a hall page (the session, the user, the applicant's rows), a fifth of the page's CPU in
the running server (docs/performance.md, section 4), for statements whose shape never changes:
only the session key, the user or the organisation does. A :class:`Prepared` read asks the ORM
for the SQL of its queryset once per database connection (Django's own quoting, joins and
converters, on SQLite and PostgreSQL alike) and afterwards runs that SQL with the new values.

The rule for the queryset: its shape must not depend on the values (no ``if value:`` in the
builder), and it is not sliced (Django writes LIMIT into the SQL text: ``rows(limit=, offset=)``
sends them as parameters). The values are ints, strings or lists of ints; a list's length is
part of the shape (one compilation per length). A value the ORM did not pass through as given
is caught on first use: the SQL would not carry it, so compiling raises. On PostgreSQL the
statement is prepared on the server as well (:func:`prepared_cursor`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

from django.db import connections, models
from django.db.models.sql.compiler import SQLCompiler

Value = int | str | list[int]

#: Marker values a builder is called with; chosen so that no real value is one of them.
_INT_MARKER = -(2**31) + 7_000
_STR_MARKER = "\x1fcerthall-prepared-"


@dataclass(frozen=True)
class _Part:
    """The columns of one model in a row: the read's own, or one joined in by a foreign key."""

    model: type[models.Model]
    #: Attribute names in the order of the model's fields (``Model.from_db`` takes them so).
    names: list[str]
    start: int
    #: Where the primary key is among them (None there: a LEFT JOIN found nothing).
    key: int
    #: The foreign key it is joined by (None for the read's own model).
    via: Any = None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    #: For each parameter of the SQL, which value (and which element of a list) fills it; None
    #: for a constant of the builder's own.
    slots: tuple[tuple[int, int] | None, ...]
    compiler: SQLCompiler
    converters: dict[int, Any]
    own: _Part
    joined: tuple[_Part, ...]
    #: Where the annotations start in a row.
    annotated_from: int


class Prepared[M: models.Model]:
    """``build(*values)`` gives the queryset; :meth:`rows` its instances, with only ``fields``
    (and the primary key) loaded: all concrete fields when None; the others are deferred, as
    with ``only()``. ``related``: foreign keys of the model whose rows are joined in and set on
    each instance, as ``select_related`` does (the queryset's own ``select_related`` and
    ``prefetch_related`` are not carried over); a mapping names the fields to load of each
    (None: all). ``annotations``: names the builder's queryset annotates, set on each instance
    as the queryset sets them."""

    def __init__(
        self,
        build: Callable[..., models.QuerySet[M]],
        fields: Sequence[str] | None = None,
        related: Sequence[str] | Mapping[str, Sequence[str] | None] = (),
        annotations: Sequence[str] = (),
        using: str = "default",
    ) -> None:
        self._build, self._using = build, using
        self._annotations = tuple(annotations)
        self._fields = tuple(fields) if fields is not None else None
        self._related = dict(related) if isinstance(related, Mapping) else dict.fromkeys(related)
        # Per connection object (one per thread), so that converters run with their own.
        self._compiled: WeakKeyDictionary[Any, dict[tuple[Any, ...], _Compiled]] = (
            WeakKeyDictionary()
        )

    def rows(self, *values: Value, limit: int | None = None, offset: int = 0) -> list[M]:
        """The instances for these values; ``limit`` and ``offset`` are sent as parameters
        (the builder's queryset must not be sliced itself)."""
        connection = connections[self._using]
        shape = tuple(len(v) if isinstance(v, list) else type(v) for v in values)
        by_shape = self._compiled.setdefault(connection, {})
        compiled = by_shape.get(shape)
        if compiled is None:
            compiled = by_shape[shape] = self._compile(values)
        sql = compiled.sql
        params = [
            compiled.params[i] if slot is None else _pick(values, slot)
            for i, slot in enumerate(compiled.slots)
        ]
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        with prepared_cursor(connection) as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        if compiled.converters:
            found = list(compiled.compiler.apply_converters(found, compiled.converters))
        instances = [_instance(compiled.own, row, self._using) for row in found]
        for part in compiled.joined:
            for instance, row in zip(instances, found, strict=True):
                part.via.set_cached_value(instance, _instance(part, row, self._using))
        start = compiled.annotated_from
        for name_at, name in enumerate(self._annotations, start):
            for instance, row in zip(instances, found, strict=True):
                setattr(instance, name, row[name_at])
        return instances  # type: ignore[return-value]

    def first(self, *values: Value) -> M | None:
        found = self.rows(*values)
        return found[0] if found else None

    def _compile(self, values: Sequence[Value]) -> _Compiled:
        markers = [_marker(i, value) for i, value in enumerate(values)]
        queryset = self._build(*markers)
        if queryset.query.is_sliced:
            raise RuntimeError("prepared read: slice with rows(limit=, offset=), not the builder")
        model = queryset.model
        own = _part(model, self._fields, 0)
        lookups = list(own.names)
        joined = []
        for name, only in self._related.items():
            via = model._meta.get_field(name)
            if not isinstance(via.related_model, type):
                raise TypeError(f"prepared read: {name} is not a foreign key")
            part = _part(via.related_model, only, len(lookups), via)
            joined.append(part)
            lookups += [f"{name}__{part.model._meta.get_field(a).name}" for a in part.names]
        annotated_from = len(lookups)
        lookups += self._annotations
        compiler = queryset.values_list(*lookups).query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        where = _slots(markers)
        slots = tuple(where.get(_key(p)) for p in params)
        missing = set(where.values()) - set(slots)
        if missing:
            raise RuntimeError(f"prepared read: values {sorted(missing)} not in the SQL: {sql}")
        converters = compiler.get_converters([col for col, _sql, _alias in compiler.select])
        return _Compiled(
            sql, tuple(params), slots, compiler, converters, own, tuple(joined), annotated_from
        )


def _part(
    model: type[models.Model], only: Sequence[str] | None, start: int, via: Any = None
) -> _Part:
    """``only`` (all fields when None) and the primary key, as ``only()`` adds it, in the order
    of the model's fields."""
    pk = model._meta.pk
    if only is None:
        names = [f.attname for f in model._meta.concrete_fields]
    else:
        wanted = {model._meta.get_field(name).attname for name in only}  # type: ignore[union-attr]
        names = [f.attname for f in model._meta.concrete_fields if f is pk or f.attname in wanted]
    return _Part(model, names, start, names.index(pk.attname), via)


def _instance(part: _Part, row: Sequence[Any], using: str) -> models.Model | None:
    values = row[part.start : part.start + len(part.names)]
    if values[part.key] is None:
        return None
    return part.model.from_db(using, part.names, values)


def keep_prefetched(parents: Sequence[models.Model], name: str, rows: Sequence[Any]) -> None:
    """Keep ``rows`` (of the reverse foreign key ``name`` of ``parents``: an application's
    ``items``) on the parents as ``prefetch_related(name)`` keeps them: ``parent.<name>.all()``
    gives them in their order without a query, and each row's foreign key to its parent is set.
    For lines read by a :class:`Prepared` read, which skips ``prefetch_related``'s compile."""
    if not parents:
        return
    relation = parents[0]._meta.get_field(name)
    to_parent = relation.field  # type: ignore[union-attr]
    by_parent: dict[Any, list[Any]] = {parent.pk: [] for parent in parents}
    for row in rows:
        by_parent[getattr(row, to_parent.attname)].append(row)
    cache_name = relation.cache_name  # type: ignore[union-attr]
    for parent in parents:
        mine = by_parent[parent.pk]
        for row in mine:
            to_parent.set_cached_value(row, parent)
        # What prefetch_related_objects keeps: the relation's queryset, its results filled in.
        kept = getattr(parent, name).get_queryset()
        kept._result_cache, kept._prefetch_done = mine, True
        parent.__dict__.setdefault("_prefetched_objects_cache", {})[cache_name] = kept


def prepared_cursor(connection: Any) -> Any:
    """Django's cursor; on PostgreSQL over a psycopg cursor that binds the values on the server
    and prepares the statement there, so that PostgreSQL plans it once per connection (planning
    the lines' three joins took 0.35 ms, running them 0.12 ms; PostgreSQL's CPU a hall request
    1.8 -> 0.7 ms). Django's own cursors bind on the client and never prepare (for connection
    poolers in transaction mode: docs/deployment.md). Wrapped as Django wraps its own cursors:
    counted, logged, its errors."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    # Django turns preparing off (threshold None); a threshold no statement reaches turns it
    # on for the statements that ask (prepare=True) and for them only.
    connection.connection.prepare_threshold = 1 << 30
    raw = _preparing_cursor()(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


@cache
def _preparing_cursor() -> type:
    """The psycopg cursor class that prepares; made on first use, so that a process on SQLite
    (every ``certhall`` command of a demo or test instance) does not import psycopg (50 ms)."""
    import psycopg

    class PreparingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
            return super().execute(query, params, prepare=True, **options)

    return PreparingCursor


def _marker(i: int, value: Value) -> Value:
    """What the builder gets in place of value ``i``: of its type, and found in no real data."""
    if isinstance(value, list):
        if len(value) >= 1_000:  # the markers of value i + 1 start 1,000 further
            raise ValueError(f"prepared read: value {i} is a list of {len(value)}")
        return [_INT_MARKER - 1_000 * i - j for j in range(len(value))]
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT_MARKER - 1_000 * i
    if isinstance(value, str):
        return f"{_STR_MARKER}{i}"
    raise TypeError(f"prepared read: value {i} is {type(value).__name__}")


def _slots(markers: list[Value]) -> dict[Any, tuple[int, int]]:
    """Each marker (each element of a list) and the slot its value fills (-1: the whole)."""
    slots = {}
    for i, marker in enumerate(markers):
        if isinstance(marker, list):
            slots.update({_key(element): (i, j) for j, element in enumerate(marker)})
        else:
            slots[_key(marker)] = (i, -1)
    return slots


def _key(value: Any) -> Any:
    return (type(value), value) if isinstance(value, int | str) else None


def _pick(values: Sequence[Value], slot: tuple[int, int]) -> Any:
    value = values[slot[0]]
    return value[slot[1]] if isinstance(value, list) else value
