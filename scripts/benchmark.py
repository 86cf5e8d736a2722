#!/usr/bin/env python3
"""Benchmark on the bench corpus: parse, build, exact recall, ranking, query latency, memory.

Usage: python scripts/benchmark.py [--corpus ../shared/corpus/bench] [--queries 400] [--baseline]

Times are medians of repeated runs and compared as ratios within one run (shared, noisy machines).
With --baseline it also builds the tutorial setup (jieba.analyse.ChineseAnalyzer in one Whoosh field)
and reports its recall on the same queries.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.analysis import word_terms  # noqa: E402
from index.dictionary import get_tokenizer  # noqa: E402
from index.normalize import is_cjk, normalize  # noqa: E402
from index.parser import parse_file  # noqa: E402
from index.writer import build  # noqa: E402
from search.engine import Engine  # noqa: E402
from search.request import SearchRequest  # noqa: E402


def machine() -> str:
    """One line naming the machine: CPU model, cores, memory, Python."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def resident_mib() -> float:
    """This process's current resident memory (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def median_ms(function, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        _, seconds = timed(function)
        samples.append(seconds * 1000)
    return statistics.median(samples)


def texts_of(corpus: Path) -> list[tuple[str, str]]:
    """(normalised headline, normalised body) of every parsed article."""
    articles = []
    for path in sorted((corpus / "bulletins").rglob("*.txt")):
        for article in parse_file(path).articles:
            articles.append((normalize(article.headline), normalize(article.body)))
    return articles


def sample_queries(articles, count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs: substrings of 1-6 CJK characters, two-term ANDs and quoted phrases."""
    def substring(low: int, high: int) -> str:
        while True:
            body = rng.choice(articles)[1]
            size = rng.randint(low, high)
            start = rng.randrange(max(1, len(body) - size))
            piece = body[start:start + size]
            if len(piece) == size and all(is_cjk(c) for c in piece):
                return piece
    queries = [("substring", substring(1, 6)) for _ in range(count // 2)]
    queries += [("two terms", f"{substring(2, 3)} {substring(2, 3)}") for _ in range(count // 4)]
    queries += [("phrase", f'"{substring(4, 8)}"') for _ in range(count // 4)]
    return queries


def brute_force(articles, query: str) -> int:
    terms = [t.strip('"') for t in query.split()]
    return sum(all(t in h or t in b for t in terms) for h, b in articles)


def ranking_rates(engine: Engine, headlines: dict[str, str], rng: random.Random,
                  count: int) -> tuple[float, float, int]:
    """Top-3 rate of two-word headline queries: over all of them, and over the unambiguous ones.

    A query is unambiguous when at most three headlines of the corpus contain both words; otherwise
    the query itself cannot single out its article (the bench corpus has 92 articles headed
    李强主持召开国务院常务会议, for one).
    """
    ids = sorted(headlines)
    normalised = [normalize(headline) for headline in headlines.values()]
    hits = clear = clear_hits = tried = 0
    while tried < count:
        article_id = rng.choice(ids)
        words = sorted({w for w in word_terms(headlines[article_id]) if len(w) >= 2})
        if len(words) < 2:
            continue
        tried += 1
        pair = rng.sample(words, 2)
        top = engine.search(SearchRequest.from_params({"q": " ".join(pair), "size": "3"})).to_dict()
        found = any(hit["id"] == article_id for hit in top["hits"])
        hits += found
        if sum(all(normalize(word) in headline for word in pair) for headline in normalised) <= 3:
            clear += 1
            clear_hits += found
    return hits / count, clear_hits / max(clear, 1), clear


def baseline_recall(corpus: Path, queries, articles, folder: Path) -> tuple[float, float]:
    """Build the tutorial index (jieba's ChineseAnalyzer) and return (build seconds, mean recall)."""
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index as whoosh_index
    from whoosh.fields import TEXT, Schema
    from whoosh.qparser import QueryParser

    schema = Schema(content=TEXT(analyzer=ChineseAnalyzer(), stored=False))
    folder.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(folder), schema)
    start = time.perf_counter()
    writer = ix.writer()
    for headline, body in articles:
        writer.add_document(content=f"{headline}\n{body}")
    writer.commit()
    seconds = time.perf_counter() - start
    recalls = []
    with ix.searcher() as searcher:
        parser = QueryParser("content", schema)
        for _, query in queries:
            expected = brute_force(articles, query)
            if expected:
                found = len(searcher.search(parser.parse(query), limit=None))
                recalls.append(min(found, expected) / expected)
    return seconds, statistics.mean(recalls)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "bench")
    options.add_argument("--queries", type=int, default=400)
    options.add_argument("--ranking", type=int, default=500)
    options.add_argument("--baseline", action="store_true")
    args = options.parse_args()
    rng = random.Random(2147)
    print(f"machine: {machine()}")

    articles, parse_seconds = timed(texts_of, args.corpus)
    chars = sum(len(h) + len(b) for h, b in articles)
    print(f"parse: {len(articles)} articles, {chars:,} chars in {parse_seconds:.1f} s")

    text = "\n".join(b for _, b in articles)
    get_tokenizer()
    _, jieba_seconds = timed(lambda: sum(1 for _ in get_tokenizer().cut(text)))
    print(f"jieba floor (one core): {jieba_seconds:.1f} s = {chars / jieba_seconds:,.0f} chars/s")

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "index"
        report, build_seconds = timed(build, [args.corpus / "bulletins"], root, full=True, progress=False)
        print(f"full build: {build_seconds:.1f} s ({build_seconds / jieba_seconds:.2f}x the jieba floor), "
              f"{report.articles} articles, {len(report.skipped)} files skipped")
        _, noop_seconds = timed(build, [args.corpus / "bulletins"], root, progress=False)
        print(f"incremental build with nothing changed: {noop_seconds:.1f} s")

        gc.collect()
        rss_before = resident_mib()
        engine = Engine(root)
        engine.search(SearchRequest.from_params({"q": "文明"}))
        print(f"open index + first search: resident memory grew {resident_mib() - rss_before:.0f} MiB")

        queries = sample_queries(articles, args.queries, rng)
        mismatches = []
        for kind, query in queries:
            total = engine.search(SearchRequest.from_params({"q": query, "synonyms": "off", "size": "10"})).total
            expected = brute_force(articles, query)
            if total != expected:
                mismatches.append((kind, query, total, expected))
        print(f"exact recall: {len(queries) - len(mismatches)}/{len(queries)} queries with total == brute force")
        for mismatch in mismatches[:10]:
            print("  mismatch:", mismatch)

        by_id = {}
        for hit in engine.export(SearchRequest.from_params({"q": ""})):
            by_id[hit["id"]] = hit["headline"]
        overall, unambiguous, clear = ranking_rates(engine, by_id, rng, args.ranking)
        print(f"ranking: article in the top 3 for {overall:.1%} of {args.ranking} two-word headline queries; "
              f"{unambiguous:.1%} of the {clear} whose two words occur together in at most 3 headlines")

        cases = {"one character 文": "文", "word 文明": "文明", "non-word 好经": "好经",
                 'phrase "高质量发展"': '"高质量发展"', "two terms 志愿 服务": "志愿 服务",
                 "broad 的 (most of the corpus)": "的", "browse (empty query)": ""}
        print("latency, median of 5 (ms), page of 20 with facets and snippets:")
        for label, query in cases.items():
            request = SearchRequest.from_params({"q": query})
            total = engine.search(request).total
            print(f"  {label:32s} {median_ms(lambda: engine.search(request)):8.1f} ms  ({total} hits)")
        engine.close()

        if args.baseline:
            seconds, recall = baseline_recall(args.corpus, queries, articles, Path(folder) / "tutorial")
            print(f"tutorial baseline (jieba ChineseAnalyzer): build {seconds:.1f} s, mean recall {recall:.2f} "
                  f"on the same queries (ours: {1 - len(mismatches) / len(queries):.2f} exact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
