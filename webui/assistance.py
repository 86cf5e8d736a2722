"""Query assistance in the web layer: the query log of searches, hot and related searches, and the lines
that show a correction or a did-you-mean on the results page.

The log (`search.querylog`) is configured from the app (QUERY_LOG, QUERY_LOG_DIR, QUERY_LOG_CLIENT, set by
BULLETINS_QUERY_LOG… variables or a test config). Logging never breaks a search: a log that cannot be
written is reported in the server log once per process.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask, current_app, request

from search.querylog import QueryLog, QueryLogError, query_log
from search.request import SearchRequest

EXTENSION = "bulletins_query_log"
#: Parameters that are not filters (left out of a log entry's filters).
_NOT_FILTERS = {"q", "page", "size", "sort", "correct"}


class QueryLogHolder:
    """The app's query log, opened on first use (None when switched off)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._opened = False
        self._log: QueryLog | None = None
        self.failed = False

    def get(self) -> QueryLog | None:
        with self._lock:
            if not self._opened:
                self._log = _configured(self.app)
                self._opened = True
            return self._log


def _configured(app: Flask) -> QueryLog | None:
    setting = str(app.config.get("QUERY_LOG", "")).lower()
    if setting in ("off", "0", "false", "no"):
        return None
    if setting or app.config.get("QUERY_LOG_DIR") or "QUERY_LOG_CLIENT" in app.config:
        folder = app.config.get("QUERY_LOG_DIR") or app.config["INDEX"]
        client = str(app.config.get("QUERY_LOG_CLIENT", "off")).lower() in ("on", "1", "true", "yes")
        max_bytes = app.config.get("QUERY_LOG_MAX_BYTES")
        return QueryLog(folder, max_bytes=int(max_bytes) if max_bytes else None, record_client=client)
    return query_log(app.config["INDEX"])


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = QueryLogHolder(app)


def get_query_log() -> QueryLog | None:
    return current_app.extensions[EXTENSION].get()


def previous_query() -> str:
    """The query of the results page this search was made from (same site), else ""."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if not referrer or parts.netloc != request.host or not parts.path.endswith("/search"):
        return ""
    return (parse_qs(parts.query).get("q") or [""])[-1]


def record(search_request: SearchRequest, results: dict[str, Any], source: str) -> None:
    """Append one search to the query log (when it is on); browsing without query text is not a search."""
    log = get_query_log()
    if log is None or not search_request.q.strip():
        return
    params = search_request.to_params()
    entry = {
        "q": search_request.q, "filters": {key: value for key, value in params.items() if key not in _NOT_FILTERS},
        "page": search_request.page, "total": results["total"],
        "corrected": results["query"]["q"] if results.get("corrected_from") is not None else None,
        "took_ms": results["took_ms"], "source": source, "prev": previous_query(),
        "client": request.remote_addr, "user": request.remote_user,
    }
    try:
        log.append(entry)
    except QueryLogError as error:
        holder = current_app.extensions[EXTENSION]
        if not holder.failed:
            holder.failed = True
            current_app.logger.warning("%s (searches are not logged)", error)


def hot_searches(limit: int = 10) -> list[dict[str, Any]]:
    log = get_query_log()
    return log.hot(limit) if log is not None else []


def related_searches(q: str, limit: int = 8) -> list[dict[str, Any]]:
    log = get_query_log()
    return log.related(q, limit) if log is not None and q else []


def history(prefix: str) -> list[dict[str, Any]]:
    log = get_query_log()
    return log.popular(prefix) if log is not None else []
