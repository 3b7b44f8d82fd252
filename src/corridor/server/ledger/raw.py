"""Statements sent to the database driver as they are, for the ledger's hot path.

A batch's look-ups and insert bind thousands of values. Through SQLAlchemy each value is processed
one by one (its type's bind processor, the expanding ``IN`` list), which was a large share of a
batch's time; sent with :meth:`Connection.exec_driver_sql` the values go to the driver as they are,
so they must already be what the driver takes. These helpers cover the two drivers in use
(sqlite3 and psycopg).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection


def marker(connection: Connection) -> str:
    """The driver's positional parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    style = connection.dialect.paramstyle
    if style == "qmark":
        return "?"
    if style in ("format", "pyformat"):
        return "%s"
    raise NotImplementedError(f"no positional parameter marker for paramstyle {style!r}")


def markers(connection: Connection, count: int) -> str:
    """``count`` markers separated by commas, for an ``IN (...)`` list or a VALUES row."""
    return ", ".join([marker(connection)] * count)


def is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def one_of(connection: Connection, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    """A condition that the text ``column`` is one of ``values``, and its parameters.

    PostgreSQL: one array parameter, sent in binary, as ``IN (SELECT unnest(...))``. A marker per
    value made psycopg turn each into a placeholder in Python (more time than the query), and
    ``= ANY(%b)`` turned slow once the statement was prepared: its generic plan filters every row
    of the operation against the whole array (15 ms for 500 people instead of 2 ms).
    SQLite: an ``IN`` list, which it searches with the index."""
    if is_postgresql(connection):
        return f"{column} IN (SELECT unnest(%b::text[]))", [list(values)]
    return f"{column} IN ({markers(connection, len(values))})", list(values)


def pairs(connection: Connection, values: Sequence[tuple[str, int]]) -> tuple[str, list[Any]]:
    """A query of the (text, integer) pairs ``values``, with two columns, and its parameters:
    ``unnest`` of two arrays on PostgreSQL (two parameters), a VALUES list on SQLite."""
    if is_postgresql(connection):
        return (
            "SELECT * FROM unnest(%b::text[], %b::bigint[])",
            [[a for a, _ in values], [b for _, b in values]],
        )
    pair = f"({markers(connection, 2)})"
    return f"VALUES {', '.join([pair] * len(values))}", [v for value in values for v in value]


def utc_datetime(value: datetime | str) -> datetime:
    """A ``UTCDateTime`` column's value as the driver returns it, as an aware UTC datetime:
    SQLite gives the stored text (UTC, without an offset), psycopg a datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def copy_rows(
    connection: Connection, table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]
) -> None:
    """Load ``rows`` into ``table`` with PostgreSQL's ``COPY ... FROM STDIN`` in binary (psycopg),
    in the connection's open transaction. ``columns`` are (name, PostgreSQL type) pairs: binary
    COPY sends each value in its column's own type."""
    driver = connection.connection.driver_connection
    if driver is None or not hasattr(driver, "cursor"):
        raise NotImplementedError("COPY needs a psycopg connection")
    names = ", ".join(name for name, _ in columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([kind for _, kind in columns])
        for row in rows:
            copy.write_row(row)
