"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is idle.

Django's CONN_HEALTH_CHECKS sends ``SELECT 1`` before the first query of every request that reuses a
persistent connection: one more round trip on every request, for the rare one that follows a server
restart or a terminated backend. A server that ends a session says so first (an ErrorResponse such
as "terminating connection due to administrator command") and then closes the socket, so a
connection whose socket has nothing to read, with no transaction open and no error seen, is as
usable as a ``SELECT 1`` could tell, and the check is one ``select()`` call. Anything else (data
waiting on the socket, a transaction left open, an error in the last request) gets Django's check.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        pgconn = conn.pgconn
        if self.errors_occurred or pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        try:
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError, psycopg.Error):  # no descriptor any more
            return False
        return not readable or super().is_usable()
