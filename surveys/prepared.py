"""Prepared statements for the two queries every personal survey link runs (the respondent
and a first response's insert).

Django sends every query as text with the parameters merged in by the client (psycopg's
client-side binding), so PostgreSQL parses and plans it again each time, and Django keeps
prepared statements off (``prepare_threshold`` None: they break connection poolers in
transaction mode). These two statements run on every GET and POST of a personal link, so
they go through a cursor that binds parameters on the server and prepares the statement
once per connection (psycopg ``prepare=True``); every later execution sends only the
parameters. Still a Django cursor wrapper: queries are logged and counted as usual. Behind
a pooler in transaction mode (PgBouncer before 1.21) set ``PRECIS_PREPARED_STATEMENTS=0``.
Other databases get Django's ordinary cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorWrapper

NEVER_BY_COUNT = 2**31 - 1  # executions before psycopg would prepare a statement unasked


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor whose statements are prepared on first use per connection (PostgreSQL)."""
    if connection.vendor != "postgresql" or not settings.PRECIS_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    with connection.wrap_database_errors:
        yield connection._prepare_cursor(_connection_cursor(connection.connection))


def _connection_cursor(raw):
    """The connection's preparing cursor, made on first use and kept open with it: a new
    psycopg cursor per query would also start with an empty cache of parameter dumpers."""
    kept = getattr(connection, "_precis_preparing_cursor", None)
    if kept is not None and kept.connection is raw and not kept.closed:
        return kept
    if raw.prepare_threshold is None:
        # Django sets None, which turns even prepare=True off. Its own cursors bind on the client
        # and never prepare whatever the threshold; this cursor asks for each statement itself.
        raw.prepare_threshold = NEVER_BY_COUNT
    cursor = _preparing_cursor_class()(raw)
    connection._precis_preparing_cursor = cursor
    return cursor


@cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

        def _convert_query(self, query, params=None):
            # psycopg records the statement (which Django's query log reads) only when it
            # sends its text, not when it runs the prepared one: record it here too.
            self._query = super()._convert_query(query, params)
            return self._query

    return PreparingCursor
