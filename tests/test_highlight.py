"""Snippets and highlighting: exactly the matched text in <mark>, everything else escaped."""

from __future__ import annotations

import html
import re

import pytest

from index.model import Article, Bulletin
from index.normalize import normalize
from search.engine import Engine
from search.highlight import Span, mark_html, merge_spans, snippet_html
from search.request import SearchRequest
from test_search import GOLDEN, build_index

LONG_BODY = ("开头一段与查询无关的文字，用来占位置。" * 6 + "这里提到垃圾分类的新办法，效果很好。"
             + "中间又是一大段无关的叙述，继续占位置。" * 8 + "最后再说一次垃圾分类，结束。")
EXTRA = {"long": Bulletin(file="long.txt", date="2022-05-05", articles=[
    Article("工作动态", "长文章", LONG_BODY, None, "通州区"),
    Article("工作动态", "文明文明相连", "文明文明城区与文明城市。", None, "通州区"),
])}
MARK = re.compile(r"<mark>(.*?)</mark>")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = Engine(build_index(tmp_path_factory.mktemp("golden"), {**GOLDEN, **EXTRA}))
    yield engine
    engine.close()


def marked(fragment: str) -> list[str]:
    """The normalised text inside each <mark> of an HTML fragment."""
    return [normalize(html.unescape(text)) for text in MARK.findall(fragment)]


def made_of(text: str, terms: set[str]) -> bool:
    """True when `text` is one or more of `terms` back to back (adjacent matches share one mark)."""
    return not text or any(text.startswith(term) and made_of(text[len(term):], terms) for term in terms)


@pytest.mark.parametrize(("q", "terms"), [
    ("创城", {"创城", "创建文明城区"}),
    ("垃圾分類", {"垃圾分类"}),
    ('"回社区报到"', {"回社区报到"}),
    ("海淀区 推进", {"海淀区", "推进"}),
    ("好经", {"好经"}),
    ("队员", {"队员"}),
    ("ＳＣＲＩＰＴ", {"script"}),
    ("16个", {"16 个"}),
    ("双报到 OR 斑马线", {"双报到", "在职党员回社区报到", "斑马线"}),
])
def test_marks_hold_exactly_the_matched_text(engine: Engine, q: str, terms: set[str]) -> None:
    results = engine.search(SearchRequest(q=q, size=100))
    assert results.total > 0
    for hit in results.hits:
        found = marked(hit.snippet) + marked(hit.headline_html)
        assert found and all(made_of(text, terms) for text in found)
        assert html.unescape(MARK.sub(r"\1", hit.headline_html)) == hit.headline


def test_everything_else_is_escaped(engine: Engine) -> None:
    hit = engine.search(SearchRequest(q="队员")).hits[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 退休干部" in hit.snippet
    assert "<script" not in hit.snippet
    article = engine.article(hit.id, q="<script>")
    assert "<script" not in article["body_html"] and "<mark>script</mark>" in article["body_html"]


def test_headline_only_match_shows_the_body_start(engine: Engine) -> None:
    hit = engine.search(SearchRequest(q="揭牌 中心", scope="title")).hits[0]
    assert hit.snippet.startswith("丰台区新时代文明实践中心揭牌成立，")
    assert "<mark>" not in hit.snippet and "<mark>中心揭牌</mark>" in hit.headline_html


def test_title_scoped_terms_are_not_marked_in_bodies(engine: Engine) -> None:
    hit = engine.search(SearchRequest(q="标题:垃圾分类 海淀区")).hits[0]
    assert marked(hit.snippet) == ["海淀区"]
    assert set(marked(hit.headline_html)) == {"海淀区", "垃圾分类"}


def test_overlapping_and_adjacent_matches_merge(engine: Engine) -> None:
    hits = engine.search(SearchRequest(q="文明 明城", synonyms=False)).hits
    hit = next(hit for hit in hits if hit.headline == "文明文明相连")
    assert marked(hit.snippet) == ["文明文明城", "文明城"]


def test_two_fragments_cut_at_clause_boundaries(engine: Engine) -> None:
    hit = engine.search(SearchRequest(q="垃圾分类")).hits[0]
    assert hit.headline == "长文章" or "垃圾分类" in hit.headline
    long = next(hit for hit in engine.search(SearchRequest(q="垃圾分类", size=100)).hits if hit.headline == "长文章")
    text = html.unescape(MARK.sub(r"\1", long.snippet))
    assert marked(long.snippet) == ["垃圾分类", "垃圾分类"]
    assert text.startswith("这里提到垃圾分类") and "最后再说一次垃圾分类，结束。" in text
    assert len(text) < 200 and "…" not in text.split(" ")[0][:1]


def test_article_body_html_marks_every_occurrence(engine: Engine) -> None:
    long = next(hit for hit in engine.search(SearchRequest(q="垃圾分类", size=100)).hits if hit.headline == "长文章")
    article = engine.article(long.id, q="垃圾分类")
    assert marked(article["body_html"]) == ["垃圾分类", "垃圾分类"]
    assert html.unescape(MARK.sub(r"\1", article["body_html"])) == f"<p>{LONG_BODY}</p>"


@pytest.mark.parametrize(("spans", "merged"), [
    ([(5, 7), (0, 2)], [(0, 2), (5, 7)]),
    ([(0, 2), (1, 3)], [(0, 3)]),
    ([(0, 2), (2, 4)], [(0, 4)]),
    ([(0, 5), (1, 2)], [(0, 5)]),
])
def test_merge_spans(spans: list, merged: list) -> None:
    assert [(s.start, s.end) for s in merge_spans([Span(a, b) for a, b in spans])] == merged


def test_mark_html_and_snippet_cuts() -> None:
    assert mark_html("a<b>&c", [Span(1, 4)]) == "a<mark>&lt;b&gt;</mark>&amp;c"
    text = "甲" * 100 + "，乙乙乙目标丙丙丙。" + "丁" * 100
    snippet = snippet_html(text, [Span(104, 106, {0})])
    assert snippet.startswith("乙乙乙<mark>目标</mark>丙丙丙。")
    assert snippet.endswith("…")
    assert snippet_html("短文。", []) == "短文。"
    assert snippet_html("无标点" * 60, []).endswith("…")
