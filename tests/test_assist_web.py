"""Query assistance through Flask's test client: /api/suggest, the correction and did-you-mean lines,
hot and related searches from the query log, and the vocabulary size in /api/stats."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_webui import sample_index

from search.querylog import LOG_NAME, QueryLog
from webui import create_app
from webui.engine import close_engine


def make_app(factory: pytest.TempPathFactory, **settings) -> Iterator:
    application = create_app({"INDEX": str(sample_index(factory)), "TESTING": True, **settings})
    yield application
    close_engine(application)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"


@pytest.fixture
def client(tmp_path_factory: pytest.TempPathFactory, log_dir: Path):
    yield from (application.test_client() for application in make_app(tmp_path_factory, QUERY_LOG_DIR=str(log_dir)))


def text_of(response) -> str:
    return re.sub(r"<[^>]+>", "", response.get_data(as_text=True))


@pytest.mark.parametrize(("typed", "expected", "kind"), [
    ("垃圾", "垃圾分类", "word"),
    ("laji", "垃圾分类", "pinyin"),
    ("ljfl", "垃圾分类", "pinyin"),
    ("垃圾fen", "垃圾分类", "pinyin"),
])
def test_suggest_completes_hanzi_pinyin_and_initials(client, typed: str, expected: str, kind: str) -> None:
    body = client.get("/api/suggest", query_string={"q": typed}).get_json()
    assert body["q"] == typed and len(body["suggestions"]) <= 10
    assert all(set(item) == {"text", "kind", "count"} for item in body["suggestions"])
    assert {"text": expected, "kind": kind} in [{"text": item["text"], "kind": item["kind"]}
                                                for item in body["suggestions"]]
    counts = [item["count"] for item in body["suggestions"] if item["kind"] == kind]
    assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize("typed", ["", "   ", "x" * 600, "<script>"])
def test_suggest_handles_empty_and_odd_input(client, typed: str) -> None:
    response = client.get("/api/suggest", query_string={"q": typed})
    assert response.status_code == 200 and response.get_json()["suggestions"] == []


def test_suggest_puts_searched_queries_first(client) -> None:
    for _ in range(3):
        client.get("/search", query_string={"q": "垃圾分类 宣传"})
    body = client.get("/api/suggest", query_string={"q": "垃圾"}).get_json()
    assert body["suggestions"][0] == {"text": "垃圾分类 宣传", "kind": "history", "count": 3}


def test_a_pinyin_query_shows_the_words_and_offers_the_typed_text(client) -> None:
    page = text_of(client.get("/search?q=lajifenlei"))
    assert "以下是“垃圾分类”的结果 · 仍然搜索：lajifenlei" in page
    html = client.get("/search?q=lajifenlei").get_data(as_text=True)
    href = re.search(r'仍然搜索：<a href="([^"]+)"', html).group(1)
    assert "correct=off" in href
    as_typed = text_of(client.get(unquote(href).replace("&amp;", "&")))
    assert "共 0 条" in re.sub(r"\s+", " ", as_typed) and "您是不是要找：垃圾分类" in as_typed


def test_a_typo_with_results_elsewhere_is_corrected_on_the_page(client) -> None:
    page = re.sub(r"\s+", " ", text_of(client.get("/search?q=垃圾分累")))
    assert "以下是“垃圾分类”的结果 · 仍然搜索：垃圾分累" in page
    data = client.get("/api/search?q=垃圾分累").get_json()
    assert data["corrected_from"] == "垃圾分累" and data["query"]["q"] == "垃圾分类" and data["total"] > 0


def test_a_query_that_occurs_shows_no_assistance_line(client) -> None:
    html = client.get("/search?q=垃圾分类").get_data(as_text=True)
    assert 'class="assist"' not in html


def test_hot_and_related_searches_come_from_the_log(client, log_dir: Path) -> None:
    for q, referrer in [("垃圾分类", None), ("垃圾分类", None), ("志愿服务", None),
                        ("文明城区", "http://localhost/search?q=志愿服务"), ("没有这个词语呀", None)]:
        headers = {"Referer": referrer} if referrer else {}
        client.get("/search", query_string={"q": q}, headers=headers)
    client.get("/api/search", query_string={"q": "垃圾分类"})
    client.get("/search")                                      # browsing is not a search
    entries = QueryLog(log_dir).entries()
    assert [entry["source"] for entry in entries] == ["ui"] * 5 + ["api"]
    assert entries[3]["prev"] == "志愿服务"
    assert not {"client", "user"} & set(entries[0])
    home = client.get("/").get_data(as_text=True)
    hot = re.search(r'<nav class="hot".*?</nav>', home, re.S).group(0)
    assert re.findall(r">([^<>]+)</a>", hot) == ["垃圾分类", "志愿服务", "文明城区"]
    related = client.get("/search?q=志愿服务").get_data(as_text=True)
    assert "相关搜索" in related and ">文明城区</a>" in related.split("相关搜索")[1]


def test_the_log_can_be_switched_off(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    for application in make_app(tmp_path_factory, QUERY_LOG="off", QUERY_LOG_DIR=str(tmp_path)):
        client = application.test_client()
        client.get("/search?q=垃圾分类")
        assert "热门搜索" not in client.get("/").get_data(as_text=True)
    assert not (tmp_path / LOG_NAME).exists()


def test_stats_gives_the_vocabulary_size(client) -> None:
    vocabulary = client.get("/api/stats").get_json()["vocabulary"]
    assert vocabulary["entries"] >= vocabulary["words"] > 100 and vocabulary["pinyin_keys"] > 100


def test_a_log_that_cannot_be_written_never_breaks_a_search(tmp_path_factory: pytest.TempPathFactory,
                                                            tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log folder should be", encoding="utf-8")
    for application in make_app(tmp_path_factory, QUERY_LOG_DIR=str(blocked / "logs")):
        client = application.test_client()
        for _ in range(2):
            assert client.get("/search?q=垃圾分类").status_code == 200
            assert client.get("/api/search?q=垃圾分类").status_code == 200
        assert client.get("/").status_code == 200
    warnings = [record for record in caplog.records if "query log" in record.getMessage()]
    assert len(warnings) == 1
