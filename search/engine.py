"""`Engine`: searches, articles, bulletins and statistics over the live index generation.

Each public method first calls `refresh()`, which opens the new generation when a build finished (CURRENT
changed), so a running server sees new builds without a restart. An opened generation is a `Snapshot`
(`search.snapshot`), shared by all threads: searches run side by side, each thread with its own Whoosh
reader; a replaced snapshot is closed once no call is using it. A search is one evaluation of the query
tree (`search.matching`), one facet count (`search.facets`), a top-k selection and the stored fields and
highlights of the page's hits. Theme membership (`search.themes`) is computed once per snapshot and theme
table version; related articles come from `search.related`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from index import schema as f
from index.stats import build_figures, generation_figures
from index.store import IndexLocation
from search.assist import Assistance, assist, vocabulary_of
from search.facets import count_facets, count_matrix, facet_lists
from search.highlight import find_spans, mark_html, paragraphs_html, snippet_html
from search.matching import Match, Matcher
from search.query import All, Leaf, Node, highlight_terms, parse_all, parse_query, positive_leaves, unparse
from search.related import related_documents
from search.request import SearchRequest
from search.results import Hit, SearchResults, Suggestion, article_url
from search.snapshot import Snapshot
from search.suggest import suggestions
from search.synonyms import Synonyms
from search.themes import ThemeMembership, Themes, compute_membership

MAX_SUGGESTIONS = 5
EXPORT_CHUNK = 200


class Engine:
    """The search layer's entry point over the index under `index_root`."""

    def __init__(self, index_root: str | Path, synonyms: Synonyms | None = None, themes: Themes | None = None,
                 assist: bool = True) -> None:
        self.location = IndexLocation(index_root)
        self.synonyms = synonyms or Synonyms()
        self.themes = themes or Themes()
        #: Query assistance (`search.assist`: corrections, did-you-mean); off only to measure what it costs.
        self.assist = assist
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = Snapshot(self.location)

    def refresh(self) -> None:
        """Open the new generation if a build finished since this one was opened (IndexUnavailable if gone)."""
        with self._lock:
            self._refresh_locked()

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
    def _use(self) -> Iterator[Snapshot]:
        """The refreshed live snapshot, kept open until the caller is done with it."""
        with self._lock:
            self._refresh_locked()
            snapshot = self._snapshot
            assert snapshot is not None
            snapshot.users += 1
        try:
            yield snapshot
        finally:
            with self._lock:
                snapshot.users -= 1
                if snapshot.retired and snapshot.users == 0:
                    snapshot.close()

    def close(self) -> None:
        """Release the index files (the engine reopens on the next call)."""
        with self._lock:
            if self._snapshot is not None:
                self._retire(self._snapshot)
                self._snapshot = None

    # Themes.

    def _membership(self, snapshot: Snapshot) -> ThemeMembership:
        """Theme membership of the snapshot's documents under the current theme table (computed once per
        snapshot and table version)."""
        table = self.themes.table()
        return snapshot.derived("themes", table.digest,
                                lambda: compute_membership(table, snapshot.unit_documents, snapshot.live))

    # Searching.

    def search(self, request: SearchRequest) -> SearchResults:
        """One page of results with total, facets, snippets, (when nothing matched) suggestions and (when
        asked for) the district × year matrix."""
        started = time.perf_counter()
        node = _query_node(request)
        marked = _marked_query(request, node)
        synonyms = self.synonyms if request.synonyms else None
        terms = highlight_terms(node, synonyms, request.scope == "title")
        relevance = _order_is_relevance(request, node)
        with self._use() as snapshot:
            matcher = Matcher(snapshot, synonyms, request.scope == "title")
            match = matcher.evaluate(node)
            counts = count_facets(snapshot.columns, match.mask, request, self._membership(snapshot))
            matrix = count_matrix(snapshot.columns, counts).to_dict() if request.matrix else None
            if relevance:
                matcher.add_word_scores(match, counts.docnums)
            offset = (request.page - 1) * request.size
            page = _ranked(snapshot, counts.passing, match, request, relevance, offset + request.size)[offset:]
            hits = []
            for docnum in page.tolist():
                stored = snapshot.stored_fields(docnum)
                headline_spans = find_spans(stored[f.HEADLINE], terms, headline=True)
                body_spans = find_spans(stored[f.BODY], terms)
                hits.append(_hit(stored, marked, mark_html(stored[f.HEADLINE], headline_spans),
                                 snippet_html(stored[f.BODY], body_spans), float(match.score[docnum])))
            suggestions = self._suggestions(snapshot, request, node, matcher.units) if counts.total == 0 else []
            assistance = assist(snapshot, synonyms, request, node, counts.total,
                                lambda other: self._count(snapshot, other, matcher.units), matcher.units) \
                if self.assist else Assistance()
        if assistance.correction is not None:
            corrected = self.search(replace(request, q=assistance.correction, correct=False))
            corrected.corrected_from = request.q
            corrected.took_ms = round((time.perf_counter() - started) * 1000, 1)
            return corrected
        return SearchResults(
            query={"q": request.q, "parsed": unparse(node), "params": request.to_params()},
            total=counts.total, page=request.page, size=request.size,
            took_ms=round((time.perf_counter() - started) * 1000, 1),
            hits=hits, facets=facet_lists(counts, request), suggestions=suggestions, matrix=matrix,
            did_you_mean=assistance.did_you_mean)

    def count(self, request: SearchRequest) -> int:
        """How many articles match `request` (no hits, no facets)."""
        with self._use() as snapshot:
            return self._count(snapshot, request)

    def _count(self, snapshot: Snapshot, request: SearchRequest, units: dict | None = None) -> int:
        match = Matcher(snapshot, self.synonyms if request.synonyms else None,
                        request.scope == "title", units).evaluate(_query_node(request))
        return count_facets(snapshot.columns, match.mask, request, self._membership(snapshot)).total

    def _suggestions(self, snapshot: Snapshot, request: SearchRequest, node: Node | None,
                     units: dict) -> list[Suggestion]:
        """Alternatives that do have results: no filters, whole text, synonyms on, fewer terms, no quotes.

        `node` is the whole query (q and within), so an alternative with fewer terms or no quotes is a new
        `q` without `within`."""
        candidates: list[tuple[str, SearchRequest]] = []
        if request.has_filters():
            candidates.append(("去掉筛选条件 / without filters", request.without_filters()))
        if request.scope == "title":
            candidates.append(("检索全文 / search full text", replace(request, scope="all", page=1)))
        if not request.synonyms:
            candidates.append(("使用同义词 / with synonyms", replace(request, synonyms=True, page=1)))
        if isinstance(node, All) and len(node.children) > 1:
            for dropped in node.children:
                rest = All(tuple(child for child in node.children if child is not dropped))
                candidates.append((f"去掉“{unparse(dropped)}” / without {unparse(dropped)}",
                                   replace(request, q=unparse(rest.children[0] if len(rest.children) == 1 else rest),
                                           within=[], page=1)))
        if any(leaf.phrase for leaf in positive_leaves(node)):
            loose = " ".join(unparse(Leaf(word, title=leaf.title)) for leaf in positive_leaves(node)
                             for word in leaf.text.split())
            candidates.append(("不加引号 / without quotes", replace(request, q=loose, within=[], page=1)))
        found: list[Suggestion] = []
        for label, candidate in candidates:
            total = self._count(snapshot, candidate, units)
            if total:
                found.append(Suggestion(label, candidate.q, candidate.to_params(), total))
            if len(found) >= MAX_SUGGESTIONS:
                break
        return found

    def _ordered(self, snapshot: Snapshot, request: SearchRequest, limit: int | None) -> tuple[int, list[int]]:
        """How many articles match, and the first `limit` (all when None) docnums in the request's order."""
        node = _query_node(request)
        relevance = _order_is_relevance(request, node)
        matcher = Matcher(snapshot, self.synonyms if request.synonyms else None, request.scope == "title")
        match = matcher.evaluate(node)
        counts = count_facets(snapshot.columns, match.mask, request, self._membership(snapshot))
        if relevance:
            matcher.add_word_scores(match, counts.docnums)
        return counts.total, _ranked(snapshot, counts.passing, match, request, relevance, limit).tolist()

    def suggest(self, q: str, history: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Completions of `q` as it is being typed (`search.suggest`), `history` from the query log first."""
        with self._use() as snapshot:
            vocabulary = vocabulary_of(snapshot)
        return suggestions(vocabulary, q, history)

    def export(self, request: SearchRequest) -> Iterator[dict[str, Any]]:
        """Every match in the request's order (no paging, no snippets): rows for CSV."""
        marked = _marked_query(request, _query_node(request))
        with self._use() as snapshot:
            _, docnums = self._ordered(snapshot, request, None)
            for start in range(0, len(docnums), EXPORT_CHUNK):
                rows = [snapshot.stored_fields(docnum) for docnum in docnums[start:start + EXPORT_CHUNK]]
                for stored in rows:
                    row = _hit(stored, marked, "", "", 0.0).to_dict()
                    for name in ("headline_html", "snippet", "score"):
                        row.pop(name)
                    yield row

    def collect(self, request: SearchRequest, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many articles match, and the first `limit` of them in the request's order, each a whole
        article (`article_record`): for feeds and the 汇编 document."""
        with self._use() as snapshot:
            total, docnums = self._ordered(snapshot, request, max(limit, 0))
            return total, [article_record(snapshot.stored_fields(docnum)) for docnum in docnums]

    def articles(self, article_ids: list[str]) -> list[dict[str, Any]]:
        """The live articles among `article_ids`, in that order, each once (`article_record`)."""
        with self._use() as snapshot:
            found = []
            for article_id in dict.fromkeys(article_ids):
                docnum = snapshot.docnum_of(article_id)
                if docnum is not None:
                    found.append(article_record(snapshot.stored_fields(docnum)))
            return found

    def theme_overview(self) -> dict[str, Any]:
        """The theme table in effect (file, problems) and how many live articles have each theme."""
        table = self.themes.table()
        with self._use() as snapshot:
            counts = self._membership(snapshot).counts(snapshot.live)
        return {"file": table.source, "problems": list(table.problems),
                "themes": [{"name": theme.name, "keywords": list(theme.keywords), "synonyms": list(theme.synonyms),
                            "articles": counts.get(theme.name, 0)} for theme in table.themes]}

    # Documents.

    def article(self, article_id: str, q: str = "") -> dict[str, Any] | None:
        """All stored fields of an article, `body_html`/`headline_html` with `q` marked, its bulletin, siblings
        and related articles."""
        terms = highlight_terms(parse_query(q), self.synonyms)
        with self._use() as snapshot:
            docnum = snapshot.docnum_of(article_id)
            if docnum is None:
                return None
            stored = dict(snapshot.stored_fields(docnum))
            siblings = _bulletin_documents(snapshot, stored[f.BULLETIN_ID])
            related = related_documents(snapshot, docnum)
        headline_spans = find_spans(stored[f.HEADLINE], terms, headline=True)
        body_spans = find_spans(stored[f.BODY], terms)
        stored.pop(f.FILE_HASH, None)
        meta = stored.pop(f.BULLETIN_META, {}) or {}
        stored.update({
            "total_issue": stored.get(f.TOTAL),
            "headline_html": mark_html(stored[f.HEADLINE], headline_spans),
            "body_html": paragraphs_html(stored[f.BODY], body_spans),
            "url": article_url(article_id, q),
            "bulletin": _bulletin_header(stored, meta),
            "siblings": [{"id": other[f.ID_], "headline": other[f.HEADLINE], "column": other[f.COLUMN],
                          "ordinal": other[f.ORDINAL], "url": article_url(other[f.ID_], q)}
                         for other in siblings if other[f.ID_] != article_id],
            "related": [{"id": other[f.ID_], "headline": other[f.HEADLINE], "date": other.get(f.DATE, ""),
                         "district": other.get(f.DISTRICT, ""), "url": article_url(other[f.ID_])}
                        for other in related],
        })
        return stored

    def bulletin(self, bulletin_id: str) -> dict[str, Any] | None:
        """A bulletin's header and footer fields and its articles in order (None when unknown)."""
        with self._use() as snapshot:
            documents = _bulletin_documents(snapshot, bulletin_id)
        if not documents:
            return None
        first = documents[0]
        result = _bulletin_header(first, first.get(f.BULLETIN_META) or {})
        result["columns"] = list(dict.fromkeys(doc[f.COLUMN] for doc in documents))
        result["articles"] = [{
            "id": doc[f.ID_], "ordinal": doc[f.ORDINAL], "column": doc[f.COLUMN], "headline": doc[f.HEADLINE],
            "body": doc[f.BODY], "source": doc.get(f.SOURCE, ""), "district": doc.get(f.DISTRICT, ""),
            "url": article_url(doc[f.ID_]),
        } for doc in documents]
        return result

    def stats(self) -> dict[str, Any]:
        """What the index holds: counts, date range, per-district and per-year counts, build information."""
        with self._use() as snapshot:
            vocabulary = vocabulary_of(snapshot)
            return {**generation_figures(snapshot.segments), **build_figures(snapshot.generation, snapshot.meta),
                    "vocabulary": vocabulary.figures if vocabulary is not None else None}

    def built_at(self) -> str:
        """When the live generation was built (ISO timestamp)."""
        with self._use() as snapshot:
            return snapshot.meta.built_at

    def latest_bulletins(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest bulletins (by date), each with its header fields and article count."""
        with self._use() as snapshot:
            columns = snapshot.columns
            firsts = np.flatnonzero(snapshot.live & (columns.ordinal == 0))
            order = np.lexsort((-snapshot.id_rank[firsts], -columns.date_num[firsts]))
            documents = [snapshot.stored_fields(doc) for doc in firsts[order][:max(limit, 0)].tolist()]
        return [_bulletin_header(doc, doc.get(f.BULLETIN_META) or {}) for doc in documents]


def _query_node(request: SearchRequest) -> Node | None:
    """The query tree of a request: `q` and every `within` text, all required."""
    return parse_all([request.q, *request.within]) if request.within else parse_query(request.q)


def _marked_query(request: SearchRequest, node: Node | None) -> str:
    """The query text an article page should highlight: `q`, or the whole tree's text when there is `within`."""
    return unparse(node) if request.within else request.q


def article_record(stored: dict[str, Any]) -> dict[str, Any]:
    """An article with what a compilation or a feed shows of it: id, headline, body, date, district, column,
    source and its bulletin (series, issue, issue_label, total, office)."""
    return {
        "id": stored[f.ID_], "headline": stored.get(f.HEADLINE, ""), "body": stored.get(f.BODY, ""),
        "date": stored.get(f.DATE, ""), "district": stored.get(f.DISTRICT, ""), "column": stored.get(f.COLUMN, ""),
        "source": stored.get(f.SOURCE, ""), "series": stored.get(f.SERIES, ""), "issue": stored.get(f.ISSUE),
        "issue_label": stored.get(f.ISSUE_LABEL, ""), "total_issue": stored.get(f.TOTAL),
        "office": stored.get(f.OFFICE, ""), "bulletin_id": stored.get(f.BULLETIN_ID, ""),
    }


def _order_is_relevance(request: SearchRequest, node: Node | None) -> bool:
    """Relevance order applies when asked for and there is something to rank (not browse mode)."""
    return request.sort == "relevance" and node is not None


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


def _hit(stored: dict[str, Any], q: str, headline_html: str, snippet: str, score: float) -> Hit:
    return Hit(
        id=stored[f.ID_], headline=stored[f.HEADLINE], headline_html=headline_html,
        date=stored.get(f.DATE, ""), year=stored.get(f.YEAR, 0), district=stored.get(f.DISTRICT, ""),
        column=stored.get(f.COLUMN, ""), source=stored.get(f.SOURCE, ""), series=stored.get(f.SERIES, ""),
        issue=stored.get(f.ISSUE), total_issue=stored.get(f.TOTAL), snippet=snippet,
        score=round(score, 4), url=article_url(stored[f.ID_], q))


def _bulletin_documents(snapshot: Snapshot, bulletin_id: str) -> list[dict[str, Any]]:
    """Stored fields of a bulletin's live articles in their order."""
    return sorted(snapshot.documents(f.BULLETIN_ID, bulletin_id), key=lambda doc: doc[f.ORDINAL])


def _bulletin_header(stored: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """Header and footer fields of the bulletin an article belongs to."""
    bulletin_id = stored[f.BULLETIN_ID]
    return {
        "id": bulletin_id, "file": stored.get(f.FILE, ""), "series": stored.get(f.SERIES, ""),
        "issue": stored.get(f.ISSUE), "issue_label": stored.get(f.ISSUE_LABEL, ""),
        "total": stored.get(f.TOTAL), "office": stored.get(f.OFFICE, ""), "date": stored.get(f.DATE, ""),
        "editor": meta.get("editor"), "reviewer": meta.get("reviewer"), "phone": meta.get("phone"),
        "fax": meta.get("fax"), "email": meta.get("email"), "distribution": meta.get("distribution") or {},
        "articles": meta.get("articles"), "url": f"/bulletin/{bulletin_id}",
    }

