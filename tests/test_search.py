"""Engine over a small golden corpus: exact matching, query language, synonyms, order, documents, refresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import article_id, bulletin_id
from index.model import Article, Bulletin
from index.writer import write_bulletins
from search.engine import Engine
from search.errors import IndexUnavailable
from search.request import SearchRequest

GOLDEN = {
    "b1": Bulletin(file="b1.txt", series="首都精神文明建设情况简报", issue=5, total=1005, office="首都精神文明办",
                   date="2020-03-15", editor="李编", distribution={"报": "市委"}, articles=[
        Article("工作动态", "海淀区推进创建文明城区工作",
                "海淀区召开创城工作推进会。会议要求，各街道把创建文明城区作为重点工作，落实好经验好做法。",
                "海淀区文明办", "海淀区"),
        Article("志愿服务", "朝阳区开展学雷锋志愿服务活动",
                "三月五日，朝阳区组织志愿者走进社区，开展垃圾分类宣传。", "朝阳区文明办", "朝阳区"),
    ]),
    "b2": Bulletin(file="b2.txt", series="首都精神文明建设情况简报", issue=12, total=1012, date="2021-06-01", articles=[
        Article("工作动态", "首都文明办部署冬奥会城市运行保障",
                "为做好北京冬季奥林匹克运动会服务保障，全市开展“礼让斑马线”行动。", "首都文明办", None),
        Article("基层风采", "西城区在职党员回社区报到",
                "西城区深化双报到工作，党员干部到社区报到服务群众。", "西城区委宣传部", "西城区"),
    ]),
    "b3": Bulletin(file="b3.txt", series="首都精神文明建设情况简报", issue=30, total=1030, date="2021-11-20", articles=[
        Article("工作动态", "海淀区召开垃圾分类推进会",
                "海淀区全面推进生活垃圾分类，全院 16 个部门参加，落实接诉即办要求。\n文明城区建设取得新成效。",
                "海淀区城管委", "海淀区"),
        Article("志愿服务", "东城区志愿者服务队成立",
                "东城区成立志愿服务队，队员包括<script>alert(1)</script> & 退休干部。", "东城区文明办", "东城区"),
    ]),
    "b4": Bulletin(file="b4.txt", series="文明简报", issue=9, date="2019-12-31", articles=[
        Article(None, "丰台区文明实践中心揭牌", "丰台区新时代文明实践中心揭牌成立，好人好事层出不穷。",
                None, "丰台区"),
    ]),
}
ALL = {f"{key}.{index}" for key, bulletin in GOLDEN.items() for index in range(len(bulletin.articles))}


def doc_id(name: str) -> str:
    """The index id of golden article "b1.0"."""
    key, index = name.split(".")
    return article_id(bulletin_id(key), int(index))


NAMES = {doc_id(name): name for name in ALL}


def build_index(root: Path, bulletins: dict[str, Bulletin]) -> Path:
    """Write `bulletins` (file key → Bulletin) into a new live generation under `root`."""
    write_bulletins(root, bulletins)
    return root


@pytest.fixture(scope="module")
def golden_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("golden"), GOLDEN)


@pytest.fixture(scope="module")
def engine(golden_root: Path, on_backend) -> Engine:
    engine = Engine(golden_root, backend=on_backend(golden_root))
    yield engine
    engine.close()


def found(engine: Engine, q: str, **options) -> set[str]:
    """Names of every golden article matching `q`."""
    results = engine.search(SearchRequest(q=q, size=100, **options))
    assert results.total == len(results.hits)
    return {NAMES[hit.id] for hit in results.hits}


@pytest.mark.parametrize(("q", "expected"), [
    ("创城", {"b1.0"}),
    ("好经", {"b1.0"}),
    ("文", {"b1.0", "b2.0", "b3.0", "b4.0"}),
    ("阳", {"b1.1"}),
    ("文明城区", {"b1.0", "b3.0"}),
    ('"推进会"', {"b1.0", "b3.0"}),
    ("“冬季奥林匹克”", {"b2.0"}),
    ("「回社区报到」", {"b2.1"}),
    ("海淀区 垃圾分类", {"b3.0"}),
    ('"海淀区 垃圾分类"', {"b3.0"}),
    ('"海淀区垃圾分类"', set()),
    ("雷锋 OR 双报到", {"b1.1", "b2.1"}),
    ("雷锋 | 双报到", {"b1.1", "b2.1"}),
    ("垃圾分类 -海淀区", {"b1.1"}),
    ('垃圾分类 -"海淀"', {"b1.1"}),
    ("(雷锋 | 斑马线) 志愿", {"b1.1"}),
    ("-文明", {"b1.1", "b2.1", "b3.1"}),
    ("-文明 -志愿", {"b2.1"}),
    ("标题:垃圾分类", {"b3.0"}),
    ("title:文明", {"b1.0", "b2.0", "b4.0"}),
    ("标题：“推进”", {"b1.0", "b3.0"}),
    ("标题:(召开 | 部署) -东城", {"b2.0", "b3.0"}),
    ("垃圾分類", {"b1.1", "b3.0"}),
    ("東城區", {"b3.1"}),
    ("海淀区　垃圾分类", {"b3.0"}),
    ("（雷锋｜双报到）", {"b1.1", "b2.1"}),
    ("－海淀区 垃圾分类", {"b1.1"}),
    ("１６个", {"b3.0"}),
    ("全院16个", {"b3.0"}),
    ("SCRIPT", {"b3.1"}),
    ("不存在的词", set()),
    ("文明 好", {"b1.0", "b2.0", "b4.0"}),
    ("文明 好人", {"b4.0"}),
])
def test_exact_matching(engine: Engine, q: str, expected: set[str]) -> None:
    assert found(engine, q) == expected


@pytest.mark.parametrize(("q", "on", "off"), [
    ("创建文明城市", {"b1.0"}, set()),
    ("创文", {"b1.0"}, set()),
    ("冬季奥林匹克运动会", {"b2.0"}, {"b2.0"}),
    ("双报到", {"b2.1"}, {"b2.1"}),
    ('"创建文明城市"', set(), set()),
])
def test_synonyms_on_and_off(engine: Engine, q: str, on: set[str], off: set[str]) -> None:
    assert found(engine, q) == on
    assert found(engine, q, synonyms=False) == off


def test_scope_title(engine: Engine) -> None:
    assert found(engine, "垃圾分类", scope="title") == {"b3.0"}
    assert found(engine, "文明 -办", scope="title") == {"b1.0", "b4.0"}


def test_empty_query_browses_everything_newest_first(engine: Engine) -> None:
    results = engine.search(SearchRequest(q="  ", size=100))
    assert results.total == len(ALL)
    assert [NAMES[hit.id] for hit in results.hits] == ["b3.0", "b3.1", "b2.0", "b2.1", "b1.0", "b1.1", "b4.0"]


def test_date_orders(engine: Engine) -> None:
    newest = engine.search(SearchRequest(q="文明", sort="date")).hits
    oldest = engine.search(SearchRequest(q="文明", sort="date-asc")).hits
    assert [hit.date for hit in newest] == sorted((hit.date for hit in newest), reverse=True)
    assert [hit.id for hit in oldest] == [hit.id for hit in reversed(newest)]


def test_headline_match_ranks_first(engine: Engine) -> None:
    hits = engine.search(SearchRequest(q="垃圾分类")).hits
    assert NAMES[hits[0].id] == "b3.0"
    assert hits[0].score > hits[1].score > 0


def test_synonyms_match_as_words_not_as_any_substring(tmp_path: Path) -> None:
    """创城's synonym 创文 finds the word 创文, not the characters 创文 inside 开创文化."""
    articles = [Article("工作动态", "开创文化繁荣新局面", "奋力开创文化繁荣发展新局面。", None, None),
                Article("工作动态", "创文工作再上台阶", "全区创文工作再上台阶。", None, None)]
    root = build_index(tmp_path, {"s": Bulletin(file="s", date="2022-01-01", articles=articles)})
    with_engine = Engine(root)
    results = with_engine.search(SearchRequest(q="创城"))
    assert [hit.headline for hit in results.hits] == ["创文工作再上台阶"]
    assert "<mark>创文</mark>" in results.hits[0].headline_html
    assert [hit.headline for hit in with_engine.search(SearchRequest(q="创文")).hits] == [
        "创文工作再上台阶", "开创文化繁荣新局面"]
    with_engine.close()


def test_ties_go_to_the_newer_article(tmp_path: Path) -> None:
    same = Article("工作动态", "一样的标题", "完全相同的正文内容。", None, "海淀区")
    root = build_index(tmp_path, {key: Bulletin(file=key, date=date, articles=[same])
                                  for key, date in (("old", "2019-01-01"), ("new", "2022-01-01"), ("mid", "2020-01-01"))})
    with_engine = Engine(root)
    hits = with_engine.search(SearchRequest(q="正文")).hits
    assert [hit.date for hit in hits] == ["2022-01-01", "2020-01-01", "2019-01-01"]
    assert len({hit.score for hit in hits}) == 1
    with_engine.close()


def test_paging(engine: Engine) -> None:
    pages = [engine.search(SearchRequest(q="", page=page, size=3)) for page in (1, 2, 3, 4)]
    ids = [hit.id for result in pages for hit in result.hits]
    assert len(ids) == len(set(ids)) == len(ALL)
    assert [len(result.hits) for result in pages] == [3, 3, 1, 0]
    assert all(result.total == len(ALL) for result in pages)


def test_contract_shape(engine: Engine) -> None:
    data = engine.search(SearchRequest(q="海淀区 创城", districts=["海淀区"])).to_dict()
    assert list(data) == ["query", "total", "page", "size", "took_ms", "hits", "facets", "suggestions", "did_you_mean",
                          "corrected_from", "partial", "missing_shards"]
    hit = data["hits"][0]
    assert list(hit) == ["id", "headline", "headline_html", "date", "year", "district", "column", "source",
                         "series", "issue", "total_issue", "snippet", "score", "url"]
    assert hit["url"] == f"/article/{hit['id']}?q=%E6%B5%B7%E6%B7%80%E5%8C%BA%20%E5%88%9B%E5%9F%8E"
    assert (hit["date"], hit["year"], hit["issue"], hit["total_issue"]) == ("2020-03-15", 2020, 5, 1005)
    assert data["took_ms"] >= 0
    assert set(data["facets"]) == {"district", "theme", "year", "column"}


def test_suggestions_when_nothing_matches(engine: Engine) -> None:
    results = engine.search(SearchRequest(q="垃圾分类 斑马线", districts=["海淀区"], synonyms=False, scope="title"))
    assert results.total == 0
    assert [(suggestion.q, suggestion.total) for suggestion in results.suggestions] == [("垃圾分类", 1)]
    assert results.suggestions[0].params == {"q": "垃圾分类", "district": ["海淀区"], "synonyms": "off", "scope": "title"}
    assert all(suggestion.total > 0 for suggestion in results.suggestions)
    phrase = engine.search(SearchRequest(q='"创建文明城市"'))
    assert phrase.total == 0
    assert [(suggestion.q, suggestion.total) for suggestion in phrase.suggestions] == [("创建文明城市", 1)]
    filtered = engine.search(SearchRequest(q="双报到", years=[2020]))
    assert [(suggestion.q, suggestion.params, suggestion.total) for suggestion in filtered.suggestions] == [
        ("双报到", {"q": "双报到"}, 1)]
    assert engine.search(SearchRequest(q="垃圾分类")).suggestions == []


def test_article_document(engine: Engine) -> None:
    article = engine.article(doc_id("b1.0"), q="创城")
    assert article["headline"] == "海淀区推进创建文明城区工作"
    assert "<mark>创建文明城区</mark>" in article["headline_html"]
    assert article["body_html"].startswith("<p>海淀区召开<mark>创城</mark>工作")
    assert article["bulletin"]["editor"] == "李编" and article["bulletin"]["distribution"] == {"报": "市委"}
    assert [sibling["id"] for sibling in article["siblings"]] == [doc_id("b1.1")]
    assert engine.article("missing") is None


def test_bulletin_document(engine: Engine) -> None:
    bulletin = engine.bulletin(bulletin_id("b3"))
    assert [article["id"] for article in bulletin["articles"]] == [doc_id("b3.0"), doc_id("b3.1")]
    assert (bulletin["issue"], bulletin["total"], bulletin["date"]) == (30, 1030, "2021-11-20")
    assert bulletin["columns"] == ["工作动态", "志愿服务"]
    assert engine.bulletin("nope") is None


def test_stats_and_latest(engine: Engine) -> None:
    stats = engine.stats()
    assert (stats["articles"], stats["bulletins"]) == (7, 4)
    assert (stats["date_from"], stats["date_to"]) == ("2019-12-31", "2021-11-20")
    assert stats["districts"]["海淀区"] == 2 and stats["districts"]["市级"] == 1
    assert stats["generation"].startswith("gen-") and stats["dictionary_hash"]
    latest = engine.latest_bulletins(2)
    assert [item["date"] for item in latest] == ["2021-11-20", "2021-06-01"]
    assert latest[0]["articles"] == 2


def test_export_lists_every_match(engine: Engine) -> None:
    rows = list(engine.export(SearchRequest(q="文明", sort="date", size=1)))
    assert {NAMES[row["id"]] for row in rows} == found(engine, "文明")
    assert "snippet" not in rows[0] and rows[0]["headline"]


def test_refresh_sees_a_new_build_and_missing_index_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="bulletins build"):
        Engine(tmp_path / "none")
    root = build_index(tmp_path / "ix", {"b4": GOLDEN["b4"]})
    engine = Engine(root)
    assert engine.search(SearchRequest()).total == 1
    build_index(root, GOLDEN)
    assert engine.search(SearchRequest()).total == len(ALL)
    engine.close()


def test_threads_search_while_a_rebuild_is_activated(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    root = build_index(tmp_path, {"b4": GOLDEN["b4"]})
    engine = Engine(root)

    def work(index: int) -> int:
        if index == 10:
            build_index(root, GOLDEN)
        return engine.search(SearchRequest(q="文明")).total

    with ThreadPoolExecutor(max_workers=4) as pool:
        totals = list(pool.map(work, range(40)))
    assert set(totals) <= {1, 4}
    assert engine.search(SearchRequest(q="文明")).total == 4
    engine.close()
