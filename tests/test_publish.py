"""Publishing the embedded index to real searchd clusters: rows per shard and mirror, the generation flip,
retiring and deleting rows, interrupted publishes, the vocabulary blobs and `bulletins build --backend`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from index import schema as f
from index.store import IndexLocation
from index.writer import build
from search.engine import Engine
from search.request import SearchRequest
from search.snapshot import Snapshot
from search.sphinxql import publish as publish_module
from search.sphinxql.cluster import kill_node, start_node, stop_cluster, stop_node, store_topology
from search.sphinxql.connection import ClusterError, connect, parse_address
from search.sphinxql.lease import LEASE_ROW
from search.sphinxql.publish import CopyReport, PublishReport, publish, read_blobs, vocabulary_files
from search.sphinxql.schema import ALIVE, BLOB_BASE, META_INDEX, SHARD_INDEX, document_json, shard_of
from search.themes import Themes
from webui.cli import main

SHARDS = 2
MIRRORS = 1
#: Rows read back per statement in these tests (the sample has a few dozen articles).
LIMIT = 10000
#: Times a coordinator query is repeated while one of its agents fails.
VIEW_ATTEMPTS = 20


@pytest.fixture
def cluster(sphinx_cluster: Callable[..., Any]) -> Iterator[Any]:
    """A fresh running cluster of SHARDS shards with MIRRORS mirror each, stopped after the test."""
    made = sphinx_cluster(shards=SHARDS, mirrors=MIRRORS)
    yield made
    stop_cluster(made.directory)


def rebuild(corpus: Path, index: Path) -> None:
    build([corpus], index, progress=False, log=lambda _: None)


def query(address: Any, sql: str) -> list[tuple[Any, ...]]:
    connection = connect(address)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall())
    finally:
        connection.close()


def committed(backend: str) -> int:
    """The generation the coordinator's state row names (0 before the first publish)."""
    rows = query(parse_address(backend), f"SELECT value FROM {META_INDEX} WHERE id = 1")
    return json.loads(rows[0][0])["generation"] if rows else 0


def live_documents(index: Path) -> dict[str, str]:
    """article id → stored document (as the rows hold it) of every live article of the local index."""
    snapshot = Snapshot(IndexLocation(index))
    try:
        documents = {}
        for docnum in range(snapshot.size):
            if snapshot.live[docnum]:
                stored = snapshot.stored_fields(docnum)
                documents[stored[f.ID_]] = document_json(stored)
        return documents
    finally:
        snapshot.close()


def view(backend: str, generation: int) -> dict[str, str]:
    """What a search of `generation` through the coordinator sees: article id → stored document.

    A query whose agent failed (a copy down: Sphinx 2.2 then answers from the other shards with a warning
    instead of asking the shard's other copy) is repeated; total_found must agree with the rows returned."""
    connection = connect(parse_address(backend))
    try:
        with connection.cursor() as cursor:
            for _ in range(VIEW_ATTEMPTS):
                cursor.execute(f"SELECT article_id, doc FROM bulletins WHERE born <= {generation} "
                               f"AND died > {generation} LIMIT {LIMIT} OPTION max_matches={LIMIT}")
                rows = list(cursor.fetchall())
                cursor.execute("SHOW META")
                meta = dict(cursor.fetchall())
                if "warning" not in meta:
                    break
            else:
                pytest.fail(f"every query of {backend} had a failed agent: {meta['warning']}")
    finally:
        connection.close()
    seen = dict(rows)
    assert len(seen) == len(rows) == int(meta["total_found"])
    return seen


def copy_rows(copy: Any) -> list[tuple[str, int, int]]:
    """(article id, born, died) of every row of one shard copy."""
    return [(article, int(born), int(died)) for article, born, died in
            query(copy.address, f"SELECT article_id, born, died FROM {SHARD_INDEX} "
                                f"LIMIT {LIMIT} OPTION max_matches={LIMIT}")]


def assert_placed(cluster: Any, documents: dict[str, str], generation: int,
                  down: tuple[int, str] | None = None) -> None:
    """Every live article is on exactly its hashed shard, on every copy of it (but the one `down`), and
    nothing else is visible."""
    for shard in cluster.topology.shards:
        wanted = sorted(article for article in documents if shard_of(article, SHARDS) == shard.shard)
        for copy in shard.copies:
            if (shard.shard, copy.role) == down:
                continue
            visible = sorted(article for article, born, died in copy_rows(copy) if born <= generation < died)
            assert visible == wanted, f"shard {shard.shard} {copy.role}"
    assert view(cluster.backend, generation) == documents


def placement(cluster: Any, generation: int) -> dict[str, int]:
    """article id → the shard whose rows show it at `generation` (failing if two shards do)."""
    found: dict[str, int] = {}
    for shard in cluster.topology.shards:
        for copy in shard.copies:
            for article, born, died in copy_rows(copy):
                if born <= generation < died:
                    assert found.setdefault(article, shard.shard) == shard.shard, article
    return found


def totals(report: PublishReport) -> dict[str, int]:
    return {name: sum(getattr(copy, name) for copy in report.copies)
            for name in ("inserted", "revived", "retired", "deleted", "kept")}


#: Batch sizes: the defaults, and small ones so scans page, REPLACEs split by size and by the packet limit.
BATCHES = {
    "default batches": {},
    "small batches": {"SCAN_ROWS": 5, "INSERT_ROWS": 7, "STATEMENT_BYTES": 20000, "ID_BATCH": 3},
    "packet limit": {"STATEMENT_LIMIT": 1},
}


@pytest.fixture(params=list(BATCHES))
def batches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in BATCHES[request.param].items():
        monkeypatch.setattr(publish_module, name, value)
    return request.param


def test_publish_places_each_article_on_its_shard_and_mirrors(workspace: tuple[Path, Path], cluster: Any,
                                                              batches: str) -> None:
    _, index = workspace
    documents = live_documents(index)
    report = publish(index, cluster.backend, Themes())
    assert (report.previous, report.generation, report.documents) == (0, 1, len(documents))
    assert committed(cluster.backend) == 1
    assert len(report.copies) == SHARDS * (1 + MIRRORS)
    per_shard = {copy.shard: copy.inserted for copy in report.copies}
    assert sum(per_shard.values()) == len(documents)
    assert all(copy.inserted == per_shard[copy.shard] for copy in report.copies)
    assert all(count > 0 for count in per_shard.values())
    assert_placed(cluster, documents, 1)
    for shard in cluster.topology.shards:
        for copy in shard.copies:
            assert {(born, died) for _, born, died in copy_rows(copy)} == {(1, ALIVE)}


def test_republish_changes_nothing(workspace: tuple[Path, Path], cluster: Any) -> None:
    corpus, index = workspace
    publish(index, cluster.backend, Themes())
    state = query(parse_address(cluster.backend), f"SELECT value FROM {META_INDEX} WHERE id = 1")
    rebuild(corpus, index)
    again = publish(index, cluster.backend, Themes())
    assert (again.previous, again.generation, again.changed, again.blobs) == (1, 1, False, 0)
    assert totals(again) == {"inserted": 0, "revived": 0, "retired": 0, "deleted": 0,
                             "kept": len(live_documents(index)) * (1 + MIRRORS)}
    assert query(parse_address(cluster.backend), f"SELECT value FROM {META_INDEX} WHERE id = 1") == state


def _update(corpus: Path) -> int:
    path = sorted(corpus.rglob("*_第*期.txt"))[1]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("。", "。鹦鹉螺号潜艇。", 1), encoding="utf-8")
    return 1


def _delete(corpus: Path) -> int:
    path = sorted(corpus.rglob("*_第*期.txt"))[2]
    path.unlink()
    return 0


@pytest.mark.parametrize("change", [_update, _delete], ids=["changed file", "removed file"])
def test_changed_rows_retire_then_go(workspace: tuple[Path, Path], cluster: Any, change: Callable[[Path], int],
                                    batches: str) -> None:
    corpus, index = workspace
    publish(index, cluster.backend, Themes())
    before = live_documents(index)
    change(corpus)
    rebuild(corpus, index)
    after = live_documents(index)
    gone = {article for article in before if after.get(article) != before[article]}
    assert gone
    second = publish(index, cluster.backend, Themes())
    assert (second.previous, second.generation) == (1, 2)
    assert totals(second)["retired"] == len(gone) * (1 + MIRRORS)
    assert totals(second)["inserted"] == sum(after.get(article) != before.get(article)
                                             for article in after) * (1 + MIRRORS)
    assert view(cluster.backend, 1) == before, "the old generation stays whole until its rows are deleted"
    assert_placed(cluster, after, 2)
    third = publish(index, cluster.backend, Themes())
    assert (third.generation, totals(third)["deleted"], totals(third)["retired"]) == (2, len(gone) * (1 + MIRRORS), 0)
    for shard in cluster.topology.shards:
        for copy in shard.copies:
            assert {died for _, _, died in copy_rows(copy)} <= {ALIVE}
    assert_placed(cluster, after, 2)


def _stop_last_mirror(cluster: Any) -> Callable[[CopyReport], None] | None:
    """A mirror down before the publish starts (the last copy written, so the others are written first)."""
    stop_node(cluster.directory, SHARDS - 1, "mirror")
    return None


def _kill_primary_midway(cluster: Any) -> Callable[[CopyReport], None] | None:
    """A primary killed (SIGKILL) once the copies of shard 0 are written."""
    def progress(copy: CopyReport) -> None:
        if copy.shard == 0 and copy.role == "mirror":
            kill_node(cluster.directory, SHARDS - 1, "primary")
    return progress


@pytest.mark.parametrize(("fault", "node"), [(_stop_last_mirror, "mirror"), (_kill_primary_midway, "primary")],
                         ids=["mirror stopped", "primary killed midway"])
def test_interrupted_publish_keeps_the_committed_view_and_a_rerun_converges(
        workspace: tuple[Path, Path], cluster: Any, fault: Callable[[Any], Any], node: str) -> None:
    corpus, index = workspace
    publish(index, cluster.backend, Themes())
    before = live_documents(index)
    _update(corpus)
    _delete(corpus)
    rebuild(corpus, index)
    after = live_documents(index)
    progress = fault(cluster)
    with pytest.raises(ClusterError, match=f"shard {SHARDS - 1} {node}"):
        publish(index, cluster.backend, Themes(), progress=progress)
    assert committed(cluster.backend) == 1
    assert query(parse_address(cluster.backend), f"SELECT id FROM {META_INDEX} WHERE id = {LEASE_ROW}") == [], \
        "a failed publish releases its lease"
    assert_placed(cluster, before, 1, down=(SHARDS - 1, node))
    written = [born for shard in cluster.topology.shards for copy in shard.copies
               if (shard.shard, copy.role) != (SHARDS - 1, node) for _, born, _ in copy_rows(copy)]
    assert 2 in written, "the failed run wrote rows of generation 2 before it stopped"
    start_node(cluster.directory, SHARDS - 1, node)
    assert view(cluster.backend, 1) == before
    rerun = publish(index, cluster.backend, Themes())
    assert (rerun.previous, rerun.generation) == (1, 2)
    assert_placed(cluster, after, 2)
    assert view(cluster.backend, 1) == before
    settled = publish(index, cluster.backend, Themes())
    assert settled.generation == 2 and totals(settled)["inserted"] == totals(settled)["retired"] == 0
    assert_placed(cluster, after, 2)


@pytest.mark.parametrize("chunk", [publish_module.BLOB_CHUNK, 4096], ids=["default chunks", "small chunks"])
def test_vocabulary_blobs_reassemble(workspace: tuple[Path, Path], cluster: Any, chunk: int,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index = workspace
    monkeypatch.setattr(publish_module, "BLOB_CHUNK", chunk)
    local = {path.name: path.read_bytes() for path in vocabulary_files(IndexLocation(index).current_path())}
    assert set(local) == {"vocabulary.arrays", "vocabulary.pinyin.marisa"}
    report = publish(index, cluster.backend, Themes())
    assert report.blobs == sum(-(-len(data) // chunk) for data in local.values())
    assert read_blobs(cluster.backend, 1) == local
    _update(corpus)
    rebuild(corpus, index)
    newer = {path.name: path.read_bytes() for path in vocabulary_files(IndexLocation(index).current_path())}
    assert newer != local
    publish(index, cluster.backend, Themes())
    assert read_blobs(cluster.backend, 2) == newer
    assert read_blobs(cluster.backend, 1) == local, "the generation served until the flip keeps its files"
    _delete(corpus)
    rebuild(corpus, index)
    publish(index, cluster.backend, Themes())
    assert read_blobs(cluster.backend, 1) == {}
    generations = {int(generation) for generation, in query(
        parse_address(cluster.backend), f"SELECT generation FROM {META_INDEX} WHERE id >= {BLOB_BASE} "
                                        f"LIMIT {LIMIT} OPTION max_matches={LIMIT}")}
    assert generations == {2, 3}


def test_state_row_describes_the_published_generation(workspace: tuple[Path, Path], cluster: Any) -> None:
    _, index = workspace
    publish(index, cluster.backend, Themes())
    state = json.loads(query(parse_address(cluster.backend), f"SELECT value FROM {META_INDEX} WHERE id = 1")[0][0])
    snapshot = Snapshot(IndexLocation(index))
    try:
        assert state["source_generation"] == snapshot.generation
        assert state["documents"] == state["figures"]["articles"] == snapshot.live_count
    finally:
        snapshot.close()
    table = Themes().table()
    assert state["themes"] == {"digest": table.digest, "names": table.names}
    assert (state["generation"], state["shards"]) == (1, SHARDS)
    assert state["figures"]["vocabulary"]["entries"] > 0


def test_a_coordinator_without_a_cluster_description(workspace: tuple[Path, Path], cluster: Any) -> None:
    _, index = workspace
    query(parse_address(cluster.backend), f"DELETE FROM {META_INDEX} WHERE id = 2")
    with pytest.raises(ClusterError, match=r"no cluster description on sphinxql://.*bulletins cluster start DIR"):
        publish(index, cluster.backend, Themes())


def test_build_with_backend(workspace: tuple[Path, Path], cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index = workspace
    runner = CliRunner()
    result = runner.invoke(main, ["build", str(corpus), "--index", str(index), "--backend", cluster.backend])
    assert result.exit_code == 0, result.output
    assert "as generation 1 (was 0)" in result.stdout
    monkeypatch.setenv("BULLETINS_BACKEND", cluster.backend)
    result = runner.invoke(main, ["build", str(corpus), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert "nothing to publish" in result.stdout
    assert committed(cluster.backend) == 1


@pytest.mark.parametrize(("backend", "status", "message"), [
    ("http://127.0.0.1:9306", 2, "not of the form sphinxql://HOST:PORT"),
    ("sphinxql://127.0.0.1:1", 1, "error: publish to sphinxql://127.0.0.1:1 failed"),
])
def test_build_with_a_bad_backend(workspace: tuple[Path, Path], backend: str, status: int, message: str) -> None:
    corpus, index = workspace
    result = CliRunner().invoke(main, ["build", str(corpus), "--index", str(index), "--backend", backend])
    assert result.exit_code == status
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_more_shards_move_each_moved_article_in_one_flip(workspace: tuple[Path, Path],
                                                        sphinx_cluster: Callable[..., Any]) -> None:
    """A cluster grown from 2 to 3 shards: the next publish inserts the articles whose hash now names
    another shard there and retires them where they were; both generations show every article once."""
    _, index = workspace
    grown = sphinx_cluster(shards=3, mirrors=0)
    try:
        documents = live_documents(index)
        store_topology(dataclasses.replace(grown.topology, shards=grown.topology.shards[:2]), grown.topology.address)
        publish(index, grown.backend, Themes())
        assert placement(grown, 1) == {article: shard_of(article, 2) for article in documents}
        store_topology(grown.topology, grown.topology.address)
        report = publish(index, grown.backend, Themes())
        assert report.generation == committed(grown.backend) == 2
        moved = sum(shard_of(article, 2) != shard_of(article, 3) for article in documents)
        assert moved > 0
        assert totals(report)["inserted"] == totals(report)["retired"] == moved
        assert placement(grown, 2) == {article: shard_of(article, 3) for article in documents}
        assert placement(grown, 1) == {article: shard_of(article, 2) for article in documents}
        assert view(grown.backend, 2) == view(grown.backend, 1) == documents
    finally:
        stop_cluster(grown.directory)


def test_a_running_server_names_a_missing_shard_of_a_grown_cluster(workspace: tuple[Path, Path],
                                                                   sphinx_cluster: Callable[..., Any]) -> None:
    """A server that searched the 2-shard cluster follows it to 3 shards: the new shard, down, is missing."""
    _, index = workspace
    grown = sphinx_cluster(shards=3, mirrors=0)
    engine = Engine(index, backend=grown.backend)
    try:
        store_topology(dataclasses.replace(grown.topology, shards=grown.topology.shards[:2]), grown.topology.address)
        publish(index, grown.backend, Themes())
        assert not engine.search(SearchRequest()).partial
        store_topology(grown.topology, grown.topology.address)
        publish(index, grown.backend, Themes())
        kill_node(grown.directory, 2, "primary")
        result = engine.search(SearchRequest())
        assert result.partial and result.missing_shards == [2]
    finally:
        engine.close()
        stop_cluster(grown.directory)
