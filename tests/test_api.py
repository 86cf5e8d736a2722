"""The JSON API through Flask's test client: the results contract, documents, stats and the one error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_webui import sample_index
from whoosh import index as whoosh_index

from index.documents import article_documents
from index.model import Article, Bulletin
from index.store import IndexLocation, read_meta, write_meta
from webui import create_app
from webui.engine import close_engine

HIT_KEYS = {"id", "headline", "headline_html", "date", "year", "district", "column", "source", "series", "issue",
            "total_issue", "snippet", "score", "url"}
FACET_KEYS = {"value", "label", "count", "selected"}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Iterator:
    root = sample_index(tmp_path_factory)
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True})
    yield application
    close_engine(application)


@pytest.fixture
def client(api_app):
    return api_app.test_client()


def assert_error(response, status: int) -> str:
    """The one error shape of every API error: {"error": {"status": N, "message": "..."}}; returns the message."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]
    return body["error"]["message"]


def test_search_returns_the_results_contract(client) -> None:
    body = client.get("/api/search?q=志愿&size=5").get_json()
    assert list(body) == ["query", "total", "page", "size", "took_ms", "hits", "facets", "suggestions", "did_you_mean",
                          "corrected_from", "partial", "missing_shards"]
    assert body["total"] > 5 and body["page"] == 1 and body["size"] == 5 and len(body["hits"]) == 5
    assert all(set(hit) == HIT_KEYS for hit in body["hits"])
    assert any("<mark>" in hit["snippet"] + hit["headline_html"] for hit in body["hits"])
    assert set(body["facets"]) >= {"district", "year", "column"}
    assert all(set(item) == FACET_KEYS for items in body["facets"].values() for item in items)


def test_search_filters_and_facet_selection(client) -> None:
    everything = client.get("/api/search?q=志愿").get_json()
    district = everything["facets"]["district"][0]
    narrowed = client.get("/api/search", query_string={"q": "志愿", "district": district["value"]}).get_json()
    assert narrowed["total"] == district["count"] < everything["total"]
    assert all(hit["district"] == district["value"] for hit in narrowed["hits"])
    assert next(item for item in narrowed["facets"]["district"] if item["value"] == district["value"])["selected"]


def test_json_is_readable_utf8(client) -> None:
    assert "志愿".encode() in client.get("/api/search?q=志愿").get_data()


def test_article_bulletin_and_stats(client) -> None:
    hit = client.get("/api/search?q=志愿&size=1").get_json()["hits"][0]
    article = client.get(f"/api/article/{hit['id']}?q=志愿").get_json()
    assert article["id"] == hit["id"] and "<mark>志愿</mark>" in article["body_html"]
    assert article["bulletin"]["id"] and isinstance(article["siblings"], list)
    bulletin = client.get(f"/api/bulletin/{article['bulletin']['id']}").get_json()
    assert hit["id"] in [item["id"] for item in bulletin["articles"]]
    stats = client.get("/api/stats").get_json()
    assert stats["articles"] > 0 and stats["bulletins"] > 0 and stats["built_at"]


@pytest.mark.parametrize("url", ["/api/article/nope", "/api/bulletin/nope", "/api/nope", "/api/"])
def test_unknown_is_404(client, url: str) -> None:
    assert_error(client.get(url), 404)


@pytest.mark.parametrize("url", ["/api/search", "/api/stats", "/api/article/x"])
def test_wrong_method_is_405(client, url: str) -> None:
    assert_error(client.post(url), 405)


@pytest.mark.parametrize(("query", "status"), [
    ("page=-1", 400), ("page=abc", 400), ("page=0", 400), ("size=1000", 200), ("size=-5", 200),
    ("year=abc", 400), ("year=2020,abc", 400), ("month=0", 400), ("from=2020-01-01&to=2019-01-01", 400),
    ("from=2020-13-45", 400), ("district=不存在的区", 200), ("q=", 200), ("q=" + "文" * 10_000, 400), ("q=" + "文" * 500, 200),
    ("q=%00%01志愿%7f%1b", 200), ('q="志愿', 200), ("q=“志愿", 200), ("q=(((志愿", 200), ("q=标题:", 200),
    ("q=-志愿", 200), ("q=*?~^", 200), ("sort=bogus", 400), ("scope=everything", 400), ("synonyms=2", 400),
    ("page=99999", 400),
    ("page=500", 200),
])
def test_search_parameter_edge_cases(client, query: str, status: int) -> None:
    response = client.get("/api/search?" + query)
    if status == 200:
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["total"] >= 0 and 1 <= body["size"] <= 100
    else:
        assert_error(response, 400)


def test_size_is_clamped(client) -> None:
    assert client.get("/api/search?size=1000").get_json()["size"] == 100


def test_unknown_district_matches_nothing(client) -> None:
    assert client.get("/api/search?district=不存在的区").get_json()["total"] == 0


def test_no_index_is_503_in_the_error_shape(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    client = create_app({"INDEX": str(tmp_path / "empty")}).test_client()
    for url in ("/api/search?q=志愿", "/api/stats", "/api/article/x", "/api/bulletin/x"):
        assert "bulletins build" in assert_error(client.get(url), 503)


def test_index_built_with_other_dictionaries_is_503_saying_so(tmp_path: Path) -> None:
    location = IndexLocation(tmp_path / "index")
    generation = location.create_generation()
    writer = whoosh_index.open_dir(str(generation)).writer()
    for document in article_documents(Bulletin(file="a", articles=[Article(None, "标题", "正文。")]), "a", "h"):
        writer.add_document(**document)
    writer.commit()
    location.activate(generation)
    meta = read_meta(generation)
    meta.dictionary_hash = "0" * 16
    write_meta(generation, meta)
    client = create_app({"INDEX": str(tmp_path / "index")}).test_client()
    message = assert_error(client.get("/api/search?q=正文"), 503)
    assert "dictionaries" in message and "--full" in message
