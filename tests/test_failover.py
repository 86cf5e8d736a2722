"""Failures of a real cluster (2 shards, each with a mirror): a killed primary costs no search and no
article; a shard with no live copy makes every answer partial, and the API, the UI and the CLI say so;
a cluster that does not answer at all is a 503 with a message."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.engine import Engine
from search.request import SearchRequest
from search.sphinxql.cluster import kill_node, start_node
from search.sphinxql.publish import publish
from search.sphinxql.schema import shard_of
from search.themes import Themes
from test_webui import sample_index
from webui import create_app
from webui.engine import close_engine

QUERIES = ["文明", "志愿 服务", "的", "垃圾分类", "创城", "", "海淀区 OR 朝阳区", "-志愿", "标题:社区", "“新时代”"]


@pytest.fixture(scope="module")
def setup(sphinx_cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Engine, object]]:
    """(embedded engine, cluster engine, cluster) over the web sample, published to 2 shards × 2 copies."""
    root = sample_index(tmp_path_factory)
    cluster = sphinx_cluster(shards=2, mirrors=1)
    publish(root, cluster.backend, Themes())
    embedded, clustered = Engine(root), Engine(root, backend=cluster.backend)
    yield embedded, clustered, cluster
    embedded.close()
    clustered.close()


@pytest.fixture
def revive(setup) -> Iterator[None]:
    """Start every node a test killed again afterwards, and wait until searches are whole again."""
    yield
    _, clustered, cluster = setup
    for shard in (0, 1):
        for role in ("primary", "mirror"):
            start_node(cluster.directory, shard, role)
    deadline = time.monotonic() + 20
    while clustered.search(SearchRequest(q="文明")).partial and time.monotonic() < deadline:
        time.sleep(0.2)


def totals(engine: Engine) -> dict[str, int]:
    return {q: engine.search(SearchRequest(q=q)).total for q in QUERIES}


def test_a_primary_killed_during_searches_loses_no_search_and_no_article(setup, revive) -> None:
    embedded, clustered, cluster = setup
    expected = totals(embedded)
    assert totals(clustered) == expected
    answers: list[tuple[str, int, bool]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            for q in QUERIES:
                try:
                    result = clustered.search(SearchRequest(q=q))
                except BaseException as error:  # noqa: BLE001 - any failure is what the test looks for
                    errors.append(error)
                    return
                answers.append((q, result.total, result.partial))

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    killed_at = len(answers)
    kill_node(cluster.directory, 0, "primary")
    time.sleep(1.5)
    kill_node(cluster.directory, 1, "primary")
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert not errors, errors[:3]
    assert len(answers) > killed_at + 2 * len(QUERIES), "the searches stopped when the primaries died"
    wrong = [(q, total, partial) for q, total, partial in answers if total != expected[q] or partial]
    assert not wrong, f"{len(wrong)} of {len(answers)} answers differ: {wrong[:5]}"


def test_a_shard_with_no_live_copy_makes_every_answer_partial(setup, revive) -> None:
    embedded, clustered, cluster = setup
    kill_node(cluster.directory, 1, "primary")
    kill_node(cluster.directory, 1, "mirror")
    for q in QUERIES:
        result = clustered.search(SearchRequest(q=q, size=100))
        on_shard_0 = [article for article in embedded.collect(SearchRequest(q=q), 10**6)[1]
                      if shard_of(article["id"], 2) == 0]
        assert result.partial and result.missing_shards == [1], q
        assert result.total == len(on_shard_0), q
        assert all(shard_of(hit.id, 2) == 0 for hit in result.hits)
    app = create_app({"INDEX": str(Path(clustered.location.root)), "BACKEND": clustered.backend.name,
                      "TESTING": True})
    try:
        client = app.test_client()
        body = client.get("/api/search?q=文明").get_json()
        assert body["partial"] is True and body["missing_shards"] == [1]
        page = client.get("/search?q=文明").get_data(as_text=True)
        assert 'id="partial"' in page and "第 1 号分片" in page
    finally:
        close_engine(app)


def test_a_cluster_that_does_not_answer_is_unavailable(setup, revive) -> None:
    _, clustered, cluster = setup
    for shard in (0, 1):
        for role in ("primary", "mirror"):
            kill_node(cluster.directory, shard, role)
    app = create_app({"INDEX": str(Path(clustered.location.root)), "BACKEND": clustered.backend.name,
                      "TESTING": True})
    try:
        client = app.test_client()
        response = client.get("/api/search?q=文明")
        assert response.status_code == 503
        assert "shard" in response.get_json()["error"]["message"]
        page = client.get("/search?q=文明")
        assert page.status_code == 503 and "Traceback" not in page.get_data(as_text=True)
    finally:
        close_engine(app)
