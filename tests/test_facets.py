"""Facet counts: exact, consistent with totals, each facet ignoring only its own filter."""

from __future__ import annotations

from datetime import date

import pytest

from index.schema import CITY_LEVEL, NO_COLUMN
from search.engine import Engine
from search.facets import FacetColumns, count_facets
from search.request import SearchRequest
from test_search import GOLDEN, build_index


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Engine:
    root = build_index(tmp_path_factory.mktemp("golden"), GOLDEN)
    engine = Engine(root, backend=on_backend(root))
    yield engine
    engine.close()


def counts(facet: list[dict]) -> dict:
    return {item["value"]: item["count"] for item in facet}


@pytest.mark.parametrize("q", ["", "文明", "海淀区", "-文明", "志愿 OR 报到", "不存在"])
def test_facets_add_up_to_the_total(engine: Engine, q: str) -> None:
    results = engine.search(SearchRequest(q=q))
    for name in ("district", "year", "column"):
        assert sum(item["count"] for item in results.facets[name]) == results.total


@pytest.mark.parametrize("q", ["", "文明", "志愿 OR 报到"])
@pytest.mark.parametrize(("facet", "field"), [("district", "districts"), ("year", "years"), ("column", "columns")])
def test_each_facet_value_count_equals_the_filtered_total(engine: Engine, q: str, facet: str, field: str) -> None:
    results = engine.search(SearchRequest(q=q))
    for item in results.facets[facet]:
        filtered = engine.search(SearchRequest(q=q, **{field: [item["value"]]}))
        assert filtered.total == item["count"] == len(engine.search(SearchRequest(q=q, size=100, **{field: [item["value"]]})).hits)


def test_a_facet_ignores_its_own_filter_but_not_the_others(engine: Engine) -> None:
    everything = engine.search(SearchRequest())
    haidian = engine.search(SearchRequest(districts=["海淀区"]))
    assert haidian.total == 2
    assert counts(haidian.facets["district"]) == counts(everything.facets["district"])
    assert counts(haidian.facets["year"]) == {2020: 1, 2021: 1}
    assert [item["value"] for item in haidian.facets["district"] if item["selected"]] == ["海淀区"]
    both = engine.search(SearchRequest(districts=["海淀区", "朝阳区"], years=[2020]))
    assert both.total == 2
    assert counts(both.facets["district"]) == {"海淀区": 1, "朝阳区": 1}
    assert counts(both.facets["year"]) == {2020: 2, 2021: 1}


def test_values_labels_and_order(engine: Engine) -> None:
    facets = engine.search(SearchRequest()).facets
    assert facets["district"][0] == {"value": "海淀区", "label": "海淀区", "count": 2, "selected": False}
    assert CITY_LEVEL in counts(facets["district"]) and NO_COLUMN in counts(facets["column"])
    assert [item["label"] for item in facets["year"]] == ["2021年", "2020年", "2019年"]
    assert [item["value"] for item in facets["column"]] == ["工作动态", "志愿服务", "基层风采", NO_COLUMN]
    assert "month" not in facets


def test_month_facet_with_one_year(engine: Engine) -> None:
    facets = engine.search(SearchRequest(years=[2021])).facets
    assert facets["month"] == [
        {"value": 6, "label": "6月", "count": 2, "selected": False},
        {"value": 11, "label": "11月", "count": 2, "selected": False}]
    chosen = engine.search(SearchRequest(years=[2021], months=[6]))
    assert chosen.total == 2 and counts(chosen.facets["month"]) == {6: 2, 11: 2}
    assert counts(chosen.facets["year"]) == {2021: 2}


def test_selected_value_without_matches_stays_listed(engine: Engine) -> None:
    results = engine.search(SearchRequest(q="斑马线", districts=["延庆区"]))
    assert results.total == 0
    assert {"value": "延庆区", "label": "延庆区", "count": 0, "selected": True} in results.facets["district"]


@pytest.mark.parametrize(("request_", "total"), [
    (SearchRequest(date_from=date(2021, 1, 1)), 4),
    (SearchRequest(date_to=date(2020, 3, 15)), 3),
    (SearchRequest(date_from=date(2020, 3, 16), date_to=date(2021, 6, 1)), 2),
    (SearchRequest(series=["文明简报"]), 1),
    (SearchRequest(sources=["首都文明办", "西城区委宣传部"]), 2),
    (SearchRequest(districts=[CITY_LEVEL]), 1),
    (SearchRequest(q="文明", years=[2019, 2021]), 3),
])
def test_non_facet_filters(engine: Engine, request_: SearchRequest, total: int) -> None:
    results = engine.search(request_)
    assert results.total == total == len(engine.search(request_).hits)
    assert sum(item["count"] for item in results.facets["year"] if item["value"] in (request_.years or [item["value"]])) == total


def test_count_facets_on_plain_columns() -> None:
    columns = FacetColumns(district=["甲", "乙", "甲", "丙"], year=[2020, 2020, 2021, 2021], month=[1, 2, 3, 4],
                           column=["a", "a", "b", "b"], source=["", "", "", ""], series=["s"] * 4,
                           date_num=[20200101, 20200201, 20210301, 20210401], ordinal=[0, 1, 0, 1])
    result = count_facets(columns, [0, 1, 2], SearchRequest(districts=["甲"], columns=["a"]))
    assert result.total == 1
    assert dict(result.counters["district"]) == {"甲": 1, "乙": 1}
    assert dict(result.counters["column"]) == {"a": 1, "b": 1}
    assert dict(result.counters["year"]) == {2020: 1}
