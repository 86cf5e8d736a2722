#!/usr/bin/env python3
"""Benchmark of the SphinxQL backend against the embedded one on the bench corpus, on this one machine.

Usage:
    python scripts/cluster_benchmark.py [--corpus ../shared/corpus/bench] [--index DIR] [--scale N]
                                        [--queries 400] [--ranking 300] [--skip-idf] [--skip-failover]
                                        [--output FILE]

It builds the embedded index (or takes --index; with --scale N, of N copies of the corpus under new ids
and shifted dates, as scripts/benchmark.py makes them), starts real searchd clusters on free loopback ports in a
temporary folder, publishes the index to them and measures, in one run:

* publishing: a first publish of every article, and a republish with nothing changed;
* the search page (`Engine.search`, size 10: total, every facet, 10 highlighted hits) over the same seeded
  query mix as scripts/benchmark.py, on the embedded index and on a cluster of 2 shards with a mirror each
  (five searchd processes sharing the machine's cores with the engine), alternating the two per query;
  target: cluster p95 ≤ 2 × embedded p95;
* parity over the query mix: totals and facet counts (they must be identical);
* ranking: the top-3 rate of two-word headline queries on the embedded index and on clusters of 1 and of 2
  shards; the 1-shard cluster has the same ranker with whole-corpus IDF, so the difference between it and
  the 2-shard cluster is what per-shard IDF costs; also how often the top 10 of the two clusters agree;
* failover: the query mix while shard 0's primary is killed (searches that failed, answers that differed,
  the slowest search).

Figures are medians and percentiles from one run on a shared machine: compare the ratios.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchmark import (Latency, article_headlines, bulletin_files, fmt_ms, machine, markdown_table,  # noqa: E402
                       percentile, ranking_rates, read_texts, sample_queries, scaled_sources, searchable_texts,
                       versions)

SEED = 20261206
TARGET_RATIO = 2.0


def node_memory_mib(directory: Path) -> float:
    """Resident memory of every searchd of a cluster folder (daemons and their watchdogs), in MiB."""
    from search.sphinxql.cluster import load_cluster, node_pid

    total = 0
    for node in load_cluster(directory)[1]:
        pid = node_pid(node)
        if pid is None:
            continue
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def start(work: Path, name: str, shards: int, mirrors: int) -> Path:
    from search.sphinxql.cluster import free_base_port, init_cluster, start_cluster

    directory = work / name
    init_cluster(directory, shards, mirrors, free_base_port(1 + 2 * shards * (1 + mirrors)))
    start_cluster(directory)
    return directory


def timed_pages(engines: list[Any], queries: list[tuple[str, str]]) -> list[list[float]]:
    """Milliseconds of each engine's page per query, the engines' order alternating query by query."""
    from search.request import SearchRequest

    samples: list[list[float]] = [[] for _ in engines]
    for number, (_, query) in enumerate(queries):
        order = list(range(len(engines)))
        if number % 2:
            order.reverse()
        for which in order:
            request = SearchRequest.from_params({"q": query, "size": "10"})
            started = time.perf_counter()
            engines[which].search(request)
            samples[which].append((time.perf_counter() - started) * 1000)
    return samples


def parity(embedded: Any, clustered: Any, queries: list[tuple[str, str]]) -> list[str]:
    """The queries whose totals or facets differ between the two engines."""
    from search.request import SearchRequest

    differ = []
    for _, query in queries:
        request = SearchRequest.from_params({"q": query, "size": "10", "correct": "off"})
        left, right = embedded.search(request).to_dict(), clustered.search(request).to_dict()
        if (left["total"], left["facets"]) != (right["total"], right["facets"]) or right["partial"]:
            differ.append(query)
    return differ


def top_agreement(one: Any, two: Any, queries: list[tuple[str, str]]) -> tuple[float, float]:
    """Over the queries: the mean share of the top 10 two engines have in common, and how often the first
    result is the same."""
    from search.request import SearchRequest

    shares, firsts = [], []
    for _, query in queries:
        request = SearchRequest.from_params({"q": query, "size": "10", "correct": "off"})
        left = [hit.id for hit in one.search(request).hits]
        right = [hit.id for hit in two.search(request).hits]
        if left:
            shares.append(len(set(left) & set(right)) / len(left))
            firsts.append(left[0] == right[0])
    return statistics.mean(shares), statistics.mean(firsts)


def failover(clustered: Any, directory: Path, queries: list[tuple[str, str]]) -> dict[str, Any]:
    """Searches from two threads while shard 0's primary is killed: failures, wrong totals, slowest."""
    from search.request import SearchRequest
    from search.sphinxql.cluster import kill_node, start_node

    expected = {query: clustered.search(SearchRequest.from_params({"q": query, "correct": "off"})).total
                for _, query in queries}
    failures, wrong, times = [], [], []
    stop = threading.Event()

    def run(offset: int) -> None:
        number = offset
        while not stop.is_set():
            query = queries[number % len(queries)][1]
            number += 1
            started = time.perf_counter()
            try:
                result = clustered.search(SearchRequest.from_params({"q": query, "correct": "off"}))
            except Exception as error:  # noqa: BLE001 - counted, not raised: the figure is how many
                failures.append(repr(error))
                continue
            times.append((time.perf_counter() - started) * 1000)
            if result.total != expected[query] or result.partial:
                wrong.append(query)

    threads = [threading.Thread(target=run, args=(offset,)) for offset in (0, len(queries) // 2)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    kill_node(directory, 0, "primary")
    time.sleep(4.0)
    stop.set()
    for thread in threads:
        thread.join()
    start_node(directory, 0, "primary")
    return {"searches": len(times) + len(failures), "failed": len(failures), "wrong": len(wrong),
            "p95": percentile(times, 0.95), "max": max(times) if times else float("nan")}


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    from index.writer import build
    from search.engine import Engine
    from search.request import SearchRequest
    from search.sphinxql.cluster import load_cluster, stop_cluster
    from search.sphinxql.publish import publish
    from search.themes import Themes

    rng = random.Random(SEED)
    lines = ["# Cluster benchmark", "", f"Machine: {machine()}; {versions()}; searchd: Sphinx 2.2.11.",
             f"Command: `python scripts/cluster_benchmark.py {' '.join(argv)}`".rstrip() + ".", ""]
    texts, files = read_texts(options.corpus / "bulletins")
    queries = sample_queries(searchable_texts(texts), options.queries, rng)
    work = Path(tempfile.mkdtemp(prefix="cluster-benchmark-"))
    clusters: list[Path] = []
    try:
        index = options.index
        if index is None:
            index = work / "index"
            source = options.corpus / "bulletins"
            if options.scale > 1:
                source = scaled_sources(bulletin_files(options.corpus, 1), options.corpus, work, options.scale)
            started = time.perf_counter()
            build([source], index, full=True, progress=False, log=lambda message: None)
            lines.append(f"Embedded build of {files * options.scale:,} bulletins ({options.scale}× the corpus): "
                         f"{time.perf_counter() - started:.1f} s.")
        mirrored = start(work, "two-shards", 2, 1)
        clusters.append(mirrored)
        backend = str(load_cluster(mirrored)[0].address)
        started = time.perf_counter()
        report = publish(index, backend, Themes())
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = publish(index, backend, Themes())
        republish = time.perf_counter() - started
        one_shard = None
        if not options.skip_idf:
            single = start(work, "one-shard", 1, 0)
            clusters.append(single)
            publish(index, str(load_cluster(single)[0].address), Themes())
            one_shard = Engine(index, backend=str(load_cluster(single)[0].address))
        lines += [f"Publish of {report.documents:,} articles to 2 shards × 2 copies: {first:.1f} s; "
                  f"again with nothing changed: {republish:.1f} s (generation {again.generation}, "
                  f"unchanged: {again.generation == report.generation}).",
                  f"searchd memory, 2 shards × 2 copies + coordinator: {node_memory_mib(mirrored):.0f} MiB.", ""]

        embedded = Engine(index)
        clustered = Engine(index, backend=backend)
        engines = [engine for engine in (embedded, clustered, one_shard) if engine is not None]
        for engine in engines:
            for _, query in queries[:20]:
                engine.search(SearchRequest(q=query))
        pages = timed_pages([embedded, clustered], queries)
        left, right = Latency.of(pages[0]), Latency.of(pages[1])
        ratio = right.p95 / left.p95
        lines += ["## Search page (Engine.search, size 10, every facet)", "",
                  markdown_table(["backend", "n", "p50 ms", "p95 ms", "max ms"],
                                 [["embedded", left.count, fmt_ms(left.p50), fmt_ms(left.p95), fmt_ms(left.max)],
                                  ["cluster, 2 shards × 2 copies", right.count, fmt_ms(right.p50),
                                   fmt_ms(right.p95), fmt_ms(right.max)]]), "",
                  f"p95 ratio cluster / embedded: {ratio:.2f} (target ≤ {TARGET_RATIO:.0f}: "
                  f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}); "
                  f"p50 ratio: {right.p50 / left.p50:.2f}.", ""]

        differ = parity(embedded, clustered, queries)
        lines += ["## Parity", "", f"Totals and facet counts identical for {len(queries) - len(differ)} of "
                  f"{len(queries)} queries" + (f"; differing: {differ[:10]}" if differ else "") + ".", ""]

        if one_shard is not None:
            headlines = article_headlines(embedded)
            rows = []
            for name, engine in (("embedded (BM25F)", embedded), ("cluster, 1 shard", one_shard),
                                 ("cluster, 2 shards", clustered)):
                every, clear, count = ranking_rates(engine, headlines, random.Random(SEED), options.ranking)
                rows.append([name, f"{every:.1%}", f"{clear:.1%} of {count}"])
            shared, same_first = top_agreement(one_shard, clustered, queries)
            lines += ["## Ranking and per-shard IDF", "",
                      markdown_table(["engine", "known item in top 3", "unambiguous ones"], rows), "",
                      f"1 shard against 2 shards (only IDF differs: per shard on 2): top 10 in common "
                      f"{shared:.1%} on average, same first result for {same_first:.1%} of the queries.", ""]
        if not options.skip_failover:
            outcome = failover(clustered, mirrored, queries)
            lines += ["## Failover", "", f"Two threads searching while shard 0's primary is killed (kill -9): "
                      f"{outcome['searches']} searches, {outcome['failed']} failed, {outcome['wrong']} with "
                      f"another total or partial; p95 {fmt_ms(outcome['p95'])}, slowest {fmt_ms(outcome['max'])}.",
                      ""]
        for engine in engines:
            engine.close()
    finally:
        for directory in clusters:
            stop_cluster(directory)
        shutil.rmtree(work, ignore_errors=True)
    report_text = "\n".join(lines)
    print(report_text)
    if options.output:
        Path(options.output).write_text(report_text + "\n", encoding="utf-8")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "bench")
    parser.add_argument("--index", type=Path, default=None, help="Use this built index instead of building one.")
    parser.add_argument("--scale", type=int, default=1, help="Build N copies of the corpus (without --index).")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--skip-idf", action="store_true", help="No 1-shard cluster (ranking and IDF part).")
    parser.add_argument("--skip-failover", action="store_true", help="No failover run.")
    parser.add_argument("--ranking", type=int, default=300, help="Known-item queries per engine.")
    parser.add_argument("--output", default=None, help="Also write the report to this file.")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
