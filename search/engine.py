"""`Engine`: searches, articles, bulletins and statistics over the live index generation.

Each public method first calls `refresh()`, which reopens the index when a build finished (the CURRENT
generation changed or Whoosh has a newer commit), so a running server sees new builds without a restart.
An opened generation is a `_Snapshot` (searcher + in-memory facet columns); Whoosh work on it is
serialised by its lock, and a replaced snapshot is closed once no call is using it (thread-safe for a
multi-threaded WSGI server).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.index import EmptyIndexError

from index import schema as f
from index.stats import build_figures, reader_figures
from index.store import IndexError_, IndexLocation, IndexMeta, check_compatible
from search.errors import IndexUnavailable
from search.facets import FacetColumns, FacetCounts, count_facets, facet_lists
from search.highlight import find_spans, mark_html, paragraphs_html, snippet_html
from search.query import (All, Leaf, Node, compile_query, highlight_terms, parse_query, positive_leaves,
                          unparse)
from search.request import SearchRequest
from search.results import Hit, SearchResults, Suggestion, article_url
from search.synonyms import Synonyms

MAX_SUGGESTIONS = 5
EXPORT_CHUNK = 200


class _Snapshot:
    """One opened generation: searcher, facet columns and build metadata."""

    def __init__(self, location: IndexLocation) -> None:
        try:
            path = location.current_path()
            self.meta: IndexMeta = check_compatible(path)
            self.generation = path.name
            self.searcher = whoosh_index.open_dir(str(path)).searcher()
        except (IndexError_, EmptyIndexError) as error:
            raise IndexUnavailable(f"{error} (索引不可用 / index unavailable: build it with "
                                   f"`bulletins build SRC --index {location.root}`)") from error
        self.columns = FacetColumns.load(self.searcher.reader())
        self.lock = threading.RLock()
        self.users = 0
        self.retired = False

    def current(self, location: IndexLocation) -> bool:
        """True while this is still the live generation at its latest commit."""
        return location.generation() == self.generation and self.searcher.up_to_date()

    def close(self) -> None:
        with self.lock:
            self.searcher.close()


class Engine:
    """The search layer's entry point over the index under `index_root`."""

    def __init__(self, index_root: str | Path, synonyms: Synonyms | None = None) -> None:
        self.location = IndexLocation(index_root)
        self.synonyms = synonyms or Synonyms()
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = _Snapshot(self.location)

    def refresh(self) -> None:
        """Reopen the index if a build finished since it was opened (IndexUnavailable if it is gone)."""
        with self._lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        old = self._snapshot
        if old is not None and old.current(self.location):
            return
        self._snapshot = _Snapshot(self.location)
        if old is not None:
            self._retire(old)

    @staticmethod
    def _retire(snapshot: _Snapshot) -> None:
        snapshot.retired = True
        if snapshot.users == 0:
            snapshot.close()

    @contextmanager
    def _use(self) -> Iterator[_Snapshot]:
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

    # Searching.

    def search(self, request: SearchRequest) -> SearchResults:
        """One page of results with total, facets, snippets and (when nothing matched) suggestions."""
        started = time.perf_counter()
        node = parse_query(request.q)
        synonyms = self.synonyms if request.synonyms else None
        terms = highlight_terms(node, synonyms, request.scope == "title")
        query = compile_query(node, synonyms, request.scope == "title")
        relevance = _order_is_relevance(request, node)
        with self._use() as snapshot, snapshot.lock:
            searcher = snapshot.searcher
            counts, scores = _matches(snapshot, query, request, relevance)
            offset = (request.page - 1) * request.size
            page = _ranked(snapshot.columns, counts.docnums, scores, request, relevance)[offset:offset + request.size]
            hits = []
            for docnum in page:
                stored = searcher.stored_fields(docnum)
                headline_spans = find_spans(searcher.reader(), docnum, f.HEADLINE_EXACT, terms, headline=True)
                body_spans = find_spans(searcher.reader(), docnum, f.BODY_EXACT, terms)
                hits.append(_hit(stored, request.q, mark_html(stored[f.HEADLINE], headline_spans),
                                 snippet_html(stored[f.BODY], body_spans), scores.get(docnum, 0.0)))
            suggestions = self._suggestions(snapshot, request, node) if counts.total == 0 else []
        return SearchResults(
            query={"q": request.q, "parsed": unparse(node), "params": request.to_params()},
            total=counts.total, page=request.page, size=request.size,
            took_ms=round((time.perf_counter() - started) * 1000, 1),
            hits=hits, facets=facet_lists(counts, request), suggestions=suggestions)

    def count(self, request: SearchRequest) -> int:
        """How many articles match `request` (no hits, no facets)."""
        query = compile_query(parse_query(request.q), self.synonyms if request.synonyms else None,
                              request.scope == "title")
        with self._use() as snapshot, snapshot.lock:
            return count_facets(snapshot.columns, snapshot.searcher.docs_for_query(query), request).total

    def _suggestions(self, snapshot: _Snapshot, request: SearchRequest, node: Node | None) -> list[Suggestion]:
        """Alternatives that do have results: no filters, whole text, synonyms on, fewer terms, no quotes."""
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
                                           page=1)))
        if any(leaf.phrase for leaf in positive_leaves(node)):
            loose = " ".join(unparse(Leaf(word, title=leaf.title)) for leaf in positive_leaves(node)
                             for word in leaf.text.split())
            candidates.append(("不加引号 / without quotes", replace(request, q=loose, page=1)))
        found: list[Suggestion] = []
        for label, candidate in candidates:
            query = compile_query(parse_query(candidate.q), self.synonyms if candidate.synonyms else None,
                                  candidate.scope == "title")
            total = count_facets(snapshot.columns, snapshot.searcher.docs_for_query(query), candidate).total
            if total:
                found.append(Suggestion(label, candidate.q, candidate.to_params(), total))
            if len(found) >= MAX_SUGGESTIONS:
                break
        return found

    def export(self, request: SearchRequest) -> Iterator[dict[str, Any]]:
        """Every match in the request's order (no paging, no snippets): rows for CSV."""
        node = parse_query(request.q)
        query = compile_query(node, self.synonyms if request.synonyms else None, request.scope == "title")
        relevance = _order_is_relevance(request, node)
        with self._use() as snapshot:
            with snapshot.lock:
                counts, scores = _matches(snapshot, query, request, relevance)
                docnums = _ranked(snapshot.columns, counts.docnums, scores, request, relevance)
            for start in range(0, len(docnums), EXPORT_CHUNK):
                with snapshot.lock:
                    rows = [snapshot.searcher.stored_fields(docnum) for docnum in docnums[start:start + EXPORT_CHUNK]]
                for stored in rows:
                    row = _hit(stored, request.q, "", "", 0.0).to_dict()
                    for name in ("headline_html", "snippet", "score"):
                        row.pop(name)
                    yield row

    # Documents.

    def article(self, article_id: str, q: str = "") -> dict[str, Any] | None:
        """All stored fields of an article, `body_html`/`headline_html` with `q` marked, its bulletin and siblings."""
        terms = highlight_terms(parse_query(q), self.synonyms)
        with self._use() as snapshot, snapshot.lock:
            searcher = snapshot.searcher
            docnum = searcher.document_number(**{f.ID_: article_id})
            if docnum is None:
                return None
            stored = dict(searcher.stored_fields(docnum))
            headline_spans = find_spans(searcher.reader(), docnum, f.HEADLINE_EXACT, terms, headline=True)
            body_spans = find_spans(searcher.reader(), docnum, f.BODY_EXACT, terms)
            siblings = _bulletin_documents(searcher, stored[f.BULLETIN_ID])
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
        })
        return stored

    def bulletin(self, bulletin_id: str) -> dict[str, Any] | None:
        """A bulletin's header and footer fields and its articles in order (None when unknown)."""
        with self._use() as snapshot, snapshot.lock:
            documents = _bulletin_documents(snapshot.searcher, bulletin_id)
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
        with self._use() as snapshot, snapshot.lock:
            return {**reader_figures(snapshot.searcher.reader()),
                    **build_figures(snapshot.generation, snapshot.meta)}

    def latest_bulletins(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest bulletins (by date), each with its header fields and article count."""
        with self._use() as snapshot, snapshot.lock:
            columns = snapshot.columns
            firsts = [doc for doc in snapshot.searcher.reader().all_doc_ids() if columns.ordinal[doc] == 0]
            firsts.sort(key=lambda doc: (columns.date_num[doc], doc), reverse=True)
            documents = [snapshot.searcher.stored_fields(doc) for doc in firsts[:max(limit, 0)]]
        return [_bulletin_header(doc, doc.get(f.BULLETIN_META) or {}) for doc in documents]


def _order_is_relevance(request: SearchRequest, node: Node | None) -> bool:
    """Relevance order applies when asked for and there is something to rank (not browse mode)."""
    return request.sort == "relevance" and node is not None


def _matches(snapshot: _Snapshot, query: wq.Query, request: SearchRequest,
             relevance: bool) -> tuple[FacetCounts, dict[int, float]]:
    """One pass over the index: every match (scored when ranking by relevance), filtered and counted.

    Filters are applied from the in-memory columns while facets are counted, so the query runs once and
    needs no Whoosh filter query.
    """
    if relevance:
        scores = dict(snapshot.searcher.search(query, limit=None).items())
        docnums: Iterable[int] = scores.keys()
    else:
        scores = {}
        docnums = snapshot.searcher.docs_for_query(query)
    return count_facets(snapshot.columns, docnums, request), scores


def _ranked(columns: FacetColumns, docnums: list[int], scores: dict[int, float], request: SearchRequest,
            relevance: bool) -> list[int]:
    """Docnums in result order: score (ties: newer first), or date with a bulletin's articles in order."""
    if relevance:
        return sorted(docnums, key=lambda doc: (-scores[doc], -columns.date_num[doc], columns.ordinal[doc], doc))
    sign = 1 if request.sort == "date-asc" else -1
    return sorted(docnums, key=lambda doc: (sign * columns.date_num[doc], columns.ordinal[doc], doc))


def _hit(stored: dict[str, Any], q: str, headline_html: str, snippet: str, score: float) -> Hit:
    return Hit(
        id=stored[f.ID_], headline=stored[f.HEADLINE], headline_html=headline_html,
        date=stored.get(f.DATE, ""), year=stored.get(f.YEAR, 0), district=stored.get(f.DISTRICT, ""),
        column=stored.get(f.COLUMN, ""), source=stored.get(f.SOURCE, ""), series=stored.get(f.SERIES, ""),
        issue=stored.get(f.ISSUE), total_issue=stored.get(f.TOTAL), snippet=snippet,
        score=round(score, 4), url=article_url(stored[f.ID_], q))


def _bulletin_documents(searcher: Any, bulletin_id: str) -> list[dict[str, Any]]:
    """Stored fields of a bulletin's articles in their order."""
    documents = [dict(doc) for doc in searcher.documents(**{f.BULLETIN_ID: bulletin_id})]
    return sorted(documents, key=lambda doc: doc[f.ORDINAL])


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

