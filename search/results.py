"""What a search returns: plain dataclasses that serialise to the JSON contract (no Whoosh objects)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote


def article_url(article_id: str, q: str = "") -> str:
    """The article page URL, carrying the query so the page highlights it (no ?q= when q is empty)."""
    return f"/article/{article_id}" + (f"?q={quote(q)}" if q else "")


@dataclass
class Hit:
    """One matching article on the current page."""

    id: str
    headline: str
    headline_html: str
    date: str
    year: int
    district: str
    column: str
    source: str
    series: str
    issue: int | None
    total_issue: int | None
    snippet: str
    score: float
    url: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Suggestion:
    """An alternative search that has results: its label, query text, full parameters and total."""

    label: str
    q: str
    params: dict[str, Any]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResults:
    """One page of results with the total, facets and (when nothing matched) suggestions.

    `query` is {q, parsed, params}: the text as given, the canonical form the engine understood (empty in
    browse mode) and the request's parameters. `took_ms` is the server-side time of the whole search.
    """

    query: dict[str, Any]
    total: int
    page: int
    size: int
    took_ms: float
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    suggestions: list[Suggestion] = field(default_factory=list)
    #: The district × year view {rows, cols, counts}, when the request asked for it.
    matrix: dict[str, Any] | None = None
    #: A better query with its total ({"q", "total"}), offered beside these results (`search.assist`).
    did_you_mean: dict[str, Any] | None = None
    #: The query as typed when these results are for its correction (nothing matched it as typed).
    corrected_from: str | None = None
    #: Shards of a cluster that did not answer (no copy was up): the total and facets lack their articles.
    missing_shards: list[int] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Whether part of the index did not answer (only a cluster backend can be partial)."""
        return bool(self.missing_shards)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: {query, total, page, size, took_ms, hits, facets, suggestions, did_you_mean,
        corrected_from, partial, missing_shards}, and `matrix` when the request asked for it."""
        result = {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "size": self.size,
            "took_ms": self.took_ms,
            "hits": [hit.to_dict() for hit in self.hits],
            "facets": self.facets,
            "suggestions": [suggestion.to_dict() for suggestion in self.suggestions],
            "did_you_mean": self.did_you_mean,
            "corrected_from": self.corrected_from,
            "partial": self.partial,
            "missing_shards": self.missing_shards,
        }
        if self.matrix is not None:
            result["matrix"] = self.matrix
        return result
