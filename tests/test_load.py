"""The running server under load while builds run and die: `bulletins serve` with 2 workers, clients searching
without pause, builds killed with SIGKILL at five moments, then a full and an incremental build.

Checked: no failed request at any time; while killed builds come and go every answer is the old one; once
a build has made its generation live, the new answers follow; no lock is left behind; the server's memory
stays bounded. The latency of the 16-client phase is printed (no timing assertion: machines are shared).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_browser import bulletins_command
from test_killed_build import run_and_kill, wait_for_lock
from test_serve import children, running_server

from index.samplegen import generate_corpus
from index.store import IndexLocation
from index.writer import build
from search.engine import Engine
from search.request import SearchRequest

QUERY = "文明"
#: Seconds the 16 clients search while a full and then an incremental build run (at least; a minute in CI).
LOAD_SECONDS = float(os.environ.get("BULLETINS_LOAD_SECONDS") or (60 if os.environ.get("CI") else 30))
#: Ceiling for the server's memory (all processes, sum of RSS) over a small index.
MAX_SERVER_MIB = 1024
#: (failpoint, stderr line after which the build is killed, extra delay): five moments of a build.
KILL_MOMENTS = [(None, "build of", 0.3), ("indexing", "failpoint indexing", 0.0),
                ("committing", "failpoint committing", 0.0), ("checking", "failpoint checking", 0.0),
                ("activating", "failpoint activating", 0.0)]


@dataclass
class Clients:
    """Client threads searching QUERY over HTTP until stopped; every answer and failure recorded."""

    base: str
    count: int
    stop: threading.Event = field(default_factory=threading.Event)
    totals: list[tuple[float, int]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Clients:
        for number in range(self.count):
            thread = threading.Thread(target=self._run, args=(number,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _run(self, number: int) -> None:
        paths = [f"/api/search?q={urllib.parse.quote(QUERY)}", f"/search?q={urllib.parse.quote(QUERY)}&page=2"]
        turn = number
        while not self.stop.is_set():
            path = paths[turn % len(paths)]
            turn += 1
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.base + path, timeout=30) as response:
                    body = response.read()
            except (urllib.error.URLError, OSError) as error:
                with self.lock:
                    self.failures.append(f"{path}: {error}")
                continue
            with self.lock:
                self.latencies.append(time.monotonic() - started)
                if path.startswith("/api/"):
                    self.totals.append((started, json.loads(body)["total"]))

    def answers_since(self, moment: float) -> set[int]:
        with self.lock:
            return {total for started, total in self.totals if started >= moment}


def server_memory_mib(pid: int) -> float:
    """Sum of VmRSS over the server process and its children, in MiB."""
    total = 0
    for process in [pid, *children(pid)]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen, Path, Path, Path]]:
    """A served index of 10 bulletins; a corpus of 60 that holds them; 20 more to add later."""
    base = tmp_path_factory.mktemp("load")
    paths = sorted(generate_corpus(base / "corpus", bulletins=80, seed=29))
    first, later = base / "first", base / "later"
    for number, path in enumerate(paths):
        target = (first if number < 10 else later if number >= 60 else None)
        if target is None:
            continue
        destination = target / path.relative_to(base / "corpus")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, destination)
    build([first], base / "index", progress=False, log=lambda _: None)
    shutil.copytree(first, base / "corpus", dirs_exist_ok=True)
    with running_server(base / "index", "--workers", "2", "--threads", "4") as (url, process):
        yield url, process, base / "index", base / "corpus", later


def _total(url: str) -> int:
    with urllib.request.urlopen(f"{url}/api/search?q={urllib.parse.quote(QUERY)}", timeout=30) as response:
        return json.loads(response.read())["total"]


def _settled(url: str, index: Path, want: int, seconds: float = 30.0) -> None:
    """Wait until the server answers `want` (it picks up a new generation on its next request)."""
    deadline = time.monotonic() + seconds
    while _total(url) != want:
        assert time.monotonic() < deadline, f"the server never showed the new generation of {index}"
        time.sleep(0.1)


def test_searches_never_fail_while_builds_die_and_succeed(loaded) -> None:
    url, process, index, corpus, later = loaded
    location = IndexLocation(index)
    old_total, old_generation = _total(url), location.generation()

    with Clients(url, 8) as clients:
        started = time.monotonic()
        for failpoint, trigger, delay in KILL_MOMENTS:
            for full in (True, False):
                run_and_kill([str(corpus), "--index", str(index), *(["--full"] if full else [])], failpoint,
                             trigger, delay)
                wait_for_lock(location.lock_path())
        time.sleep(0.5)
        assert location.generation() == old_generation
        assert clients.answers_since(started) == {old_total}, "a killed build changed what searches see"

        built = subprocess.run([*bulletins_command(), "build", str(corpus), "--index", str(index)],
                               capture_output=True, text=True, timeout=300, check=False)
        assert built.returncode == 0, built.stderr
        new_total = _engine_total(index)
        assert new_total > old_total
        _settled(url, index, new_total)
        settled = time.monotonic()
        time.sleep(1.0)
        assert clients.answers_since(settled) == {new_total}
        assert clients.answers_since(started) == {old_total, new_total}
    assert clients.failures == [], clients.failures[:5]
    assert len(clients.totals) > 100
    assert not list(index.glob("gen-*/MAIN_WRITELOCK"))


def _engine_total(index: Path) -> int:
    """The total of QUERY over the live generation of `index`, from the engine itself."""
    engine = Engine(index)
    try:
        return engine.search(SearchRequest(q=QUERY)).total
    finally:
        engine.close()


def test_sixteen_clients_during_a_full_and_an_incremental_build(loaded) -> None:
    url, process, index, corpus, later = loaded
    with Clients(url, 16) as clients:
        started = time.monotonic()
        full = subprocess.run([*bulletins_command(), "build", str(corpus), "--index", str(index), "--full"],
                              capture_output=True, text=True, timeout=600, check=False)
        assert full.returncode == 0, full.stderr
        shutil.copytree(later, corpus, dirs_exist_ok=True)
        incremental = subprocess.run([*bulletins_command(), "build", str(corpus), "--index", str(index)],
                                     capture_output=True, text=True, timeout=600, check=False)
        assert incremental.returncode == 0, incremental.stderr
        while time.monotonic() - started < LOAD_SECONDS:
            time.sleep(0.5)
        memory = server_memory_mib(process.pid)
    assert clients.failures == [], clients.failures[:5]
    latencies = sorted(clients.latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] * 1000
    print(f"\n16 clients for {time.monotonic() - started:.0f} s during a full and an incremental build: "
          f"{len(latencies)} requests, 0 errors, p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {p95:.0f} ms, server memory {memory:.0f} MiB")
    assert memory < MAX_SERVER_MIB
    assert process.poll() is None
