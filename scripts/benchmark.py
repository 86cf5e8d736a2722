#!/usr/bin/env python3
"""Benchmark of the product against its peers on the bench corpus: build, search pages, HTTP, incremental.

Usage:
    python scripts/benchmark.py [--corpus ../shared/corpus/bench] [--queries 400] [--scale N [N ...]]
                                [--http-seconds 10] [--skip-peers] [--skip-http] [--sample K]
                                [--ranking 500] [--workers N] [--output FILE]

What it measures, in one run on one machine (the machines are shared and noisy, so the figures that matter
are ratios within the run):

* Builds, each in a child process (time, throughput, index size on disk, peak memory): the product
  (`index.writer.build(..., full=True)`, two analysis processes), "the tutorial setup" (jieba's
  ChineseAnalyzer + Whoosh, one process, `limitmb=256`) and tantivy over `jieba.cut_for_search` text.
  Every peer reads and parses the files with `index.parser.parse_file`, inside its timed build.
* The search page over a seeded mix of queries (random CJK substrings of 1-6 characters, two-term ANDs,
  quoted phrases, very common words), timed in-process around the engine call, each engine warmed first.
  The product page is `Engine.search` with size 10 (exact total, district/year/column facets, 10
  highlighted hits); the peers' pages are top 10 + year facet counts + highlighted headline and body.
* Correctness of the product: every total equals a brute-force count over the parsed texts, every
  `<mark>` of a single-term query equals the query, and the top-3 rate of two-word headline queries.
* Broad queries (median of 3), HTTP throughput and latency at 1, 4 and 16 client processes against
  `bulletins serve`, the server's memory, and the time from starting the nightly incremental build to a
  new bulletin being searchable through the running server.
* With --scale N [N ...], the product again over N copies of the corpus under new ids and shifted dates,
  for each N (targets apply up to 5×; larger scales are measured to find where one machine stops).

It ends with a markdown report (machine, versions, command line, detail tables, then one table of the
targets with met / NOT met); --output also writes that report to a file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.client
import importlib.metadata
import json
import multiprocessing
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "bench"
#: Seed of every random choice (queries, markers, ranking), so two runs ask the same questions.
SEED = 2147
#: Very common words of the query mix (each also a broad query for the engines).
COMMON_WORDS = ("的", "中", "发展", "工作", "习近平", "文明", "社区", "建设", "服务", "群众", "人民", "北京",
                "志愿", "推进", "国家", "经济", "活动", "文化", "城市", "创新")
#: Share of the query mix that is common words (each word at most once); the rest is 1/2 substrings,
#: 1/4 two terms, 1/4 phrases.
COMMON_SHARE = 0.1
QUERY_KINDS = ("substring", "two terms", "phrase", "common")
#: Queries every engine answers before it is timed (none of them is in the mix, so a result cache cannot
#: flatter the timed queries).
WARMUP_QUERIES = ("简报", "首都 精神", '"精神文明建设"', "城", "街道", "好经")
#: Broad queries of the product (label, query text); the empty query is browse mode.
BROAD_QUERIES = (("的", "的"), ("中", "中"), ("发展", "发展"), ("习近平", "习近平"),
                 ('"高质量发展"', '"高质量发展"'), ("browse (empty query)", ""))
BROAD_REPEAT = 3
#: Ordinary queries the HTTP clients send to /search, in turn.
HTTP_QUERIES = ("文明", "志愿服务", "垃圾分类", "社区", "文化", "交通", "教育", "环境", "创建", "乡村振兴",
                "疫情防控", "城市", "青年", "养老", "科技创新", "精神文明", "生态", "非遗")
HTTP_LEVELS = (1, 4, 16)
HTTP_WARMUP_REQUESTS = 20
#: Seconds to wait for `bulletins serve` to answer, and for the incremental build to become searchable.
SERVER_START_TIMEOUT = 300.0
INCREMENTAL_TIMEOUT = 600.0
#: How long a server may take to show a finished incremental build before it counts as not searchable.
INCREMENTAL_GRACE = 30.0
POLL_SECONDS = 0.05
#: Build memory is sampled this often (sum of VmRSS over the build's processes).
MEMORY_SAMPLE_SECONDS = 0.1
#: Copies k >= 1 of a scaled corpus move their dates back by this many years times k.
SCALE_YEAR_SHIFT = 20
#: Header date line of a bulletin, e.g. `2015 年 1 月 3 日`.
HEADER_DATE_RE = re.compile(r"(\d{4})(\s*年\s*)(\d{1,2})(\s*月\s*)(\d{1,2})(\s*日)")
HEADER_LINES = 20
#: File name of a bench bulletin: `YYYY-MM-DD_第N期.txt`.
FILE_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
MARKER_LENGTH = 6
MARK_RE = re.compile(r"<mark\b[^>]*>(.*?)</mark>", re.DOTALL)
TAG_RE = re.compile(r"<[^>]+>")
MIB = 2 ** 20
#: The scaled targets (page p95, build time, server memory) are set for up to 5 copies; larger scales are
#: measured to find where one machine stops.
TARGET_MAX_SCALE = 5

# Target rows of the final table (the smoke test looks for these labels).
T_THROUGHPUT = "build throughput ≥ 2× tutorial"
T_INDEX_SIZE = "index size ≤ 4× text"
T_P95_VS_TUTORIAL = "page p95 ≤ 0.25× tutorial p95"
T_P50 = "page p50 < 10 ms"
T_BROAD = "broad queries each ≤ 100 ms"
T_RPS = "HTTP rps(4) ≥ 1.7× rps(1)"
T_ERRORS = "HTTP 0 errors at 16 clients"
T_RSS_1X = "server RSS ≤ 400 MB at 1×"
T_RSS_SCALED = "server RSS ≤ 1.5 GB at N×"
T_INCREMENTAL = "incremental: searchable ≤ 5 s"
T_RECALL = "exact recall: total = brute force"
T_MARKS = "marks equal the query (single terms)"
T_P95_SCALED = "page p95(N×) ≤ 3× p95(1×)"
T_BUILD_SCALED = "build time(N×) ≤ 1.1·N × build time(1×)"
T_ASSIST = "query assistance: extra page p95 ≤ 5 ms"
T_SUGGEST = "suggest p95 < 10 ms"
T_VOCABULARY = "vocabulary ≤ 10% of the build"
TARGET_LABELS = (T_THROUGHPUT, T_INDEX_SIZE, T_P95_VS_TUTORIAL, T_P50, T_BROAD, T_RPS, T_ERRORS, T_RSS_1X,
                 T_RSS_SCALED, T_INCREMENTAL, T_RECALL, T_MARKS, T_P95_SCALED, T_BUILD_SCALED, T_ASSIST,
                 T_SUGGEST, T_VOCABULARY)
#: Assisted queries (two headline words in pinyin, or with one homophone typo) timed per run.
ASSIST_QUERIES = 100


# ---------------------------------------------------------------- small helpers


def say(message: str = "") -> None:
    """Print a progress line at once (the run takes minutes)."""
    print(message, flush=True)


def percentile(samples: list[float], share: float) -> float:
    """The `share` quantile of `samples` with linear interpolation (numpy's default); nan when empty."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Latency:
    """p50 / p95 / max of a list of milliseconds."""

    count: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        return cls(len(samples), percentile(samples, 0.5), percentile(samples, 0.95),
                   max(samples) if samples else float("nan"))


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A markdown table of `rows` under `headers`."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def fmt_ratio(value: float) -> str:
    """A ratio with two decimals, or two significant digits when it is below 0.1."""
    return f"{value:.2f}×" if value >= 0.1 else f"{value:.2g}×"


def fmt_mib(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


# ---------------------------------------------------------------- machine


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
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def versions() -> str:
    """Versions of the libraries that decide the figures."""
    names = (("jieba", "jieba"), ("whoosh", "whoosh-reloaded"), ("tantivy", "tantivy"), ("numpy", "numpy"))
    parts = []
    for label, distribution in names:
        try:
            parts.append(f"{label} {importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{label} (not installed)")
    return ", ".join(parts)


def command_line() -> str:
    """The command line of this run, as typed."""
    return " ".join(["python", shlex.quote(os.path.relpath(sys.argv[0], Path.cwd()))]
                    + [shlex.quote(arg) for arg in sys.argv[1:]])


def cli_command() -> list[str]:
    """How to run `bulletins` from this checkout (the same as .venv/bin/bulletins in an editable install)."""
    return [sys.executable, "-m", "webui.cli"]


def cli_env() -> dict[str, str]:
    """Environment of `bulletins` subprocesses: this checkout first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("BULLETINS_INDEX", None)
    return env


# ---------------------------------------------------------------- process memory (/proc)


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc/<pid>/task/*/children (else by scanning every /proc/*/stat)."""
    children: list[int] = []
    readable = False
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            continue
        readable = True
        children += [int(item) for item in text.split()]
    if readable:
        return children
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    """`pid` and all its living descendants."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        if Path(f"/proc/{current}").exists():
            tree.append(current)
            todo += child_pids(current)
    return tree


def proc_kib(path: str, name: str) -> int:
    """The `name:` figure (kB) of a /proc status-like file; 0 when the process is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def start_time(pid: int) -> str:
    """The start time of process `pid` (field 22 of /proc/<pid>/stat), '' when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def tree_memory(pid: int) -> tuple[float, float, int]:
    """(sum of VmRSS MiB, sum of Pss MiB, number of processes) over `pid` and its descendants."""
    pids = process_tree(pid)
    rss = sum(proc_kib(f"/proc/{p}/status", "VmRSS") for p in pids)
    pss = sum(proc_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)
    return rss / 1024, pss / 1024, len(pids)


def disk_usage(path: Path) -> int:
    """Bytes on disk under `path`, like `du -s` (allocated blocks of files and folders)."""
    total = 0
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            try:
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
            except OSError:
                pass
    return total + os.lstat(path).st_blocks * 512


# ---------------------------------------------------------------- corpus: files, texts, copies


def bulletin_files(corpus: Path, sample: int) -> list[Path]:
    """The bench bulletin files, every `sample`-th one (sorted by path)."""
    files = sorted((corpus / "bulletins").rglob("*.txt"))
    if not files:
        raise SystemExit(f"no bulletins under {corpus / 'bulletins'}")
    return files[::max(sample, 1)]


def copy_sources(files: list[Path], corpus: Path, dest: Path) -> Path:
    """Copy `files` into dest/bulletins/YYYY/ (the 1× source folder of the builds); return that folder."""
    folder = dest / "bulletins"
    for path in files:
        target = folder / path.relative_to(corpus / "bulletins")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return folder


def shift_year(year: int, month: int, day: int, years: int) -> dt.date:
    """The date `years` earlier (29 February becomes the 28th in a common year)."""
    try:
        return dt.date(year - years, month, day)
    except ValueError:
        return dt.date(year - years, month, 28)


def shifted_text(text: str, years: int) -> str:
    """Bulletin text with its header date moved back by `years` (only the first date of the header)."""
    lines = text.split("\n")
    for number, line in enumerate(lines[:HEADER_LINES]):
        match = HEADER_DATE_RE.search(line)
        if match:
            date = shift_year(int(match.group(1)), int(match.group(3)), int(match.group(5)), years)
            new = f"{date.year}{match.group(2)}{date.month}{match.group(4)}{date.day}{match.group(6)}"
            lines[number] = line[:match.start()] + new + line[match.end():]
            return "\n".join(lines)
    raise ValueError("no header date found")


def shifted_name(name: str, years: int) -> str:
    """A bench file name (`YYYY-MM-DD_第N期.txt`) with its date moved back by `years`."""
    match = FILE_DATE_RE.match(name)
    if not match:
        return name
    date = shift_year(int(match.group(1)), int(match.group(2)), int(match.group(3)), years)
    return date.isoformat() + name[match.end():]


def scaled_sources(files: list[Path], corpus: Path, dest: Path, copies: int) -> Path:
    """Write `copies` copies of `files` into dest/scaled-N/copyK/YYYY/ (new paths, so new ids); copies k ≥ 1
    have their header date (and file name) moved back by 20·k years. Returns dest/scaled-N."""
    folder = dest / f"scaled-{copies}"
    for k in range(copies):
        years = SCALE_YEAR_SHIFT * k
        for path in files:
            text = path.read_text(encoding="utf-8")
            if years:
                text = shifted_text(text, years)
            name = shifted_name(path.name, years)
            target = folder / f"copy{k}" / name[:4] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return folder


def check_scaled(files: list[Path], folder: Path, copies: int) -> str:
    """Parse a few copies and check that the date moved by 20·k years and the articles stayed the same."""
    from index.parser import parse_file

    checked = 0
    for path in files[:3] + files[-1:]:
        original = parse_file(path)
        if not original.date:
            continue
        for k in sorted({1, copies - 1}):
            name = shifted_name(path.name, SCALE_YEAR_SHIFT * k)
            copy = parse_file(folder / f"copy{k}" / name[:4] / name)
            old = dt.date.fromisoformat(original.date)
            expected = shift_year(old.year, old.month, old.day, SCALE_YEAR_SHIFT * k)
            if copy.date != expected.isoformat():
                raise SystemExit(f"scaled copy {name}: date {copy.date}, expected {expected}")
            if [(a.headline, a.body) for a in copy.articles] != [(a.headline, a.body) for a in original.articles]:
                raise SystemExit(f"scaled copy {name}: articles differ from {path.name}")
            checked += 1
    return f"{checked} copies parsed: dates moved back by 20·k years, same articles"


def read_texts(folder: Path) -> tuple[list[tuple[str, str]], int]:
    """(headline, body) of every parsed article under `folder`, and the number of files."""
    from index.parser import parse_file

    files = sorted(folder.rglob("*.txt"))
    return [(a.headline, a.body) for path in files for a in parse_file(path).articles], len(files)


@dataclass
class TextSize:
    """How much text a corpus holds: articles, characters and UTF-8 bytes of headline + body."""

    articles: int
    chars: int
    bytes: int

    def times(self, factor: int) -> TextSize:
        return TextSize(self.articles * factor, self.chars * factor, self.bytes * factor)


def text_size(texts: list[tuple[str, str]]) -> TextSize:
    return TextSize(len(texts), sum(len(h) + len(b) for h, b in texts),
                    sum(len(h.encode()) + len(b.encode()) for h, b in texts))


def searchable_texts(texts: list[tuple[str, str]]) -> list[str]:
    """Normalised `headline \\0 body` per article (no CJK query can match across the NUL)."""
    from index.normalize import normalize

    return [normalize(h) + "\0" + normalize(b) for h, b in texts]


# ---------------------------------------------------------------- queries and brute force


def sample_queries(joined: list[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs in a fixed shuffled order: common words, CJK substrings of 1-6 characters,
    two-term ANDs of 2-3 characters each and quoted phrases of 4-8 characters."""
    from index.normalize import is_cjk

    bodies = [text.split("\0", 1)[1] for text in joined]

    def substring(low: int, high: int) -> str:
        while True:
            body = rng.choice(bodies)
            size = rng.randint(low, high)
            start = rng.randrange(max(1, len(body) - size))
            piece = body[start:start + size]
            if len(piece) == size and all(is_cjk(c) for c in piece):
                return piece

    common = min(round(count * COMMON_SHARE), len(COMMON_WORDS))
    rest = count - common
    queries = [("common", word) for word in COMMON_WORDS[:common]]
    queries += [("substring", substring(1, 6)) for _ in range(rest - 2 * (rest // 4))]
    queries += [("two terms", f"{substring(2, 3)} {substring(2, 3)}") for _ in range(rest // 4)]
    queries += [("phrase", f'"{substring(4, 8)}"') for _ in range(rest // 4)]
    rng.shuffle(queries)
    return queries


def brute_force(joined: list[str], query: str) -> int:
    """Articles where every space-separated term (quotes stripped, normalised) occurs in headline or body."""
    from index.normalize import normalize

    terms = [normalize(t.strip('"')) for t in query.split()]
    return sum(all(t in text for t in terms) for text in joined)


def single_term(query: str) -> str | None:
    """The query text of a one-term query (quotes stripped), else None."""
    terms = query.split()
    return terms[0].strip('"') if len(terms) == 1 else None


# ---------------------------------------------------------------- builds (each in a child process)


@dataclass
class BuildFigures:
    """One build: seconds, articles, index size on disk, peak memory."""

    engine: str
    seconds: float
    articles: int
    skipped: int
    index_bytes: int
    peak_largest_mib: float
    peak_sum_mib: float
    peak_pss_mib: float
    processes: int
    text: TextSize
    #: Seconds of the build spent writing the query vocabulary (None when the build has none).
    vocabulary_seconds: float | None = None

    @property
    def chars_per_s(self) -> float:
        return self.text.chars / self.seconds

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds

    @property
    def size_ratio(self) -> float:
        return self.index_bytes / self.text.bytes


def child_build(kind: str, source: Path, dest: Path) -> dict[str, Any]:
    """Build one index (runs in the child process); the timer covers reading, parsing and indexing."""
    if kind == "product":
        from index.writer import build

        lines: list[str] = []
        started = time.perf_counter()
        report = build([source], dest, full=True, progress=False, log=lines.append)
        vocabulary = next((float(found.group(1)) for line in lines
                           for found in [re.match(r"vocabulary: .* in ([\d.]+) s$", line)] if found), None)
        return {"seconds": time.perf_counter() - started, "articles": report.articles,
                "skipped": len(report.skipped), "vocabulary_seconds": vocabulary}
    builder = {"tutorial": build_tutorial, "tantivy": build_tantivy}[kind]
    return builder(source, dest)


def build_tutorial(source: Path, dest: Path) -> dict[str, Any]:
    """The tutorial setup: jieba's ChineseAnalyzer on stored headline and body, a sortable year, one
    writer process with limitmb=256."""
    from jieba.analyse import ChineseAnalyzer
    from whoosh import index as whoosh_index
    from whoosh.fields import NUMERIC, TEXT, Schema

    from index.parser import parse_file

    started = time.perf_counter()
    analyzer = ChineseAnalyzer()
    schema = Schema(headline=TEXT(analyzer=analyzer, stored=True), body=TEXT(analyzer=analyzer, stored=True),
                    year=NUMERIC(stored=True, sortable=True))
    dest.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(dest), schema)
    writer = ix.writer(limitmb=256)
    articles = 0
    for path in sorted(source.rglob("*.txt")):
        bulletin = parse_file(path)
        year = int(bulletin.date[:4]) if bulletin.date else 0
        for article in bulletin.articles:
            writer.add_document(headline=article.headline, body=article.body, year=year)
            articles += 1
    writer.commit()
    ix.close()
    return {"seconds": time.perf_counter() - started, "articles": articles, "skipped": 0}


def build_tantivy(source: Path, dest: Path) -> dict[str, Any]:
    """tantivy over jieba.cut_for_search text (space-joined tokens, default tokenizer), a fast year."""
    import jieba
    import tantivy

    from index.parser import parse_file

    started = time.perf_counter()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("headline", stored=True)
    builder.add_text_field("body", stored=True)
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    schema = builder.build()
    dest.mkdir(parents=True, exist_ok=True)
    ix = tantivy.Index(schema, path=str(dest))
    writer = ix.writer(heap_size=256_000_000)
    articles = 0
    for path in sorted(source.rglob("*.txt")):
        bulletin = parse_file(path)
        year = int(bulletin.date[:4]) if bulletin.date else 0
        for article in bulletin.articles:
            writer.add_document(tantivy.Document(headline=" ".join(jieba.cut_for_search(article.headline)),
                                                 body=" ".join(jieba.cut_for_search(article.body)), year=year))
            articles += 1
    writer.commit()
    writer.wait_merging_threads()
    return {"seconds": time.perf_counter() - started, "articles": articles, "skipped": 0}


def child_main(argv: list[str]) -> int:
    """Entry of a build child: `--child KIND SOURCE DEST RESULT_JSON`."""
    kind, source, dest, result = argv
    figures = child_build(kind, Path(source), Path(dest))
    Path(result).write_text(json.dumps(figures))
    return 0


def run_build(kind: str, source: Path, dest: Path, work: Path, text: TextSize) -> BuildFigures:
    """Run one build in a child process, sampling its memory; raise with its output when it fails."""
    result, log = work / f"{kind}-{dest.name}.json", work / f"{kind}-{dest.name}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child", kind, str(source),
                                    str(dest), str(result)], stdout=output, stderr=subprocess.STDOUT,
                                   cwd=ROOT, env=cli_env())
        peak_sum = peak_pss = 0.0
        processes = 1
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            rss, pss, count = tree_memory(process.pid)
            peak_sum, peak_pss, processes = max(peak_sum, rss), max(peak_pss, pss), max(processes, count)
            time.sleep(MEMORY_SAMPLE_SECONDS)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0 or not result.exists():
        raise RuntimeError(f"{kind} build failed (exit {process.returncode}):\n"
                           + log.read_text(errors="replace")[-4000:])
    figures = json.loads(result.read_text())
    return BuildFigures(kind, figures["seconds"], figures["articles"], figures["skipped"], disk_usage(dest),
                        usage.ru_maxrss / 1024, max(peak_sum, usage.ru_maxrss / 1024), peak_pss, processes, text,
                        figures.get("vocabulary_seconds"))


# ---------------------------------------------------------------- search pages


def product_page(engine: Any) -> Callable[[str], int]:
    """The product's page: Engine.search with size 10 (total, facets, 10 highlighted hits)."""
    from search.request import SearchRequest

    def page(query: str) -> int:
        return engine.search(SearchRequest.from_params({"q": query, "size": "10"})).total
    return page


def tutorial_page(folder: Path) -> tuple[Callable[[str], int], Callable[[], None]]:
    """The tutorial's page: top 10, year counts (FieldFacet, groupedby) and highlighted headline and body."""
    from whoosh import index as whoosh_index
    from whoosh import sorting
    from whoosh.qparser import MultifieldParser

    ix = whoosh_index.open_dir(str(folder))
    searcher = ix.searcher()
    parser = MultifieldParser(["headline", "body"], ix.schema)
    facet = sorting.FieldFacet("year", maptype=sorting.Count)

    def page(query: str) -> int:
        results = searcher.search(parser.parse(query), limit=10, groupedby={"year": facet})
        total = len(results)
        results.groups("year")
        for hit in results:
            hit.highlights("headline")
            hit.highlights("body")
        return total

    def close() -> None:
        searcher.close()
        ix.close()
    return page, close


def tantivy_query_text(query: str) -> str:
    """The user's text for tantivy's query parser: terms cut by jieba (search mode), phrases by jieba.cut
    inside quotes; every token required."""
    import jieba

    parts = []
    for term in query.split():
        if term.startswith('"'):
            tokens = [t for t in jieba.cut(term.strip('"')) if t.strip() and t.isalnum()]
            if tokens:
                parts.append('"' + " ".join(tokens) + '"')
        else:
            parts += [t for t in jieba.cut_for_search(term) if t.strip() and t.isalnum()]
    return " ".join(parts)


def tantivy_page(folder: Path) -> tuple[Callable[[str], int], str]:
    """tantivy's page: top 10 with an exact count, year counts by a terms aggregation when this tantivy-py
    has one, and snippets of headline and body from its SnippetGenerator. Returns (page, what it does)."""
    import tantivy

    ix = tantivy.Index.open(str(folder))
    ix.reload()
    searcher = ix.searcher()
    schema = ix.schema
    aggregate = hasattr(searcher, "aggregate")
    snippets = hasattr(tantivy, "SnippetGenerator")

    def page(query: str) -> int:
        text = tantivy_query_text(query)
        if not text:
            return 0
        parsed = ix.parse_query(text, ["headline", "body"], conjunction_by_default=True)
        result = searcher.search(parsed, limit=10, count=True)
        if aggregate:
            searcher.aggregate(parsed, {"year": {"terms": {"field": "year", "size": 1000}}})
        if snippets and result.hits:
            generators = [tantivy.SnippetGenerator.create(searcher, parsed, schema, name)
                          for name in ("headline", "body")]
            for _, address in result.hits:
                document = searcher.doc(address)
                for generator in generators:
                    generator.snippet_from_doc(document).to_html()
        return result.count

    notes = ["top 10 + exact count",
             "year counts by a terms aggregation" if aggregate
             else "NO year counts (no aggregation in this tantivy-py)",
             "snippets by SnippetGenerator" if snippets else "NO snippets (no SnippetGenerator)"]
    return page, ", ".join(notes)


def time_pages(page: Callable[[str], int], queries: list[tuple[str, str]]) -> tuple[list[float], list[int]]:
    """Warm `page` up, then run the mix once in its order: (milliseconds, totals) per query."""
    for query in WARMUP_QUERIES:
        page(query)
    samples, totals = [], []
    for _, query in queries:
        started = time.perf_counter()
        total = page(query)
        samples.append((time.perf_counter() - started) * 1000)
        totals.append(total)
    return samples, totals


def recall_of(totals: list[int], expected: list[int]) -> str:
    """`n/m` queries whose total equals the brute-force count."""
    return f"{sum(t == e for t, e in zip(totals, expected))}/{len(expected)}"


# ---------------------------------------------------------------- product correctness


@dataclass
class Correctness:
    """Exact recall and highlight checks of the product over the query mix."""

    queries: int = 0
    exact: int = 0
    mismatches: list[tuple[str, str, int, int]] = field(default_factory=list)
    hits_checked: int = 0
    marks_checked: int = 0
    joined_marks: int = 0
    bad_marks: list[tuple[str, str]] = field(default_factory=list)


def covered_by(marked: str, wanted: str) -> bool:
    """Whether `marked` is one or more adjacent or overlapping occurrences of `wanted` (实 in 实实)."""
    if not wanted or not marked.startswith(wanted):
        return False
    covered = [False] * len(marked)
    start = marked.find(wanted)
    while start != -1:
        covered[start:start + len(wanted)] = [True] * len(wanted)
        start = marked.find(wanted, start + 1)
    return all(covered)


def check_product(engine: Any, queries: list[tuple[str, str]], expected: list[int], factor: int) -> Correctness:
    """Compare every total (synonyms and corrections off) with `factor` × the brute-force count, and check that
    each `<mark>` of a single-term query's hits (headline and snippet, HTML-unescaped) is the query text.

    A mark that joins adjacent or overlapping occurrences of the query (query 实, text 实实) is counted in
    `joined_marks`, not as a mismatch."""
    from index.normalize import normalize
    from search.request import SearchRequest

    outcome = Correctness()
    for (kind, query), count in zip(queries, expected):
        results = engine.search(SearchRequest.from_params({"q": query, "synonyms": "off", "correct": "off", "size": "10"})).to_dict()
        outcome.queries += 1
        if results["total"] == count * factor:
            outcome.exact += 1
        else:
            outcome.mismatches.append((kind, query, results["total"], count * factor))
        term = single_term(query)
        if term is None:
            continue
        wanted = normalize(term)
        for hit in results["hits"]:
            outcome.hits_checked += 1
            for text in (hit["headline_html"], hit["snippet"]):
                for inner in MARK_RE.findall(text or ""):
                    outcome.marks_checked += 1
                    marked = html.unescape(TAG_RE.sub("", inner))
                    if normalize(marked) == wanted:
                        continue
                    if covered_by(normalize(marked), wanted):
                        outcome.joined_marks += 1
                    else:
                        outcome.bad_marks.append((query, marked))
    return outcome


def article_headlines(engine: Any) -> dict[str, str]:
    """Article id → headline of every indexed article (Engine.export when there, else browse pages)."""
    from search.request import SearchRequest

    if hasattr(engine, "export"):
        return {hit["id"]: hit["headline"] for hit in engine.export(SearchRequest.from_params({"q": ""}))}
    headlines: dict[str, str] = {}
    page = 1
    while True:
        results = engine.search(SearchRequest.from_params({"q": "", "size": "100", "page": str(page),
                                                           "sort": "date"})).to_dict()
        headlines.update({hit["id"]: hit["headline"] for hit in results["hits"]})
        if not results["hits"] or len(headlines) >= results["total"]:
            return headlines
        page += 1


def ranking_rates(engine: Any, headlines: dict[str, str], rng: random.Random,
                  count: int) -> tuple[float, float, int]:
    """Top-3 rate of two-word headline queries: over all of them, and over the unambiguous ones.

    A query is unambiguous when at most three headlines of the corpus contain both words; otherwise
    the query itself cannot single out its article (the bench corpus has 92 articles headed
    李强主持召开国务院常务会议, for one).
    """
    from index.analysis import word_terms
    from index.normalize import normalize
    from search.request import SearchRequest

    ids = sorted(headlines)
    normalised = [normalize(headline) for headline in headlines.values()]
    hits = clear = clear_hits = tried = attempts = 0
    while tried < count and attempts < 50 * count:
        attempts += 1
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
    return hits / max(tried, 1), clear_hits / max(clear, 1), clear


def broad_queries(engine: Any) -> list[tuple[str, int, float, float]]:
    """(label, matches, median ms of 3, ms of the first run) of each broad query, page of 10."""
    from search.request import SearchRequest

    rows = []
    for label, query in BROAD_QUERIES:
        request = SearchRequest.from_params({"q": query, "size": "10"})
        samples, total = [], 0
        for _ in range(BROAD_REPEAT):
            started = time.perf_counter()
            total = engine.search(request).total
            samples.append((time.perf_counter() - started) * 1000)
        rows.append((label, total, statistics.median(samples), samples[0]))
    return rows


# ---------------------------------------------------------------- HTTP


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_supports_workers() -> bool:
    """Whether `bulletins serve --help` lists a --workers option."""
    done = subprocess.run(cli_command() + ["serve", "--help"], capture_output=True, text=True, cwd=ROOT,
                          env=cli_env(), timeout=120, check=False)
    return "--workers" in done.stdout


@dataclass
class Server:
    """A `bulletins serve` subprocess and where it listens."""

    process: subprocess.Popen
    host: str
    port: int
    log: Path
    workers: int | None
    seen: dict[int, str] = field(default_factory=dict)

    def remember(self) -> None:
        """Note the server's process tree (pid and start time), so leftovers can be ended by pid later."""
        for pid in process_tree(self.process.pid):
            self.seen.setdefault(pid, start_time(pid))

    def get(self, path: str, timeout: float = 60.0) -> tuple[int, bytes]:
        """One GET on a fresh connection: (status, body)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def total(self, query: str) -> int:
        """`total` of /api/search for `query` (-1 when the server does not answer 200)."""
        status, body = self.get(f"/api/search?q={quote(query)}&size=1")
        return json.loads(body)["total"] if status == 200 else -1

    def memory(self) -> tuple[float, float, int]:
        """(RSS MiB, Pss MiB, processes) of the server and its descendants."""
        self.remember()
        return tree_memory(self.process.pid)


def start_server(index: Path, work: Path, workers: int | None) -> Server:
    """Start `bulletins serve` on a free port and wait until /api/search answers 200."""
    host, port = "127.0.0.1", free_port()
    log = work / f"serve-{port}.log"
    command = cli_command() + ["serve", "--index", str(index), "--host", host, "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT, env=cli_env())
    server = Server(process, host, port, log, workers)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bulletins serve exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if server.get("/api/search?q=%E7%AE%80%E6%8A%A5&size=1", timeout=5)[0] == 200:
                server.remember()
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"bulletins serve did not answer within {SERVER_START_TIMEOUT:.0f} s")


def stop_server(server: Server) -> None:
    """Interrupt the server (Ctrl+C), then terminate it and any process it left behind (by pid)."""
    server.remember()
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            server.process.terminate()
            try:
                server.process.wait(10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
    for pid, started in server.seen.items():
        if pid != server.process.pid and start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass


def http_client(host: str, port: int, paths: list[str], start_at: float, stop_at: float,
                offset: int) -> tuple[int, int, list[float]]:
    """One client process: GET `paths` in turn over a keep-alive connection from `start_at` until `stop_at`
    (time.monotonic); returns (requests, errors, latencies in ms)."""
    while time.monotonic() < start_at:
        time.sleep(0.001)
    connection = None
    requests = errors = 0
    latencies = []
    turn = offset
    while time.monotonic() < stop_at:
        path = paths[turn % len(paths)]
        turn += 1
        started = time.monotonic()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(host, port, timeout=60)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            if response.getheader("connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            errors += 1
            if connection is not None:
                connection.close()
            connection = None
        latencies.append((time.monotonic() - started) * 1000)
        requests += 1
    if connection is not None:
        connection.close()
    return requests, errors, latencies


@dataclass
class HttpLevel:
    """One concurrency level: clients, requests per second, latency, errors."""

    clients: int
    requests: int
    errors: int
    seconds: float
    latency: Latency

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def http_paths() -> list[str]:
    return [f"/search?q={quote(query)}" for query in HTTP_QUERIES]


def http_level(server: Server, clients: int, seconds: float) -> HttpLevel:
    """Run `clients` client processes for `seconds` against the server's /search pages."""
    context = multiprocessing.get_context("fork")
    paths = http_paths()
    with context.Pool(clients) as pool:
        start_at = time.monotonic() + 0.5
        stop_at = start_at + seconds
        results = pool.starmap(http_client, [(server.host, server.port, paths, start_at, stop_at,
                                               i * 7) for i in range(clients)])
    latencies = [ms for _, _, samples in results for ms in samples]
    return HttpLevel(clients, sum(r[0] for r in results), sum(r[1] for r in results), seconds,
                     Latency.of(latencies))


def warm_server(server: Server) -> None:
    """A few sequential requests so every page and worker is loaded before timing."""
    paths = http_paths()
    for i in range(HTTP_WARMUP_REQUESTS):
        server.get(paths[i % len(paths)])


# ---------------------------------------------------------------- incremental


def make_marker(joined: list[str], raw: list[str], rng: random.Random) -> str:
    """A nonsense string of hanzi that normalisation keeps and that occurs in no text (checked by brute force)."""
    from index.normalize import is_cjk, normalize

    while True:
        marker = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(MARKER_LENGTH))
        if (normalize(marker) == marker and all(is_cjk(c) for c in marker)
                and not any(marker in text for text in joined) and not any(marker in text for text in raw)):
            return marker


def add_marked_bulletin(source: Path, marker: str) -> Path:
    """Copy the first bulletin of `source` under a new name with `marker` replacing the first characters of a
    body line; check by parsing that an article body now holds it. Returns the new file."""
    from index.normalize import is_cjk, normalize
    from index.parser import parse_file

    for template in sorted(source.rglob("*.txt")):
        bulletin = parse_file(template)
        bodies = [article.body for article in bulletin.articles]
        lines = template.read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines):
            text = line.strip()
            if (len(text) >= 4 * MARKER_LENGTH and all(is_cjk(c) for c in text[:MARKER_LENGTH])
                    and any(text[:4 * MARKER_LENGTH] in body for body in bodies)):
                start = line.index(text)
                changed = list(lines)
                changed[number] = line[:start] + marker + line[start + MARKER_LENGTH:]
                target = template.with_name(template.stem + "_bench-incremental.txt")
                target.write_text("\n".join(changed), encoding="utf-8")
                if any(marker in normalize(a.body) for a in parse_file(target).articles):
                    return target
                target.unlink()
    raise RuntimeError("found no body line to put the marker in")


def incremental(source: Path, index: Path, marker: str, total: Callable[[str], int]) -> dict[str, Any]:
    """Add a marked bulletin, start the nightly `bulletins build SRC --index DIR` and poll `total(marker)`
    every 50 ms: seconds from starting the command to searchable, and the command's own duration."""
    added = add_marked_bulletin(source, marker)
    log = index.parent / f"incremental-{marker}.log"
    with open(log, "wb") as output:
        started = time.monotonic()
        process = subprocess.Popen(cli_command() + ["build", str(source), "--index", str(index)], stdout=output,
                                   stderr=subprocess.STDOUT, cwd=ROOT, env=cli_env())
    searchable = None
    deadline = started + INCREMENTAL_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if total(marker) >= 1:
                searchable = time.monotonic() - started
                break
        except (OSError, ValueError, http.client.HTTPException):
            pass
        if process.poll() is not None:
            if process.returncode not in (0, 3):
                break
            deadline = min(deadline, time.monotonic() + INCREMENTAL_GRACE)
        time.sleep(POLL_SECONDS)
    try:
        process.wait(INCREMENTAL_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait()
    finished = time.monotonic() - started
    added.unlink()  # the source folder is the 1× corpus again (the peers build from it)
    return {"file": added.name, "marker": marker, "searchable": searchable, "command": finished,
            "exit": process.returncode, "log": log.read_text(errors="replace")[-2000:]}


# ---------------------------------------------------------------- one scale of the product


@dataclass
class ProductRun:
    """Every figure of the product at one scale."""

    scale: int
    build: BuildFigures
    pages: Latency
    page_samples: list[float]
    correctness: Correctness
    broad: list[tuple[str, int, float, float]]
    ranking: tuple[float, float, int] | None = None
    ranking_count: int = 0
    http: list[HttpLevel] = field(default_factory=list)
    server_memory: tuple[float, float, int] | None = None
    server_workers: int | None = None
    incremental: dict[str, Any] | None = None
    incremental_via: str = ""
    assistance: dict[str, Any] | None = None


def run_product(scale: int, source: Path, work: Path, text: TextSize, joined: list[str], raw: list[str],
                queries: list[tuple[str, str]], expected: list[int], options: argparse.Namespace,
                rng: random.Random) -> ProductRun:
    """Build the product over `source` (a temp copy), time its pages, check it, serve it over HTTP and
    measure the nightly incremental build while the server runs."""
    from search.engine import Engine
    from search.request import SearchRequest

    tag = f"[{scale}×]"
    index = work / f"index-{scale}x"
    say(f"{tag} product build (full, child process) ...")
    built = run_build("product", source, index, work, text)
    say(f"{tag} product build: {built.seconds:.1f} s, {built.articles} articles, "
        f"{built.index_bytes / MIB:.0f} MB on disk, peak {built.peak_sum_mib:.0f} MB")
    if built.skipped:
        say(f"{tag}   {built.skipped} files skipped")

    engine = Engine(index)
    try:
        samples, _ = time_pages(product_page(engine), queries)
        pages = Latency.of(samples)
        say(f"{tag} product pages: p50 {pages.p50:.1f} ms, p95 {pages.p95:.1f} ms, max {pages.max:.1f} ms "
            f"over {pages.count} queries")
        correctness = check_product(engine, queries, expected, scale)
        say(f"{tag} exact recall {correctness.exact}/{correctness.queries}; marks: {correctness.marks_checked} "
            f"in {correctness.hits_checked} hits checked, {len(correctness.bad_marks)} mismatches, "
            f"{correctness.joined_marks} joining adjacent occurrences")
        for mismatch in correctness.mismatches[:5]:
            say(f"{tag}   total mismatch (kind, query, product, brute force): {mismatch}")
        for bad in correctness.bad_marks[:5]:
            say(f"{tag}   mark mismatch (query, marked text): {bad}")
        broad = broad_queries(engine)
        for label, total, ms, first in broad:
            say(f"{tag} broad {label}: {total} matches, {ms:.1f} ms (median of {BROAD_REPEAT}; "
                f"first {first:.1f} ms)")
        run = ProductRun(scale, built, pages, samples, correctness, broad)
        if scale == 1 and options.ranking > 0:
            run.ranking = ranking_rates(engine, article_headlines(engine), rng, options.ranking)
            run.ranking_count = options.ranking
            say(f"{tag} ranking: {run.ranking[0]:.1%} top 3 over {options.ranking}, {run.ranking[1]:.1%} of the "
                f"{run.ranking[2]} unambiguous")
        if hasattr(engine, "suggest"):
            run.assistance = assistance_figures(engine, Engine(index, assist=False), queries, rng)
            a = run.assistance
            say(f"{tag} assistance: page p95 {a['with'].p95:.1f} ms with, {a['without'].p95:.1f} ms without "
                f"(extra {a['extra_p95']:.1f} ms); assisted queries p95 {a['assisted'].p95:.1f} ms "
                f"({a['corrected']}/{a['assisted'].count} corrected); suggest p95 {a['suggest'].p95:.2f} ms over "
                f"{a['suggest'].count} prefixes")
    finally:
        engine.close()

    marker = make_marker(joined, raw, rng)
    if options.skip_http:
        engine = Engine(index)
        try:
            run.incremental = incremental(source, index, marker,
                                          lambda q: engine.count(SearchRequest.from_params({"q": q})))
            run.incremental_via = "in-process Engine.count (--skip-http)"
        finally:
            engine.close()
    else:
        server = start_server(index, work, options.workers)
        run.server_workers = options.workers
        try:
            warm_server(server)
            for clients in HTTP_LEVELS:
                level = http_level(server, clients, options.http_seconds)
                run.http.append(level)
                say(f"{tag} HTTP {clients:2d} clients: {level.rps:.1f} req/s, p50 {level.latency.p50:.1f} ms, "
                    f"p95 {level.latency.p95:.1f} ms, {level.errors} errors")
            run.server_memory = server.memory()
            say(f"{tag} server memory: RSS {run.server_memory[0]:.0f} MB, Pss {run.server_memory[1]:.0f} MB, "
                f"{run.server_memory[2]} process(es)")
            run.incremental = incremental(source, index, marker, server.total)
            run.incremental_via = "GET /api/search on the running server"
        finally:
            stop_server(server)
    inc = run.incremental
    if inc["searchable"] is None:
        say(f"{tag} incremental: NOT searchable (build exit {inc['exit']}):\n{inc['log']}")
    else:
        say(f"{tag} incremental: {inc['marker']} searchable {inc['searchable']:.2f} s after starting the "
            f"nightly build (exit {inc['exit']})")
    return run


def assistance_figures(engine: Any, plain: Any, queries: list[tuple[str, str]],
                       rng: random.Random) -> dict[str, Any]:
    """What query assistance costs: the page mix timed with it and without it (alternating per query, so
    both see the same machine), assisted queries (pinyin, homophone typos of two headline words) and
    /api/suggest's work for prefixes of the mix and of pinyin."""
    from pypinyin import Style, lazy_pinyin

    from index.analysis import word_terms
    from index.pinyin import is_hanzi
    from search.request import SearchRequest

    assisted_page, plain_page = product_page(engine), product_page(plain)
    for query in WARMUP_QUERIES:
        plain_page(query)
    with_ms, without_ms = [], []
    for _, query in queries:
        for page, samples in ((assisted_page, with_ms), (plain_page, without_ms)):
            started = time.perf_counter()
            page(query)
            samples.append((time.perf_counter() - started) * 1000)
    plain.close()
    headlines = list(article_headlines(engine).values())
    by_reading: dict[str, list[str]] = {}
    for headline in headlines[:2000]:
        for char in headline:
            if is_hanzi(char):
                by_reading.setdefault(lazy_pinyin(char, style=Style.NORMAL)[0], []).append(char)
    assisted: list[str] = []
    prefixes: list[str] = []
    for headline in rng.sample(headlines, min(len(headlines), 4 * ASSIST_QUERIES)):
        words = [word for word in dict.fromkeys(word_terms(headline)) if is_hanzi(word) and len(word) >= 2]
        if len(words) < 2 or len(assisted) >= ASSIST_QUERIES:
            continue
        pair = rng.sample(words, 2)
        if len(assisted) % 2:
            assisted.append(" ".join("".join(lazy_pinyin(word, style=Style.NORMAL)) for word in pair))
        else:
            word = pair[0]
            place = rng.randrange(len(word))
            others = [char for char in by_reading.get(lazy_pinyin(word[place], style=Style.NORMAL)[0], [])
                      if char != word[place]]
            typo = word[:place] + rng.choice(others) + word[place + 1:] if others else word
            assisted.append(f"{typo} {pair[1]}")
        spelled = "".join(lazy_pinyin(pair[0], style=Style.NORMAL))
        prefixes += [pair[0][:1], pair[0][:2], spelled[:2], spelled[:4], spelled]
    prefixes += [query[:length] for _, query in queries for length in (1, 2, 3) if len(query) >= length]
    assisted_ms, corrected = [], 0
    for query in assisted:
        started = time.perf_counter()
        results = engine.search(SearchRequest.from_params({"q": query, "size": "10"}))
        assisted_ms.append((time.perf_counter() - started) * 1000)
        corrected += results.corrected_from is not None or results.did_you_mean is not None
    suggest_ms = []
    for prefix in prefixes:
        started = time.perf_counter()
        engine.suggest(prefix)
        suggest_ms.append((time.perf_counter() - started) * 1000)
    with_latency, without_latency = Latency.of(with_ms), Latency.of(without_ms)
    return {"with": with_latency, "without": without_latency, "extra_p95": with_latency.p95 - without_latency.p95,
            "assisted": Latency.of(assisted_ms), "corrected": corrected, "suggest": Latency.of(suggest_ms)}


# ---------------------------------------------------------------- peers


@dataclass
class PeerRun:
    """A peer's build and pages at 1×."""

    name: str
    build: BuildFigures
    pages: Latency
    recall: str
    notes: str


def run_peers(source: Path, work: Path, text: TextSize, queries: list[tuple[str, str]],
              expected: list[int]) -> list[PeerRun]:
    """Build and time the tutorial setup and tantivy over the same 1× source and query mix."""
    peers = []
    say("[1×] tutorial build (jieba ChineseAnalyzer + Whoosh, one process) ...")
    built = run_build("tutorial", source, work / "tutorial", work, text)
    say(f"[1×] tutorial build: {built.seconds:.1f} s, {built.index_bytes / MIB:.0f} MB, "
        f"peak {built.peak_sum_mib:.0f} MB")
    page, close = tutorial_page(work / "tutorial")
    try:
        samples, totals = time_pages(page, queries)
    finally:
        close()
    peers.append(PeerRun("tutorial", built, Latency.of(samples), recall_of(totals, expected),
                         "top 10 + year counts (groupedby FieldFacet) + highlights of headline and body"))
    say(f"[1×] tutorial pages: p50 {peers[-1].pages.p50:.1f} ms, p95 {peers[-1].pages.p95:.1f} ms; "
        f"totals = brute force {peers[-1].recall}")

    say("[1×] tantivy build (jieba.cut_for_search text) ...")
    built = run_build("tantivy", source, work / "tantivy", work, text)
    say(f"[1×] tantivy build: {built.seconds:.1f} s, {built.index_bytes / MIB:.0f} MB, "
        f"peak {built.peak_sum_mib:.0f} MB")
    page, notes = tantivy_page(work / "tantivy")
    samples, totals = time_pages(page, queries)
    peers.append(PeerRun("tantivy", built, Latency.of(samples), recall_of(totals, expected), notes))
    say(f"[1×] tantivy pages: p50 {peers[-1].pages.p50:.1f} ms, p95 {peers[-1].pages.p95:.1f} ms; "
        f"totals = brute force {peers[-1].recall} ({notes})")
    return peers


# ---------------------------------------------------------------- report


def verdict(checks: list[bool | None]) -> str:
    """met when every measured figure meets its target, NOT met when one does not."""
    measured = [check for check in checks if check is not None]
    if not measured:
        return "not measured"
    return "met" if all(measured) else "NOT met"


def target_rows(runs: list[ProductRun], peers: list[PeerRun]) -> list[list[str]]:
    """The target table: target, measured figure per scale, verdict."""
    one = runs[0]
    tutorial = next((peer for peer in peers if peer.name == "tutorial"), None)
    rows: list[list[str]] = []

    def add(label: str, cells: list[tuple[str, bool | None]]) -> None:
        rows.append([label] + [cell for cell, _ in cells] + [verdict([check for _, check in cells])])

    def judged(run: ProductRun, cell: tuple[str, bool | None]) -> tuple[str, bool | None]:
        """Beyond TARGET_MAX_SCALE a figure is shown but not judged."""
        return cell if run.scale <= TARGET_MAX_SCALE else (f"{cell[0]} (no target)", None)

    def per_run(function: Callable[[ProductRun], tuple[str, bool | None]]) -> list[tuple[str, bool | None]]:
        return [judged(run, function(run)) for run in runs]

    def only_1x(cell: tuple[str, bool | None]) -> list[tuple[str, bool | None]]:
        return [cell] + [("–", None)] * (len(runs) - 1)

    if tutorial:
        ratio = one.build.chars_per_s / tutorial.build.chars_per_s
        add(T_THROUGHPUT, only_1x((f"{fmt_ratio(ratio)} ({one.build.chars_per_s:,.0f} vs "
                                   f"{tutorial.build.chars_per_s:,.0f} chars/s)", ratio >= 2)))
    else:
        add(T_THROUGHPUT, only_1x(("not measured (--skip-peers)", None)))
    add(T_INDEX_SIZE, per_run(lambda r: (f"{r.build.size_ratio:.2f}× ({r.build.index_bytes / MIB:,.0f} MB / "
                                         f"{r.build.text.bytes / MIB:,.1f} MB)", r.build.size_ratio <= 4)))
    if tutorial:
        ratio = one.pages.p95 / tutorial.pages.p95
        add(T_P95_VS_TUTORIAL, only_1x((f"{fmt_ratio(ratio)} ({one.pages.p95:.1f} vs {tutorial.pages.p95:.1f} ms)",
                                        ratio <= 0.25)))
    else:
        add(T_P95_VS_TUTORIAL, only_1x(("not measured (--skip-peers)", None)))
    add(T_P50, per_run(lambda r: (fmt_ms(r.pages.p50), r.pages.p50 < 10)))

    def broad_cell(run: ProductRun) -> tuple[str, bool | None]:
        label, total, ms, _ = max(run.broad, key=lambda row: row[2])
        return f"max {ms:.1f} ms ({label}, {total:,} matches)", all(row[2] <= 100 for row in run.broad)
    add(T_BROAD, per_run(broad_cell))

    def level(run: ProductRun, clients: int) -> HttpLevel | None:
        return next((lv for lv in run.http if lv.clients == clients), None)

    def rps_cell(run: ProductRun) -> tuple[str, bool | None]:
        one_client, four = level(run, 1), level(run, 4)
        if not one_client or not four or not one_client.requests:
            return "not measured", None
        ratio = four.rps / one_client.rps
        return f"{ratio:.2f}× ({four.rps:.1f} vs {one_client.rps:.1f} req/s)", ratio >= 1.7
    add(T_RPS, per_run(rps_cell))

    def errors_cell(run: ProductRun) -> tuple[str, bool | None]:
        sixteen = level(run, 16)
        if not sixteen:
            return "not measured", None
        return f"{sixteen.errors} errors of {sixteen.requests}", sixteen.errors == 0
    add(T_ERRORS, per_run(errors_cell))

    def rss_cell(run: ProductRun, limit: float) -> tuple[str, bool | None]:
        if run.server_memory is None:
            return "not measured", None
        rss, pss, count = run.server_memory
        return f"{rss:,.0f} MB (Pss {pss:,.0f} MB, {count} process{'es' if count > 1 else ''})", rss <= limit
    add(T_RSS_1X, only_1x(rss_cell(one, 400)))
    if len(runs) > 1:
        add(T_RSS_SCALED, [("–", None)] + [judged(run, rss_cell(run, 1536)) for run in runs[1:]])

    def incremental_cell(run: ProductRun) -> tuple[str, bool | None]:
        inc = run.incremental
        if inc is None:
            return "not measured", None
        if inc["searchable"] is None:
            return f"not searchable (build exit {inc['exit']})", False
        return f"{inc['searchable']:.2f} s", inc["searchable"] <= 5
    add(T_INCREMENTAL, per_run(incremental_cell))
    add(T_RECALL, per_run(lambda r: (f"{r.correctness.exact}/{r.correctness.queries}",
                                     r.correctness.exact == r.correctness.queries)))
    add(T_MARKS, per_run(lambda r: (f"{len(r.correctness.bad_marks)} mismatches in {r.correctness.marks_checked} "
                                    f"marks of {r.correctness.hits_checked} hits ({r.correctness.joined_marks} "
                                    "join adjacent occurrences)", not r.correctness.bad_marks)))
    def assistance_cell(run: ProductRun, key: str) -> tuple[str, bool | None]:
        a = run.assistance
        if a is None:
            return "not measured", None
        if key == "extra":
            return (f"{a['extra_p95']:+.1f} ms ({a['with'].p95:.1f} vs {a['without'].p95:.1f} ms; assisted "
                    f"queries p95 {a['assisted'].p95:.1f} ms)", a["extra_p95"] <= 5)
        return f"{a['suggest'].p95:.2f} ms over {a['suggest'].count} prefixes", a["suggest"].p95 < 10
    add(T_ASSIST, per_run(lambda r: assistance_cell(r, "extra")))
    add(T_SUGGEST, per_run(lambda r: assistance_cell(r, "suggest")))

    def vocabulary_cell(run: ProductRun) -> tuple[str, bool | None]:
        seconds = run.build.vocabulary_seconds
        if seconds is None:
            return "not measured", None
        share = seconds / run.build.seconds
        return f"{share:.1%} ({seconds:.1f} of {run.build.seconds:.1f} s)", share <= 0.10
    add(T_VOCABULARY, per_run(vocabulary_cell))
    if len(runs) > 1:
        add(T_P95_SCALED, [("–", None)] + [judged(r, (
            f"{r.pages.p95 / one.pages.p95:.2f}× ({r.pages.p95:.1f} vs {one.pages.p95:.1f} ms)",
            r.pages.p95 <= 3 * one.pages.p95)) for r in runs[1:]])
        add(T_BUILD_SCALED, [("–", None)] + [judged(r, (
            f"{r.build.seconds / one.build.seconds:.2f}× ({r.build.seconds:.1f} vs {one.build.seconds:.1f} s; "
            f"limit {1.1 * r.scale:.1f}×)", r.build.seconds <= 1.1 * r.scale * one.build.seconds)) for r in runs[1:]])
    return rows


def build_table(runs: list[ProductRun], peers: list[PeerRun]) -> str:
    tutorial = next((peer.build for peer in peers if peer.name == "tutorial"), None)
    rows = []
    for label, b in [(f"product {r.scale}×", r.build) for r in runs] + [(f"{p.name} 1×", p.build) for p in peers]:
        ratio = f"{b.chars_per_s / tutorial.chars_per_s:.2f}×" if tutorial else "–"
        rows.append([label, f"{b.seconds:.1f} s", f"{b.articles:,}", f"{b.chars_per_s:,.0f}",
                     f"{b.articles_per_s:,.0f}", ratio, f"{b.index_bytes / MIB:,.1f} MB", f"{b.size_ratio:.2f}×",
                     f"{b.peak_largest_mib:,.0f} MB",
                     f"{b.peak_sum_mib:,.0f} / {b.peak_pss_mib:,.0f} MB ({b.processes})"])
    return markdown_table(["build", "seconds", "articles", "chars/s", "articles/s", "throughput vs tutorial",
                           "index on disk", "index / text", "peak RSS, largest process",
                           "peak sum of RSS / Pss (processes)"], rows)


def page_table(runs: list[ProductRun], peers: list[PeerRun]) -> str:
    rows = [[f"product {r.scale}×", r.pages.count, fmt_ms(r.pages.p50), fmt_ms(r.pages.p95), fmt_ms(r.pages.max),
             f"{r.correctness.exact}/{r.correctness.queries}"
             + (f" (= {r.scale} × brute force)" if r.scale > 1 else ""),
             "size 10: exact total, district/year/column facets, 10 highlighted hits"] for r in runs]
    rows += [[f"{p.name} 1×", p.pages.count, fmt_ms(p.pages.p50), fmt_ms(p.pages.p95), fmt_ms(p.pages.max),
              p.recall, p.notes] for p in peers]
    return markdown_table(["engine", "queries", "p50", "p95", "max", "totals = brute force", "page"], rows)


def details(runs: list[ProductRun], peers: list[PeerRun], queries: list[tuple[str, str]], prep: list[str]) -> str:
    """The detail sections of the report (everything but the header and the target table)."""
    kinds = {kind: sum(k == kind for k, _ in queries) for kind in QUERY_KINDS}
    parts = ["## Corpus", "\n".join(f"- {line}" for line in prep),
             "## Builds (each in a child process; reading and parsing included)", build_table(runs, peers),
             "Peak memory: `ru_maxrss` of the build's largest process, and the highest sums of VmRSS and of Pss over "
             f"the build's processes, sampled every {MEMORY_SAMPLE_SECONDS} s (forked analysis processes share pages, "
             "so the RSS sum counts those twice; Pss does not). Text = UTF-8 bytes of every headline and body; "
             "throughput = characters of headline and body per second.",
             "## Search page, in-process (time around the engine call)",
             f"Mix of {len(queries)} queries in one fixed shuffled order ("
             + ", ".join(f"{count} {kind}" for kind, count in kinds.items())
             + "), each engine warmed up first; every query run once. The product runs with its defaults "
             "(synonyms on); the recall and mark checks below run the same queries again with synonyms and corrections off (as typed).",
             page_table(runs, peers)]
    broad_rows = []
    for index, (label, _) in enumerate(BROAD_QUERIES):
        broad_rows.append([label] + [f"{r.broad[index][1]:,} / {r.broad[index][2]:.1f} ms / {r.broad[index][3]:.1f} ms"
                                     for r in runs])
    parts += [f"## Broad queries, product (page of 10, median of {BROAD_REPEAT})",
              markdown_table(["query"] + [f"matches / median / first run {r.scale}×" for r in runs], broad_rows)]
    for run in runs:
        if run.ranking:
            overall, clear_rate, clear = run.ranking
            parts += ["## Ranking (1×)",
                      f"Two-word headline queries with their article in the top 3: {overall:.1%} of "
                      f"{run.ranking_count}; {clear_rate:.1%} of the {clear} whose two words occur together in at "
                      f"most 3 headlines."]
    http_rows = [[f"{r.scale}×", lv.clients, f"{lv.requests:,}", f"{lv.rps:.1f}", fmt_ms(lv.latency.p50),
                  fmt_ms(lv.latency.p95), lv.errors] for r in runs for lv in r.http]
    if http_rows:
        workers = runs[0].server_workers
        parts += ["## HTTP (`bulletins serve`" + (f" --workers {workers}" if workers else "")
                  + ", GET /search?q=… over keep-alive connections, one client process each)",
                  markdown_table(["scale", "clients", "requests", "req/s", "p50", "p95", "errors"], http_rows)]
        memory_rows = [[f"{r.scale}×", fmt_mib(r.server_memory[0]), fmt_mib(r.server_memory[1]), r.server_memory[2]]
                       for r in runs if r.server_memory]
        parts += ["Server memory after the runs (server process and all its descendants):",
                  markdown_table(["scale", "sum of VmRSS", "sum of Pss", "processes"], memory_rows)]
    inc_rows = []
    for r in runs:
        inc = r.incremental
        if inc:
            shown = "not searchable" if inc["searchable"] is None else f"{inc['searchable']:.2f} s"
            inc_rows.append([f"{r.scale}×", inc["file"], inc["marker"], shown, f"{inc['command']:.2f} s",
                             inc["exit"], r.incremental_via])
    if inc_rows:
        parts += ["## Incremental (one new bulletin, nightly `bulletins build SRC --index DIR`)",
                  markdown_table(["scale", "new file", "marker", "start of command → searchable",
                                  "command ran", "exit", "polled every 50 ms with"], inc_rows)]
    for r in runs:
        c = r.correctness
        lines = [f"- exact recall {r.scale}×: {c.exact}/{c.queries} totals equal the brute-force count"
                 + (f" × {r.scale}" if r.scale > 1 else "") + " (synonyms and corrections off)",
                 f"- marks {r.scale}×: {c.marks_checked} marks in {c.hits_checked} hits of single-term queries, "
                 f"{len(c.bad_marks)} not equal to the query (besides, {c.joined_marks} marks join adjacent or "
                 "overlapping occurrences of the query, as 实实 for 实: counted as correct)"]
        lines += [f"  - total mismatch {m}" for m in c.mismatches[:5]]
        lines += [f"  - mark mismatch {b}" for b in c.bad_marks[:5]]
        parts += ["\n".join(lines)]
    return "\n\n".join(parts)


def render_report(runs: list[ProductRun], peers: list[PeerRun], queries: list[tuple[str, str]],
                  prep: list[str], started: dt.datetime) -> str:
    """The whole markdown report: header, details, then the target table."""
    header = [f"# Benchmark run of {started:%Y-%m-%d %H:%M}",
              f"- machine: {machine()}",
              f"- versions: {versions()}",
              f"- command: `{command_line()}`",
              f"- duration: {(dt.datetime.now() - started).total_seconds() / 60:.1f} min",
              "- times: every page query runs once (p50/p95/max over the mix); broad queries are medians of "
              f"{BROAD_REPEAT}; builds run once"]
    scales = [f"{run.scale}×" for run in runs]
    targets = markdown_table(["target"] + [f"measured {scale}" for scale in scales] + ["verdict"],
                             target_rows(runs, peers))
    return "\n".join(header) + "\n\n" + details(runs, peers, queries, prep) + "\n\n## Targets\n\n" + targets + "\n"


# ---------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = options.add_argument
    add("--corpus", type=Path, default=DEFAULT_CORPUS, metavar="DIR", help="bench corpus (default %(default)s)")
    add("--queries", type=int, default=400, metavar="N", help="queries in the page mix (default 400)")
    add("--scale", type=int, nargs="+", default=[1], metavar="N",
        help="also run the product over N copies, for each N given (default 1; targets apply up to "
             f"{TARGET_MAX_SCALE}×, larger scales are measured only)")
    add("--http-seconds", type=float, default=10.0, metavar="S", help="seconds per HTTP level (default 10)")
    add("--skip-peers", action="store_true", help="do not build the tutorial setup and tantivy")
    add("--skip-http", action="store_true", help="no HTTP server (incremental polls in-process)")
    add("--sample", type=int, default=1, metavar="K", help="use every K-th bulletin file only")
    add("--ranking", type=int, default=500, metavar="N", help="two-word headline queries (default 500; 0: none)")
    add("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
        help="`serve --workers` when serve has that option (default: the number of cores)")
    add("--output", type=Path, metavar="FILE", help="also write the markdown report to FILE")
    args = options.parse_args(argv)
    args.scale = sorted(set(args.scale) - {1})
    if any(scale < 1 for scale in args.scale) or args.queries < 1 or args.sample < 1 or args.http_seconds <= 0:
        options.error("--scale, --queries and --sample must be ≥ 1 and --http-seconds > 0")
    return args


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    options = parse_args(argv)
    started = dt.datetime.now()
    say(f"machine: {machine()}")
    say(f"versions: {versions()}")
    if not options.skip_http and not serve_supports_workers():
        options.workers = None
    rng = random.Random(SEED)
    files = bulletin_files(options.corpus, options.sample)
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        work = Path(folder)
        source = copy_sources(files, options.corpus, work / "src-1x")
        texts, _ = read_texts(source)
        text = text_size(texts)
        joined = searchable_texts(texts)
        raw = [path.read_text(encoding="utf-8") for path in files]
        every = f" (every {options.sample}th)" if options.sample > 1 else ""
        prep = [f"{options.corpus}: {len(files)} bulletin files{every}, {text.articles:,} articles, "
                f"{text.chars:,} characters, {text.bytes / MIB:.1f} MB of UTF-8 text"]
        say(prep[0])
        queries = sample_queries(joined, options.queries, rng)
        expected = [brute_force(joined, query) for _, query in queries]
        runs = [run_product(1, source, work, text, joined, raw, queries, expected, options, rng)]
        peers = [] if options.skip_peers else run_peers(source, work, text, queries, expected)
        for scale in options.scale:
            scaled = scaled_sources(files, options.corpus, work, scale)
            prep.append(f"{scale}× corpus: {scale} copies under new paths (copy0 … "
                        f"copy{scale - 1}), copy k dated 20·k years earlier; "
                        + check_scaled(files, scaled, scale))
            say(prep[-1])
            runs.append(run_product(scale, scaled, work, text.times(scale), joined, raw, queries,
                                    expected, options, rng))
    report = render_report(runs, peers, queries, prep, started)
    say()
    say(report)
    if options.output:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
