#!/usr/bin/env python3
"""Benchmark of the staff workflows on the bench corpus: theme facet, district × year matrix, related articles,
Atom feed and 汇编 export.

Usage:
    python scripts/workflow_benchmark.py [--index DIR | --corpus ../shared/corpus/bench] [--queries 300]
                                         [--articles 300] [--seed 7] [--output FILE]

Without --index it builds the corpus into a temporary folder first (a full build, as `bulletins build`).
Times are in-process around the engine or Flask test-client call, each path warmed first; the machines
are shared and noisy, so it reports medians and 95th percentiles:

* theme membership: computing it for a snapshot (once per generation and theme-table version);
* the search page (`Engine.search`, size 10) over a seeded query mix, with the bundled theme table and with
  an empty one, and with the district × year matrix; the differences are what the theme facet and the
  matrix add to a search;
* related articles (`search.related.related_documents`) for random articles, and the article call as a whole;
  and the issue's target: for random articles whose headline's two rarest words (document frequency over
  the corpus, words of two or more characters) both occur in other headlines, the share of those other
  articles (exact duplicates aside; at most 8 of them) among the first 8 related, as
  tests/test_workflows_bench.py measures it on a sample;
* theme tagging compared with a plain substring scan over every article;
* `/feed.atom` and `/export.docx` (all results, up to 500 articles) through the Flask test client.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from index.analysis import word_terms  # noqa: E402
from index.normalize import is_cjk, normalize  # noqa: E402
from index.writer import build  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.related import LIMIT, related_documents  # noqa: E402
from search.request import SearchRequest  # noqa: E402
from search.themes import BUNDLED, Themes  # noqa: E402

COMMON = ["发展", "工作", "志愿服务", "文明", "疫情防控", "垃圾分类", "冬奥", "社区", "乡村振兴", "习近平"]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(call: Callable[[], object], repeat: int = 1) -> list[float]:
    """Milliseconds of each of `repeat` calls."""
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        found.append((time.perf_counter() - started) * 1000)
    return found


def query_mix(engine: Engine, count: int, rng: random.Random) -> list[str]:
    """Random CJK substrings (1-4 characters) of random headlines and bodies, and a few common words."""
    articles = engine.collect(SearchRequest(sort="date"), 10**6)[1]
    queries = list(COMMON)
    while len(queries) < count:
        text = rng.choice(articles)[rng.choice(("headline", "body"))]
        start = rng.randrange(max(1, len(text)))
        size = rng.randint(1, 4)
        piece = text[start:start + size]
        if piece and all(is_cjk(char) for char in piece):
            queries.append(piece)
    return queries


def pages(engine: Engine, queries: list[str], **options: object) -> list[float]:
    for q in queries[:20]:
        engine.search(SearchRequest(q=q, size=10, **options))
    return [timed(lambda q=q: engine.search(SearchRequest(q=q, size=10, **options)))[0] for q in queries]


def theme_disagreements(engine: Engine, articles: list[dict]) -> int:
    """Articles whose themes differ from a substring scan of their normalised headline and body."""
    table = engine.themes.table()
    tagged: dict[str, set[str]] = {article["id"]: set() for article in articles}
    for theme in table.themes:
        for member in engine.collect(SearchRequest(themes=[theme.name]), 10**6)[1]:
            tagged[member["id"]].add(theme.name)
    wrong = 0
    for article in articles:
        headline, body = normalize(article["headline"]), normalize(article["body"])
        expected = {theme.name for theme in table.themes if any(term in headline or term in body for term in theme.terms)}
        wrong += expected != tagged[article["id"]]
    return wrong


def related_target(engine: Engine, articles: list[dict], count: int, rng: random.Random) -> tuple[int, int]:
    """(found, cases) of the related-articles target over `count` random articles (see the docstring)."""
    frequency: Counter[str] = Counter()
    headline_words: dict[str, set[str]] = {}
    for article in articles:
        frequency.update(set(word_terms(article["headline"])) | set(word_terms(article["body"])))
        headline_words[article["id"]] = {word for word in word_terms(article["headline"])
                                         if len(word) >= 2 and any(char.isalpha() for char in word)}
    having: defaultdict[str, set[str]] = defaultdict(set)
    for key, words in headline_words.items():
        for word in words:
            having[word].add(key)
    fingerprint = {article["id"]: "".join(article["headline"].split()) + "\n" + "".join(article["body"].split())
                   for article in articles}
    found = cases = 0
    for article in rng.sample(articles, min(count, len(articles))):
        rarest = sorted(headline_words[article["id"]], key=lambda word: (frequency[word], word))[:2]
        if len(rarest) < 2:
            continue
        sharers = [key for key in having[rarest[0]] & having[rarest[1]]
                   if key != article["id"] and fingerprint[key] != fingerprint[article["id"]]]
        if not sharers or len(sharers) > LIMIT:
            continue
        related = {item["id"] for item in engine.article(article["id"])["related"]}
        cases += len(sharers)
        found += sum(sharer in related for sharer in sharers)
    return found, cases


def row(name: str, samples: list[float]) -> str:
    return (f"| {name} | {statistics.median(samples):.2f} | {percentile(samples, 0.95):.2f} | {max(samples):.2f} | "
            f"{len(samples)} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an index of the corpus, already built")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "bench")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--target-articles", type=int, default=3000,
                        help="random articles tried for the related-articles target")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path)
    options = parser.parse_args(argv)
    rng = random.Random(options.seed)
    lines = ["# Staff workflows on the bench corpus", ""]
    with tempfile.TemporaryDirectory(prefix="workflows-") as work:
        root = options.index
        if root is None:
            root = Path(work) / "index"
            started = time.perf_counter()
            build([options.corpus / "bulletins"], root, full=True, progress=False, log=lambda message: None)
            lines.append(f"Full build of {options.corpus}: {time.perf_counter() - started:.1f} s")
        empty = Path(work) / "empty.csv"
        empty.write_text("主题,关键词,同义词\n", encoding="utf-8")
        themed = Engine(root, themes=Themes(BUNDLED))
        plain = Engine(root, themes=Themes(empty))
        with themed._use() as view:
            membership = timed(view.membership)[0]
            articles = view.live_count
        table = themed.themes.table()
        terms = sum(len(theme.terms) for theme in table.themes)
        lines += [f"Index: {root} ({articles:,} articles); theme table: {len(table.themes)} themes, {terms} terms.",
                  "", f"Theme membership of a snapshot (once per generation and table version): {membership:.0f} ms",
                  "", "| what (ms) | median | p95 | max | n |", "|---|---|---|---|---|"]
        queries = query_mix(themed, options.queries, rng)
        without = pages(plain, queries)
        with_themes = pages(themed, queries)
        with_matrix = pages(themed, queries, matrix=True)
        lines += [row("search page, no theme table", without), row("search page, bundled theme table", with_themes),
                  row("search page with themes and matrix=1", with_matrix)]
        overhead = [b - a for a, b in zip(without, with_themes)]
        matrix_overhead = [b - a for a, b in zip(with_themes, with_matrix)]
        ids = [article["id"] for article in rng.sample(themed.collect(SearchRequest(), 10**6)[1], options.articles)]
        related: list[float] = []
        with themed._use() as view:
            snapshot = view.snapshot
            for article_id in ids[:10]:
                related_documents(snapshot, snapshot.docnum_of(article_id))
            for article_id in ids:
                docnum = snapshot.docnum_of(article_id)
                related += timed(lambda docnum=docnum: related_documents(snapshot, docnum))
        article_calls = [timed(lambda article_id=article_id: themed.article(article_id))[0] for article_id in ids]
        lines += [row("related articles (8)", related), row("article with related (Engine.article)", article_calls)]

        from webui import create_app
        from webui.engine import close_engine

        app = create_app({"INDEX": str(root), "TESTING": True})
        client = app.test_client()
        feed_queries = COMMON[:5]
        for q in feed_queries:
            client.get("/feed.atom", query_string={"q": q})
        feeds = [timed(lambda q=q: client.get("/feed.atom", query_string={"q": q}).get_data())[0]
                 for q in feed_queries * 4]
        exports = [timed(lambda q=q: client.get("/export.docx", query_string={"q": q}).get_data())[0]
                   for q in feed_queries]
        close_engine(app)
        lines += [row("/feed.atom (50 newest)", feeds), row("/export.docx (all results, up to 500)", exports), "",
                  f"Theme facet overhead per search: median {statistics.median(overhead):.2f} ms, "
                  f"p95 {percentile(overhead, 0.95):.2f} ms; matrix=1 adds median "
                  f"{statistics.median(matrix_overhead):.2f} ms."]
        everything = themed.collect(SearchRequest(sort="date"), 10**6)[1]
        wrong = theme_disagreements(themed, everything)
        lines.append(f"Theme tagging against a substring scan: {wrong} of {len(everything):,} articles disagree "
                     f"({len(table.themes)} themes).")
        found, cases = related_target(themed, everything, options.target_articles, rng)
        lines.append(f"Related articles: {found}/{cases} = {found / max(cases, 1):.1%} of the articles sharing a "
                     f"headline's two rarest words are among the first {LIMIT} related (target 80 %).")
        themed.close()
        plain.close()
    report = "\n".join(lines)
    print(report)
    if options.output:
        options.output.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
