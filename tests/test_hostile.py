"""Hostile input against every page and API: property-based tests (hypothesis) over the query language and
every parameter, markup in queries and in document text, ids that look like paths, and the limits.

The properties: never a 5xx, never a traceback, always a page in the layout or the JSON error shape.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_api import assert_error
from test_webui import sample_index

from index.writer import build
from search.query import parse_query, unparse
from search.request import MAX_OFFSET, MAX_QUERY_CHARS
from webui import MAX_REQUEST_BYTES, create_app
from webui.engine import close_engine
from webui.views import CSV_EXPORT_LIMIT

PAGES = ("/", "/search", "/advanced", "/export.csv", "/export.docx", "/feed.atom", "/opensearch.xml", "/api/search",
         "/api/stats")
ID_PAGES = ("/article/{}", "/bulletin/{}", "/api/article/{}", "/api/bulletin/{}")
PARAMETERS = ("q", "district", "year", "month", "from", "to", "column", "source", "series", "sort", "page", "size",
              "synonyms", "scope", "go", "all", "any", "none", "phrase", "theme", "within", "matrix", "id",
              "unknown")
#: Characters hostile input is made of: query syntax, markup, quotes, zero-width and control characters,
#: NUL, full-width forms, astral characters and the bench corpus's own script.
HOSTILE = list('"“”()|:：-－ORANDNOT标题title<>&\'/\\%#?=;') + [
    "\x00", "\x01", "\x1b", "\x7f", "\u200b", "\u200d", "\ufeff", "\u202e", "\u3000", "\n", "\r", "\t",
    "𠀀", "😀", "𝕏", "é", "ü", "的", "文", "明", "垃", "圾", "分", "类", "〇", "１", "Ａ"]
#: Percent-encoded bytes that are not UTF-8: lone surrogates, overlongs, stray continuation bytes.
BAD_BYTES = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc0\xaf", b"\x80", b"\xff\xfe", b"\xe6\x96"]

hostile_text = st.one_of(
    st.text(alphabet=st.sampled_from(HOSTILE), max_size=40),
    st.text(max_size=30),
    st.sampled_from(["", " ", "OR", "NOT", "-", '"', "((", "))", "标题:", "title:", "a OR", "|", "--的",
                     '"未闭合', "(垃圾 OR", "-\"\"", "0", "-1", "99999999999999999999", "1e9", "nan", "2020-13-45"]))


def _encoded_value(draw: st.DrawFn) -> str:
    """A percent-encoded parameter value: hostile text, or raw bytes that are not UTF-8 around some text."""
    if draw(st.booleans()):
        return quote(draw(hostile_text), safe="")
    before = quote(draw(st.text(alphabet=st.sampled_from(HOSTILE), max_size=5)), safe="")
    return before + quote_from_bytes(draw(st.sampled_from(BAD_BYTES)), safe="")


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    """A query string of up to 6 parameters, names repeated at will."""
    pairs = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(PARAMETERS))
        pairs.append(f"{name}={_encoded_value(draw)}")
    return "&".join(pairs)


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    application = create_app({"INDEX": str(sample_index(tmp_path_factory)), "TESTING": True})
    yield application
    close_engine(application)


def assert_sound(response, path: str) -> None:
    """No 5xx and no traceback; API answers are JSON (the error shape when they fail), pages are HTML."""
    body = response.get_data().decode("utf-8", errors="replace")
    assert response.status_code < 500, (path, response.status_code, body[:500])
    assert "Traceback" not in body, path
    if 300 <= response.status_code < 400:
        assert not path.startswith("/api/"), (path, response.status_code)
        assert response.headers["Location"].startswith("/"), response.headers["Location"]
        return
    if path.startswith("/api/"):
        assert response.mimetype == "application/json", path
        if response.status_code >= 400:
            assert_error(response, response.status_code)
    elif response.status_code >= 400:
        assert response.mimetype == "text/html", path
        assert "<html" in body, path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=st.sampled_from(PAGES), query=query_strings())
def test_any_parameters_on_any_page_never_fail(hostile_app, page: str, query: str) -> None:
    client = hostile_app.test_client()
    path = f"{page}?{query}" if query else page
    assert_sound(client.get(path), page)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.sampled_from(ID_PAGES), raw=st.one_of(hostile_text, st.sampled_from(
    ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "CURRENT", "..", ".", "meta.json", "%00",
     "a" * 5000, "0" * 12 + "-01"])), q=hostile_text)
def test_any_id_on_any_document_page_is_a_page_or_404(hostile_app, template: str, raw: str, q: str) -> None:
    client = hostile_app.test_client()
    path = template.format(quote(raw, safe="")) if raw else template.format("x")
    response = client.get(f"{path}?q={quote(q, safe='')}")
    assert_sound(response, template)
    assert response.status_code in (200, 404), (path, response.status_code)
    assert "root:" not in response.get_data(as_text=True)


@settings(max_examples=500, deadline=None)
@given(text=st.one_of(hostile_text, st.text(max_size=200)))
def test_the_query_language_never_raises_and_round_trips(text: str) -> None:
    node = parse_query(text)
    again = parse_query(unparse(node))
    assert unparse(again) == unparse(node)


# Markup in queries and in document text

MARKUP_BULLETIN = """<html><head><title>简报</title></head><body>
<p>首都精神文明建设情况简报</p>
<p>第 7 期</p>
<p>（总第 1007 期）</p>
<p>首都精神文明建设委员会办公室编印 2021年3月1日</p>
<p>【文明创建】</p>
<p>标签&lt;iframe src=x&gt;测试活动</p>
<p>近日，本区开展&lt;b&gt;粗体&lt;/b&gt;与&lt;script&gt;alert(1)&lt;/script&gt;测试活动，页面上出现 "引号" &amp; 符号，
又有 &lt;img src=x onerror=alert(2)&gt; 一行，检查转义是否到位。（石景山区文明办）</p>
</body></html>
"""
MARKUP_QUERIES = ('<script>alert("q")</script>', "<b>粗体</b>", '"><svg onload=alert(3)>', "转义&lt;", "测试活动")
#: The markup above (the document's decoded entities, the queries' tags) as it would appear unescaped; the
#: layout's own tags are none of these.
RAW_MARKUP = re.compile(r"<script>alert|<img src=x|<iframe|<svg onload|<b>粗体", re.IGNORECASE)


@pytest.fixture(scope="module")
def markup_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    root = tmp_path_factory.mktemp("markup")
    (root / "corpus").mkdir()
    (root / "corpus" / "2021-03-01_第7期.html").write_text(MARKUP_BULLETIN, encoding="utf-8")
    build([root / "corpus"], root / "index", progress=False, log=lambda message: None)
    application = create_app({"INDEX": str(root / "index"), "TESTING": True})
    yield application
    close_engine(application)


def _page_markup(html: str) -> list[str]:
    """The injected tags that reached `html` unescaped."""
    return [match.group(0) for match in RAW_MARKUP.finditer(html)]


@pytest.mark.parametrize("q", MARKUP_QUERIES)
def test_markup_is_escaped_in_pages(markup_app, q: str) -> None:
    client = markup_app.test_client()
    results = client.get("/api/search", query_string={"q": "测试活动"}).get_json()
    assert results["total"] == 1
    article_id = results["hits"][0]["id"]
    for path, params in (("/search", {"q": q}), ("/search", {"q": "测试活动"}), ("/search", {"q": "script"}),
                         (f"/article/{article_id}", {"q": q}), (f"/article/{article_id}", {"q": "粗体"}),
                         ("/", {}), ("/advanced", {"all": q})):
        response = client.get(path, query_string=params)
        assert response.status_code == 200, (path, params)
        assert _page_markup(response.get_data(as_text=True)) == [], (path, params)
    bulletin = client.get(f"/api/article/{article_id}").get_json()["bulletin"]["id"]
    assert _page_markup(client.get(f"/bulletin/{bulletin}").get_data(as_text=True)) == []


def test_markup_in_json_is_data_and_its_html_fields_are_escaped(markup_app) -> None:
    client = markup_app.test_client()
    results = client.get("/api/search", query_string={"q": "测试活动"}).get_json()
    hit = results["hits"][0]
    for name in ("headline_html", "snippet"):
        assert _page_markup(hit[name]) == [], hit[name]
        assert "<mark>测试活动</mark>" in hit[name] or name == "snippet"
    assert "<iframe" not in hit["headline"], "the parser drops markup left in text"
    article = client.get(f"/api/article/{hit['id']}", query_string={"q": "粗体"}).get_json()
    assert _page_markup(json.dumps(article, ensure_ascii=False).replace(hit["headline"], "")) == [] or \
        all(_page_markup(value) == [] for key, value in article.items() if key.endswith("_html"))


def test_markup_in_csv_is_plain_text_and_formulas_are_neutralised(markup_app) -> None:
    response = markup_app.test_client().get("/export.csv", query_string={"q": "测试活动"})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 2
    assert any('"引号" & 符号' in cell for cell in rows[1]) or rows[1][5].startswith("标签")


# Limits

@pytest.mark.parametrize(("params", "message"), [
    ({"q": "的" * (MAX_QUERY_CHARS + 1)}, "query too long"),
    ({"q": "文 " * (MAX_QUERY_CHARS // 2 + 1)}, "query too long"),
    ({"q": "文", "page": str(MAX_OFFSET // 10 + 2), "size": "10"}, "page too deep"),
    ({"q": "文", "page": "99999999999999999999"}, "page too deep"),
    ({"q": "文", "size": "abc"}, "size"),
    ({"q": "文", "page": "0"}, "page must be"),
])
def test_limits_give_a_400_with_a_clear_message(hostile_app, params: dict[str, str], message: str) -> None:
    client = hostile_app.test_client()
    assert message in assert_error(client.get("/api/search", query_string=params), 400)
    page = client.get("/search", query_string=params)
    assert page.status_code == 400 and message in page.get_data(as_text=True)


def test_the_longest_query_allowed_is_answered(hostile_app) -> None:
    response = hostile_app.test_client().get("/api/search", query_string={"q": "文" * MAX_QUERY_CHARS})
    assert response.status_code == 200 and response.get_json()["total"] == 0


def test_a_large_request_body_is_413_in_the_error_shape(hostile_app) -> None:
    client = hostile_app.test_client()
    body = b"q=" + b"a" * (MAX_REQUEST_BYTES + 1)
    response = client.get("/api/search", data=body, content_type="application/x-www-form-urlencoded")
    assert "too large" in assert_error(response, 413)
    page = client.post("/search", data=body, content_type="application/x-www-form-urlencoded")
    assert page.status_code in (405, 413) and "Traceback" not in page.get_data(as_text=True)


def test_export_beyond_the_limit_is_refused_with_the_limit_named(hostile_app) -> None:
    client = hostile_app.test_client()
    total = client.get("/api/search", query_string={"q": ""}).get_json()["total"]
    assert 0 < total
    whole = client.get("/export.csv")
    assert whole.status_code == 200
    assert len(list(csv.reader(io.StringIO(whole.get_data(as_text=True).lstrip("\ufeff"))))) == total + 1
    hostile_app.config["CSV_EXPORT_LIMIT"] = total - 1
    try:
        refused = client.get("/export.csv")
    finally:
        hostile_app.config.pop("CSV_EXPORT_LIMIT")
    assert refused.status_code == 400
    assert f"{total - 1:,}" in refused.get_data(as_text=True)
    assert CSV_EXPORT_LIMIT >= 10_000
