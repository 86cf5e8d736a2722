"""/feed.atom: a valid Atom 1.0 feed (RFC 4287) of a search's newest 50 matches, read with feedparser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import feedparser
import pytest
from test_webui import links_of, page, sample_index
from workflow_corpus import WORKFLOW, build_workflow_index

from webui import create_app
from webui.engine import close_engine
from webui.views import FEED_SIZE

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, on_backend):
    root = sample_index(tmp_path_factory)
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True})
    yield application.test_client()
    close_engine(application)


@pytest.fixture(scope="module")
def workflow_client(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Iterator:
    root: Path = build_workflow_index(tmp_path_factory.mktemp("workflow"))
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True})
    yield application.test_client()
    close_engine(application)


def fetch(client, url: str, base: str = "http://localhost/"):
    response = client.get(url, base_url=base)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    return response.get_data()


def test_feed_parses_as_atom_with_the_newest_matches(client) -> None:
    total = client.get("/api/search?q=志愿").get_json()["total"]
    newest = client.get("/api/search?q=志愿&sort=date&size=50").get_json()["hits"]
    parsed = feedparser.parse(fetch(client, "/feed.atom?q=志愿&page=3&sort=relevance"))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert len(parsed.entries) == min(FEED_SIZE, total) and total > FEED_SIZE
    assert [entry.link for entry in parsed.entries] == [f"http://localhost/article/{hit['id']}" for hit in newest]
    assert parsed.feed.id.startswith("urn:uuid:") and "志愿" in parsed.feed.title
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"].startswith("http://localhost/feed.atom?q=") and "page=" not in links["self"]
    assert links["alternate"].startswith("http://localhost/search?q=") and "sort=date" in links["alternate"]
    updated = [entry.updated_parsed for entry in parsed.entries]
    assert updated == sorted(updated, reverse=True) and parsed.feed.updated_parsed == updated[0]
    assert len({entry.id for entry in parsed.entries}) == len(parsed.entries)
    first = parsed.entries[0]
    assert first.title == newest[0]["headline"]
    assert first.content[0].type == "text/html" and "<p>" in first.content[0].value
    assert newest[0]["date"] in first.summary


def test_rfc4287_required_elements(client) -> None:
    root = ET.fromstring(fetch(client, "/feed.atom?q=志愿"))
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "content", "author"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href").startswith("http://")


def test_ids_do_not_depend_on_the_host(client) -> None:
    here = feedparser.parse(fetch(client, "/feed.atom?q=志愿"))
    there = feedparser.parse(fetch(client, "/feed.atom?q=志愿", "https://bulletins.example.org/"))
    assert here.feed.id == there.feed.id
    assert [entry.id for entry in here.entries] == [entry.id for entry in there.entries]
    assert there.entries[0].link.startswith("https://bulletins.example.org/article/")
    other = feedparser.parse(fetch(client, "/feed.atom?q=社区"))
    assert other.feed.id != here.feed.id


def test_markup_in_text_is_escaped(workflow_client) -> None:
    raw = fetch(workflow_client, "/feed.atom?q=斑马线")
    assert "&lt;行动&gt; &amp; 文明交通".encode() in raw and b"<b>" not in raw
    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0
    titles = {entry.title for entry in parsed.entries}
    assert WORKFLOW["w2"].articles[1].headline in titles
    content = next(entry.content[0].value for entry in parsed.entries if "行动" in entry.title)
    assert "&lt;b&gt;不闯红灯&lt;/b&gt;" in content


def test_filters_apply_and_an_empty_feed_is_still_valid(workflow_client) -> None:
    parsed = feedparser.parse(fetch(workflow_client, "/feed.atom?theme=no-such-theme"))
    assert parsed.bozo == 0 and parsed.entries == [] and parsed.feed.updated_parsed
    haidian = feedparser.parse(fetch(workflow_client, "/feed.atom?district=海淀区"))
    assert len(haidian.entries) == 3
    assert all(entry.tags[0].term == "海淀区" for entry in haidian.entries)
    undated = feedparser.parse(fetch(workflow_client, "/feed.atom?district=丰台区"))
    assert undated.entries[0].updated_parsed


def test_results_pages_link_the_feed(client) -> None:
    for url in ("/search?q=志愿&district=东城区", "/search?q=完全不存在的词语组合"):
        text = page(client, url)
        assert '<link rel="alternate" type="application/atom+xml" title="订阅本检索"' in text
        feed_link = next(href for href, label in links_of(text).links if label == "订阅本检索")
        assert feed_link.startswith("/feed.atom?q=")
        assert client.get(feed_link).status_code == 200


def test_bad_parameters_are_a_400(client) -> None:
    assert client.get("/feed.atom?page=abc").status_code == 400
