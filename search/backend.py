"""The search backend interface: what the engine needs from an index, whichever engine holds it.

`search.engine.Engine` parses queries, builds result pages (highlights, suggestions, query assistance,
article and bulletin pages) and never touches an index itself: it asks a `Backend` for a `View`, one
consistent generation of the index for the length of one call, and the view matches a query tree, counts
facets, ranks, and fetches stored fields. Two backends implement it: `search.embedded` (the local
Whoosh generation with its unit index, the default) and `search.sphinxql.backend` (a sharded Sphinx or
Manticore cluster, chosen with a `sphinxql://HOST:PORT` address).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from index.vocabulary import Vocabulary
from search.query import Node
from search.request import SearchRequest
from search.synonyms import Synonyms
from search.themes import Themes


@dataclass
class Evaluation:
    """What one query gave: the total under every filter, facet counts ({facet: {value: count}}, theme
    included), the district × year matrix when asked for, and the asked-for slice of the results in the
    request's order as (handle, score) pairs (`View.stored(handle)` gives the document). `missing` lists the shards
    that did not answer: the result is partial and says so."""

    total: int
    counters: dict[str, dict[Any, int]]
    ranked: list[tuple[Any, float]]
    matrix: dict[str, Any] | None = None
    missing: tuple[int, ...] = ()


@dataclass
class Call:
    """What one engine call asks about the query: the tree, the request and the synonyms in force."""

    node: Node | None
    request: SearchRequest
    synonyms: Synonyms | None
    #: Shards that did not answer some part of the call (filled in by the view).
    missing: set[int] = field(default_factory=set)


class View(Protocol):
    """One generation of the index, for one engine call."""

    #: Name of the generation (changes with every build or publish).
    generation: str
    #: How many articles are live.
    live_count: int

    def evaluate(self, call: Call, limit: int | None, facets: bool = True, matrix: bool = False,
                 offset: int = 0) -> Evaluation:
        """Match, filter, count facets (when `facets`) and rank: results `offset` to `limit` (None: every
        match) in the request's order."""

    def count(self, call: Call) -> int:
        """How many articles match under the request's filters."""

    def count_many(self, calls: list[Call]) -> list[int]:
        """`count` of several calls (a backend may count them in one round trip)."""

    def occurrences(self, node: Node, title: bool) -> int:
        """How many articles match `node` without filters or synonyms (query assistance)."""

    def occurrences_many(self, nodes: list[Node], title: bool) -> list[int]:
        """`occurrences` of several trees (a backend may count them in one round trip)."""

    def stored(self, handle: Any) -> dict[str, Any]:
        """The stored fields of a ranked result."""

    def article(self, article_id: str) -> dict[str, Any] | None:
        """The stored fields of a live article (None when unknown)."""

    def bulletin_documents(self, bulletin_id: str) -> list[dict[str, Any]]:
        """The stored fields of a bulletin's live articles in their order."""

    def related(self, article_id: str) -> list[dict[str, Any]]:
        """Articles most like this one, most similar first (`search.related`)."""

    def word_frequencies(self, words: list[str]) -> dict[str, int]:
        """In how many live articles each jieba word occurs as a word (related articles)."""

    def latest_bulletins(self, limit: int) -> list[dict[str, Any]]:
        """The stored fields of the first article of the newest `limit` bulletins."""

    def theme_counts(self) -> dict[str, int]:
        """How many live articles have each theme."""

    def vocabulary(self) -> Vocabulary | None:
        """The generation's query vocabulary (pinyin, corrections, completion), None when it has none."""

    def figures(self) -> dict[str, Any]:
        """What the index holds (`bulletins stats`), without the vocabulary's figures."""

    def built_at(self) -> str:
        """When the generation was built (ISO timestamp)."""


class Backend(Protocol):
    """Where the index lives: hands out views, refreshes to the newest generation, releases resources."""

    #: `sphinxql://HOST:PORT`, or "embedded" for the local index (`bulletins stats` shows it).
    name: str

    def view(self) -> AbstractContextManager[View]:
        """The newest generation, kept for the caller until it is done with it."""

    def close(self) -> None:
        """Release files and connections (the backend reopens on the next call)."""


def open_backend(index_root: str | Path, backend: str | None, themes: Themes) -> Backend:
    """The backend named by `backend` (`sphinxql://HOST:PORT`), else the embedded index at `index_root`."""
    from search.sphinxql.connection import is_backend_address

    if is_backend_address(backend):
        from search.sphinxql.backend import SphinxBackend

        assert backend is not None
        return SphinxBackend(backend, themes)
    from search.embedded import EmbeddedBackend

    return EmbeddedBackend(index_root, themes)
