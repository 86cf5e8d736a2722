"""Publishing: write the live embedded generation into the cluster as generation G+1, then flip to it.

A shard row is visible in the generations `born <= G < died`. The publisher reads the committed generation
G from the coordinator's state row and brings every copy of every shard to the rows of G+1 without changing
what G shows: new rows are born G+1, rows that go die at G+1, rows that stay keep their row (same id, same
content and themes). Then it stores the vocabulary files as blob rows of G+1 and replaces the state row with
G+1, the one commit point. A run that dies before it leaves rows no search sees; the next run deletes or
reuses them (docs/scale-out.md). One publisher at a time: a run holds the cluster's lease (`lease`) from
reading G to the flip.
"""

from __future__ import annotations

import base64
import collections
import concurrent.futures
import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pymysql

from index import schema as f
from index.stats import build_figures, generation_figures, vocabulary_figures
from index.store import IndexLocation, now_iso
from search.snapshot import Snapshot
from search.sphinxql.connection import Address, ClusterError, connect, parse_address
from search.sphinxql.lease import PublishLease
from search.sphinxql.schema import (ALIVE, BLOB_BASE, BLOB_CHUNK, META_INDEX, ROW_FORMAT, SHARD_INDEX, STATE_ROW,
                                    TOPOLOGY_ROW,
                                    document_json, insert_statement, row_id, row_values, shard_of)
from search.sphinxql.topology import Copy, Topology
from search.themes import ThemeMembership, Themes, compute_membership

#: Rows to build before it pays to analyse them in worker processes (jieba is the cost: one core each).
PARALLEL_ROWS = 2000
#: Rows per scan statement (searchd answers at most max_matches rows).
SCAN_ROWS = 5000
#: Rows per REPLACE, and the statement size aimed at: searchd refuses packets over max_packet_size (8 MB).
INSERT_ROWS = 500
STATEMENT_BYTES = 4 * 2**20
STATEMENT_LIMIT = 8 * 2**20 - 64 * 2**10
#: Ids per `UPDATE ... WHERE id IN (...)` and `DELETE ... WHERE id IN (...)`.
ID_BATCH = 1000
#: Blob rows read per statement when reassembling (each holds up to 700 KB of base64 text).
BLOB_PAGE = 8
#: The files of a generation that searches of the cluster need besides the rows (`index.vocabulary`).
VOCABULARY_GLOB = "vocabulary.*"
#: State fields that change with every write, left out when deciding whether anything changed.
_VOLATILE = ("generation", "built_at")


@dataclass
class CopyReport:
    """What a publish did to one copy of one shard, in rows."""

    shard: int
    role: str
    node: str
    inserted: int = 0
    revived: int = 0
    retired: int = 0
    deleted: int = 0
    kept: int = 0


@dataclass
class PublishReport:
    """What a publish did: the generation before and after, each copy's row counts, the blobs, the time."""

    backend: str
    previous: int
    generation: int
    source_generation: str
    documents: int
    copies: list[CopyReport] = field(default_factory=list)
    blobs: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.generation != self.previous

    def summary(self) -> str:
        """A few readable lines: the generation flip (or none) and one line per copy."""
        if self.changed:
            head = (f"published {self.source_generation} to {self.backend} as generation {self.generation} "
                    f"(was {self.previous}): {self.documents} articles, {self.blobs} vocabulary blobs, "
                    f"{self.seconds:.1f} s")
        else:
            head = (f"{self.backend} already serves {self.source_generation} as generation {self.generation}: "
                    f"nothing to publish ({self.seconds:.1f} s)")
        lines = [head]
        lines += [f"  shard {copy.shard} {copy.role} {copy.node}: {copy.inserted} inserted, {copy.retired} retired, "
                  f"{copy.deleted} deleted, {copy.kept} kept" + (f", {copy.revived} revived" if copy.revived else "")
                  for copy in self.copies]
        return "\n".join(lines)


class Node:
    """A SphinxQL connection to one node; every failure is a ClusterError naming the node."""

    def __init__(self, address: Address, label: str) -> None:
        self.address = address
        self.label = label
        try:
            self.connection = connect(address)
        except ClusterError as error:
            raise ClusterError(f"{label}: {error}") from error

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall())
        except (pymysql.MySQLError, OSError) as error:
            raise ClusterError(f"{self.label} ({self.address}) failed a statement: {error}") from error

    def escape(self, value: Any) -> str:
        return self.connection.escape(value)

    def close(self) -> None:
        try:
            self.connection.close()
        except (pymysql.MySQLError, OSError):
            pass


@dataclass
class CopyPlan:
    """The statements one copy needs: rows to insert (REPLACE), revive (died back to ALIVE), retire
    (died = G+1) and delete, how many stay as they are, and whether it holds rows of an unfinished run."""

    node: Node
    report: CopyReport
    insert: set[int] = field(default_factory=set)
    revive: list[int] = field(default_factory=list)
    retire: list[int] = field(default_factory=list)
    delete: list[int] = field(default_factory=list)
    pending: bool = False

    @property
    def changes(self) -> bool:
        """Whether G+1 differs from G on this copy (cleaning up rows no generation shows does not count)."""
        return bool(self.insert or self.revive or self.retire) or self.pending


def publish(index_root: str | Path, backend: str, themes: Themes,
            progress: Callable[[CopyReport], None] | None = None) -> PublishReport:
    """Publish the live generation under `index_root` to the cluster whose coordinator is `backend`
    (sphinxql://HOST:PORT). ClusterError when a node is down or refuses a statement: nothing is flipped
    then, and running again converges. `progress` is called as each copy is done."""
    started = time.monotonic()
    try:
        address = parse_address(backend)
    except ValueError as error:
        raise ClusterError(str(error)) from error
    snapshot = Snapshot(IndexLocation(index_root))
    coordinator = None
    try:
        coordinator = Node(address, "coordinator")
        with PublishLease(address) as lease:
            report = _publish(coordinator, lease, snapshot, themes, progress)
    finally:
        snapshot.close()
        if coordinator is not None:
            coordinator.close()
    report.seconds = time.monotonic() - started
    return report


def _publish(coordinator: Node, lease: PublishLease, snapshot: Snapshot, themes: Themes,
             progress: Callable[[CopyReport], None] | None) -> PublishReport:
    """`publish` while holding the cluster's lease: every shard's copies, then the blobs and the flip."""
    topology, state = _read_cluster(coordinator)
    previous = int(state.get("generation", 0))
    table = themes.table()
    membership = compute_membership(table, snapshot.unit_documents, snapshot.live)
    targets = _targets(snapshot, membership, len(topology.shards))
    report = PublishReport(str(coordinator.address), previous, previous, snapshot.generation, snapshot.live_count)
    changed = False
    for shard in topology.shards:
        lease.check()
        changed |= _publish_shard(shard.shard, shard.copies, targets[shard.shard], snapshot, membership,
                                  previous, report, progress)
    new_state = _state(snapshot, previous + 1, len(topology.shards), table.digest, table.names)
    if changed or _differs(state, new_state):
        lease.check()
        report.blobs = _store_blobs(coordinator, snapshot.path, previous, previous + 1)
        lease.confirm()
        coordinator.query(f"REPLACE INTO {META_INDEX} (id, kind, generation, part, value) VALUES "
                          f"({STATE_ROW}, 'state', {previous + 1}, 0, "
                          f"{coordinator.escape(json.dumps(new_state, ensure_ascii=False, sort_keys=True))})")
        report.generation = previous + 1
    return report


def _read_cluster(coordinator: Node) -> tuple[Topology, dict[str, Any]]:
    """The topology (row 2) and the published state (row 1, empty before the first publish)."""
    rows = dict(coordinator.query(f"SELECT id, value FROM {META_INDEX} WHERE id IN ({STATE_ROW}, {TOPOLOGY_ROW})"))
    if TOPOLOGY_ROW not in rows:
        raise ClusterError(f"no cluster description on {coordinator.address}: run `bulletins cluster start DIR` "
                           "or `bulletins cluster register`")
    try:
        topology = Topology.from_json(rows[TOPOLOGY_ROW])
        state = json.loads(rows[STATE_ROW]) if STATE_ROW in rows else {}
    except ValueError as error:
        raise ClusterError(f"unreadable metadata on {coordinator.address}: {error}") from error
    numbers = sorted(shard.shard for shard in topology.shards)
    if not numbers or numbers != list(range(len(numbers))) or not all(shard.copies for shard in topology.shards):
        raise ClusterError(f"the cluster description on {coordinator.address} must number its shards 0..N-1, "
                           f"each with a copy (it has shards {numbers})")
    if not isinstance(state, dict) or not isinstance(state.get("generation", 0), int):
        raise ClusterError(f"unreadable state row on {coordinator.address}: {rows[STATE_ROW]!r}")
    if state and state.get("row_format") != ROW_FORMAT:
        raise ClusterError(f"the cluster at {coordinator.address} holds rows of format {state.get('row_format', 1)}, "
                           f"this version writes format {ROW_FORMAT}: init a new cluster (`bulletins cluster init`) "
                           "and publish to it")
    return topology, state


def _targets(snapshot: Snapshot, membership: ThemeMembership, shards: int) -> list[dict[int, int]]:
    """Per shard, the row id of every live document → its docnum (rows are built only where needed)."""
    targets: list[dict[int, int]] = [{} for _ in range(shards)]
    for docnum in np.flatnonzero(snapshot.live).tolist():
        stored = snapshot.stored_fields(docnum)
        article_id = stored[f.ID_]
        targets[shard_of(article_id, shards)][row_id(article_id, document_json(stored),
                                                     membership.themes_of(docnum))] = docnum
    return targets


def _label(shard: int, copy: Copy) -> str:
    return f"shard {shard} {copy.role}"


def _publish_shard(shard: int, copies: Sequence[Copy], targets: dict[int, int], snapshot: Snapshot,
                   membership: ThemeMembership, generation: int, report: PublishReport,
                   progress: Callable[[CopyReport], None] | None) -> bool:
    """Bring every copy of one shard to the target rows of generation+1; whether G+1 differs from G there.

    Each copy is scanned and planned on its own; a row several copies lack is built once."""
    plans = []
    try:
        for copy in copies:
            node = Node(copy.address, _label(shard, copy))
            plans.append(_plan(node, CopyReport(shard, copy.role, str(copy.address)), targets, generation))
        for plan in plans:
            _by_ids(plan.node, "DELETE FROM {index} WHERE id IN ({ids})", plan.delete)
            plan.report.deleted = len(plan.delete)
        wanted = sorted(set().union(*(plan.insert for plan in plans)), key=targets.__getitem__)
        jobs = ([(snapshot.stored_fields(targets[row]), membership.themes_of(targets[row])) for row in batch]
                for batch in _batches(wanted, INSERT_ROWS))
        for rows in built_rows(jobs, generation + 1, parallel=len(wanted) > PARALLEL_ROWS):
            for plan in plans:
                mine = [item for item in rows if item[0]["id"] in plan.insert]
                if mine:
                    _insert(plan.node, mine)
        for plan in plans:
            plan.report.inserted = len(plan.insert)
            _by_ids(plan.node, f"UPDATE {{index}} SET died={ALIVE} WHERE id IN ({{ids}})", plan.revive)
            plan.report.revived = len(plan.revive)
            _by_ids(plan.node, f"UPDATE {{index}} SET died={generation + 1} WHERE id IN ({{ids}})", plan.retire)
            plan.report.retired = len(plan.retire)
            report.copies.append(plan.report)
            if progress is not None:
                progress(plan.report)
    finally:
        for plan in plans:
            plan.node.close()
    return any(plan.changes for plan in plans)


def _build_batch(job: tuple[list[tuple[dict[str, Any], tuple[str, ...]]], int]
                 ) -> list[tuple[dict[str, Any], tuple[int, ...]]]:
    documents, born = job
    return [row_values(stored, themes, born) for stored, themes in documents]


def built_rows(jobs: Iterator[list[tuple[dict[str, Any], tuple[str, ...]]]], born: int, parallel: bool
               ) -> Iterator[list[tuple[dict[str, Any], tuple[int, ...]]]]:
    """The rows of each batch of (stored fields, theme names), in order. With `parallel`, worker processes
    (one per core, forked) analyse the batches while this one writes, a few batches ahead at most."""
    if not parallel or (os.cpu_count() or 1) < 2:
        for documents in jobs:
            yield _build_batch((documents, born))
        return
    workers = os.cpu_count() or 2
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: collections.deque[concurrent.futures.Future] = collections.deque()
        for documents in jobs:
            pending.append(pool.submit(_build_batch, (documents, born)))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _plan(node: Node, report: CopyReport, targets: dict[int, int], generation: int) -> CopyPlan:
    """Compare a copy's rows with the targets (see the module docstring for the rules)."""
    plan = CopyPlan(node, report)
    present = set()
    for row, born, died in _scan(node):
        present.add(row)
        if row in targets:
            if died <= generation:
                plan.insert.add(row)
            elif died != ALIVE:
                plan.revive.append(row)
            else:
                report.kept += 1
                plan.pending |= born > generation
        elif died <= generation or born > generation:
            plan.delete.append(row)
        elif died == generation + 1:
            plan.pending = True
        else:
            plan.retire.append(row)
    plan.insert.update(row for row in targets if row not in present)
    return plan


def _scan(node: Node) -> Iterator[tuple[int, int, int]]:
    """Every row of a copy as (id, born, died), in id order."""
    last = 0
    while True:
        rows = node.query(f"SELECT id, born, died FROM {SHARD_INDEX} WHERE id > {last} ORDER BY id ASC "
                          f"LIMIT {SCAN_ROWS} OPTION max_matches={SCAN_ROWS}")
        for row, born, died in rows:
            yield int(row), int(born), int(died)
        if len(rows) < SCAN_ROWS:
            return
        last = int(rows[-1][0])


def _insert(node: Node, rows: list[tuple[dict[str, Any], tuple[int, ...]]]) -> None:
    """REPLACE `rows`, as few statements as fit under searchd's packet size."""
    chunk: list[tuple[dict[str, Any], tuple[int, ...]]] = []
    size = 0
    for item in rows:
        cost = sum(len(str(value).encode("utf-8")) + 8 for value in item[0].values())
        if chunk and size + cost > STATEMENT_BYTES:
            _replace(node, chunk)
            chunk, size = [], 0
        chunk.append(item)
        size += cost
    if chunk:
        _replace(node, chunk)


def _replace(node: Node, rows: list[tuple[dict[str, Any], tuple[int, ...]]]) -> None:
    statement = insert_statement(rows, node)
    if len(statement.encode("utf-8")) > STATEMENT_LIMIT and len(rows) > 1:
        middle = len(rows) // 2
        _replace(node, rows[:middle])
        _replace(node, rows[middle:])
        return
    node.query(statement)


def _by_ids(node: Node, template: str, ids: Sequence[int], index: str = SHARD_INDEX) -> None:
    for batch in _batches(ids, ID_BATCH):
        node.query(template.format(index=index, ids=", ".join(str(row) for row in batch)))


def _batches(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _state(snapshot: Snapshot, generation: int, shards: int, digest: str, names: list[str]) -> dict[str, Any]:
    """The state row's JSON: what the cluster serves, and the figures `stats` shows for it."""
    vocabulary, _ = vocabulary_figures(snapshot.path)
    figures = {**generation_figures(snapshot.segments), **build_figures(snapshot.generation, snapshot.meta),
               "vocabulary": vocabulary}
    state = {"generation": generation, "row_format": ROW_FORMAT, "built_at": now_iso(),
             "source_generation": snapshot.generation,
             "documents": snapshot.live_count, "shards": shards, "themes": {"digest": digest, "names": names},
             "meta": asdict(snapshot.meta), "figures": figures}
    return json.loads(json.dumps(state, ensure_ascii=False, default=str))


def _differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the state to write says something the published one does not, times and generation number
    aside (an incremental build that changed nothing only rewrites the local generation's built_at)."""
    def essence(state: dict[str, Any]) -> dict[str, Any]:
        kept = {key: value for key, value in state.items() if key not in _VOLATILE}
        for part in ("meta", "figures"):
            if isinstance(kept.get(part), dict):
                kept[part] = {key: value for key, value in kept[part].items() if key != "built_at"}
        return kept
    return not old or essence(old) != essence(new)


def vocabulary_files(path: Path) -> list[Path]:
    """The vocabulary files of a generation folder, by name."""
    return sorted(item for item in Path(path).glob(VOCABULARY_GLOB) if item.is_file())


def blob_chunks(path: Path) -> Iterator[tuple[str, int, str]]:
    """(file name, part, base64 data) of every BLOB_CHUNK of the generation's vocabulary files."""
    for item in vocabulary_files(path):
        data = item.read_bytes()
        for part, start in enumerate(range(0, max(len(data), 1), BLOB_CHUNK)):
            yield item.name, part, base64.b64encode(data[start:start + BLOB_CHUNK]).decode("ascii")


def _store_blobs(coordinator: Node, path: Path, current: int, generation: int) -> int:
    """Write the vocabulary files as blob rows of `generation`, then delete the blob rows of every generation
    but `current` (still served) and `generation`; how many rows were written."""
    existing = dict(_meta_rows(coordinator))
    taken = {row for row, owner in existing.items() if owner == current}
    written: set[int] = set()
    candidate = BLOB_BASE
    for name, part, data in blob_chunks(path):
        while candidate in taken:
            candidate += 1
        value = json.dumps({"file": name, "data": data})
        coordinator.query(f"REPLACE INTO {META_INDEX} (id, kind, generation, part, value) VALUES "
                          f"({candidate}, 'blob', {generation}, {part}, {coordinator.escape(value)})")
        written.add(candidate)
        candidate += 1
    stale = sorted(row for row, owner in existing.items() if owner != current and row not in written)
    _by_ids(coordinator, "DELETE FROM {index} WHERE id IN ({ids})", stale, META_INDEX)
    return len(written)


def _meta_rows(coordinator: Node) -> Iterable[tuple[int, int]]:
    """(id, generation) of every blob row of the coordinator's metadata."""
    last = BLOB_BASE - 1
    while True:
        rows = coordinator.query(f"SELECT id, generation FROM {META_INDEX} WHERE id > {last} ORDER BY id ASC "
                                 f"LIMIT {SCAN_ROWS} OPTION max_matches={SCAN_ROWS}")
        for row, generation in rows:
            yield int(row), int(generation)
        if len(rows) < SCAN_ROWS:
            return
        last = int(rows[-1][0])


def read_blobs(backend: str, generation: int) -> dict[str, bytes]:
    """The vocabulary files stored for `generation` on the coordinator at `backend`, reassembled by name
    (ClusterError when a part is missing)."""
    try:
        coordinator = Node(parse_address(backend), "coordinator")
    except ValueError as error:
        raise ClusterError(str(error)) from error
    try:
        parts: dict[str, dict[int, bytes]] = {}
        last = BLOB_BASE - 1
        while True:
            rows = coordinator.query(f"SELECT id, part, value FROM {META_INDEX} WHERE id > {last} AND "
                                     f"generation = {int(generation)} ORDER BY id ASC LIMIT {BLOB_PAGE} "
                                     f"OPTION max_matches={BLOB_PAGE}")
            for _, part, value in rows:
                chunk = json.loads(value)
                parts.setdefault(chunk["file"], {})[int(part)] = base64.b64decode(chunk["data"])
            if len(rows) < BLOB_PAGE:
                break
            last = int(rows[-1][0])
    finally:
        coordinator.close()
    for name, chunks in parts.items():
        if sorted(chunks) != list(range(len(chunks))):
            raise ClusterError(f"blob rows of {name} for generation {generation} on {backend} are incomplete: "
                               f"parts {sorted(chunks)}")
    return {name: b"".join(chunks[part] for part in sorted(chunks)) for name, chunks in sorted(parts.items())}
