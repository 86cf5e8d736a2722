"""The two backends agree on the whole bench corpus: the same totals, facet counts and matrices for several
hundred queries (substrings of 1-6 characters, two-term queries, phrases, exclusions, OR, headline scope,
filters), and both rank known items; the cluster is 2 real searchd shards behind a distributed index."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.analysis import word_terms
from index.normalize import normalize
from search.engine import Engine
from search.request import SearchRequest
from search.sphinxql.publish import publish
from search.themes import Themes

from conftest import cjk_runs

pytestmark = pytest.mark.bench

SEED = 20261206


@pytest.fixture(scope="module")
def engines(bench_dir: Path, sphinx_cluster, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Engine, Engine, list[dict]]]:
    """(embedded engine, cluster engine, every article's stored record) over the whole bench corpus."""
    from index.writer import build

    root = tmp_path_factory.mktemp("bench-full")
    build([bench_dir / "bulletins"], root, full=True, progress=False, log=lambda message: None)
    cluster = sphinx_cluster(shards=2, mirrors=0)
    report = publish(root, cluster.backend, Themes())
    embedded, clustered = Engine(root), Engine(root, backend=cluster.backend)
    articles = embedded.collect(SearchRequest(sort="date"), 10**6)[1]
    assert report.documents == len(articles) > 16_000
    yield embedded, clustered, articles
    embedded.close()
    clustered.close()




def _substring(rng: random.Random, articles: list[dict], low: int, high: int) -> str:
    while True:
        article = rng.choice(articles)
        runs = [run for run in cjk_runs(normalize(article[rng.choice(["headline", "body"])])) if len(run) >= low]
        if runs:
            run = rng.choice(runs)
            size = rng.randint(low, min(high, len(run)))
            start = rng.randrange(len(run) - size + 1)
            return run[start:start + size]


def parity_requests(articles: list[dict], seed: int = SEED) -> list[SearchRequest]:
    """Several hundred requests of every kind the query language and the filters offer."""
    rng = random.Random(seed)
    districts = sorted({article["district"] for article in articles})
    years = sorted({int(article["date"][:4]) for article in articles if article["date"]})
    columns = sorted({article["column"] for article in articles})
    requests = [SearchRequest(q=_substring(rng, articles, size, size))
                for size in (1, 2, 3, 4, 5, 6) for _ in range(30)]
    requests += [SearchRequest(q=f"{_substring(rng, articles, 2, 3)} {_substring(rng, articles, 2, 3)}")
                 for _ in range(50)]
    requests += [SearchRequest(q=f'"{_substring(rng, articles, 3, 8)}"') for _ in range(30)]
    requests += [SearchRequest(q=f"{_substring(rng, articles, 1, 2)} -{_substring(rng, articles, 1, 2)}")
                 for _ in range(20)]
    requests += [SearchRequest(q=f"{_substring(rng, articles, 2, 4)} OR {_substring(rng, articles, 2, 4)}")
                 for _ in range(20)]
    requests += [SearchRequest(q=f"-{_substring(rng, articles, 1, 2)}") for _ in range(5)]
    requests += [SearchRequest(q=_substring(rng, articles, 1, 4), scope="title") for _ in range(20)]
    requests += [SearchRequest(q=f"标题:{_substring(rng, articles, 2, 3)} {_substring(rng, articles, 1, 3)}")
                 for _ in range(10)]
    for _ in range(60):
        filters = rng.choice([{"districts": [rng.choice(districts)]}, {"years": rng.sample(years, 2)},
                              {"columns": [rng.choice(columns)]},
                              {"districts": rng.sample(districts, 2), "years": [rng.choice(years)]},
                              {"years": [rng.choice(years)], "months": [rng.randint(1, 12)]}])
        requests.append(SearchRequest(q=_substring(rng, articles, 1, 3), matrix=rng.random() < 0.3, **filters))
    themes = Themes().table().names
    requests += [SearchRequest(q=_substring(rng, articles, 1, 2), themes=rng.sample(themes, rng.randint(1, 2)))
                 for _ in range(20)]
    requests += [SearchRequest(matrix=True), SearchRequest(districts=["朝阳区"], matrix=True),
                 SearchRequest(themes=[themes[0]], matrix=True)]
    return requests


def test_totals_facets_and_matrices_are_identical(engines) -> None:
    embedded, clustered, articles = engines
    requests = parity_requests(articles)
    assert len(requests) >= 400
    differences = []
    for request in requests:
        left, right = embedded.search(request).to_dict(), clustered.search(request).to_dict()
        if not right["partial"] and (left["total"], left["facets"], left.get("matrix")) == \
                (right["total"], right["facets"], right.get("matrix")):
            continue
        differences.append((request.q, request.to_params(), left["total"], right["total"]))
    assert not differences, f"{len(differences)} of {len(requests)} differ, e.g. {differences[:5]}"


@pytest.mark.parametrize("sort", ["date", "date-asc"])
def test_date_orders_are_identical(engines, sort: str) -> None:
    embedded, clustered, articles = engines
    for request in parity_requests(articles)[::20]:
        request = SearchRequest(q=request.q, sort=sort, size=50)
        assert [hit.id for hit in embedded.search(request).hits] == [hit.id for hit in clustered.search(request).hits]


def known_item_rate(engine: Engine, articles: list[dict], count: int = 200, seed: int = SEED) -> tuple[float, int]:
    """Top-3 rate of two-word headline queries whose words occur together in at most three headlines."""
    rng = random.Random(seed)
    headlines = [normalize(article["headline"]) for article in articles]
    hits = tried = 0
    while tried < count:
        article = rng.choice(articles)
        words = sorted({word for word in word_terms(article["headline"]) if len(word) >= 2})
        if len(words) < 2:
            continue
        pair = rng.sample(words, 2)
        if sum(all(normalize(word) in headline for word in pair) for headline in headlines) > 3:
            continue
        tried += 1
        top = engine.search(SearchRequest(q=" ".join(pair), size=3)).hits
        hits += any(hit.id == article["id"] for hit in top)
    return hits / tried, tried


def test_known_items_rank_in_the_top_three_on_both_backends(engines) -> None:
    embedded, clustered, articles = engines
    for engine in (embedded, clustered):
        rate, tried = known_item_rate(engine, articles)
        assert tried == 200 and rate >= 0.95, (engine.backend.name, rate)
