"""Synonym groups (简称 ↔ 全称) for query-time expansion, reloaded when the file changes.

The bundled `search/data/synonyms.txt` is used unless BULLETINS_SYNONYMS names another file. Members are
compared after `normalize`, so a traditional or full-width query term finds its group too.
"""

from __future__ import annotations

import re
import threading
from importlib.resources import files
from pathlib import Path

from index import config
from index.normalize import normalize

BUNDLED = Path(str(files("search").joinpath("data", "synonyms.txt")))
_SEPARATORS = re.compile(r"[,，、\s]+")


def synonyms_path() -> Path:
    """The synonym file in effect: BULLETINS_SYNONYMS, else the bundled one."""
    value = config.get("BULLETINS_SYNONYMS")
    return Path(value).expanduser() if value else BUNDLED


def parse_groups(text: str) -> dict[str, tuple[str, ...]]:
    """Map each normalised member to its whole group (members in file order, normalised)."""
    table: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        members = tuple(dict.fromkeys(normalize(word) for word in _SEPARATORS.split(line) if word))
        if len(members) < 2:
            continue
        for member in members:
            table[member] = tuple(dict.fromkeys([*table.get(member, ()), *members]))
    return table


class Synonyms:
    """The synonym table of a file, re-read whenever the file's path or mtime changes."""

    def __init__(self, path: Path | None = None) -> None:
        self._fixed = path
        self._lock = threading.Lock()
        self._key: tuple[str, float] | None = None
        self._table: dict[str, tuple[str, ...]] = {}

    def _current(self) -> dict[str, tuple[str, ...]]:
        path = self._fixed or synonyms_path()
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return {}
        key = (str(path), mtime)
        with self._lock:
            if key != self._key:
                self._table = parse_groups(path.read_text(encoding="utf-8"))
                self._key = key
            return self._table

    def expand(self, term: str) -> list[str]:
        """`term` followed by its other group members (just `term` when it is in no group)."""
        normalised = normalize(term)
        group = self._current().get(normalised, ())
        return [term, *(member for member in group if member != normalised)]
