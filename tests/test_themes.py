"""Theme facet: the table (bundled and edited), membership by exact substring, counts, filters, reloading."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_webui import sample_index
from workflow_corpus import THEMES_CSV, WORKFLOW, build_workflow_index, write_themes

from index.analysis import unit_groups
from index.normalize import is_cjk, normalize
from search.engine import Engine
from search.request import SearchRequest
from search.themes import BUNDLED, Themes, parse_table
from webui import create_app
from webui.cli import main
from webui.engine import close_engine

ARTICLES = [(f"{key}.{number}", article) for key, bulletin in WORKFLOW.items()
            for number, article in enumerate(bulletin.articles)]


def scan(table_text: str) -> dict[str, int]:
    """Theme counts of WORKFLOW by a plain substring scan over normalised headline + body."""
    table = parse_table(table_text.encode("utf-8"))
    counts = {}
    for theme in table.themes:
        found = sum(any(term in normalize(article.headline) or term in normalize(article.body) for term in theme.terms)
                    for _, article in ARTICLES)
        if found:
            counts[theme.name] = found
    return counts


@pytest.fixture(scope="module")
def workflow_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workflow_index(tmp_path_factory.mktemp("workflow"))


@pytest.fixture
def table_file(tmp_path: Path) -> Path:
    return write_themes(tmp_path / "themes.csv")


@pytest.fixture
def engine(workflow_root: Path, table_file: Path) -> Iterator[Engine]:
    engine = Engine(workflow_root, themes=Themes(table_file))
    yield engine
    engine.close()


def theme_counts(results) -> dict[str, int]:
    return {item["value"]: item["count"] for item in results.facets["theme"]}


@pytest.mark.parametrize(("text", "themes", "problems"), [
    ("主题,关键词,同义词\n垃圾分类,垃圾分类、厨余垃圾,分类投放\n", {"垃圾分类": ("垃圾分类", "厨余垃圾", "分类投放")}, 0),
    ("垃圾分类,垃圾分类 厨余垃圾;分类投放\n", {"垃圾分类": ("垃圾分类", "厨余垃圾", "分类投放")}, 0),
    ("# 注释\n\n冬奥会,冬奥会，冬奥\n", {"冬奥会": ("冬奥会", "冬奥")}, 0),
    ("# 注释\n主题,关键词,同义词\n冬奥会,冬奥会\n", {"冬奥会": ("冬奥会",)}, 0),
    ("冬奥会,冬奥会\n冬奥会,冬奥,冬季奥林匹克\n", {"冬奥会": ("冬奥会", "冬奥", "冬季奥林匹克")}, 1),
    ("养犬,文明养犬、遛狗.牵绳\n", {"养犬": ("文明养犬",)}, 1),
    ("空主题,,\n控烟,控烟\n", {"控烟": ("控烟",)}, 1),
    (",垃圾分类\n", {}, 1),
    ("創城,創建文明城區\n", {"創城": ("创建文明城区",)}, 0),
])
def test_parse_table(text: str, themes: dict[str, tuple[str, ...]], problems: int) -> None:
    table = parse_table(text.encode("utf-8"), "t.csv")
    assert {theme.name: theme.terms for theme in table.themes} == themes
    assert len(table.problems) == problems
    assert all(problem.startswith("t.csv") for problem in table.problems)


def test_table_in_gbk_and_with_bom_reads_the_same() -> None:
    text = "主题,关键词,同义词\n垃圾分类,垃圾分类、厨余垃圾,分类投放\n"
    expected = parse_table(text.encode("utf-8")).themes
    assert parse_table(text.encode("gb18030")).themes == expected
    assert parse_table(text.encode("utf-8-sig")).themes == expected


def test_bundled_table_has_campaign_topics_with_plain_chinese_terms() -> None:
    table = Themes(BUNDLED).table()
    assert table.problems == ()
    assert len(table.themes) >= 25
    names = set(table.names)
    for topic in ("垃圾分类", "疫情防控", "文明交通", "志愿服务", "创建文明城区", "文明养犬", "爱国卫生",
                  "新时代文明实践", "未成年人思想道德建设"):
        assert topic in names
    for theme in table.themes:
        assert theme.keywords and theme.terms
        assert all(all(is_cjk(char) for char in term) and len(unit_groups(term)) == 1 for term in theme.terms)


def test_facet_counts_equal_a_substring_scan_and_filtered_totals(engine: Engine) -> None:
    results = engine.search(SearchRequest())
    assert theme_counts(results) == scan(THEMES_CSV)
    for name, count in theme_counts(results).items():
        filtered = engine.search(SearchRequest(themes=[name], size=100))
        assert filtered.total == count == len(filtered.hits)


def test_facet_lists_themes_by_count_then_table_order_with_the_facet_shape(engine: Engine) -> None:
    items = engine.search(SearchRequest()).facets["theme"]
    assert [item["value"] for item in items] == ["志愿服务", "垃圾分类", "冬奥会", "文明交通", "文明养犬"]
    assert items[0] == {"value": "志愿服务", "label": "志愿服务", "count": 5, "selected": False}


def test_several_themes_are_or_and_other_facets_follow(engine: Engine) -> None:
    dogs = engine.search(SearchRequest(themes=["文明养犬"])).total
    winter = engine.search(SearchRequest(themes=["冬奥会"])).total
    both = engine.search(SearchRequest(themes=["文明养犬", "冬奥会"]))
    assert both.total == dogs + winter == 4
    assert sum(item["count"] for item in both.facets["district"]) == both.total
    assert [item["value"] for item in both.facets["theme"] if item["selected"]] == ["冬奥会", "文明养犬"]
    chaoyang = engine.search(SearchRequest(districts=["朝阳区"]))
    assert theme_counts(chaoyang) == {"志愿服务": 1, "冬奥会": 1, "文明养犬": 1}


def test_theme_combines_with_the_query(engine: Engine) -> None:
    results = engine.search(SearchRequest(q="海淀区", themes=["垃圾分类"], size=100))
    assert {hit.headline for hit in results.hits} == {WORKFLOW["w1"].articles[0].headline}
    assert results.total == 2


def test_unknown_theme_matches_nothing_and_stays_listed(engine: Engine) -> None:
    results = engine.search(SearchRequest(themes=["没有这个主题"]))
    assert results.total == 0
    assert {"value": "没有这个主题", "label": "没有这个主题", "count": 0, "selected": True} in results.facets["theme"]
    assert results.suggestions and results.suggestions[0].total > 0


def test_table_edits_apply_without_a_rebuild(engine: Engine, table_file: Path) -> None:
    before = engine.search(SearchRequest())
    assert "控烟" not in theme_counts(before)
    first = engine.count(SearchRequest(themes=["文明交通"]))
    table_file.write_text(THEMES_CSV.replace("控烟,控烟,禁烟", "控烟,控烟,禁烟、闯红灯"), encoding="utf-8")
    os.utime(table_file, ns=(10**18, 10**18))
    after = engine.search(SearchRequest())
    assert theme_counts(after)["控烟"] == 1
    assert engine.count(SearchRequest(themes=["文明交通"])) == first


def test_an_unchanged_table_keeps_its_membership_and_a_changed_one_replaces_it(engine: Engine,
                                                                                table_file: Path) -> None:
    with engine._use() as view:
        first = view.membership()
        os.utime(table_file, ns=(2 * 10**18, 2 * 10**18))
        assert view.membership() is first
        table_file.write_text(THEMES_CSV + "新主题,揭牌\n", encoding="utf-8")
        os.utime(table_file, ns=(3 * 10**18, 3 * 10**18))
        second = view.membership()
    assert second is not first and second.names[-1] == "新主题"


def test_missing_table_means_no_theme_facet_but_searches_work(workflow_root: Path, tmp_path: Path) -> None:
    themes = Themes(tmp_path / "absent.csv")
    engine = Engine(workflow_root, themes=themes)
    try:
        results = engine.search(SearchRequest(q="垃圾分类"))
        assert results.total > 0 and results.facets["theme"] == []
        assert engine.count(SearchRequest(themes=["垃圾分类"])) == 0
        assert "absent.csv" in themes.table().problems[0]
    finally:
        engine.close()


def test_table_from_the_environment(monkeypatch: pytest.MonkeyPatch, table_file: Path) -> None:
    monkeypatch.setenv("BULLETINS_THEMES", str(table_file))
    assert Themes().table().names == ["垃圾分类", "志愿服务", "文明养犬", "冬奥会", "文明交通", "控烟"]
    monkeypatch.delenv("BULLETINS_THEMES")
    assert Themes().table().source == str(BUNDLED)


def test_bundled_themes_agree_with_a_substring_scan_on_the_sample_index(tmp_path_factory) -> None:
    """Every article of the web sample, every bundled theme: tagged exactly when a term is a substring."""
    index = sample_index(tmp_path_factory)
    engine = Engine(index, themes=Themes(BUNDLED))
    try:
        table = engine.themes.table()
        articles = list(engine.collect(SearchRequest(sort="date"), 100_000)[1])
        tagged = {article["id"]: set() for article in articles}
        for theme in table.themes:
            _, members = engine.collect(SearchRequest(themes=[theme.name], sort="date"), 100_000)
            for member in members:
                tagged[member["id"]].add(theme.name)
        expected = {article["id"]: {theme.name for theme in table.themes
                                    if any(term in normalize(article["headline"]) or term in normalize(article["body"])
                                           for term in theme.terms)} for article in articles}
        assert tagged == expected
        assert sum(map(len, tagged.values())) > len(articles) / 2
    finally:
        engine.close()


@pytest.fixture(scope="module")
def client(workflow_root: Path, tmp_path_factory: pytest.TempPathFactory):
    path = write_themes(tmp_path_factory.mktemp("themes") / "themes.csv")
    previous = os.environ.get("BULLETINS_THEMES")
    os.environ["BULLETINS_THEMES"] = str(path)
    application = create_app({"INDEX": str(workflow_root), "TESTING": True})
    try:
        yield application.test_client()
    finally:
        close_engine(application)
        if previous is None:
            os.environ.pop("BULLETINS_THEMES", None)
        else:
            os.environ["BULLETINS_THEMES"] = previous


def test_api_theme_facet_and_repeatable_filter(client) -> None:
    body = client.get("/api/search").get_json()
    assert {item["value"]: item["count"] for item in body["facets"]["theme"]} == scan(THEMES_CSV)
    assert all(set(item) == {"value", "label", "count", "selected"} for item in body["facets"]["theme"])
    both = client.get("/api/search?theme=文明养犬&theme=冬奥会").get_json()
    assert both["total"] == 4 and both["query"]["params"]["theme"] == ["文明养犬", "冬奥会"]


def test_results_page_has_a_theme_section_whose_links_filter(client) -> None:
    text = client.get("/search").get_data(as_text=True)
    assert "<h3>主题</h3>" in text
    assert 'href="/search?theme=%E6%96%87%E6%98%8E%E5%85%BB%E7%8A%AC"' in text
    narrowed = client.get("/search?theme=文明养犬").get_data(as_text=True)
    assert "共 <strong>1</strong> 条" in narrowed and "主题：文明养犬" in narrowed


def test_cli_themes_lists_counts_and_reports_problems(workflow_root: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_themes(tmp_path / "themes.csv")
    monkeypatch.setenv("BULLETINS_THEMES", str(path))
    result = CliRunner().invoke(main, ["themes", "--index", str(workflow_root)])
    assert result.exit_code == 0, result.output
    assert "      5  志愿服务: 志愿服务、志愿者" in result.output
    path.write_text(THEMES_CSV + "坏行,遛狗.牵绳\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["themes", "--index", str(workflow_root), "--json"])
    assert result.exit_code == 3
    assert "遛狗.牵绳" in result.output


def test_advanced_form_offers_the_themes_and_passes_the_choice_on(client) -> None:
    text = client.get("/advanced").get_data(as_text=True)
    assert '<select id="adv-theme" name="theme">' in text and '<option value="文明养犬">文明养犬</option>' in text
    response = client.get("/advanced", query_string={"go": "1", "all": "", "theme": "文明养犬", "district": ""})
    assert response.status_code == 302
    assert "共 <strong>1</strong> 条" in client.get(response.headers["Location"]).get_data(as_text=True)
