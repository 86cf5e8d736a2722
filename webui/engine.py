"""One search `Engine` per app, opened on first use (flaskr's get_db pattern, cached on the app, not per request).

The engine refreshes itself on every call, so a finished rebuild shows up without a restart. A missing index
is not cached: the next request tries again, so building an index while the server runs just works.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g

from search.engine import Engine

EXTENSION = "bulletins_engine"


class EngineHolder:
    """The app's engine, opened lazily from the app's INDEX setting, or on the cluster of its BACKEND setting
    (`sphinxql://HOST:PORT`, from --backend or $BULLETINS_BACKEND)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def get(self) -> Engine:
        """The open engine; raises IndexUnavailable while there is no usable index."""
        with self._lock:
            if self._engine is None:
                self._engine = Engine(str(self.app.config["INDEX"]), backend=self.app.config.get("BACKEND") or None)
            return self._engine

    def close(self) -> None:
        """Close the engine if it was opened."""
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None


def init_app(app: Flask) -> None:
    """Attach an engine holder; it opens the app's INDEX folder on first use."""
    app.extensions[EXTENSION] = EngineHolder(app)


def get_engine() -> Engine:
    """The current app's engine, looked up once per request."""
    if "engine" not in g:
        g.engine = current_app.extensions[EXTENSION].get()
    return g.engine


def close_engine(app: Flask) -> None:
    """Release the app's engine (server shutdown, tests)."""
    app.extensions[EXTENSION].close()
