"""The HTML pages through Flask's test client, over an index built from a small generated corpus."""

from __future__ import annotations

import csv
import html
import io
import re
import socket
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from index.samplegen import generate_corpus
from index.writer import build
from webui import STATUS_MESSAGES, create_app
from webui.cli import main
from webui.engine import close_engine
from webui.timeline import Bar, render
from webui.views import compose_query

SAMPLE_BULLETINS = 30
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def sample_index(factory: pytest.TempPathFactory) -> Path:
    """An index of a small generated corpus, built once per test session (shared by the web test modules)."""
    root = factory.getbasetemp() / "webui-sample"
    index = root / "index"
    if not (index / "CURRENT").exists():
        generate_corpus(root / "corpus", bulletins=SAMPLE_BULLETINS, seed=2147)
        build([root / "corpus"], index, progress=False, log=lambda message: None)
    return index


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_index(tmp_path_factory)


@pytest.fixture(scope="module")
def app(index_dir: Path, on_backend) -> Iterator:
    application = create_app({"INDEX": str(index_dir), "BACKEND": on_backend(index_dir), "TESTING": True})
    yield application
    close_engine(application)


@pytest.fixture
def client(app):
    return app.test_client()


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_data(as_text=True)


def total_of(html: str) -> int:
    match = re.search(r"共 <strong>([\d,]+)</strong> 条", html)
    assert match, html[:2000]
    return int(match.group(1).replace(",", ""))


class Links(HTMLParser):
    """Every <a href> of a page with its text, and every src/href/action attribute value."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.urls: list[str] = []
        self._open: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.urls += [value for name, value in attrs if name in ("src", "href", "action") and value]
        if tag == "a":
            self._open.append([values.get("href") or "", ""])

    def handle_data(self, data: str) -> None:
        for link in self._open:
            link[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            href, text = self._open.pop()
            self.links.append((html.unescape(href), " ".join(text.split())))


def links_of(page_html: str) -> Links:
    parser = Links()
    parser.feed(page_html)
    return parser


def first_hit_id(client, q: str = "志愿") -> str:
    return client.get("/api/search", query_string={"q": q, "size": 1}).get_json()["hits"][0]["id"]


PAGES = ["/", "/search", "/search?q=志愿", "/search?q=志愿&year=2020", "/search?q=志愿&sort=date",
         "/search?q=志愿&page=2&size=5", "/advanced", "/search?q=完全不存在的词语组合"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_with_security_headers_and_no_external_urls(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    text = response.get_data(as_text=True)
    assert not EXTERNAL.search(text)
    assert all(not re.match(r"(https?:)?//", value) for value in links_of(text).urls)
    assert "<script>" not in text and " style=" not in text
    assert 'rel="search"' in text and 'class="skip-link"' in text


def test_home_shows_status_latest_bulletins_and_autofocus(client) -> None:
    text = page(client, "/")
    assert "autofocus" in text and "高级检索" in text
    assert "索引状态" in text and "篇" in text and "期" in text
    bulletins = [href for href, _ in links_of(text).links if href.startswith("/bulletin/")]
    assert bulletins
    page(client, bulletins[0])


def test_search_shows_count_highlights_and_result_metadata(client) -> None:
    text = page(client, "/search?q=志愿")
    assert total_of(text) > 0
    assert "<mark>志愿</mark>" in text
    assert "毫秒" in text
    assert re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_user_text_is_escaped(client) -> None:
    text = page(client, "/search?q=<script>alert(1)</script>")
    assert "<script>alert" not in text and "&lt;script&gt;" in text


def test_empty_query_browses_everything_newest_first(client) -> None:
    everything = client.get("/api/search").get_json()
    text = page(client, "/search")
    assert total_of(text) == everything["total"] > 0
    dates = [hit["date"] for hit in everything["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert "全部文章" in text


def test_district_facet_link_narrows_and_shows_a_removable_chip(client) -> None:
    text = page(client, "/search?q=志愿")
    total = total_of(text)
    facet = next((href, label) for href, label in links_of(text).links if "district=" in href and "page=" not in href)
    narrowed = page(client, facet[0])
    assert total_of(narrowed) < total
    chip = next(href for href, label in links_of(narrowed).links if label.startswith("区："))
    assert total_of(page(client, chip)) == total


def test_one_selected_year_drills_down_to_months_and_the_timeline_links_each_bar(client) -> None:
    year = client.get("/api/search?q=志愿").get_json()["facets"]["year"][0]["value"]
    text = page(client, f"/search?q=志愿&year={year}")
    assert "<svg" in text and f"{year}年各月" in text
    assert text.count("<title>") >= 13
    bars = [href for href, label in links_of(text).links if "month=" in href]
    assert bars
    month_page = page(client, bars[0])
    assert total_of(month_page) <= total_of(text)


def test_timeline_across_years_links_to_one_year(client) -> None:
    text = page(client, "/search?q=志愿")
    assert "按年分布" in text
    year_links = [href for href, label in links_of(text).links if re.search(r"year=\d{4}$", href)]
    assert year_links
    assert "月分布" in page(client, year_links[0])


def test_sort_switch_and_pagination_keep_the_state(client) -> None:
    text = page(client, "/search?q=志愿&size=5")
    links = links_of(text).links
    newest = next(href for href, label in links if label == "最新")
    assert "sort=date" in newest and "q=" in newest and "size=5" in newest
    assert any(href.endswith("page=2") or "page=2&" in href for href, label in links if label in ("2", "下一页"))
    second = page(client, "/search?q=志愿&size=5&page=2")
    assert 'aria-current="page">2<' in second


def test_no_match_shows_a_message_and_the_engines_suggestions(client) -> None:
    text = page(client, "/search?q=志愿 完全不存在的词语组合")
    assert "没有找到" in text
    assert any("q=" in href for href, label in links_of(text).links if label.startswith("去掉"))


def test_advanced_form_redirects_to_search_with_a_composed_query(client) -> None:
    response = client.get("/advanced", query_string={
        "go": "1", "all": "志愿 社区", "any": "街道 乡镇", "none": "学校", "phrase": "志愿服务",
        "scope": "title", "district": "", "column": "", "from": "2015-01-01", "to": "", "sort": "relevance"})
    assert response.status_code == 302
    target = response.headers["Location"]
    assert target.startswith("/search?") and "scope=title" in target and "from=2015-01-01" in target
    assert "district" not in target and "to=" not in target
    page(client, target)


@pytest.mark.parametrize(("parts", "expected"), [
    (("志愿 社区", "", "", ""), "志愿 社区"),
    (("", "街道 乡镇", "", ""), "(街道 OR 乡镇)"),
    (("", "街道", "", ""), "街道"),
    (("", "", "学校 OR", ""), '-学校 -"OR"'),
    (("", "", "", '志愿"服务'), '"志愿 服务"'),
    (("a", "b c", "d", "e f"), 'a (b OR c) "e f" -d'),
])
def test_compose_query(parts: tuple[str, str, str, str], expected: str) -> None:
    assert compose_query(*parts) == expected


def test_article_page_highlights_the_query_and_links_its_bulletin(client) -> None:
    article_id = first_hit_id(client)
    text = page(client, f"/article/{article_id}?q=志愿")
    assert "<mark>志愿</mark>" in text and "出自简报" in text and "总第" in text
    links = links_of(text).links
    bulletin_link = next(href for href, label in links if href.startswith("/bulletin/"))
    siblings = [href for href, label in links if href.startswith("/article/")]
    assert siblings
    page(client, siblings[0])
    bulletin_page = page(client, bulletin_link)
    assert "责编" in bulletin_page and f"/article/{article_id}" in bulletin_page
    assert "<mark>" not in page(client, f"/article/{article_id}")


@pytest.mark.parametrize("url", ["/article/nope", "/bulletin/nope", "/nope", "/static/nope.css"])
def test_unknown_ids_are_404_pages_in_the_layout(client, url: str) -> None:
    text = page(client, url, 404)
    assert "未找到" in text and 'class="site-header"' in text and "Traceback" not in text


@pytest.mark.parametrize(("query", "status"), [
    ("page=-1", 400), ("page=abc", 400), ("page=0", 400), ("size=1000", 200), ("size=0", 200),
    ("year=abc", 400), ("month=13", 400), ("from=2020-01-01&to=2019-01-01", 400), ("from=yesterday", 400),
    ("district=不存在的区", 200), ("q=", 200), ("q=" + "文" * 10_000, 400), ("q=" + "文" * 500, 200), ("q=%00%01志愿%7f%1b", 200),
    ('q="志愿', 200), ("q=志愿)))(((", 200), ("q=OR AND -", 200), ("sort=bogus", 400), ("scope=bogus", 400),
    ("synonyms=maybe", 400), ("q=%E5%BF", 200), ("page=99999", 400), ("page=500", 200), ("page=501", 400),
])
def test_search_parameter_edge_cases_give_a_page_or_a_400_page(client, query: str, status: int) -> None:
    response = client.get("/search?" + query)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert 'class="site-header"' in text and "Traceback" not in text
    if status == 400:
        assert "请求有误" in text


def test_csv_export_has_bom_header_and_every_match(client) -> None:
    total = client.get("/api/search?q=志愿&district=市级").get_json()["total"]
    response = client.get("/export.csv?q=志愿&district=市级&page=3")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["id", "date", "district", "column", "source", "headline", "series", "issue",
                       "total_issue", "url"]
    assert len(rows) - 1 == total > 0
    assert rows[1][-1].startswith("http://localhost/article/")


def test_csv_export_of_everything_and_of_nothing(client) -> None:
    total = client.get("/api/stats").get_json()["articles"]
    assert len(client.get("/export.csv").get_data().decode("utf-8-sig").strip().splitlines()) - 1 == total
    assert client.get("/export.csv?q=完全不存在的词语组合").get_data().decode("utf-8-sig").strip().count("\n") == 0
    assert client.get("/export.csv?page=abc").status_code == 400


def test_opensearch_description(client) -> None:
    response = client.get("/opensearch.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/opensearchdescription+xml"
    assert 'template="http://localhost/search?q={searchTerms}"' in response.get_data(as_text=True)


def test_static_assets_are_served(client) -> None:
    for name in ("style.css", "app.js", "favicon.svg"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        response.close()


def test_a_failing_view_is_a_500_page_without_traceback(index_dir: Path) -> None:
    application = create_app({"INDEX": str(index_dir)})

    def boom() -> str:
        raise RuntimeError("secret detail")

    application.add_url_rule("/boom", view_func=boom)
    application.add_url_rule("/api/boom", view_func=boom, endpoint="api_boom")
    client = application.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "服务器内部错误" in text and "secret detail" not in text and "Traceback" not in text
    assert client.get("/api/boom").get_json() == {"error": {"status": 500, "message": STATUS_MESSAGES[500]}}


def test_empty_index_folder_is_503_until_a_build_finishes(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    application = create_app({"INDEX": str(index)})
    client = application.test_client()
    text = page(client, "/", 503)
    assert "还没有索引" in text and "bulletins build" in text and str(index) in text
    assert page(client, "/search?q=志愿", 503)
    generate_corpus(tmp_path / "corpus", bulletins=3, seed=7)
    build([tmp_path / "corpus"], index, progress=False, log=lambda message: None)
    try:
        assert "索引状态" in page(client, "/")
        first = client.get("/api/stats").get_json()["articles"]
        generate_corpus(tmp_path / "more", bulletins=2, seed=8)
        build([tmp_path / "corpus", tmp_path / "more"], index, progress=False, log=lambda message: None)
        assert client.get("/api/stats").get_json()["articles"] > first
    finally:
        close_engine(application)


def test_timeline_svg_has_a_titled_link_per_bar_and_escapes() -> None:
    svg = str(render([Bar("2020", 3, "/search?year=2020&q=<x>", "2020年：3 条"), Bar("2021", 0, "/s", "2021年：0 条", True)],
                     "各年命中条数"))
    assert svg.startswith("<svg") and svg.count("<a ") == 2 and svg.count("<title>") == 3
    assert "&lt;x&gt;" in svg and "<x>" not in svg
    assert 'class="bar selected"' in svg
    assert str(render([], "nothing")) == ""


def test_create_app_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BULLETINS_INDEX", str(tmp_path / "from-env"))
    monkeypatch.setenv("FLASK_SITE_NAME", "\"测试\"")
    application = create_app()
    assert application.config["INDEX"] == str(tmp_path / "from-env")
    assert application.config["SITE_NAME"] == "测试"
    assert application.config["PROPAGATE_EXCEPTIONS"] is False


def test_serve_reports_a_busy_port_as_a_cli_error(index_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--index", str(index_dir), "--port", str(port)])
    assert result.exit_code == 1
    assert "cannot listen on 127.0.0.1" in result.output


def test_serve_and_demo_help() -> None:
    for command in ("serve", "demo"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "--port" in result.output
