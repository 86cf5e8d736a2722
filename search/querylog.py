"""The query log: every search appended as one JSON line, and what it tells (hot, related, zero-result queries).

Where: ``queries.jsonl`` in the index root, or in BULLETINS_QUERY_LOG_DIR; BULLETINS_QUERY_LOG=off turns it
off. Each line holds the time, the query as typed, the filters, the page, the result count, the correction
shown, the time taken, where it came from (ui or api) and the query searched just before in the same visit
(from the results page the search was made on, so no identifier is needed). Nothing identifies the user
unless BULLETINS_QUERY_LOG_CLIENT=on asks for the client address and user name.

Several server processes append at once: each line is one write(2) on a descriptor opened with O_APPEND,
which the kernel places at the end of the file atomically, so lines never interleave. When the file passes
BULLETINS_QUERY_LOG_MAX_BYTES it is rotated (queries.jsonl → .1 → .2 …, BULLETINS_QUERY_LOG_KEEP files kept)
under an exclusive flock on ``queries.lock``; a writer that opened the old file just before the rename
writes its line into ``.1``, so no line is lost. The log therefore never holds more than about
(KEEP + 1) × MAX_BYTES.

Readers summarise the newest lines (up to `RECENT_LINES`) once per process, then read only what was
appended since (one stat per call when nothing was).
"""

from __future__ import annotations

import bisect
import fcntl
import heapq
import json
import math
import os
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from index import config
from index.analysis import word_terms
from index.normalize import normalize

LOG_NAME = "queries.jsonl"
LOCK_NAME = "queries.lock"
#: Lines read for hot and related searches when a process first reads the log (the newest).
RECENT_LINES = 20_000
#: The sorted views of the summary are rebuilt at most this often (seconds) when new queries come in.
ORDER_SECONDS = 10.0
_SPACES = re.compile(r"\s+")


class QueryLogError(Exception):
    """The query log cannot be written or read; the message names the file."""


def canonical(q: str) -> str:
    """The form queries are counted under: normalised (case, width, traditional), spaces collapsed."""
    return _SPACES.sub(" ", normalize(q)).strip()


@dataclass
class Summary:
    """What the recent log says: how often each query was searched and with what result."""

    searched: Counter[str] = field(default_factory=Counter)
    found: dict[str, int] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)
    zero: Counter[str] = field(default_factory=Counter)
    zero_last: dict[str, str] = field(default_factory=dict)
    next_to: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_word: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: Queries that found something, in text order and most searched first (rebuilt by `ordered`).
    in_order: list[str] = field(default_factory=list)
    by_count: list[str] = field(default_factory=list)
    changed: bool = True
    ordered_at: float = -math.inf

    def ordered(self) -> tuple[list[str], list[str]]:
        """`in_order` and `by_count`, rebuilt when queries were added, at most once per ORDER_SECONDS (a
        completion or a home page never sorts the whole log)."""
        if self.changed and time.monotonic() - self.ordered_at >= ORDER_SECONDS:
            found = [q for q in self.searched if self.found.get(q, 0) > 0]
            self.in_order = sorted(found)
            self.by_count = sorted(found, key=lambda q: (-self.searched[q], q))
            self.changed, self.ordered_at = False, time.monotonic()
        return self.in_order, self.by_count


class QueryLog:
    """The query log in `folder` (see the module doc)."""

    def __init__(self, folder: str | os.PathLike[str], max_bytes: int | None = None, keep: int | None = None,
                 record_client: bool | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOG_NAME
        self.max_bytes = max_bytes if max_bytes is not None else int(config.get("BULLETINS_QUERY_LOG_MAX_BYTES"))
        self.keep = max(1, keep if keep is not None else int(config.get("BULLETINS_QUERY_LOG_KEEP")))
        self.record_client = record_client if record_client is not None else \
            config.get("BULLETINS_QUERY_LOG_CLIENT").lower() in ("on", "1", "true", "yes")
        self._lock = threading.RLock()
        self._summary: Summary | None = None
        self._inode: int | None = None
        self._offset = 0

    # Writing.

    def append(self, entry: dict[str, Any]) -> None:
        """Append one search (a JSON object) as one line; rotate when the file has grown too large."""
        record = {"t": datetime.now(timezone.utc).isoformat(timespec="seconds"), **entry}
        if not self.record_client:
            record.pop("client", None)
            record.pop("user", None)
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
            try:
                os.write(fd, line)
                size = os.fstat(fd).st_size
                inode = os.fstat(fd).st_ino
            finally:
                os.close(fd)
        except OSError as error:
            raise QueryLogError(f"cannot write the query log {self.path}: {error.strerror or error}") from error
        if size > self.max_bytes:
            self.rotate(inode)

    def rotate(self, inode: int | None = None) -> None:
        """Shift queries.jsonl → .1 → … (the oldest beyond KEEP dropped), under the rotation lock.

        With `inode`, only when queries.jsonl is still that file (another process may have rotated it)."""
        lock = os.open(self.folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = os.stat(self.path)
            except FileNotFoundError:
                return
            if inode is not None and (current.st_ino != inode or current.st_size <= self.max_bytes):
                return
            for number in range(self.keep, 0, -1):
                older = self._rotated(number)
                if number == self.keep:
                    older.unlink(missing_ok=True)
                elif older.exists():
                    os.replace(older, self._rotated(number + 1))
            os.replace(self.path, self._rotated(1))
        finally:
            os.close(lock)

    def _rotated(self, number: int) -> Path:
        return self.folder / f"{LOG_NAME}.{number}"

    # Reading.

    def files(self) -> list[Path]:
        """The log files, newest first."""
        return [path for path in [self.path, *(self._rotated(n) for n in range(1, self.keep + 1))] if path.exists()]

    def entries(self, limit: int = RECENT_LINES) -> list[dict[str, Any]]:
        """The newest `limit` entries, oldest first (damaged lines skipped)."""
        found: list[dict[str, Any]] = []
        for path in self.files():
            try:
                lines = path.read_bytes().splitlines()
            except OSError:
                continue
            found = _parse(lines[-(limit - len(found)):] if limit > len(found) else []) + found
            if len(found) >= limit:
                break
        return found[-limit:]

    def summary(self) -> Summary:
        """The summary of the recent log, kept up to date by reading only the lines appended since the last
        call (the whole recent log again after a rotation)."""
        with self._lock:
            try:
                stat = os.stat(self.path)
            except OSError:
                stat = None
            inode, size = (stat.st_ino, stat.st_size) if stat else (None, 0)
            if self._summary is None or inode != self._inode or size < self._offset:
                self._summary = summarise(self.entries())
                self._inode, self._offset = inode, size
            elif size > self._offset:
                with self.path.open("rb") as stream:
                    stream.seek(self._offset)
                    data = stream.read(size - self._offset)
                complete = data[:data.rfind(b"\n") + 1]
                self._offset += len(complete)
                summarise(_parse(complete.splitlines()), self._summary)
            return self._summary

    def hot(self, limit: int = 10) -> list[dict[str, Any]]:
        """The most searched recent queries that found something: [{q, count}]."""
        with self._lock:
            summary = self.summary()
            _, by_count = summary.ordered()
            return [{"q": summary.shown[q], "count": summary.searched[q]} for q in by_count[:limit]]

    def related(self, q: str, limit: int = 8) -> list[dict[str, Any]]:
        """Queries searched next to `q` in the same visit, then queries sharing a word with it, that found
        something: [{q, count}], most frequent first."""
        key = canonical(q)
        if not key:
            return []
        words = _words(key)
        with self._lock:
            summary = self.summary()
            scores: Counter[str] = Counter()
            for other, count in summary.next_to.get(key, Counter()).items():
                scores[other] += 10 * count
            for word in words:
                for other in summary.by_word.get(word, ()):
                    scores[other] += summary.searched[other]
            ranked = [(other, score) for other, score in scores.items()
                      if other != key and summary.found.get(other, 0) > 0]
            best = heapq.nsmallest(limit, ranked, key=lambda item: (-item[1], item[0]))
            return [{"q": summary.shown[other], "count": summary.searched[other]} for other, _ in best]

    def popular(self, prefix: str, limit: int = 5) -> list[dict[str, Any]]:
        """Recent queries that found something and start with `prefix`: [{q, count}], most searched first."""
        key = canonical(prefix)
        if not key:
            return []
        with self._lock:
            summary = self.summary()
            in_order, _ = summary.ordered()
            low, high = bisect.bisect_left(in_order, key), bisect.bisect_left(in_order, key + "\U0010ffff")
            best = heapq.nsmallest(limit, (q for q in in_order[low:high] if q != key),
                                   key=lambda q: (-summary.searched[q], q))
            return [{"q": summary.shown[q], "count": summary.searched[q]} for q in best]

    def zero_results(self, limit: int = 50) -> list[dict[str, Any]]:
        """Queries that found nothing (even corrected): [{q, count, last}], most frequent first."""
        with self._lock:
            summary = self.summary()
            ranked = heapq.nsmallest(limit, summary.zero.items(), key=lambda item: (-item[1], item[0]))
            return [{"q": summary.shown[q], "count": count, "last": summary.zero_last[q]} for q, count in ranked]


def _parse(lines: list[bytes]) -> list[dict[str, Any]]:
    """The entries of log lines (damaged lines skipped)."""
    found = []
    for raw in lines:
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("q"), str):
            found.append(item)
    return found


def summarise(entries: list[dict[str, Any]], summary: Summary | None = None) -> Summary:
    """Counts over log entries (first pages of searches with a query only), added to `summary` if given."""
    summary = Summary() if summary is None else summary
    for entry in entries:
        q = canonical(entry.get("q") or "")
        if not q or int(entry.get("page") or 1) != 1:
            continue
        summary.searched[q] += 1
        summary.changed = True
        summary.shown.setdefault(q, entry["q"].strip())
        total = int(entry.get("total") or 0)
        summary.found[q] = total
        if total == 0:
            summary.zero[q] += 1
            summary.zero_last[q] = str(entry.get("t", ""))
        previous = canonical(entry.get("prev") or "")
        if previous and previous != q:
            summary.next_to[previous][q] += 1
            summary.next_to[q][previous] += 1
        if summary.searched[q] == 1:
            for word in _words(q):
                summary.by_word[word].add(q)
    return summary


def _words(q: str) -> set[str]:
    """The words of a query that relate it to others (jieba words of two characters or more)."""
    return {word for word in word_terms(q) if len(word) >= 2}


def query_log(root: str | os.PathLike[str]) -> QueryLog | None:
    """The query log configured for the index at `root` (None when BULLETINS_QUERY_LOG is off)."""
    if config.get("BULLETINS_QUERY_LOG").lower() in ("off", "0", "false", "no"):
        return None
    folder = config.get("BULLETINS_QUERY_LOG_DIR")
    return QueryLog(Path(folder).expanduser() if folder else Path(root))
