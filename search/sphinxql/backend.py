"""`SphinxBackend`: the search backend over a sharded Sphinx 2.2 / Manticore cluster (docs/scale-out.md).

Every engine call is one `SphinxView`: it reads the published generation G from the coordinator's metadata
once and filters every statement with `born <= G AND died > G`, so a call sees one whole generation while
the publisher writes the next. A search is one multi-statement batch to the coordinator's distributed
index: the page (MATCH from `translate`, filters, order, LIMIT), each facet under every filter but its own
(GROUP BY the facet's code), and the district × year matrix, each followed by SHOW META for its total and
warnings. Highlighting, suggestions and query assistance stay in the engine, over the returned text.

Failures: Sphinx 2.2.11 fails a query's shard when the mirror it picked is down, instead of trying the
next one (measured), so the view retries a batch whose warnings name a failed agent, as many times as the
shard has copies; `nodeads` then steers the coordinator to the live copy. A shard with no copy answering
after that is reported as missing (`Evaluation.missing`: the result is partial), never hidden in a
smaller total. When no shard answers, the index is unavailable (HTTP 503).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymysql

from index import schema as f
from index.vocabulary import Vocabulary, VocabularyError, open_vocabulary
from search.backend import Call, Evaluation
from search.errors import IndexUnavailable
from search.facets import _date_bounds, matrix_of
from search.query import Node
from search.related import LIMIT, distinctive_words, fingerprint
from search.request import SearchRequest
from search.sphinxql.connection import ClusterError, connect, parse_address, run_batch
from search.sphinxql.schema import (BLOB_BASE, INDEX, META_INDEX, STATE_ROW, TOPOLOGY_ROW, facet_code,
                                    theme_code, word_token)
from search.sphinxql.topology import Topology
from search.sphinxql.translate import match_expression, ranked_expression
from search.themes import Themes

#: How each facet is grouped: (group-by attribute, the attribute giving its value).
_FACETS = {"district": ("district_code", "district"), "year": ("year", "year"), "month": ("month", "month"),
           "column": ("column_code", "column_name"), "theme": ("themes", None)}
#: Ranking: per field, how many of the query's distinct tokens (units of the typed text, its jieba words) it
#: holds, times the field's weight (headlines weighted like `search.matching.HEADLINE_WEIGHT`), then Sphinx's
#: BM25 to order within that. On the bench corpus's known-item queries (two headline words, at most three
#: headlines holding both) this puts 100 % of the articles in the top 3, as the embedded BM25F does;
#: proximity_bm25 reaches 79 % and tf_idf 92.5 % (tests/test_backend_parity.py, docs/scale-out.md).
#: bm25f() in an expression ranker returns a constant on 2.2.11 RT indexes (measured), so it is not used.
RANKER = "expr('sum(word_count*user_weight)*1000+bm25'), field_weights=(hu=20, hw=20, bu=1, bw=1)"
MAX_GROUPS = 10_000
#: Searches per batch: searchd refuses more than 32 in one multi-query.
MAX_BATCH = 32
#: An agent named in a warning or error: "agent HOST:PORT: ...".
_AGENT = re.compile(r"agent ([^\s:]+:\d+)")


class SphinxBackend:
    """The cluster whose coordinator listens at `address` (`sphinxql://HOST:PORT`)."""

    def __init__(self, address: str, themes: Themes) -> None:
        self.address = parse_address(address)
        self.name = str(self.address)
        self.themes = themes
        self._local = threading.local()
        self._lock = threading.Lock()
        self._topology: Topology | None = None
        self._vocabularies: dict[int, tuple[Path, Vocabulary | None]] = {}
        self._connections: list[Any] = []

    # Connections: one per thread, reopened after a failure.

    def connection(self) -> Any:
        found = getattr(self._local, "connection", None)
        if found is None:
            try:
                found = connect(self.address)
            except ClusterError as error:
                raise IndexUnavailable(f"{error} (集群不可用 / cluster unavailable)") from error
            self._local.connection = found
            with self._lock:
                self._connections.append(found)
        return found

    def drop_connection(self) -> None:
        found = getattr(self._local, "connection", None)
        self._local.connection = None
        if found is not None:
            try:
                found.close()
            except pymysql.MySQLError:
                pass

    def batch(self, statements: list[str]) -> list[list[tuple[Any, ...]]]:
        """Run a batch on the coordinator, reconnecting once if the connection was lost."""
        for attempt in (0, 1):
            try:
                return run_batch(self.connection(), statements)
            except pymysql.OperationalError as error:
                self.drop_connection()
                if attempt or error.args[0] not in (0, 2006, 2013):
                    raise
        raise AssertionError("unreachable")

    # State.

    def topology(self) -> Topology:
        with self._lock:
            if self._topology is not None:
                return self._topology
        rows = self._meta(TOPOLOGY_ROW)
        topology = Topology.from_json(rows) if rows else Topology(self.address.host, self.address.port)
        with self._lock:
            self._topology = topology
        return topology

    def _meta(self, row: int) -> str | None:
        try:
            found = self.batch([f"SELECT value FROM {META_INDEX} WHERE id = {row}"])[0]
        except pymysql.MySQLError as error:
            self.drop_connection()
            raise IndexUnavailable(f"cannot read the cluster's metadata at {self.name}: {error}") from error
        return found[0][0] if found else None

    def state(self) -> dict[str, Any]:
        text = self._meta(STATE_ROW)
        if not text:
            raise IndexUnavailable(f"the cluster at {self.name} holds no published index: run "
                                   f"`bulletins build SRC --backend {self.name}`")
        return json.loads(text)

    def vocabulary(self, generation: int) -> Vocabulary | None:
        """The vocabulary files published with `generation`, fetched once into a temporary folder."""
        with self._lock:
            known = self._vocabularies.get(generation)
            if known is not None:
                return known[1]
        rows = self.batch([f"SELECT value FROM {META_INDEX} WHERE id >= {BLOB_BASE} AND generation = {generation} "
                           f"ORDER BY part ASC LIMIT 0, 100000 OPTION max_matches=100000"])[0]
        folder = Path(tempfile.mkdtemp(prefix="bulletins-vocabulary-"))
        vocabulary: Vocabulary | None = None
        if rows:
            parts: dict[str, list[bytes]] = {}
            for (value,) in rows:
                chunk = json.loads(value)
                parts.setdefault(chunk["file"], []).append(base64.b64decode(chunk["data"]))
            for name, chunks in parts.items():
                (folder / Path(name).name).write_bytes(b"".join(chunks))
            try:
                vocabulary = open_vocabulary(folder)
            except VocabularyError:
                vocabulary = None
        with self._lock:
            if generation in self._vocabularies:
                shutil.rmtree(folder, ignore_errors=True)
                return self._vocabularies[generation][1]
            for old, (path, opened) in list(self._vocabularies.items()):
                if old < generation - 1:
                    if opened is not None:
                        opened.close()
                    shutil.rmtree(path, ignore_errors=True)
                    del self._vocabularies[old]
            self._vocabularies[generation] = (folder, vocabulary)
        return vocabulary

    @contextmanager
    def view(self) -> Iterator[SphinxView]:
        state = self.state()
        yield SphinxView(self, state)

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                try:
                    connection.close()
                except pymysql.MySQLError:
                    pass
            self._connections = []
            for path, opened in self._vocabularies.values():
                if opened is not None:
                    opened.close()
                shutil.rmtree(path, ignore_errors=True)
            self._vocabularies = {}
            self._topology = None
        self._local = threading.local()


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _codes(values: list[Any]) -> str:
    return ", ".join(str(int(value)) for value in values) or "0"


class SphinxView:
    """One engine call's view of the published generation (see the module docstring)."""

    def __init__(self, backend: SphinxBackend, state: dict[str, Any]) -> None:
        self.backend = backend
        self.state = state
        self.number = int(state["generation"])
        self.generation = f"cluster-{self.number}"
        self.live_count = int(state.get("documents", 0))
        self.visible = f"born <= {self.number} AND died > {self.number}"
        names = (state.get("themes") or {}).get("names") or []
        self._theme_names = {theme_code(name): name for name in names}

    # Statements.

    def _filters(self, request: SearchRequest, ignored: tuple[str, ...] = ()) -> list[str]:
        """The WHERE conditions of a request (besides MATCH), without the facet filters in `ignored`."""
        conditions = [self.visible]
        if request.sources:
            conditions.append(f"source_code IN ({_codes([facet_code(value) for value in request.sources])})")
        if request.series:
            conditions.append(f"series_code IN ({_codes([facet_code(value) for value in request.series])})")
        if request.date_from is not None or request.date_to is not None:
            low, high = _date_bounds(request)
            conditions.append(f"date_num >= {low} AND date_num <= {high}")
        if request.districts and "district" not in ignored:
            conditions.append(f"district_code IN ({_codes([facet_code(value) for value in request.districts])})")
        if request.years and "year" not in ignored:
            conditions.append(f"year IN ({_codes(request.years)})")
        if request.months and "month" not in ignored:
            conditions.append(f"month IN ({_codes(request.months)})")
        if request.columns and "column" not in ignored:
            conditions.append(f"column_code IN ({_codes([facet_code(value) for value in request.columns])})")
        if request.themes and "theme" not in ignored:
            known = [code for code, name in self._theme_names.items() if name in request.themes]
            conditions.append(f"themes IN ({_codes(known)})" if known else "id = 0")
        return conditions

    @staticmethod
    def _where(match: str | None, conditions: list[str]) -> str:
        parts = ([f"MATCH({_quote(match)})"] if match else []) + conditions
        return " AND ".join(parts)

    def _run(self, statements: list[str], call: Call | None = None) -> list[list[tuple[Any, ...]]]:
        """Run SELECTs, each followed by SHOW META; retry while a shard's failed copy has another copy;
        record shards that stayed silent in `call.missing`. Returns each SELECT's rows and meta rows."""
        batch = [part for statement in statements for part in (statement, "SHOW META")]
        topology = self.backend.topology()
        attempts = max([len(shard.copies) for shard in topology.shards] or [1]) + 1
        failed: set[int] = set()
        for attempt in range(attempts):
            try:
                results = self.backend.batch(batch)
            except pymysql.MySQLError as error:
                agents = _AGENT.findall(str(error))
                failed = {topology.shard_of_agent(agent) for agent in agents} - {None}  # type: ignore[assignment]
                if not agents:
                    self.backend.drop_connection()
                    raise IndexUnavailable(f"the cluster at {self.backend.name} failed: {error}") from error
                if attempt + 1 < attempts:
                    continue
                raise IndexUnavailable(f"no shard of the cluster at {self.backend.name} answered: "
                                       f"{str(error).strip(chr(0))}") from error
            warnings = [value for meta in results[1::2] for key, value in meta if key == "warning"]
            failed = {topology.shard_of_agent(agent) for text in warnings for agent in _AGENT.findall(text)}
            failed.discard(None)  # type: ignore[arg-type]
            if not failed:
                return results
            if attempt + 1 < attempts:
                continue
        if call is not None:
            call.missing |= failed
        return results

    @staticmethod
    def _total(meta: list[tuple[Any, ...]]) -> int:
        return int(dict((key, value) for key, value in meta).get("total_found", 0))

    # Matching.

    def _match(self, call: Call, ranked: bool = False) -> str | None:
        if call.node is None:
            return None
        title = call.request.scope == "title"
        if ranked:
            return ranked_expression(call.node, call.synonyms, title)
        return match_expression(call.node, call.synonyms, title)

    def evaluate(self, call: Call, limit: int | None, facets: bool = True, matrix: bool = False,
                 offset: int = 0) -> Evaluation:
        request = call.request
        relevance = request.sort == "relevance" and call.node is not None
        if limit is None:
            limit = max(self.count(call), 1)
        match = self._match(call, ranked=relevance)
        if relevance:
            order = "ORDER BY w DESC, date_num DESC, ordinal ASC, article_id ASC"
        elif request.sort == "date-asc":
            order = "ORDER BY date_num ASC, ordinal ASC, article_id ASC"
        else:
            order = "ORDER BY date_num DESC, ordinal ASC, article_id ASC"
        size = max(limit - offset, 0)
        statements = [f"SELECT id, WEIGHT() AS w, doc FROM {INDEX} WHERE {self._where(match, self._filters(request))} "
                      f"{order} LIMIT {offset}, {max(size, 1)} OPTION max_matches={max(limit, 1)}, ranker={RANKER}"]
        plain = self._match(call)
        names = list(_FACETS) if facets else []
        for name in names:
            attribute, value = _FACETS[name]
            selected = "groupby()" if value is None else value
            statements.append(f"SELECT {selected}, COUNT(*) AS n FROM {INDEX} "
                              f"WHERE {self._where(plain, self._filters(request, (name,)))} GROUP BY {attribute} "
                              f"LIMIT 0, {MAX_GROUPS} OPTION max_matches={MAX_GROUPS}")
        if matrix:
            statements.append(f"SELECT district, year, COUNT(*) AS n FROM {INDEX} WHERE "
                              f"{self._where(plain, self._filters(request, ('district', 'year', 'month')))} "
                              f"GROUP BY district_code, year LIMIT 0, {MAX_GROUPS} OPTION max_matches={MAX_GROUPS}")
        results = self._run(statements, call)
        rows, meta = results[0], results[1]
        ranked = [(json.loads(doc), float(weight)) for _, weight, doc in rows][:size]
        counters: dict[str, dict[Any, int]] = {}
        for position, name in enumerate(names):
            groups = results[2 + 2 * position]
            if name == "theme":
                counters[name] = self._themes_in_order(groups)
            else:
                counters[name] = {value: int(n) for value, n in groups}
        table = None
        if matrix:
            cells = {(district, int(year)): int(n) for district, year, n in results[2 + 2 * len(names)]}
            table = matrix_of(cells).to_dict()
        return Evaluation(self._total(meta), counters, ranked, table, tuple(sorted(call.missing)))

    def count(self, call: Call) -> int:
        where = self._where(self._match(call), self._filters(call.request))
        results = self._run([f"SELECT id FROM {INDEX} WHERE {where} LIMIT 0, 1"], call)
        return self._total(results[1])

    def occurrences(self, node: Node, title: bool) -> int:
        results = self._run([f"SELECT id FROM {INDEX} WHERE "
                             f"{self._where(match_expression(node, None, title), [self.visible])} LIMIT 0, 1"])
        return self._total(results[1])

    # Documents.

    def stored(self, handle: Any) -> dict[str, Any]:
        return handle

    def _documents(self, condition: str, order: str, limit: int) -> list[dict[str, Any]]:
        results = self._run([f"SELECT doc FROM {INDEX} WHERE {self.visible} AND {condition} ORDER BY {order} "
                             f"LIMIT 0, {max(limit, 1)} OPTION max_matches={max(limit, 1)}"])
        return [json.loads(doc) for (doc,) in results[0]][:max(limit, 0)]

    def article(self, article_id: str) -> dict[str, Any] | None:
        found = self._documents(f"article_id = {_quote(article_id)}", "date_num DESC", 1)
        return found[0] if found else None

    def bulletin_documents(self, bulletin_id: str) -> list[dict[str, Any]]:
        return self._documents(f"bulletin_id = {_quote(bulletin_id)}", "ordinal ASC", 10_000)

    def latest_bulletins(self, limit: int) -> list[dict[str, Any]]:
        return self._documents("ordinal = 0", "date_num DESC, article_id DESC", limit)

    def word_frequencies(self, words: list[str]) -> dict[str, int]:
        """Counted on the cluster: one search per word (a word token), 32 to a batch."""
        found: dict[str, int] = {}
        for start in range(0, len(words), MAX_BATCH):
            chunk = words[start:start + MAX_BATCH]
            results = self._run([f"SELECT id FROM {INDEX} WHERE MATCH('{word_token(word)}') AND {self.visible} "
                                 f"LIMIT 0, 1" for word in chunk])
            found.update(zip(chunk, (self._total(meta) for meta in results[1::2])))
        return found

    def related(self, article_id: str) -> list[dict[str, Any]]:
        """More like this (`search.related`): the same distinctive words, their document frequencies counted
        on the cluster, then their OR query ranked by the cluster's ranker instead of the weighted BM25F sum."""
        stored = self.article(article_id)
        if stored is None:
            return []
        words = distinctive_words(self.word_frequencies, self.live_count, stored.get(f.HEADLINE, ""),
                                  stored.get(f.BODY, ""))
        if not words:
            return []
        query = " | ".join(word_token(word) for word, _, _ in words)
        rows = self._run([f"SELECT WEIGHT() AS w, doc FROM {INDEX} WHERE MATCH({_quote(query)}) AND {self.visible} "
                          f"ORDER BY w DESC, date_num DESC, article_id ASC LIMIT 0, {8 * LIMIT} "
                          f"OPTION max_matches={8 * LIMIT}, ranker={RANKER}"])[0]
        seen = {fingerprint(stored)}
        found: list[dict[str, Any]] = []
        for _, doc in rows:
            other = json.loads(doc)
            if other[f.ID_] == article_id or fingerprint(other) in seen:
                continue
            seen.add(fingerprint(other))
            found.append(other)
            if len(found) == LIMIT:
                break
        return found

    def theme_counts(self) -> dict[str, int]:
        rows = self._run([f"SELECT groupby(), COUNT(*) FROM {INDEX} WHERE {self.visible} GROUP BY themes "
                          f"LIMIT 0, {MAX_GROUPS} OPTION max_matches={MAX_GROUPS}"])[0]
        return self._themes_in_order(rows)

    def _themes_in_order(self, groups: list[tuple[Any, ...]]) -> dict[str, int]:
        """Theme counts keyed by name, in theme-table order (the order equal counts are listed in)."""
        counts = {int(code): int(n) for code, n in groups}
        return {name: counts[code] for code, name in self._theme_names.items() if code in counts}

    def vocabulary(self) -> Vocabulary | None:
        return self.backend.vocabulary(self.number)

    def figures(self) -> dict[str, Any]:
        return dict(self.state.get("figures") or {})

    def built_at(self) -> str:
        return str(self.state.get("built_at", ""))
