"""Related articles: more-like-this over distinctive words, without the article itself or exact duplicates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_webui import links_of, page, sample_index
from workflow_corpus import SORTING, build_workflow_index

from index.documents import article_id, bulletin_id
from search.engine import Engine
from search.related import LIMIT, distinctive_words
from search.request import SearchRequest
from webui import create_app
from webui.engine import close_engine

ORIGINAL = article_id(bulletin_id("w1"), 0)
DUPLICATE = article_id(bulletin_id("w3"), 0)
SORTING_ELSEWHERE = {article_id(bulletin_id("w2"), 2), article_id(bulletin_id("w3"), 1)}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, on_backend) -> Iterator[Engine]:
    root = build_workflow_index(tmp_path_factory.mktemp("workflow"))
    engine = Engine(root, backend=on_backend(root))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(sample_index(tmp_path_factory))
    yield engine
    engine.close()


def test_related_excludes_the_article_and_its_exact_duplicate(engine: Engine) -> None:
    for own, copy in ((ORIGINAL, DUPLICATE), (DUPLICATE, ORIGINAL)):
        related = engine.article(own)["related"]
        ids = [item["id"] for item in related]
        assert own not in ids and copy not in ids
        assert ids[0] in SORTING_ELSEWHERE and SORTING_ELSEWHERE <= set(ids[:3])
        assert all(set(item) == {"id", "headline", "date", "district", "url"} for item in related)
        dongcheng = next(item for item in related if item["headline"] == "东城区垃圾分类示范小区验收")
        assert dongcheng["district"] == "东城区" and dongcheng["date"] == "2021-06-01"


def test_distinctive_words_leave_out_single_characters_numbers_and_unique_words(engine: Engine) -> None:
    with engine._use() as view:
        words = distinctive_words(view.word_frequencies, view.live_count, *SORTING)
    names = [word for word, _, _ in words]
    assert "垃圾分类" in names[:5] and "淀区" not in names
    assert all(len(word) >= 2 for word in names)
    assert all(frequency >= 2 for _, _, frequency in words)
    assert [weight for _, weight, _ in words] == sorted((weight for _, weight, _ in words), reverse=True)


def test_sample_related_lists_are_short_distinct_and_never_the_article(sample_engine: Engine) -> None:
    articles = sample_engine.collect(SearchRequest(sort="date"), 40)[1]
    sizes = []
    for article in articles:
        related = sample_engine.article(article["id"])["related"]
        ids = [item["id"] for item in related]
        assert article["id"] not in ids and len(ids) == len(set(ids)) <= LIMIT
        texts = {(other["headline"], other["body"]) for other in sample_engine.articles(ids)}
        assert len(texts) == len(ids) and (article["headline"], article["body"]) not in texts
        sizes.append(len(ids))
    assert sum(size == LIMIT for size in sizes) > len(sizes) / 2


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, on_backend):
    root = sample_index(tmp_path_factory)
    application = create_app({"INDEX": str(root), "BACKEND": on_backend(root), "TESTING": True})
    yield application.test_client()
    close_engine(application)


def test_api_and_article_page_show_related(client) -> None:
    hit = client.get("/api/search?q=志愿&size=1").get_json()["hits"][0]
    article = client.get(f"/api/article/{hit['id']}").get_json()
    assert 0 < len(article["related"]) <= LIMIT
    text = page(client, f"/article/{hit['id']}")
    assert "相关文章" in text
    related_urls = [item["url"] for item in article["related"]]
    assert {href for href, _ in links_of(text).links} >= set(related_urls)
    page(client, related_urls[0])
