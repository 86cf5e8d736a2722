"""District × year view: counts equal the facet counts and the filtered totals; API shape; HTML table and links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_webui import links_of, page, sample_index, total_of
from workflow_corpus import build_workflow_index

from index.model import DISTRICTS
from search.engine import Engine
from search.request import SearchRequest
from webui import create_app
from webui.engine import close_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Iterator[Engine]:
    root = build_workflow_index(tmp_path_factory.mktemp("workflow"))
    engine = Engine(root, backend=on_backend(root))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(sample_index(tmp_path_factory))
    yield engine
    engine.close()


def facet(results, name: str) -> dict:
    return {item["value"]: item["count"] for item in results.facets[name]}


def test_rows_columns_and_cells(engine: Engine) -> None:
    matrix = engine.search(SearchRequest(matrix=True)).matrix
    assert matrix["rows"] == [*DISTRICTS, "市级", "经开区"]
    assert matrix["cols"] == [2020, 2021, 0]
    cells = dict(zip(matrix["rows"], matrix["counts"]))
    assert cells["海淀区"] == [1, 2, 0] and cells["丰台区"] == [0, 0, 1] and cells["市级"] == [0, 1, 0]
    assert cells["延庆区"] == [0, 0, 0]
    assert engine.search(SearchRequest(q="完全不存在的词", matrix=True)).matrix == {
        "rows": [*DISTRICTS, "市级"], "cols": [], "counts": [[] for _ in range(17)]}
    assert engine.search(SearchRequest()).matrix is None


@pytest.mark.parametrize("q", ["", "垃圾分类", "志愿", "海淀区 OR 朝阳区", "-冬奥"])
def test_row_and_column_totals_equal_the_facet_counts(sample_engine: Engine, q: str) -> None:
    results = sample_engine.search(SearchRequest(q=q, matrix=True))
    matrix = results.matrix
    rows = {row: sum(counts) for row, counts in zip(matrix["rows"], matrix["counts"]) if sum(counts)}
    cols = {col: sum(counts[index] for counts in matrix["counts"]) for index, col in enumerate(matrix["cols"])}
    assert rows == facet(results, "district")
    assert {col: count for col, count in cols.items() if count} == facet(results, "year")
    assert sum(rows.values()) == results.total


def test_every_cell_is_the_total_of_its_district_and_year(sample_engine: Engine) -> None:
    matrix = sample_engine.search(SearchRequest(q="志愿", matrix=True)).matrix
    checked = 0
    for row, counts in zip(matrix["rows"], matrix["counts"]):
        for col, count in zip(matrix["cols"], counts):
            if col:
                assert sample_engine.count(SearchRequest(q="志愿", districts=[row], years=[col])) == count
                checked += count > 0
    assert checked > 10


def test_with_district_and_year_filters_the_sums_over_the_selection_equal_the_facets(sample_engine: Engine) -> None:
    everything = sample_engine.search(SearchRequest(q="志愿", matrix=True)).matrix
    districts = everything["rows"][:2]
    years = [col for col in everything["cols"] if col][:2]
    results = sample_engine.search(SearchRequest(q="志愿", districts=districts, years=years, matrix=True))
    assert results.matrix == everything
    rows = dict(zip(results.matrix["rows"], results.matrix["counts"]))
    picked = [results.matrix["cols"].index(year) for year in years]
    for district, count in facet(results, "district").items():
        assert sum(rows[district][index] for index in picked) == count
    for year, count in facet(results, "year").items():
        index = results.matrix["cols"].index(year)
        assert sum(rows[district][index] for district in districts) == count
    assert results.total == sum(rows[district][index] for district in districts for index in picked)


def test_other_filters_apply_to_the_matrix(engine: Engine) -> None:
    matrix = engine.search(SearchRequest(themes=["冬奥会"], matrix=True)).matrix
    assert sum(map(sum, matrix["counts"])) == engine.count(SearchRequest(themes=["冬奥会"]))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, on_backend):
    root = sample_index(tmp_path_factory)
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True})
    yield application.test_client()
    close_engine(application)


def test_api_matrix_on_request_only(client) -> None:
    body = client.get("/api/search?q=志愿&matrix=1").get_json()
    assert set(body["matrix"]) == {"rows", "cols", "counts"}
    assert len(body["matrix"]["counts"]) == len(body["matrix"]["rows"])
    assert all(len(row) == len(body["matrix"]["cols"]) for row in body["matrix"]["counts"])
    assert "matrix" not in client.get("/api/search?q=志愿").get_json()
    assert client.get("/api/search?matrix=maybe").status_code == 400


def test_results_page_matrix_cells_link_to_their_district_and_year(client) -> None:
    plain = page(client, "/search?q=志愿")
    toggle = next(href for href, label in links_of(plain).links if label == "区 × 年份表")
    assert "matrix=1" in toggle
    text = page(client, toggle)
    assert '<table class="matrix">' in text and 'class="matrix-scroll"' in text
    cells = [(href, label) for href, label in links_of(text).links if "district=" in href and "year=" in href]
    assert len(cells) > 10
    for href, label in cells[:8]:
        assert total_of(page(client, href)) == int(label)
    assert "收起区 × 年份表" in page(client, cells[0][0])
