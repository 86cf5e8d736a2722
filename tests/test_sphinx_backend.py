"""What only the SphinxQL backend has to get right, on real clusters: facets with more values than its
first grouping has room for, many threads at once over its shared connections and threads, and clear
answers for a cluster with nothing or something else published."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import search.sphinxql.backend as sphinx_backend
from search.engine import Engine
from search.errors import IndexUnavailable
from search.request import SearchRequest
from search.sphinxql.connection import connect, parse_address
from search.sphinxql.publish import publish
from search.sphinxql.schema import META_INDEX, ROW_FORMAT, STATE_ROW
from search.themes import Themes
from test_webui import sample_index

REQUESTS = [SearchRequest(q=q, **filters) for q in ("", "文明", "志愿 服务", "的", "-志愿")
            for filters in ({}, {"districts": ["朝阳区", "海淀区"]}, {"years": [2020, 2021]},
                            {"themes": ["志愿服务"]}, {"matrix": True})]


@pytest.fixture(scope="module")
def engines(sphinx_cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Engine]]:
    root = sample_index(tmp_path_factory)
    cluster = sphinx_cluster(shards=2, mirrors=0)
    publish(root, cluster.backend, Themes())
    embedded, clustered = Engine(root), Engine(root, backend=cluster.backend)
    yield embedded, clustered
    embedded.close()
    clustered.close()


def summary(engine: Engine, request: SearchRequest) -> tuple:
    result = engine.search(request).to_dict()
    return result["total"], result["facets"], result.get("matrix")


@pytest.mark.parametrize(("room", "growth"), [(1, 2), (2, 16), (5, 3), (256, 16)])
def test_facets_with_more_values_than_the_first_grouping_holds(engines, room: int, growth: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    embedded, clustered = engines
    monkeypatch.setattr(sphinx_backend, "FEW_GROUPS", room)
    monkeypatch.setattr(sphinx_backend, "GROWTH", growth)
    for request in REQUESTS:
        assert summary(clustered, request) == summary(embedded, request), request


def test_many_threads_share_the_backend(engines) -> None:
    embedded, clustered = engines
    expected = [summary(embedded, request) for request in REQUESTS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda request: summary(clustered, request), REQUESTS * 8, timeout=120))
    assert answers == expected * 8


def test_nothing_published_and_another_row_format_are_unavailable(sphinx_cluster, engines) -> None:
    _, clustered = engines
    empty = sphinx_cluster(shards=1, mirrors=0)
    with pytest.raises(IndexUnavailable, match="holds no published index: run `bulletins build SRC --backend"):
        Engine(backend=empty.backend).search(SearchRequest(q="文明"))
    address = parse_address(clustered.backend.name)
    connection = connect(address)
    cursor = connection.cursor()
    cursor.execute(f"SELECT value FROM {META_INDEX} WHERE id = {STATE_ROW}")
    state = json.loads(cursor.fetchone()[0])
    try:
        old = dict(state, row_format=1)
        cursor.execute(f"REPLACE INTO {META_INDEX} (id, kind, generation, part, value) VALUES "
                       f"({STATE_ROW}, 'state', {state['generation']}, 0, %s)", (json.dumps(old),))
        with pytest.raises(IndexUnavailable, match=f"row format 1, this version reads format {ROW_FORMAT}"):
            Engine(backend=clustered.backend.name).search(SearchRequest(q="文明"))
    finally:
        cursor.execute(f"REPLACE INTO {META_INDEX} (id, kind, generation, part, value) VALUES "
                       f"({STATE_ROW}, 'state', {state['generation']}, 0, %s)", (json.dumps(state),))
        connection.close()


def test_a_process_that_ends_without_closing_leaves_no_vocabulary_copy(sphinx_cluster, engines,
                                                                        tmp_path: Path) -> None:
    _, clustered = engines
    script = ("import os, sys, tempfile\n"
              "from search.sphinxql.backend import SphinxBackend\n"
              "from search.themes import Themes\n"
              "backend = SphinxBackend(sys.argv[1], Themes())\n"
              "with backend.view() as view:\n"
              "    assert view.vocabulary() is not None\n"
              "assert os.listdir(tempfile.gettempdir())\n")
    done = subprocess.run([sys.executable, "-c", script, clustered.backend.name], cwd=Path(__file__).parents[1],
                          env={**os.environ, "TMPDIR": str(tmp_path)}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []
