"""Smoke test of scripts/benchmark.py: a tiny run finishes and writes the report with its target table.

No timing assertions: the figures of a 15-file sample say nothing about speed; the benchmark itself is
run by hand on the whole corpus (see docs/benchmark.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "benchmark.py"

#: Rows the final table always has.
TARGET_ROWS = (
    "build throughput ≥ 2× tutorial",
    "index size ≤ 4× text",
    "page p95 ≤ 0.25× tutorial p95",
    "page p50 < 10 ms",
    "broad queries each ≤ 100 ms",
    "HTTP rps(4) ≥ 1.7× rps(1)",
    "HTTP 0 errors at 16 clients",
    "server RSS ≤ 400 MB at 1×",
    "incremental: searchable ≤ 5 s",
    "exact recall: total = brute force",
    "marks equal the query (single terms)",
    "query assistance: extra page p95 ≤ 5 ms",
    "suggest p95 < 10 ms",
    "vocabulary ≤ 10% of the build",
)
#: Rows of the scaled runs (--scale).
SCALED_ROWS = (
    "server RSS ≤ 1.5 GB at N×",
    "page p95(N×) ≤ 3× p95(1×)",
    "build time(N×) ≤ 1.1·N × build time(1×)",
)


@pytest.mark.slow
@pytest.mark.bench
def test_benchmark_smoke(bench_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "report.md"
    env = dict(os.environ)
    env.pop("BULLETINS_INDEX", None)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--corpus", str(bench_dir), "--sample", "100", "--queries", "20",
         "--ranking", "20", "--http-seconds", "1", "--scale", "2", "6", "--output", str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    shown = f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
    assert done.returncode == 0, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    report = output.read_text(encoding="utf-8")
    assert "## Targets" in report
    assert "- machine: " in report and "- command: " in report
    table = report.split("## Targets", 1)[1]
    for row in TARGET_ROWS + SCALED_ROWS:
        assert f"| {row} |" in table, f"target row {row!r} missing:\n{table}"
    assert "| measured 1× | measured 2× | measured 6× |" in table, table
    for row in SCALED_ROWS:
        line = next(line for line in table.splitlines() if line.startswith(f"| {row} |"))
        assert line.count("(no target)") == 1, f"6× is measured, not judged; 2× is judged: {line}"
    assert "Traceback" not in report
