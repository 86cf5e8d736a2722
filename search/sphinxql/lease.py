"""The publish lease: one publisher at a time per cluster, held as a row of the coordinator's metadata.

Sphinx has no transactions across statements, but single statements on an RT index are atomic: INSERT of an
id the index holds fails ("duplicate id"), and UPDATE and DELETE with attribute conditions act only on a
row that still matches. The lease row (`LEASE_ROW` in `bulletins_meta`) holds its holder's random token in
`part`, the time it was last renewed (Unix seconds) in `generation`, and who holds it (host, process, start)
as JSON in `value`. Taking it is an INSERT; the holder renews it every `RENEW` seconds with an UPDATE
conditioned on its token, which also tells it whether it still holds the lease, and confirms it once more
right before flipping the generation. A lease not renewed for `STALE` seconds (its publisher was killed)
is removed by a DELETE conditioned on the token and time that were read, so two publishers that both find
it stale cannot both take it: one INSERT fails. So is, at once, the lease of a process of this host that is
gone (a killed build rerun by hand). Staleness compares the renewal time written by one machine's
clock with another's: clocks must agree to well within `STALE` (NTP does).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from types import TracebackType
from typing import Any

import pymysql

from search.sphinxql.connection import Address, ClusterError, connect
from search.sphinxql.schema import META_INDEX

#: The lease's row in the coordinator's metadata.
LEASE_ROW = 3
#: Seconds between renewals, and without one after which a lease is stale and may be taken over.
RENEW = 15.0
STALE = 300.0


class PublishBusy(ClusterError):
    """Another publisher holds the cluster's lease (the message names it and says when it goes stale)."""


class PublishLease:
    """The lease on the cluster at `address`, taken on entry, renewed in a thread, released on exit."""

    def __init__(self, address: Address) -> None:
        self.address = address
        self.token = secrets.randbits(31) or 1
        self.holder = {"host": socket.gethostname(), "pid": os.getpid(),
                       "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self._connection: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def __enter__(self) -> PublishLease:
        self._connection = connect(self.address)
        try:
            self._take()
        except BaseException:
            self._close()
            raise
        self._renewer = threading.Thread(target=self._renew_until_stopped, name="publish-lease", daemon=True)
        self._renewer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            self._execute(f"DELETE FROM {META_INDEX} WHERE id = {LEASE_ROW} AND part = {self.token}")
        except ClusterError:
            pass  # a lease that cannot be released goes stale and is taken over
        finally:
            self._close()

    def check(self) -> None:
        """Fail if a renewal found the lease taken over (no statement: called between steps of the work)."""
        if self.lost:
            raise self._taken_over()

    def confirm(self) -> None:
        """Renew once more and fail unless this publisher still holds the lease (called before the flip)."""
        if not self._renew():
            raise self._taken_over()

    def _taken_over(self) -> ClusterError:
        return ClusterError(f"the publish lease on {self.address} was taken over by another publisher (this one "
                            f"had not renewed it for {STALE:.0f} s): nothing was flipped; run the build again")

    def _take(self) -> None:
        for _ in range(3):
            now = int(time.time())
            try:
                self._execute(f"INSERT INTO {META_INDEX} (id, kind, generation, part, value) VALUES ({LEASE_ROW}, "
                              f"'lease', {now}, {self.token}, "
                              f"{self._connection.escape(json.dumps(self.holder, ensure_ascii=False))})")
                return
            except ClusterError as error:
                if "duplicate id" not in str(error):
                    raise
            found = self._execute(f"SELECT generation, part, value FROM {META_INDEX} WHERE id = {LEASE_ROW}")
            if not found:
                continue
            renewed, token, value = int(found[0][0]), int(found[0][1]), found[0][2]
            age = time.time() - renewed
            if age <= STALE and not _dead_here(value):
                raise PublishBusy(f"another publish holds the cluster at {self.address} ({_describe(value)}, "
                                  f"renewed {age:.0f} s ago): run this one after it; a lease not renewed for "
                                  f"{STALE:.0f} s is taken over")
            self._execute(f"DELETE FROM {META_INDEX} WHERE id = {LEASE_ROW} AND part = {token} "
                          f"AND generation = {renewed}")
        raise PublishBusy(f"another publish took the lease on {self.address} at the same time: run this one after it")

    def _renew(self) -> bool:
        if self.lost:
            return False
        try:
            changed = self._execute(f"UPDATE {META_INDEX} SET generation = {int(time.time())} "
                                    f"WHERE id = {LEASE_ROW} AND part = {self.token}", count=True)
        except ClusterError:
            return True  # the coordinator is unreachable for now; the next renewal or the flip will tell
        self.lost = changed == 0
        return not self.lost

    def _renew_until_stopped(self) -> None:
        while not self._stop.wait(RENEW):
            if not self._renew():
                return

    def _execute(self, sql: str, count: bool = False) -> Any:
        """Run one statement, on a new connection once if the old one was lost (searchd closes idle ones)."""
        with self._lock:
            for attempt in (0, 1):
                try:
                    with self._connection.cursor() as cursor:
                        affected = cursor.execute(sql)
                        return affected if count else list(cursor.fetchall())
                except (pymysql.OperationalError, pymysql.InterfaceError, OSError) as error:
                    if attempt:
                        raise ClusterError(f"coordinator ({self.address}): {error}") from error
                    self._close()
                    self._connection = connect(self.address)
                except pymysql.MySQLError as error:
                    raise ClusterError(f"coordinator ({self.address}): {error}") from error

    def _close(self) -> None:
        try:
            self._connection.close()
        except (pymysql.MySQLError, OSError, AttributeError):
            pass


def _dead_here(value: str) -> bool:
    """Whether the lease's holder was a process of this host that is gone (its lease need not go stale)."""
    try:
        holder = json.loads(value)
        if holder["host"] != socket.gethostname():
            return False
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return True
    except (ValueError, KeyError, TypeError, OSError):
        return False
    return False


def _describe(value: str) -> str:
    """Who holds a lease, from its JSON."""
    try:
        holder = json.loads(value)
        return f"host {holder['host']}, process {holder['pid']}, since {holder['since']}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"
