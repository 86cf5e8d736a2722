"""`Engine`: searches, articles, bulletins and statistics over the live index generation, on either backend.

The engine turns requests into query trees and results into pages: highlights, suggestions when nothing
matched, query assistance, article and bulletin pages, exports. What an index does (match a query tree,
count facets, rank, fetch stored fields) it asks of a `search.backend.View`: the embedded generation
(`search.embedded`, the default) or a sharded Sphinx/Manticore cluster (`search.sphinxql.backend`, with
`backend="sphinxql://HOST:PORT"`). Every call uses one view, so a call sees one generation even while a
build replaces it; a new generation shows up on the next call without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from index import schema as f
from index.store import IndexLocation
from search.assist import Assistance, assist
from search.backend import Backend, Call, View, open_backend
from search.facets import facet_lists
from search.highlight import find_spans, mark_html, paragraphs_html, snippet_html
from search.query import All, Leaf, Node, highlight_terms, parse_all, parse_query, positive_leaves, unparse
from search.request import SearchRequest
from search.results import Hit, SearchResults, Suggestion, article_url
from search.suggest import suggestions
from search.synonyms import Synonyms
from search.themes import Themes

MAX_SUGGESTIONS = 5
EXPORT_CHUNK = 200


class Engine:
    """The search layer's entry point over the index under `index_root`, or the cluster at `backend`."""

    def __init__(self, index_root: str | Path = "", synonyms: Synonyms | None = None, themes: Themes | None = None,
                 assist: bool = True, backend: str | None = None) -> None:
        self.location = IndexLocation(index_root or ".")
        self.synonyms = synonyms or Synonyms()
        self.themes = themes or Themes()
        #: Query assistance (`search.assist`: corrections, did-you-mean); off only to measure what it costs.
        self.assist = assist
        self.backend: Backend = open_backend(self.location.root, backend, self.themes)

    def refresh(self) -> None:
        """Open the new generation if one was built since (IndexUnavailable if the index is gone)."""
        with self.backend.view():
            pass

    def _use(self) -> Any:
        return self.backend.view()

    def close(self) -> None:
        """Release the index files or connections (the engine reopens on the next call)."""
        self.backend.close()

    def _call(self, request: SearchRequest, node: Node | None = None) -> Call:
        return Call(_query_node(request) if node is None else node, request,
                    self.synonyms if request.synonyms else None)

    # Searching.

    def search(self, request: SearchRequest) -> SearchResults:
        """One page of results with total, facets, snippets, (when nothing matched) suggestions and (when
        asked for) the district × year matrix; `partial` with the shards that did not answer, if any."""
        started = time.perf_counter()
        node = _query_node(request)
        marked = _marked_query(request, node)
        call = self._call(request, node)
        terms = highlight_terms(node, call.synonyms, request.scope == "title")
        with self._use() as view:
            offset = (request.page - 1) * request.size
            found = view.evaluate(call, offset + request.size, matrix=request.matrix, offset=offset)
            hits = []
            for handle, score in found.ranked:
                stored = view.stored(handle)
                headline_spans = find_spans(stored[f.HEADLINE], terms, headline=True)
                body_spans = find_spans(stored[f.BODY], terms)
                hits.append(_hit(stored, marked, mark_html(stored[f.HEADLINE], headline_spans),
                                 snippet_html(stored[f.BODY], body_spans), score))
            suggestions = self._suggestions(view, request, node) if found.total == 0 else []
            assistance = assist(view, call.synonyms, request, node, found.total,
                                lambda others: view.count_many([self._call(other) for other in others])) \
                if self.assist else Assistance()
            missing = sorted(set(found.missing) | call.missing)
        if assistance.correction is not None:
            corrected = self.search(replace(request, q=assistance.correction, correct=False))
            corrected.corrected_from = request.q
            corrected.took_ms = round((time.perf_counter() - started) * 1000, 1)
            return corrected
        return SearchResults(
            query={"q": request.q, "parsed": unparse(node), "params": request.to_params()},
            total=found.total, page=request.page, size=request.size,
            took_ms=round((time.perf_counter() - started) * 1000, 1),
            hits=hits, facets=facet_lists(found.counters, request), suggestions=suggestions,
            matrix=found.matrix, did_you_mean=assistance.did_you_mean, missing_shards=missing)

    def count(self, request: SearchRequest) -> int:
        """How many articles match `request` (no hits, no facets)."""
        with self._use() as view:
            return view.count(self._call(request))

    def _suggestions(self, view: View, request: SearchRequest, node: Node | None) -> list[Suggestion]:
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
        totals = view.count_many([self._call(candidate) for _, candidate in candidates])
        for (label, candidate), total in zip(candidates, totals):
            if total:
                found.append(Suggestion(label, candidate.q, candidate.to_params(), total))
            if len(found) >= MAX_SUGGESTIONS:
                break
        return found

    def suggest(self, q: str, history: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Completions of `q` as it is being typed (`search.suggest`), `history` from the query log first."""
        with self._use() as view:
            vocabulary = view.vocabulary()
        return suggestions(vocabulary, q, history)

    def export(self, request: SearchRequest) -> Iterator[dict[str, Any]]:
        """Every match in the request's order (no paging, no snippets): rows for CSV."""
        marked = _marked_query(request, _query_node(request))
        with self._use() as view:
            ranked = view.evaluate(self._call(request), None, facets=False).ranked
            for start in range(0, len(ranked), EXPORT_CHUNK):
                rows = [view.stored(handle) for handle, _ in ranked[start:start + EXPORT_CHUNK]]
                for stored in rows:
                    row = _hit(stored, marked, "", "", 0.0).to_dict()
                    for name in ("headline_html", "snippet", "score"):
                        row.pop(name)
                    yield row

    def collect(self, request: SearchRequest, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """How many articles match, and the first `limit` of them in the request's order, each a whole
        article (`article_record`): for feeds and the 汇编 document."""
        with self._use() as view:
            found = view.evaluate(self._call(request), max(limit, 0), facets=False)
            return found.total, [article_record(view.stored(handle)) for handle, _ in found.ranked]

    def articles(self, article_ids: list[str]) -> list[dict[str, Any]]:
        """The live articles among `article_ids`, in that order, each once (`article_record`)."""
        with self._use() as view:
            found = []
            for article_id in dict.fromkeys(article_ids):
                stored = view.article(article_id)
                if stored is not None:
                    found.append(article_record(stored))
            return found

    def theme_overview(self) -> dict[str, Any]:
        """The theme table in effect (file, problems) and how many live articles have each theme."""
        table = self.themes.table()
        with self._use() as view:
            counts = view.theme_counts()
        return {"file": table.source, "problems": list(table.problems),
                "themes": [{"name": theme.name, "keywords": list(theme.keywords), "synonyms": list(theme.synonyms),
                            "articles": counts.get(theme.name, 0)} for theme in table.themes]}

    # Documents.

    def article(self, article_id: str, q: str = "") -> dict[str, Any] | None:
        """All stored fields of an article, `body_html`/`headline_html` with `q` marked, its bulletin, siblings
        and related articles."""
        terms = highlight_terms(parse_query(q), self.synonyms)
        with self._use() as view:
            found = view.article(article_id)
            if found is None:
                return None
            stored = dict(found)
            siblings = view.bulletin_documents(stored[f.BULLETIN_ID])
            related = view.related(article_id)
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
        with self._use() as view:
            documents = view.bulletin_documents(bulletin_id)
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
        with self._use() as view:
            vocabulary = view.vocabulary()
            return {**view.figures(), "backend": self.backend.name,
                    "vocabulary": vocabulary.figures if vocabulary is not None else None}

    def built_at(self) -> str:
        """When the live generation was built (ISO timestamp)."""
        with self._use() as view:
            return view.built_at()

    def latest_bulletins(self, limit: int = 10) -> list[dict[str, Any]]:
        """The newest bulletins (by date), each with its header fields and article count."""
        with self._use() as view:
            documents = view.latest_bulletins(limit)
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


def _hit(stored: dict[str, Any], q: str, headline_html: str, snippet: str, score: float) -> Hit:
    return Hit(
        id=stored[f.ID_], headline=stored[f.HEADLINE], headline_html=headline_html,
        date=stored.get(f.DATE, ""), year=stored.get(f.YEAR, 0), district=stored.get(f.DISTRICT, ""),
        column=stored.get(f.COLUMN, ""), source=stored.get(f.SOURCE, ""), series=stored.get(f.SERIES, ""),
        issue=stored.get(f.ISSUE), total_issue=stored.get(f.TOTAL), snippet=snippet,
        score=round(score, 4), url=article_url(stored[f.ID_], q))


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

