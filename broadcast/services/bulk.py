"""Set-based writes whose statement count does not depend on the number of rows.

Every helper sends ONE statement with ONE JSON parameter that carries all the rows, unpacked by the
database itself: PostgreSQL `jsonb_array_elements(%s::jsonb)` with `(v->>i)::type` casts, SQLite
`json_each(%s)` with `json_extract(value, '$[i]')` (JSON1 is built into every SQLite Django supports).
Rows travel as JSON arrays (column order = the `fields` argument), not objects: a third of the payload.

Tables, columns and cast types come from the model's `_meta`, never typed by hand. Values go through
`field.get_db_prep_save()` where the database form differs from the Python one (dates, datetimes…), so
what lands in the table is exactly what the ORM would have written.

These helpers skip the ORM: no signals, no `save()`, no per-row defaults beyond `field.get_default()`
(evaluated once per statement). Use them for bulk materializations such as the playlist builder.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import DO_NOTHING, SET_NULL, Field, Model
from django.db.models.expressions import RawSQL

__all__ = ["delete", "id_list", "insert", "shift", "update"]

# Internal types whose Python value already is the value to store (no get_db_prep_save needed).
_AS_IS = frozenset({
    "AutoField", "BigAutoField", "SmallAutoField", "BigIntegerField", "BooleanField", "CharField",
    "ForeignKey", "IntegerField", "OneToOneField", "PositiveBigIntegerField", "PositiveIntegerField",
    "PositiveSmallIntegerField", "SlugField", "SmallIntegerField", "TextField",
})


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return str(value)


def _payload(rows: Iterable[Sequence[Any]], fields: Sequence[Field]) -> str:
    converters = [None if f.get_internal_type() in _AS_IS else f for f in fields]
    if all(c is None for c in converters):
        out = rows
    else:
        out = ([v if c is None else c.get_db_prep_save(v, connection) for c, v in zip(converters, row, strict=True)]
               for row in rows)
    return json.dumps(list(out), separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _column(field: Field, i: int) -> str:
    """SQL for the i-th value of the current JSON row, typed as `field`'s column."""
    if _postgres():
        return f"(r.v->>{i})::{field.cast_db_type(connection)}"
    return f"json_extract(r.value, '$[{i}]')"


def _rows_source() -> str:
    return "jsonb_array_elements(%s::jsonb) AS r(v)" if _postgres() else "json_each(%s) AS r"


def _ids_source() -> str:
    if _postgres():
        return "SELECT jsonb_array_elements_text(%s::jsonb)::bigint"
    return "SELECT value FROM json_each(%s)"


def _fields(model: type[Model], names: Iterable[str]) -> list[Field]:
    return [model._meta.get_field(name) for name in names]


def id_list(ids: Iterable[int]) -> RawSQL:
    """A one-parameter subquery of these ids, for `filter(pk__in=id_list(ids))` or in raw SQL."""
    return RawSQL(_ids_source(), [json.dumps(list(ids))])


def insert(
    model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *, returning: Sequence[str] = (),
) -> list[tuple] | None:
    """INSERT all `rows` (value tuples in `fields` order) in one statement.

    Concrete columns not in `fields` (other than the primary key) get `field.get_default()`, sent once as
    a parameter. With `returning`, the inserted rows' values of those columns, in no particular order
    (match them on a natural key); None if the database cannot return rows from an INSERT … SELECT
    (SQLite < 3.35): re-read them then.
    """
    meta = model._meta
    given = _fields(model, fields)
    given_names = {f.attname for f in given}
    defaults = [f for f in meta.concrete_fields if f.attname not in given_names and f is not meta.pk]
    columns = ", ".join(_q(f.column) for f in (*given, *defaults))
    values = ", ".join([*(_column(f, i) for i, f in enumerate(given)), *("%s" for _ in defaults)])
    sql = f"INSERT INTO {_q(meta.db_table)} ({columns}) SELECT {values} FROM {_rows_source()}"
    # The defaults' placeholders come first in the SQL text (SELECT list), the rows' last (FROM).
    params = [f.get_db_prep_save(f.get_default(), connection) for f in defaults] + [_payload(rows, given)]
    can_return = bool(returning) and connection.features.can_return_rows_from_bulk_insert
    if can_return:
        sql += " RETURNING " + ", ".join(_q(f.column) for f in _fields(model, returning))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not can_return:
            return None
        ret_fields = _fields(model, returning)
        rows_out = cursor.fetchall()
    converters = [_converters(f) for f in ret_fields]
    return [tuple(_from_db(v, c) for v, c in zip(row, converters, strict=True)) for row in rows_out]


def _converters(field: Field) -> tuple[Any, list]:
    """The ORM's converters for a column read back raw (a date from SQLite's text, …)."""
    col = field.get_col(field.model._meta.db_table)
    return col, [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]


def _from_db(value: Any, converters: tuple[Any, list]) -> Any:
    col, funcs = converters
    for func in funcs:
        value = func(value, col, connection)
    return value


def update(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """UPDATE by primary key in one statement: each row is (pk, *values in `fields` order)."""
    meta = model._meta
    given = _fields(model, fields)
    table, pk = _q(meta.db_table), _q(meta.pk.column)
    sets = ", ".join(f"{_q(f.column)} = {_column(f, i)}" for i, f in enumerate(given, start=1))
    sql = (f"UPDATE {table} SET {sets} FROM {_rows_source()} "
           f"WHERE {table}.{pk} = {_column(meta.pk, 0)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [_payload(rows, [meta.pk, *given])])
        return cursor.rowcount


def delete(model: type[Model], ids: Iterable[int]) -> int:
    """DELETE these primary keys in one statement, no signals. Rows pointing here with
    on_delete=SET_NULL are set to NULL first (one UPDATE per such relation, as the ORM would); any other
    on_delete but DO_NOTHING is refused rather than silently broken."""
    meta = model._meta
    ids = list(ids)
    for rel in meta.related_objects:
        if rel.on_delete is SET_NULL:
            rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": id_list(ids)}).update(
                **{rel.field.name: None})
        elif rel.on_delete is not DO_NOTHING:
            raise NotImplementedError(f"bulk.delete does not emulate {rel.on_delete.__name__} of {rel}")
    sql = f"DELETE FROM {_q(meta.db_table)} WHERE {_q(meta.pk.column)} IN ({_ids_source()})"
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(ids)])
        return cursor.rowcount


def shift(model: type[Model], field: str, delta: int, ids: Iterable[int]) -> int:
    """`field = field + delta` for these primary keys, in one statement."""
    meta = model._meta
    column = _q(meta.get_field(field).column)
    sql = (f"UPDATE {_q(meta.db_table)} SET {column} = {column} + %s "
           f"WHERE {_q(meta.pk.column)} IN ({_ids_source()})")
    with connection.cursor() as cursor:
        cursor.execute(sql, [delta, json.dumps(list(ids))])
        return cursor.rowcount
