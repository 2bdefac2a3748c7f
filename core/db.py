"""Database contention: what PostgreSQL's refusals mean, and a retry for transactions safe to re-run.

PostgreSQL refuses a loser of a race in a few ways (ARCHITECTURE.md, measured: 100 concurrent inserts
of one slot give 1 row and losers with 23P01 or 40P01):

- 23P01 exclusion violation, 23505 unique violation: the state the caller wanted is taken -> 409;
- 40P01 deadlock detected, 40001 serialization failure: nothing is wrong with the request; the
  transaction was chosen as the victim -> re-run the whole transaction (``retry_on_conflict``), and
  after the attempts are used up answer 409 (never 500);
- 55P03 lock not available (NOWAIT / lock_timeout) -> 409;
- 57P01/57P02/57P03 (backend terminated, crash shutdown, cannot connect now), 08xxx (connection
  lost), 53xxx (out of connections, memory, disk), 57014 (statement timeout), or an OperationalError /
  InterfaceError with no SQLSTATE (psycopg's "the connection is closed", a failed connect) -> 503 with
  Retry-After: the request did not complete; the next one gets a new connection;
- 22xxx data exception (a value out of range for its column, too long for a varchar, not a valid
  integer/uuid/date, a NUL character) and psycopg's own DataError (a NUL byte, refused before it is
  sent) -> "invalid": the request's input, not the database, is at fault (422); the connection is fine;
- anything else (a ProgrammingError, an unexpected refusal) is a bug -> 500.

``core.api.errors`` maps these for every API operation, through ``classify``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

from django.db import DatabaseError, DataError, InterfaceError, OperationalError, connection, connections, router, transaction
from django.db.models import Field, Model, UUIDField

from core.errors import Conflict

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=Model)

RETRYABLE = frozenset({"40P01", "40001"})
CONFLICT = frozenset({"23P01", "23505", "40P01", "40001", "55P03"})
UNAVAILABLE_PREFIXES = ("57P", "08", "53")
UNAVAILABLE = frozenset({"57014"})
INVALID_PREFIXES = ("22",)


def sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE of a database error (Django wraps psycopg's error; look through the chain)."""
    seen = 0
    while exc is not None and seen < 5:
        code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if code:
            return str(code)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def classify(exc: BaseException) -> str:
    """ "conflict" (answer 409), "invalid" (422), "unavailable" (503) or "error" (500) for a database
    exception. Only a lost or refused connection is "unavailable": an error without a SQLSTATE is one
    only when it is an OperationalError or InterfaceError (psycopg raises those client-side)."""
    code = sqlstate(exc)
    if code in CONFLICT:
        return "conflict"
    if code is not None and (code in UNAVAILABLE or code.startswith(UNAVAILABLE_PREFIXES)):
        return "unavailable"
    if (code is not None and code.startswith(INVALID_PREFIXES)) or (code is None and isinstance(exc, DataError)):
        return "invalid"
    if code is None and isinstance(exc, OperationalError | InterfaceError):
        return "unavailable"
    return "error"


def retry_on_conflict(
    fn: Callable[P, R] | None = None, *, attempts: int = 3, using: str = "default"
) -> Callable[P, R] | Callable[[Callable[P, R]], Callable[P, R]]:
    """Run ``fn`` in its own transaction; on a deadlock or serialization failure run it again (up to
    ``attempts`` times, with a short random pause), then raise ``Conflict``.

    Only for functions whose whole effect is that transaction (no e-mail sent or API called inside; use
    publish()/on_commit for those). Inside an outer transaction a retry is impossible (the outer one is
    already aborted), so the error is raised at once for the outermost caller to handle.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if connections[using].in_atomic_block:
                return func(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                try:
                    with transaction.atomic(using=using):
                        return func(*args, **kwargs)
                except DatabaseError as exc:
                    if sqlstate(exc) not in RETRYABLE:
                        raise
                    logger.info("%s: %s on attempt %d of %d", func.__qualname__, sqlstate(exc), attempt, attempts)
                    if attempt == attempts:
                        raise Conflict("A concurrent change won; retry", code="concurrent_update") from exc
                    time.sleep(random.uniform(0.005, 0.03) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorate(fn) if fn is not None else decorate


def insert_unless_conflict(obj: Model) -> bool:
    """INSERT ``obj`` unless a unique constraint already holds such a row: True when it was inserted.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING pk`` (PostgreSQL, SQLite >= 3.35), where
    ``create()`` inside ``atomic()`` with an IntegrityError handler costs a SAVEPOINT (or BEGIN) and
    its RELEASE (COMMIT) around the insert, and a pre-check costs another query. The primary key must
    be set on the object (a UUID default) or be an auto field; defaults are applied as save() would.
    """
    return _insert(obj, "ON CONFLICT DO NOTHING")


def insert_row(obj: Model) -> None:
    """INSERT ``obj`` in one statement without save()'s machinery, for append-only rows written on hot
    paths (a booking's history, the outbox, e-mail deliveries): about a third of the CPU of
    ``create()``, which builds a query object, a compiler and a returning-fields round for every row.
    No pre_save/post_save signal is sent: use it only for models nothing listens to."""
    _insert(obj, "")


def _insert_columns(obj: Model, conn: Any) -> tuple[list[Field[Any, Any]], list[Any]]:
    """The fields an INSERT of ``obj`` names (an unset auto key is left to the database) and their
    values as save() would send them (defaults and auto_now_add applied)."""
    fields = [f for f in obj._meta.concrete_fields if not (f.primary_key and getattr(obj, f.attname) is None)]
    return fields, [f.get_db_prep_save(f.pre_save(obj, True), conn) for f in fields]


def _insert_sql(obj: Model, conn: Any, on_conflict: str) -> tuple[str, list[Any]]:
    meta = obj._meta
    qn = conn.ops.quote_name
    fields, values = _insert_columns(obj, conn)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) {on_conflict} RETURNING {qn(meta.pk.column)}"
    )
    return sql, values


def _with_select(parts: Sequence[tuple[str, str]]) -> str:
    """``WITH a AS (...), b AS (...) SELECT (SELECT * FROM a), (SELECT * FROM b)``: data-modifying
    statements run once each, and the one row answered holds what each RETURNING gave (NULL: none)."""
    named = ", ".join(f"{name} AS ({sql})" for name, sql in parts)
    return f"WITH {named} SELECT {', '.join(f'(SELECT * FROM {name})' for name, _ in parts)}"


def _inserted(obj: Model, pk: Any, conn: Any) -> None:
    meta = obj._meta
    if getattr(obj, meta.pk.attname) is None:
        setattr(obj, meta.pk.attname, meta.pk.to_python(pk))
    obj._state.adding, obj._state.db = False, conn.alias


def _insert(obj: Model, on_conflict: str) -> bool:
    conn = connections[router.db_for_write(type(obj))]
    sql, values = _insert_sql(obj, conn, on_conflict)
    if not on_conflict:
        pending = _batches.get(conn.alias)
        if pending is not None:
            pending.append((sql, values, obj))
            return True
    with conn.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    _inserted(obj, row[0], conn)
    return True


# A held-back write: its statement, parameters, and the inserted instance (None for an UPDATE).
Write = tuple[str, list[Any], Model | None]


class _Batches(threading.local):
    """The writes insert_row() and update_row() hold back inside batched_writes(), per database
    alias, per thread."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Write]] = {}

    def get(self, alias: str) -> list[Write] | None:
        return self.rows.get(alias)


_batches = _Batches()


@contextlib.contextmanager
def batched_writes(using: str = "default") -> Iterator[None]:
    """Hold back the ``insert_row`` and ``update_row`` calls made inside and send them all in one
    statement at the end, on PostgreSQL (``WITH w0 AS (INSERT ...), w1 AS (UPDATE ...) SELECT ...``):
    one round trip instead of one per row. On this machine a round trip costs ~0.3 ms of CPU between
    the two processes, more than a short write itself.

    The statement is atomic; Django's PostgreSQL foreign keys are deferred, so a row may reference
    another of the same batch. Values are taken at each call, as if it ran then; the writes happen
    only if the block raises nothing, and inserted rows get their primary keys when it ends, so code
    inside must not read back what it wrote, nor write one row twice. Elsewhere (SQLite), and when
    nested, each write runs at once as without it."""
    conn = connections[using]
    if conn.vendor != "postgresql" or using in _batches.rows:
        yield
        return
    _batches.rows[using] = []
    try:
        yield
    finally:
        writes = _batches.rows.pop(using)  # on an exception, dropped: nothing is written
    if not writes:
        return
    params = [value for _, values, _ in writes for value in values]
    with conn.cursor() as cursor:
        cursor.execute(_with_select([(f"w{i}", sql) for i, (sql, _, _) in enumerate(writes)]), params)
        returned = cursor.fetchone()
    for (_, _, obj), pk in zip(writes, returned, strict=True):
        if obj is not None:
            _inserted(obj, pk, conn)


def insert_unless_conflict_with(obj: Model, *dependents: Model) -> bool:
    """``insert_unless_conflict(obj)`` and, only if it was inserted, ``insert_row`` of each of
    ``dependents`` (rows referring to it; their primary keys set, or auto fields): True when inserted.

    On PostgreSQL one statement, ``WITH p AS (INSERT ... ON CONFLICT DO NOTHING RETURNING pk),
    d0 AS (INSERT ... SELECT ... FROM p) ...``, atomic without a transaction of its own (a
    notification and its e-mail delivery: one round trip, not BEGIN, two INSERTs and COMMIT).
    Elsewhere the inserts run in turn inside one transaction."""
    conn = connections[router.db_for_write(type(obj))]
    if conn.vendor != "postgresql":
        with transaction.atomic(using=conn.alias, savepoint=False):
            if not insert_unless_conflict(obj):
                return False
            for row in dependents:
                insert_row(row)
        return True
    qn = conn.ops.quote_name
    sql, params = _insert_sql(obj, conn, "ON CONFLICT DO NOTHING")
    parts = [("p", sql)]
    for i, row in enumerate(dependents):
        meta = row._meta
        fields, values = _insert_columns(row, conn)
        # Typed placeholders: in a SELECT list an untyped parameter would be taken as text.
        picks = ", ".join(f"CAST(%s AS {f.db_type(conn)})" for f in fields)
        parts.append(
            (
                f"d{i}",
                f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
                f"SELECT {picks} FROM p RETURNING {qn(meta.pk.column)}",
            )
        )
        params += values
    with conn.cursor() as cursor:
        cursor.execute(_with_select(parts), params)
        pks = cursor.fetchone()
    if pks[0] is None:
        return False
    for row, pk in zip((obj, *dependents), pks, strict=True):
        _inserted(row, pk, conn)
    return True


def update_row(obj: Model, fields: Sequence[str] | None = None) -> int | None:
    """UPDATE ``obj``'s row with its current ``fields`` (attnames; every field when None) in one
    statement without save()'s machinery, stamping auto_now fields as save() does; the rows changed
    (None inside batched_writes(), where it is sent later). For a row the caller holds locked on a
    hot path (a booking's transitions): save() built a query and a compiler each time. No
    pre_save/post_save signal is sent: the caller does what a listener would (a cache bump)."""
    meta = obj._meta
    conn = connections[router.db_for_write(type(obj))]
    qn = conn.ops.quote_name
    if fields is None:
        targets = [f for f in meta.concrete_fields if not f.primary_key]
    else:
        targets = [meta.get_field(name) for name in fields]  # type: ignore[misc]
    values = [f.get_db_prep_save(f.pre_save(obj, False), conn) for f in targets]
    sql = f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in targets)} WHERE {qn(meta.pk.column)} = %s"
    params = [*values, meta.pk.get_db_prep_value(obj.pk, conn)]
    pending = _batches.get(conn.alias)
    if pending is not None:
        # RETURNING a constant, so the batch's SELECT has one value per write (NULL: no row matched).
        pending.append((f"{sql} RETURNING 1", params, None))
        return None
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def from_db_row(model: type[M], values: Sequence[Any], *, using: str | None = None) -> M:
    """An instance of ``model`` from a hand-written query's columns (its concrete fields, in their
    order), each converted as the ORM's compiler converts it (SQLite answers UUIDs, times and JSON as
    text): for a row read alongside another in one statement instead of a query of its own."""
    conn = connections[using or router.db_for_read(model)]
    attnames, converters = _row_converters(model, conn.alias)
    converted = [_convert(value, chain, conn) if chain else value for (chain, value) in zip(converters, values, strict=True)]
    return model.from_db(conn.alias, attnames, converted)


@functools.cache
def select_columns(model: type[Model], alias: str) -> str:
    """``alias."col", ...`` for every concrete field of ``model``, in the order from_db_row reads them
    (built once per model and alias: hot paths name them on every request)."""
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


def from_db_rows(row: Sequence[Any], *models: type[Model], using: str | None = None) -> list[Model]:
    """Split one row of ``select_columns(m1, ...), select_columns(m2, ...)`` into instances."""
    out, at = [], 0
    for model in models:
        n = len(model._meta.concrete_fields)
        out.append(from_db_row(model, row[at : at + n], using=using))
        at += n
    return out


def from_db_value(field: Field[Any, Any], value: Any, *, using: str | None = None) -> Any:
    """One column of a hand-written query as the ORM would give it for ``field`` (a model's field)."""
    conn = connections[using or router.db_for_read(field.model)]
    chain = _field_converters(field, conn.alias)
    return _convert(value, chain, conn) if chain else value


Converter = tuple[Callable[..., Any], Any]


def _convert(value: Any, chain: tuple[Converter, ...], conn: Any) -> Any:
    for converter, col in chain:
        value = converter(value, col, conn)
    return value


@functools.cache
def _field_converters(field: Field[Any, Any], alias: str) -> tuple[Converter, ...]:
    """The backend's and the field's converters for ``field``, looked up once per process (they depend
    only on the field and the backend; most fields on PostgreSQL have none)."""
    conn = connections[alias]
    col = field.get_col(field.model._meta.db_table)
    return tuple((c, col) for c in conn.ops.get_db_converters(col) + field.get_db_converters(conn))


@functools.cache
def _row_converters(model: type[Model], alias: str) -> tuple[list[str], list[tuple[Converter, ...]]]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], [_field_converters(f, alias) for f in fields]


_UUID_FIELD = UUIDField()


def db_uuid(value: uuid.UUID) -> Any:
    """A UUID parameter for hand-written SQL, as Django's UUIDField stores it (PostgreSQL's uuid type;
    32 hex characters on SQLite)."""
    return _UUID_FIELD.get_db_prep_value(value, connection)


def sql_exists(sql: str, params: list[Any]) -> bool:
    """Whether ``SELECT 1 ... LIMIT 1`` finds a row. For checks on a hot path whose ORM form cost more
    CPU to build than the database spent answering (about 1 ms against 0.2 ms per query)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None
