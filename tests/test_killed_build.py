"""A build killed with SIGKILL at any moment leaves the previous index complete, and the next build succeeds."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_writer import exact_hits

from index.parser import parse_file
from index.samplegen import generate_corpus
from index.store import IndexLocation, open_index
from index.writer import PARALLEL_MIN_FILES, build

BULLETINS = 60
FIRST = 10
BULLETINS_EXE = Path(sys.executable).parent / "bulletins"

#: (name, failpoint the build pauses at (index/failpoints.py) or None, stderr line that starts the clock,
#: seconds to wait after it before the kill).
MOMENTS = [
    ("at start", None, "build of", 0.0),
    ("while indexing", None, "build of", 0.2),
    ("after the first file", "indexing", "failpoint indexing", 0.0),
    ("before the commit", "committing", "failpoint committing", 0.0),
    ("after the commit", "checking", "failpoint checking", 0.0),
    ("before the swap", "activating", "failpoint activating", 0.0),
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A corpus of 60 bulletins and an index of its first 10 (same keys), plus a headline in that index."""
    base = tmp_path_factory.mktemp("killed")
    paths = generate_corpus(base / "corpus", bulletins=BULLETINS)
    assert BULLETINS - FIRST >= PARALLEL_MIN_FILES
    small = base / "small" / "corpus"
    for path in sorted(paths)[:FIRST]:
        target = small / path.relative_to(base / "corpus")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    build([small], base / "index", progress=False, log=lambda _: None)
    headline = parse_file(sorted(paths)[0]).articles[0].headline
    return base / "corpus", base / "index", headline


def run_and_kill(arguments: list[str], failpoint: str | None, trigger: str, delay: float) -> None:
    """Start `bulletins build` (pausing at `failpoint`), wait for `trigger` on its stderr plus `delay` seconds,
    then SIGKILL it."""
    environment = {**os.environ, "BULLETINS_FAILPOINT": failpoint or ""}
    process = subprocess.Popen([str(BULLETINS_EXE), "build", *arguments], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=environment)
    try:
        seen = []
        while trigger not in (line := process.stderr.readline()):
            seen.append(line)
            assert line, f"build ended before {trigger!r}: {''.join(seen)}"
        time.sleep(delay)
        assert process.poll() is None, "the build finished before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()


def wait_for_lock(path: Path, seconds: float = 10.0) -> float:
    """Seconds until the flock on `path` can be taken (the killed build's workers must let it go)."""
    started = time.monotonic()
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return time.monotonic() - started
            except BlockingIOError:
                assert time.monotonic() - started < seconds, f"{path} still locked after {seconds} s"
                time.sleep(0.1)
    finally:
        os.close(fd)


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
@pytest.mark.parametrize(("moment", "failpoint", "trigger", "delay"), MOMENTS, ids=[moment for moment, *_ in MOMENTS])
def test_killed_build_leaves_previous_index(prepared: tuple[Path, Path, str], tmp_path: Path, full: bool,
                                            moment: str, failpoint: str | None, trigger: str, delay: float) -> None:
    corpus, prepared_index, headline = prepared
    index = tmp_path / "index"
    shutil.copytree(prepared_index, index)
    location = IndexLocation(index)
    generation = location.generation()
    count = open_index(index).doc_count()

    run_and_kill([str(corpus), "--index", str(index), *(["--full"] if full else [])], failpoint, trigger, delay)

    assert location.generation() == generation
    wait_for_lock(location.lock_path())
    assert open_index(index).doc_count() == count
    assert exact_hits(index, headline) >= 1

    report = build([corpus], index, full=full, progress=False, lock_wait=10, log=lambda _: None)
    assert len(report.added) == (BULLETINS if full else BULLETINS - FIRST)
    assert open_index(index).doc_count() == report.articles > count
    assert len(list(index.glob("gen-*"))) <= 2
    assert not (location.current_path() / "MAIN.tmp").exists()
