"""Campaign themes (主题): an editable table of topics and their terms, and which articles have each theme.

The bundled `search/data/themes.csv` (BULLETINS_THEMES names another file) has one row per topic: its name,
its keywords and its synonyms (several per cell, separated by 、 , ； or spaces). An article has a theme when
its headline or body contains one of the theme's terms exactly: a substring of the normalised text, found
with the unit index (`Snapshot.unit_documents`), so jieba's segmentation plays no part. The table is re-read
when its file changes; membership is computed once per snapshot and table version (`Snapshot.derived`) and
kept as a boolean matrix (themes × documents) with its rows packed into bits, so the theme facet of a search
is one AND and one popcount per theme.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from index import config
from index.analysis import unit_groups
from index.normalize import normalize
from index.unitindex import query_symbols

BUNDLED = Path(str(files("search").joinpath("data", "themes.csv")))
#: Separators between the terms of one cell.
_SEPARATORS = re.compile(r"[、,，;；\s]+")
#: First cells that mark a header row.
_HEADERS = {"主题", "theme", "topic", "name"}

log = logging.getLogger(__name__)
#: Set bits per byte value, for numpy versions without `bitwise_count`.
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1).astype(np.uint8)


def _popcount(bits: np.ndarray) -> np.ndarray:
    """Set bits of each byte."""
    counter = getattr(np, "bitwise_count", None)
    return counter(bits) if counter is not None else _BYTE_BITS[bits]


def themes_path() -> Path:
    """The theme table in effect: BULLETINS_THEMES, else the bundled one."""
    value = config.get("BULLETINS_THEMES")
    return Path(value).expanduser() if value else BUNDLED


@dataclass(frozen=True)
class Theme:
    """One campaign topic: its name, keywords and synonyms as written, and the normalised terms it matches."""

    name: str
    keywords: tuple[str, ...]
    synonyms: tuple[str, ...]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class ThemeTable:
    """A parsed table: its themes in file order, a digest of the file's bytes, and what was wrong in it."""

    themes: tuple[Theme, ...]
    digest: str
    source: str
    problems: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [theme.name for theme in self.themes]


def decode(data: bytes) -> str:
    """The text of a table file: UTF-8 (with or without BOM), else GB18030 (Excel on Chinese Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _cell_terms(cell: str) -> list[str]:
    return [term for term in _SEPARATORS.split(cell.strip()) if term]


def parse_table(data: bytes, source: str = "themes.csv") -> ThemeTable:
    """Parse a theme table (CSV: 主题, 关键词, 同义词); bad rows and terms are skipped and named in `problems`.

    The first row is a header when it starts with 主题 (or theme, topic, name). A term must be one run of
    adjacent text (no punctuation inside), because it matches as an exact substring; rows with the same
    name are merged; lines starting with # are comments.
    """
    problems: list[str] = []
    merged: dict[str, tuple[list[str], list[str]]] = {}
    first = True
    for number, row in enumerate(csv.reader(io.StringIO(decode(data))), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        name = cells[0]
        header, first = first and name.lower() in _HEADERS, False
        if header:
            continue
        if not name:
            problems.append(f"{source}:{number}: 缺少主题名 / a row without a theme name")
            continue
        if name in merged:
            problems.append(f"{source}:{number}: 主题“{name}”重复，已合并 / theme {name!r} repeated, rows merged")
        keywords, synonyms = merged.setdefault(name, ([], []))
        for column, target in ((1, keywords), (2, synonyms)):
            for term in _cell_terms(cells[column]) if len(cells) > column else []:
                if len(unit_groups(term)) != 1:
                    problems.append(f"{source}:{number}: 词“{term}”含标点或为空，已忽略 / term {term!r} is not "
                                    "one run of text (punctuation inside), skipped")
                elif term not in target:
                    target.append(term)
    themes = []
    for name, (keywords, synonyms) in merged.items():
        terms = tuple(dict.fromkeys(normalize(term) for term in keywords + synonyms))
        if not terms:
            problems.append(f"{source}: 主题“{name}”没有关键词，已忽略 / theme {name!r} has no terms, skipped")
            continue
        themes.append(Theme(name, tuple(keywords), tuple(synonyms), terms))
    return ThemeTable(tuple(themes), hashlib.sha1(data).hexdigest(), source, tuple(problems))


class Themes:
    """The theme table of a file, re-read whenever the file's path, size or modification time changes."""

    def __init__(self, path: Path | None = None) -> None:
        self._fixed = path
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._table = ThemeTable((), "", "")

    def table(self) -> ThemeTable:
        """The current table (an empty one naming the problem, which is logged, when the file cannot be read)."""
        path = self._fixed or themes_path()
        try:
            stat = path.stat()
            key = (str(path), stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = (str(path), -1, -1)
        with self._lock:
            if key != self._key:
                self._table, self._key = _read_table(path), key
                for problem in self._table.problems:
                    log.warning(problem)
            return self._table


def _read_table(path: Path) -> ThemeTable:
    try:
        data = path.read_bytes()
    except OSError as error:
        return ThemeTable((), "", str(path), (f"{path}: 无法读取主题表 / cannot read the theme table: "
                                              f"{error.strerror or error}",))
    return parse_table(data, str(path))


class ThemeMembership:
    """Which documents have which theme: a boolean row per theme over every document, and its packed bits."""

    def __init__(self, names: Sequence[str], matrix: np.ndarray) -> None:
        self.names = list(names)
        self.matrix = matrix
        self.size = matrix.shape[1]
        self.bits = np.packbits(matrix, axis=1) if len(self.names) else np.zeros((0, 0), np.uint8)
        self._rows = {name: row for row, name in enumerate(self.names)}

    def mask(self, wanted: Iterable[str]) -> np.ndarray:
        """A boolean per document: it has any of the `wanted` themes (unknown names match nothing)."""
        rows = [self._rows[name] for name in wanted if name in self._rows]
        if not rows:
            return np.zeros(self.size, dtype=bool)
        return np.logical_or.reduce(self.matrix[rows], axis=0)

    def themes_of(self, docnum: int) -> list[str]:
        """The names of the themes one document has, in table order (what the SphinxQL rows carry)."""
        return [self.names[row] for row in np.flatnonzero(self.matrix[:, docnum])]

    def counts(self, scope: np.ndarray) -> dict[str, int]:
        """How many documents of `scope` (a boolean mask) have each theme, for the themes that have any."""
        if not self.names:
            return {}
        found = _popcount(self.bits & np.packbits(scope)).sum(axis=1, dtype=np.int64)
        return {self.names[row]: int(found[row]) for row in np.flatnonzero(found)}


def compute_membership(table: ThemeTable, documents_with: Callable[[list[int]], np.ndarray],
                       live: np.ndarray) -> ThemeMembership:
    """Theme membership of every live document: `documents_with(symbols)` is the boolean mask of documents
    whose headline or body contains that unit sequence (each distinct term is looked up once)."""
    found: dict[str, np.ndarray] = {}
    matrix = np.zeros((len(table.themes), len(live)), dtype=bool)
    for row, theme in enumerate(table.themes):
        for term in theme.terms:
            mask = found.get(term)
            if mask is None:
                mask = found[term] = documents_with(query_symbols(unit_groups(term)[0]))
            matrix[row] |= mask
        matrix[row] &= live
    return ThemeMembership(table.names, matrix)
