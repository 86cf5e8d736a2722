"""`SphinxBackend`: the search backend over a sharded Sphinx 2.2 / Manticore cluster (docs/scale-out.md).

Every engine call is one `SphinxView`: it reads the published generation G from the coordinator's metadata
once and filters every statement with `born <= G AND died > G`, so a call sees one whole generation while
the publisher writes the next. A search sends the page (MATCH from `translate`, filters, order, LIMIT) to
the coordinator's distributed index, and the facets, each under every filter but its own: the facets
without a filter of their own share one WHERE clause and so one GROUP BY over the tagged `facets` codes, a
filtered facet is grouped by its own code. A single GROUP BY (a search without facet filters) goes in the
page's batch; several, and the district × year matrix's, go beside it on other pooled connections. Each
statement is followed by SHOW META for its total and warnings. Highlighting, suggestions and query assistance stay in the engine,
over the returned text.

Failures: Sphinx 2.2.11 fails a query's shard when the mirror it picked is down, instead of trying the
next one (measured), so the view retries a batch whose warnings name a failed agent, as many times as the
shard has copies; `nodeads` then steers the coordinator to the live copy. A shard with no copy answering
after that is reported as missing (`Evaluation.missing`: the result is partial), never hidden in a
smaller total. When no shard answers, the index is unavailable (HTTP 503).
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pymysql

from index import schema as f
from index.vocabulary import Vocabulary, VocabularyError, open_vocabulary
from search.backend import Call, Evaluation
from search.errors import IndexUnavailable
from search.facets import date_bounds, matrix_of
from search.query import Node
from search.related import LIMIT, distinctive_words, fingerprint
from search.request import SearchRequest
from search.sphinxql.connection import ClusterError, connect, parse_address, run_batch
from search.sphinxql.schema import (BLOB_BASE, INDEX, META_INDEX, ROW_FORMAT, STATE_ROW, TOPOLOGY_ROW,
                                    facet_code, facet_untag, theme_code, word_token)
from search.sphinxql.topology import Topology
from search.sphinxql.translate import match_expression, ranked_expression
from search.themes import Themes

T = TypeVar("T")
#: Ranking: per field, how many of the query's distinct tokens (units of the typed text, its jieba words) it
#: holds, times the field's weight (headlines weighted like `search.matching.HEADLINE_WEIGHT`), then Sphinx's
#: BM25 to order within that. On the bench corpus's known-item queries (two headline words, at most three
#: headlines holding both) this puts 100 % of the articles in the top 3, as the embedded BM25F does;
#: proximity_bm25 and sph04 reach 80 %, matchany 96.5 % (tests/test_backend_parity.py, docs/scale-out.md).
#: bm25f() in an expression ranker returns a constant on 2.2.11 RT indexes (measured), so it is not used.
RANKER = "expr('sum(word_count*user_weight)*1000+bm25'), field_weights=(hu=20, hb=20, hw=20, bu=1, bb=1, bw=1)"
#: Room for the themes of the theme table.
MAX_GROUPS = 10_000
#: How much more room a facet grouping that filled its room is given when asked again.
GROWTH = 16
#: Several facet searches are sent as this many batches side by side (each on its own connection); a single
#: one (a search without facet filters) goes in the page's own batch, which is faster on a busy machine than
#: side by side (2.2.11 runs a batch's statements one after another; run side by side, the page and its
#: grouping compete for the same cores: measured, p50 and p95 about 5 % lower).
FACET_BATCHES = 3
#: Room for facet values in the first try: the bench corpus's facets fit, all of them in one shared
#: grouping too (97 columns, 17 districts, 12 years, 12 months, its themes).
FEW_GROUPS = 256
#: The key of a grouping shared by several facets: this prefix, then their names joined by commas.
_SHARED = "shared:"
#: How each facet is grouped: (group-by attribute, what gives its value).
_FACETS = {"district": ("district_code", "district"), "year": ("year", "year"), "month": ("month", "month"),
           "column": ("column_code", "column_name"), "theme": ("themes", "groupby()")}
#: Tries of a batch after a copy failed, the pause before the n-th being n times RETRY_PAUSE seconds (at most
#: 0.45 s in all): Sphinx 2.2.11 leaves a dead copy out only once nodeads has seen it fail (measured).
RETRIES = 5
RETRY_PAUSE = 0.03
#: Searches per batch: searchd refuses more than 32 in one multi-query.
MAX_BATCH = 32
#: Idle coordinator connections kept per process, and threads running the parts of a search side by side.
MAX_IDLE = 16
PARALLEL = 8
#: Options of a search that only counts: no ranking, and one match for the agents to send back (the total
#: is counted all the same; the default of 1,000 matches per agent costs milliseconds to ship and merge).
_COUNT_ONLY = "OPTION max_matches=1, ranker=none"
#: An agent named in a warning or error: "agent HOST:PORT: ...".
_AGENT = re.compile(r"agent ([^\s:]+:\d+)")


class SphinxBackend:
    """The cluster whose coordinator listens at `address` (`sphinxql://HOST:PORT`)."""

    def __init__(self, address: str, themes: Themes) -> None:
        self.address = parse_address(address)
        self.name = str(self.address)
        self.themes = themes
        self._lock = threading.Lock()
        self._topology: Topology | None = None
        self._vocabularies: dict[int, tuple[Path, Vocabulary | None]] = {}
        #: Idle coordinator connections: a batch takes one and gives it back, so the parts of one search
        #: can run side by side (`SphinxView.evaluate`) and threads share connections.
        self._idle: list[Any] = []
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    # Connections, reopened after a failure.

    def _acquire(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return connect(self.address)
        except ClusterError as error:
            raise IndexUnavailable(f"{error} (集群不可用 / cluster unavailable)") from error

    def _release(self, connection: Any) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        _close(connection)

    def batch(self, statements: list[str]) -> list[list[tuple[Any, ...]]]:
        """Run a batch on the coordinator, on a new connection once if a pooled one was lost."""
        for attempt in (0, 1):
            connection = self._acquire()
            try:
                results = run_batch(connection, statements)
            except pymysql.OperationalError as error:
                _close(connection)
                if attempt or error.args[0] not in (0, 2006, 2013):
                    raise
                continue
            except pymysql.MySQLError:
                _close(connection)
                raise
            self._release(connection)
            return results
        raise AssertionError("unreachable")

    def in_background(self, work: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run `work` on the backend's small thread pool (one search's statements side by side)."""
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL,
                                                                       thread_name_prefix="sphinxql")
            return self._executor.submit(work)

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
            raise IndexUnavailable(f"cannot read the cluster's metadata at {self.name}: {error}") from error
        return found[0][0] if found else None

    def state(self) -> dict[str, Any]:
        text = self._meta(STATE_ROW)
        if not text:
            raise IndexUnavailable(f"the cluster at {self.name} holds no published index: run "
                                   f"`bulletins build SRC --backend {self.name}`")
        state = json.loads(text)
        if state.get("row_format") != ROW_FORMAT:
            raise IndexUnavailable(f"the cluster at {self.name} was published in row format "
                                   f"{state.get('row_format', 1)}, this version reads format {ROW_FORMAT}: init a new "
                                   "cluster (`bulletins cluster init`) and publish to it")
        return state

    def vocabulary(self, generation: int) -> Vocabulary | None:
        """The vocabulary files published with `generation`, fetched once into a temporary folder (removed by
        `close`, by a newer generation's, or when the process exits)."""
        with self._lock:
            known = self._vocabularies.get(generation)
            if known is not None:
                return known[1]
        rows = self.batch([f"SELECT value FROM {META_INDEX} WHERE id >= {BLOB_BASE} AND generation = {generation} "
                           f"ORDER BY part ASC LIMIT 0, 100000 OPTION max_matches=100000"])[0]
        folder = Path(tempfile.mkdtemp(prefix="bulletins-vocabulary-"))
        weakref.finalize(self, shutil.rmtree, str(folder), True)
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
        """The published generation; the cached topology is read again when the generation was published to
        another number of shards (a grown cluster), so failed agents map to the shards that exist now."""
        state = self.state()
        with self._lock:
            if self._topology is not None and len(self._topology.shards) != state.get("shards"):
                self._topology = None
        yield SphinxView(self, state)

    def close(self) -> None:
        """Finish the searches under way, then close the connections and remove the vocabulary copies (the
        backend opens them again on the next call). The pool is shut down outside the lock its threads take."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        with self._lock:
            idle, self._idle = self._idle, []
            vocabularies, self._vocabularies = self._vocabularies, {}
            self._topology = None
        for connection in idle:
            _close(connection)
        for path, opened in vocabularies.values():
            if opened is not None:
                opened.close()
            shutil.rmtree(path, ignore_errors=True)


def _close(connection: Any) -> None:
    try:
        connection.close()
    except (pymysql.MySQLError, OSError):
        pass


def _done(value: T) -> concurrent.futures.Future[T]:
    """A future that already holds `value`."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()
    future.set_result(value)
    return future


def _unshared(names: list[str], rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, int]]]:
    """The groups of a shared `GROUP BY facets` as each facet's own (value, count) rows: a group's district
    or column is the string of the row Sphinx kept for it, which holds that value."""
    found: dict[str, list[tuple[Any, int]]] = {name: [] for name in names}
    for code, n, district, column in rows:
        kind, value = facet_untag(code)
        if kind not in found:
            continue
        shown = district if kind == "district" else column if kind == "column" else value
        found[kind].append((shown, int(n)))
    return found


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
        self._occurrences: dict[tuple[Node, bool], int] = {}

    # Statements.

    def _filters(self, request: SearchRequest, ignored: tuple[str, ...] = ()) -> list[str]:
        """The WHERE conditions of a request (besides MATCH), without the facet filters in `ignored`."""
        conditions = [self.visible]
        if request.sources:
            conditions.append(f"source_code IN ({_codes([facet_code(value) for value in request.sources])})")
        if request.series:
            conditions.append(f"series_code IN ({_codes([facet_code(value) for value in request.series])})")
        if request.date_from is not None or request.date_to is not None:
            low, high = date_bounds(request)
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
        results, failed = self._attempts(statements)
        if call is not None:
            call.missing |= failed
        return results

    def _attempts(self, statements: list[str]) -> tuple[list[list[tuple[Any, ...]]], set[int]]:
        """`_run` without a call: the results and the shards that did not answer.

        A batch whose warnings (or error) name a failed agent is sent again after a short pause, which lets
        the coordinator's `nodeads` mark the copy dead and ask the shard's next one; it stops once every
        copy of each failing shard has been named, or after `RETRIES` tries: those shards are missing."""
        batch = [part for statement in statements for part in (statement, "SHOW META")]
        topology = self.backend.topology()
        copies = {shard.shard: {copy.agent for copy in shard.copies} for shard in topology.shards}
        seen: dict[int, set[str]] = {}
        failed: set[int] = set()
        results: list[list[tuple[Any, ...]]] = []
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(RETRY_PAUSE * attempt)
            try:
                results = self.backend.batch(batch)
                texts = [value for meta in results[1::2] for key, value in meta if key == "warning"]
                error = None
            except pymysql.MySQLError as raised:
                if not _AGENT.search(str(raised)):
                    raise IndexUnavailable(f"the cluster at {self.backend.name} failed: {raised}") from raised
                texts, error = [str(raised)], raised
            failed = set()
            for agent in (agent for text in texts for agent in _AGENT.findall(text)):
                shard = topology.shard_of_agent(agent)
                if shard is not None:
                    failed.add(shard)
                    seen.setdefault(shard, set()).add(agent)
            if not failed and error is None:
                return results, failed
            if all(seen[shard] >= copies.get(shard, set()) for shard in failed) and error is None:
                break
        if error is not None:
            raise IndexUnavailable(f"no shard of the cluster at {self.backend.name} answered: "
                                   f"{str(error).strip(chr(0))}") from error
        return results, failed

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
        main = (f"SELECT id, WEIGHT() AS w, doc FROM {INDEX} WHERE {self._where(match, self._filters(request))} "
                f"{order} LIMIT {offset}, {max(size, 1)} OPTION max_matches={max(limit, 1)}, ranker={RANKER}")
        plain = self._match(call)
        grouping = self._facet_statements(plain, request, matrix) if facets or matrix else {}
        if len(grouping) == 1:
            results = self._run([main, *self._sized(grouping, list(grouping), FEW_GROUPS)], call)
            rows, meta = results[:2]
            started = [(list(grouping), _done((results[2:], set())))]
        else:
            started = self._grouped(grouping) if grouping else []
            rows, meta = self._run([main], call)
        ranked = [(json.loads(doc), float(weight)) for _, weight, doc in rows][:size]
        counters: dict[str, dict[Any, int]] = {}
        table = None
        if grouping:
            counters, cells, failed = self._facets(grouping, started)
            call.missing |= failed
            table = matrix_of(cells).to_dict() if matrix else None
            if not facets:
                counters = {}
        return Evaluation(self._total(meta), counters, ranked, table, tuple(sorted(call.missing)))

    def _facet_statements(self, match: str | None, request: SearchRequest, matrix: bool) -> dict[str, str]:
        """The facet GROUP BYs, each facet under every filter but its own: the facets whose WHERE clauses are
        the same (all those without a filter of their own) share one GROUP BY over the tagged `facets`
        codes, a facet alone is grouped by its own code; and the matrix's (district, year) one."""
        sharing: dict[str, list[str]] = {}
        for name in _FACETS:
            sharing.setdefault(self._where(match, self._filters(request, (name,))), []).append(name)
        statements = {}
        for where, names in sharing.items():
            if len(names) > 1:
                statements[_SHARED + ",".join(names)] = (f"SELECT groupby(), COUNT(*) AS n, district, column_name "
                                                         f"FROM {INDEX} WHERE {where} GROUP BY facets")
            else:
                attribute, shown = _FACETS[names[0]]
                statements[names[0]] = (f"SELECT {shown}, COUNT(*) AS n FROM {INDEX} WHERE {where} "
                                        f"GROUP BY {attribute}")
        if matrix:
            statements["matrix"] = (f"SELECT district, year, COUNT(*) AS n FROM {INDEX} WHERE "
                                    f"{self._where(match, self._filters(request, ('district', 'year', 'month')))} "
                                    f"GROUP BY district_code, year")
        return statements

    @staticmethod
    def _sized(statements: dict[str, str], names: list[str], room: int) -> list[str]:
        """The GROUP BYs of `names`, each with room for `room` groups and no ranking."""
        return [f"{statements[name]} LIMIT 0, {room} OPTION max_matches={room}, ranker=none" for name in names]

    def _grouped(self, statements: dict[str, str]) -> list[tuple[list[str], concurrent.futures.Future]]:
        """Start the GROUP BYs as `FACET_BATCHES` batches on the backend's threads (never from one of those
        threads: a pool thread waiting on the pool could wait forever)."""
        names = list(statements)
        parts = [part for part in (names[start::FACET_BATCHES] for start in range(FACET_BATCHES)) if part]
        return [(part, self.backend.in_background(
                    lambda texts=self._sized(statements, part, FEW_GROUPS): self._attempts(texts)))
                for part in parts]

    def _facets(self, statements: dict[str, str], started: list[tuple[list[str], concurrent.futures.Future]]
                ) -> tuple[dict[str, dict[Any, int]], dict[tuple[str, int], int], set[int]]:
        """Facet counts, the district × year cells and the shards that did not answer, from the started
        GROUP BYs. Sphinx sizes each grouping by max_matches, and a small one is measurably faster, so they
        start with room for `FEW_GROUPS` values; a grouping that filled its room (its total_found) is asked
        again here with `GROWTH` times the room, until one holds every value."""
        found: dict[str, list[tuple[Any, ...]]] = {}
        failed: set[int] = set()
        again: list[str] = []
        for part, future in started:
            results, missing = future.result()
            failed |= missing
            again += self._complete(part, results, FEW_GROUPS, found)
        room = FEW_GROUPS
        while again:
            room *= GROWTH
            results, missing = self._attempts(self._sized(statements, again, room))
            failed |= missing
            again = self._complete(again, results, room, found)
        for key in [key for key in found if key.startswith(_SHARED)]:
            found.update(_unshared(key[len(_SHARED):].split(","), found.pop(key)))
        counters = {name: {value: int(n) for value, n in found[name]} for name in _FACETS if name != "theme"}
        counters["theme"] = self._themes_in_order(found["theme"])
        cells = {(district, int(year)): int(n) for district, year, n in found.get("matrix", [])}
        return counters, cells, failed

    def _complete(self, names: list[str], results: list[list[tuple[Any, ...]]], room: int,
                  found: dict[str, list[tuple[Any, ...]]]) -> list[str]:
        """Keep in `found` the groupings of `names` that had room for every value; return the others."""
        full = []
        for position, name in enumerate(names):
            if self._total(results[2 * position + 1]) < room:
                found[name] = results[2 * position]
            else:
                full.append(name)
        return full

    def count(self, call: Call) -> int:
        return self.count_many([call])[0]

    def count_many(self, calls: list[Call]) -> list[int]:
        totals, failed = self._totals([self._where(self._match(call), self._filters(call.request))
                                       for call in calls])
        for call in calls:
            call.missing |= failed
        return totals

    def _totals(self, conditions: list[str]) -> tuple[list[int], set[int]]:
        """How many rows each WHERE condition matches, in batches of counting searches (`MAX_BATCH` each),
        and the shards that did not answer."""
        totals: list[int] = []
        failed: set[int] = set()
        for start in range(0, len(conditions), MAX_BATCH):
            results, missing = self._attempts([f"SELECT id FROM {INDEX} WHERE {condition} LIMIT 0, 1 {_COUNT_ONLY}"
                                               for condition in conditions[start:start + MAX_BATCH]])
            failed |= missing
            totals += [self._total(meta) for meta in results[1::2]]
        return totals, failed

    def occurrences(self, node: Node, title: bool) -> int:
        return self.occurrences_many([node], title)[0]

    def occurrences_many(self, nodes: list[Node], title: bool) -> list[int]:
        """Counted in batches of searches, each tree once per call (query assistance asks again and again)."""
        wanted = [node for node in dict.fromkeys(nodes) if (node, title) not in self._occurrences]
        totals, _ = self._totals([self._where(match_expression(node, None, title), [self.visible])
                                  for node in wanted])
        self._occurrences.update(((node, title), total) for node, total in zip(wanted, totals))
        return [self._occurrences[(node, title)] for node in nodes]

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
        """Counted on the cluster: one search per word (its word token)."""
        totals, _ = self._totals([self._where(word_token(word), [self.visible]) for word in words])
        return dict(zip(words, totals))

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
