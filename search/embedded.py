"""The embedded backend: the local index generation (Whoosh, unit index, numpy columns) searched in-process.

`EmbeddedBackend` keeps the live generation open as a `Snapshot`, shared by all threads, and opens the new
one when a build finished (CURRENT changed), so a running server sees new builds without a restart; a
replaced snapshot is closed once no call is using it. An `EmbeddedView` is one call's use of a snapshot:
one evaluation of the query tree (`search.matching`), one facet count (`search.facets`), a top-k selection;
its exact unit counts are shared by the call's further counts (suggestions, query assistance).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from index import schema as f
from index.analysis import unit_groups
from index.stats import build_figures, generation_figures
from index.store import IndexLocation
from index.unitindex import intersect_sorted, query_symbols
from index.vocabulary import Vocabulary, VocabularyError, open_vocabulary
from search.backend import Call, Evaluation
from search.facets import count_facets, count_matrix
from search.matching import Match, Matcher
from search.query import All, Leaf, Node
from search.related import related_documents, word_frequencies
from search.request import SearchRequest
from search.snapshot import Snapshot
from search.themes import ThemeMembership, Themes, compute_membership


class EmbeddedBackend:
    """The index generations under `index_root`."""

    def __init__(self, index_root: str | Path, themes: Themes) -> None:
        self.location = IndexLocation(index_root)
        self.name = "embedded"
        self.themes = themes
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = Snapshot(self.location)

    def _refresh_locked(self) -> None:
        old = self._snapshot
        if old is not None and self.location.generation() == old.generation:
            return
        self._snapshot = Snapshot(self.location)
        if old is not None:
            self._retire(old)

    @staticmethod
    def _retire(snapshot: Snapshot) -> None:
        snapshot.retired = True
        if snapshot.users == 0:
            snapshot.close()

    @contextmanager
    def view(self) -> Iterator[EmbeddedView]:
        """The refreshed live snapshot, kept open until the caller is done with it."""
        with self._lock:
            self._refresh_locked()
            snapshot = self._snapshot
            assert snapshot is not None
            snapshot.users += 1
        try:
            yield EmbeddedView(snapshot, self.themes)
        finally:
            with self._lock:
                snapshot.users -= 1
                if snapshot.retired and snapshot.users == 0:
                    snapshot.close()

    def close(self) -> None:
        """Release the index files (the backend reopens on the next call)."""
        with self._lock:
            if self._snapshot is not None:
                self._retire(self._snapshot)
                self._snapshot = None


class EmbeddedView:
    """One call's use of a snapshot (see the module docstring)."""

    def __init__(self, snapshot: Snapshot, themes: Themes) -> None:
        self.snapshot = snapshot
        self.themes = themes
        self.generation = snapshot.generation
        self.live_count = snapshot.live_count
        #: Exact counts per unit sequence, shared by the call's matchers.
        self._units: dict = {}
        self._sparse: dict[tuple[int, ...], np.ndarray] = {}

    # Themes.

    def membership(self) -> ThemeMembership:
        """Theme membership under the current theme table (computed once per snapshot and table version)."""
        snapshot = self.snapshot
        table = self.themes.table()
        return snapshot.derived("themes", table.digest,
                                lambda: compute_membership(table, snapshot.unit_documents, snapshot.live))

    def theme_counts(self) -> dict[str, int]:
        return self.membership().counts(self.snapshot.live)

    # Matching.

    def _matcher(self, call: Call) -> Matcher:
        return Matcher(self.snapshot, call.synonyms, call.request.scope == "title", self._units)

    def evaluate(self, call: Call, limit: int | None, facets: bool = True, matrix: bool = False,
                 offset: int = 0) -> Evaluation:
        request = call.request
        matcher = self._matcher(call)
        match = matcher.evaluate(call.node)
        counts = count_facets(self.snapshot.columns, match.mask, request, self.membership())
        table = count_matrix(self.snapshot.columns, counts).to_dict() if matrix else None
        relevance = request.sort == "relevance" and call.node is not None
        if relevance:
            matcher.add_word_scores(match, counts.docnums)
        ranked = _ranked(self.snapshot, counts.passing, match, request, relevance, limit)
        return Evaluation(counts.total, counts.counters if facets else {},
                          [(docnum, float(match.score[docnum])) for docnum in ranked[offset:].tolist()], table)

    def count(self, call: Call) -> int:
        match = self._matcher(call).evaluate(call.node)
        return count_facets(self.snapshot.columns, match.mask, call.request, self.membership()).total

    def count_many(self, calls: list[Call]) -> list[int]:
        return [self.count(call) for call in calls]

    def occurrences(self, node: Node, title: bool) -> int:
        """Found from sparse document lists where it can (a term, or terms together), else evaluated."""
        found = self._documents(node, title)
        if found is not None:
            return len(found)
        matcher = Matcher(self.snapshot, None, title, self._units)
        return int(np.count_nonzero(matcher.evaluate(node).mask & self.snapshot.live))

    def occurrences_many(self, nodes: list[Node], title: bool) -> list[int]:
        return [self.occurrences(node, title) for node in nodes]

    def _documents(self, node: Node, title: bool) -> np.ndarray | None:
        """The live documents `node` matches, found sparsely (None: evaluate it the dense way)."""
        if isinstance(node, Leaf) and not (node.title or title):
            groups = [tuple(query_symbols(group)) for group in unit_groups(node.text)]
            if not groups:
                return None
            for symbols in groups:
                if symbols not in self._sparse:
                    self._sparse[symbols] = self.snapshot.unit_docnums(symbols)
            return functools.reduce(intersect_sorted, (self._sparse[symbols] for symbols in groups))
        if isinstance(node, All) and node.children:
            parts = [self._documents(child, title) for child in node.children]
            if any(part is None for part in parts):
                return None
            return functools.reduce(intersect_sorted, parts)
        return None

    # Documents.

    def stored(self, handle: Any) -> dict[str, Any]:
        return self.snapshot.stored_fields(handle)

    def article(self, article_id: str) -> dict[str, Any] | None:
        docnum = self.snapshot.docnum_of(article_id)
        return None if docnum is None else self.snapshot.stored_fields(docnum)

    def bulletin_documents(self, bulletin_id: str) -> list[dict[str, Any]]:
        return sorted(self.snapshot.documents(f.BULLETIN_ID, bulletin_id), key=lambda doc: doc[f.ORDINAL])

    def related(self, article_id: str) -> list[dict[str, Any]]:
        docnum = self.snapshot.docnum_of(article_id)
        return [] if docnum is None else related_documents(self.snapshot, docnum)

    def word_frequencies(self, words: list[str]) -> dict[str, int]:
        return word_frequencies(self.snapshot, words)

    def latest_bulletins(self, limit: int) -> list[dict[str, Any]]:
        snapshot = self.snapshot
        columns = snapshot.columns
        firsts = np.flatnonzero(snapshot.live & (columns.ordinal == 0))
        order = np.lexsort((-snapshot.id_rank[firsts], -columns.date_num[firsts]))
        return [snapshot.stored_fields(doc) for doc in firsts[order][:max(limit, 0)].tolist()]

    def vocabulary(self) -> Vocabulary | None:
        """Opened once per snapshot (None when the generation has none or it is unreadable)."""
        return self.snapshot.derived("vocabulary", None, lambda: _open_vocabulary(self.snapshot.path))

    def figures(self) -> dict[str, Any]:
        return {**generation_figures(self.snapshot.segments),
                **build_figures(self.snapshot.generation, self.snapshot.meta)}

    def built_at(self) -> str:
        return self.snapshot.meta.built_at


def _open_vocabulary(path: Path) -> Vocabulary | None:
    try:
        return open_vocabulary(path)
    except VocabularyError:
        return None


def _ranked(snapshot: Snapshot, passing: np.ndarray, match: Match, request: SearchRequest, relevance: bool,
            limit: int | None) -> np.ndarray:
    """The first `limit` (all when None) passing docnums in result order: score (ties: newer first, then
    the bulletin's order, then id), or date with a bulletin's articles in order."""
    found = np.flatnonzero(passing)
    wanted = len(found) if limit is None else min(limit, len(found))
    if not wanted:
        return found[:0]
    columns = snapshot.columns
    if relevance:
        scores = match.score[found]
        if wanted < len(found):
            threshold = np.partition(scores, len(scores) - wanted)[len(scores) - wanted]
            keep = scores >= threshold
            found, scores = found[keep], scores[keep]
        order = np.lexsort((snapshot.id_rank[found], columns.ordinal[found], -columns.date_num[found], -scores))
        return found[order][:wanted]
    rank = snapshot.order(request.sort)[found]
    if wanted < len(found):
        keep = np.argpartition(rank, wanted - 1)[:wanted]
        found, rank = found[keep], rank[keep]
    return found[np.argsort(rank)]
