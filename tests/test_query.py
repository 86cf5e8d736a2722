"""Query language (never raises, every edge case pinned), request parameters and synonym files."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from search.errors import QueryError
from search.query import MAX_QUERY_CHARS, highlight_terms, parse_query, unparse
from search.request import SearchRequest
from search.synonyms import Synonyms
from test_search import GOLDEN, build_index

EDGE_CASES = [
    ("", ""),
    ("   \u3000 ", ""),
    ("创城", "创城"),
    ("创城 文明", "创城 文明"),
    ("创城　文明", "创城 文明"),
    ('"创建 文明"', '"创建 文明"'),
    ("“创建文明”", '"创建文明"'),
    ("「创建文明」", '"创建文明"'),
    ("『创建』", '"创建"'),
    ('"未闭合的引号', '"未闭合的引号"'),
    ('创城 "', "创城"),
    ('""', ""),
    ("-创城", "-创城"),
    ("－创城", "-创城"),
    ("--创城", "创城"),
    ("-", ""),
    ("- 创城", "创城"),
    ("创城 -", "创城"),
    ("OR", ""),
    ("AND", ""),
    ("OR OR 创城 OR", "创城"),
    ("创城 AND 文明", "创城 文明"),
    ("创城 OR 文明", "创城 OR 文明"),
    ("创城 | 文明", "创城 OR 文明"),
    ("创城 ｜ 文明", "创城 OR 文明"),
    ("创城 or 文明", "创城 or 文明"),
    ("(创城 OR 文明) 海淀", "(创城 OR 文明) 海淀"),
    ("（创城 OR 文明）海淀", "(创城 OR 文明) 海淀"),
    ("((创城", "创城"),
    ("创城))", "创城"),
    (")(", ""),
    ("()", ""),
    ("-(创城 文明)", "-(创城 文明)"),
    ("标题:创城", "标题:创城"),
    ("标题：创城", "标题:创城"),
    ("TITLE:创城", "标题:创城"),
    ('标题:"创建 文明"', '标题:"创建 文明"'),
    ("标题:(创城 | 文明)", "标题:创城 OR 标题:文明"),
    ("标题:", ""),
    ("*", ""),
    ("创*", "创*"),
    ("? * ?", ""),
    ("，。！", ""),
    ("创城\x00\x07文明", "创城 文明"),
    ("创城\u200b文明", "创城 文明"),
    ("(" * 300 + "创城", "创城"),
    ("创城 " * 2000, " ".join(("创城 " * 2000)[:MAX_QUERY_CHARS].split())),
    ("x" * 10000, "x" * MAX_QUERY_CHARS),
]


@pytest.mark.parametrize(("text", "canonical"), EDGE_CASES)
def test_edge_cases_parse_to_a_safe_query(text: str, canonical: str) -> None:
    node = parse_query(text)
    assert unparse(node) == canonical
    assert unparse(parse_query(canonical)) == canonical
    highlight_terms(node, Synonyms())


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, on_backend):
    from search.engine import Engine

    root = build_index(tmp_path_factory.mktemp("golden"), GOLDEN)
    engine = Engine(root, backend=on_backend(root))
    yield engine
    engine.close()


@pytest.mark.parametrize("text", [text for text, _ in EDGE_CASES])
def test_edge_cases_never_raise_in_the_engine(engine, text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        with pytest.raises(QueryError, match="query too long"):
            SearchRequest(q=text)
        return
    results = engine.search(SearchRequest(q=text))
    if parse_query(text) is None:
        assert results.total == 7
    assert results.to_dict()["total"] == results.total


def test_highlight_terms_skip_exclusions_and_keep_title_scope() -> None:
    terms = highlight_terms(parse_query('创城 -海淀 标题:"文明"'), None)
    assert [(term.text, term.title) for term in terms] == [("创城", False), ("文明", True)]
    expanded = highlight_terms(parse_query("创城"), Synonyms())
    assert [term.text for term in expanded][:2] == ["创城", "创建文明城市"]
    assert highlight_terms(parse_query('"创城"'), Synonyms())[0].groups == (("创", "城"),)


@pytest.mark.parametrize(("params", "expected"), [
    ({}, SearchRequest()),
    ({"q": "创城", "district": ["海淀区", "朝阳区"], "year": ["2020", "2021"], "month": "3"},
     SearchRequest(q="创城", districts=["海淀区", "朝阳区"], years=[2020, 2021], months=[3])),
    ({"district": "海淀区,朝阳区"}, SearchRequest(districts=["海淀区", "朝阳区"])),
    ({"from": "2020-01-01", "to": "2020/12/31"}, SearchRequest(date_from=date(2020, 1, 1), date_to=date(2020, 12, 31))),
    ({"from": "2020-1-5"}, SearchRequest(date_from=date(2020, 1, 5))),
    ({"size": "0"}, SearchRequest(size=1)),
    ({"size": "1000"}, SearchRequest(size=100)),
    ({"page": "3", "sort": "date-asc", "synonyms": "off", "scope": "title"},
     SearchRequest(page=3, sort="date-asc", synonyms=False, scope="title")),
    ({"column": ["工作动态"], "source": "海淀区文明办", "series": "文明简报"},
     SearchRequest(columns=["工作动态"], sources=["海淀区文明办"], series=["文明简报"])),
])
def test_from_params(params: dict, expected: SearchRequest) -> None:
    request = SearchRequest.from_params(params)
    assert request == expected
    assert SearchRequest.from_params(request.to_params()) == request


@pytest.mark.parametrize(("params", "message"), [
    ({"page": "abc"}, "page must be a whole number"),
    ({"page": "0"}, "page must be at least 1"),
    ({"size": "many"}, "size must be a whole number"),
    ({"year": "二〇二〇"}, "year must be a whole number"),
    ({"month": "13"}, "month must be at most 12"),
    ({"from": "2020-02-30"}, "from must be a date"),
    ({"to": "yesterday"}, "to must be a date"),
    ({"from": "2021-01-01", "to": "2020-01-01"}, "is after to"),
    ({"sort": "random"}, "invalid sort"),
    ({"scope": "body"}, "invalid scope"),
    ({"synonyms": "maybe"}, "synonyms must be on or off"),
])
def test_bad_params_raise_query_error(params: dict, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        SearchRequest.from_params(params)


def test_to_params_leaves_out_defaults() -> None:
    assert SearchRequest(q="创城").to_params() == {"q": "创城"}
    assert SearchRequest(years=[2020], page=2, size=50).to_params() == {"year": ["2020"], "page": "2", "size": "50"}


def test_synonym_file_from_environment_reloads_on_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "synonyms.txt"
    path.write_text("# comment\n甲乙, 丙丁\n", encoding="utf-8")
    monkeypatch.setenv("BULLETINS_SYNONYMS", str(path))
    synonyms = Synonyms()
    assert synonyms.expand("甲乙") == ["甲乙", "丙丁"]
    assert synonyms.expand("創城") == ["創城"]
    path.write_text("甲乙 戊己\n", encoding="utf-8")
    os.utime(path, (1, 1))
    assert synonyms.expand("甲乙") == ["甲乙", "戊己"]
    assert synonyms.expand("丙丁") == ["丙丁"]


def test_bundled_synonyms_find_traditional_terms() -> None:
    assert "创建文明城市" in Synonyms().expand("創城")
