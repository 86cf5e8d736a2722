"""在结果中检索: `q=A&within=B` is exactly the search `A B`; parsing, chips, the refine form and the API."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from test_webui import links_of, page, sample_index, total_of

from search.engine import Engine
from search.query import All, Any_, Leaf, Not, parse_all, parse_query
from search.request import SearchRequest
from webui import create_app
from webui.engine import close_engine


@pytest.mark.parametrize(("texts", "expected"), [
    (["志愿", "社区"], parse_query("志愿 社区")),
    (["志愿 服务", "社区"], parse_query("志愿 服务 社区")),
    (["街道 OR 乡镇", "志愿"], All((Any_((Leaf("街道"), Leaf("乡镇"))), Leaf("志愿")))),
    (["志愿", "-学校"], All((Leaf("志愿"), Not(Leaf("学校"))))),
    (["", "志愿"], Leaf("志愿")),
    (["志愿", "   "], Leaf("志愿")),
    (["", ""], None),
    (['"志愿服务"', "标题:社区"], All((Leaf("志愿服务", phrase=True), Leaf("社区", title=True)))),
])
def test_parse_all(texts: list[str], expected) -> None:
    assert parse_all(texts) == expected


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Iterator[Engine]:
    root = sample_index(tmp_path_factory)
    engine = Engine(root, backend=on_backend(root))
    yield engine
    engine.close()


@pytest.mark.parametrize(("q", "within", "same_as"), [
    ("志愿", ["社区"], "志愿 社区"),
    ("志愿", ["社区", "活动"], "志愿 社区 活动"),
    ("街道 OR 乡镇", ["志愿"], "(街道 OR 乡镇) 志愿"),
    ("志愿", ["-学校"], "志愿 -学校"),
    ("志愿", ['"文明实践"'], '志愿 "文明实践"'),
    ("", ["志愿"], "志愿"),
])
@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_within_returns_exactly_the_articles_of_the_combined_query(engine: Engine, q: str, within: list[str],
                                                                   same_as: str, sort: str) -> None:
    narrowed = engine.search(SearchRequest(q=q, within=within, sort=sort, size=100))
    combined = engine.search(SearchRequest(q=same_as, sort=sort, size=100))
    assert narrowed.total == combined.total > 0
    assert [hit.id for hit in narrowed.hits] == [hit.id for hit in combined.hits]
    assert narrowed.facets == combined.facets
    assert [hit.snippet for hit in narrowed.hits] == [hit.snippet for hit in combined.hits]
    assert narrowed.query["parsed"] == combined.query["parsed"]


def test_within_narrows(engine: Engine) -> None:
    broad = engine.count(SearchRequest(q="志愿"))
    assert 0 < engine.count(SearchRequest(q="志愿", within=["社区"])) < broad


def test_suggestions_drop_within_when_they_change_the_query(engine: Engine) -> None:
    results = engine.search(SearchRequest(q="志愿", within=["完全不存在的词语组合"]))
    assert results.total == 0
    dropped = [suggestion for suggestion in results.suggestions if suggestion.q == "志愿"]
    assert dropped and "within" not in dropped[0].params


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, on_backend):
    root = sample_index(tmp_path_factory)
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True})
    yield application.test_client()
    close_engine(application)


def test_api_within_equals_the_combined_query(client) -> None:
    narrowed = client.get("/api/search?q=志愿&within=社区&size=50").get_json()
    combined = client.get("/api/search", query_string={"q": "志愿 社区", "size": 50}).get_json()
    assert narrowed["total"] == combined["total"] > 0
    assert [hit["id"] for hit in narrowed["hits"]] == [hit["id"] for hit in combined["hits"]]
    assert narrowed["query"]["params"]["within"] == ["社区"]
    repeated = client.get("/api/search?q=志愿&within=社区&within=活动").get_json()
    assert repeated["total"] == client.get("/api/search", query_string={"q": "志愿 社区 活动"}).get_json()["total"]
    assert client.get("/api/search?q=志愿&within=a,b").get_json()["query"]["params"]["within"] == ["a,b"]


def test_results_page_shows_each_text_as_a_chip(client) -> None:
    text = page(client, "/search?q=志愿&within=社区&within=活动&district=东城区")
    chips = {label: href for href, label in links_of(text).links if "（移除）" in label}
    assert set(chips) == {"检索：志愿 ×（移除）", "在结果中：社区 ×（移除）", "在结果中：活动 ×（移除）",
                          "区：东城区 ×（移除）"}
    assert parse_qs(urlsplit(chips["在结果中：社区 ×（移除）"]).query) == {
        "q": ["志愿"], "within": ["活动"], "district": ["东城区"]}
    assert parse_qs(urlsplit(chips["检索：志愿 ×（移除）"]).query) == {
        "q": ["社区"], "within": ["活动"], "district": ["东城区"]}
    assert "“志愿”中再检索“社区”中再检索“活动”" in text
    assert total_of(text) == total_of(page(client, "/search?q=志愿 社区 活动&district=东城区"))


def test_result_links_highlight_every_text(client) -> None:
    text = page(client, "/search?q=志愿&within=社区")
    article = next(href for href, _ in links_of(text).links if href.startswith("/article/"))
    assert "<mark>志愿</mark>" in page(client, article) and "<mark>社区</mark>" in page(client, article)


def test_refine_form_redirects_to_the_search_it_means(client) -> None:
    text = page(client, "/search?q=志愿&district=东城区")
    assert 'name="refine"' in text and "在结果中检索" in text and 'name="base"' in text
    base = "q=%E5%BF%97%E6%84%BF&district=%E4%B8%9C%E5%9F%8E%E5%8C%BA&page=2"
    ticked = client.get(f"/search?q=社区&refine=1&base={base.replace('&', '%26')}")
    assert ticked.status_code == 302
    assert parse_qs(urlsplit(ticked.headers["Location"]).query) == {
        "q": ["志愿"], "within": ["社区"], "district": ["东城区"]}
    unticked = client.get(f"/search?q=社区&base={base.replace('&', '%26')}")
    assert unticked.status_code == 302 and parse_qs(urlsplit(unticked.headers["Location"]).query) == {"q": ["社区"]}
    again = client.get(f"/search?q=志愿&refine=1&base={base.replace('&', '%26')}")
    assert parse_qs(urlsplit(again.headers["Location"]).query) == {"q": ["志愿"], "district": ["东城区"]}
    browse = client.get("/search?q=社区&refine=1&base=district%3D%E4%B8%9C%E5%9F%8E%E5%8C%BA")
    assert parse_qs(urlsplit(browse.headers["Location"]).query) == {"district": ["东城区"], "q": ["社区"]}


def test_cli_search_takes_within_and_theme(tmp_path_factory: pytest.TempPathFactory) -> None:
    import json

    from click.testing import CliRunner

    from webui.cli import main

    index = str(sample_index(tmp_path_factory))
    narrowed = CliRunner().invoke(main, ["search", "志愿", "--within", "社区", "--index", index, "--json"])
    combined = CliRunner().invoke(main, ["search", "志愿", "社区", "--index", index, "--json"])
    assert narrowed.exit_code == combined.exit_code == 0, narrowed.output
    assert json.loads(narrowed.output)["total"] == json.loads(combined.output)["total"] > 0
    themed = CliRunner().invoke(main, ["search", "--theme", "志愿服务", "--theme", "垃圾分类", "--index", index, "--json"])
    body = json.loads(themed.output)
    assert body["total"] > 0 and body["query"]["params"]["theme"] == ["志愿服务", "垃圾分类"]
