"""Indexing files into new segments, in this process or in parallel worker processes.

Each worker reads, parses and analyses whole files and writes its own segments (`index.segment`) into the
generation folder, so everything after walking the sources runs on every core: jieba is most of the work
(about 70 % of a build), and nothing is pickled between processes but file names and results. Workers are
forked after jieba is loaded (they share its dictionary pages), close the parent's lock descriptors and die
with their parent; the parent notices a worker that died (killed, out of memory) instead of waiting for it.
Files are handed out a few at a time from a queue, so a slow file (a scanned PDF) does not hold up the
others. A file's result (articles indexed, or why it was skipped) comes back as soon as it is done.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.codec.whoosh3 import W3Segment

from index.documents import article_documents
from index.parser import parse_file
from index.readers import ReadError
from index.segment import SegmentBuilder

#: A worker starts a new segment after this many documents (bounds a worker's memory).
MAX_SEGMENT_DOCS = 50_000
#: Files handed to a worker at a time.
BATCH_FILES = 4
#: Seconds between checks that the workers are still alive while waiting for results.
POLL_SECONDS = 0.5


class PoolError(Exception):
    """Indexing failed (a worker died or raised); the message says why."""


@dataclass(frozen=True)
class Job:
    """One file to index: its path, its key in the index and its content hash."""

    path: Path
    key: str
    digest: str


@dataclass
class FileResult:
    """What indexing one file gave: the number of articles, or the reason it was skipped, and notes on reading it."""

    key: str
    articles: int = 0
    reason: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class PoolOutcome:
    """The segments written and the per-file results."""

    segments: list[W3Segment] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)

    @property
    def indexed(self) -> dict[str, int]:
        return {result.key: result.articles for result in self.results if result.reason is None}

    @property
    def documents(self) -> int:
        return sum(self.indexed.values())


class SkipFile(Exception):
    """A file cannot be indexed; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def file_documents(job: Job) -> tuple[list[dict[str, Any]], list[str]]:
    """The documents of one file and the notes on reading it, or SkipFile when it cannot be read or parsed."""
    try:
        bulletin = parse_file(job.path, job.key)
    except ReadError as error:
        raise SkipFile(error.reason) from error
    except Exception as error:  # noqa: BLE001 - any parser failure skips just this file
        raise SkipFile(f"parse error: {type(error).__name__}: {error}") from error
    if not bulletin.articles:
        raise SkipFile("no text in file")
    return article_documents(bulletin, job.key, job.digest), bulletin.notes


class _Segments:
    """The segments one process writes: a new builder whenever the current one is full."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.builder: SegmentBuilder | None = None
        self.finished: list[W3Segment] = []

    def add_file(self, job: Job, documents: list[dict[str, Any]]) -> None:
        if self.builder is None:
            self.builder = SegmentBuilder(self.folder)
        self.builder.add_file(job.key, job.digest, documents)
        if self.builder.doc_count >= MAX_SEGMENT_DOCS:
            self.finished.append(self.builder.finish())
            self.builder = None

    def finish(self) -> list[W3Segment]:
        if self.builder is not None:
            self.finished.append(self.builder.finish())
            self.builder = None
        return self.finished

    def cancel(self) -> None:
        if self.builder is not None:
            self.builder.cancel()
            self.builder = None


def index_serially(folder: Path, jobs: Iterable[Job], report: Callable[[FileResult], None]) -> list[W3Segment]:
    """Index `jobs` in this process; `report` is called with each file's result."""
    segments = _Segments(folder)
    try:
        for job in jobs:
            report(_index_one(segments, job))
        return segments.finish()
    except BaseException:
        segments.cancel()
        raise


def _index_one(segments: _Segments, job: Job) -> FileResult:
    try:
        documents, notes = file_documents(job)
    except SkipFile as skip:
        return FileResult(job.key, reason=skip.reason)
    segments.add_file(job, documents)
    return FileResult(job.key, len(documents), notes=notes)


def index_in_parallel(folder: Path, jobs: list[Job], processes: int, report: Callable[[FileResult], None],
                      close_fds: Iterable[int] = ()) -> list[W3Segment]:
    """Index `jobs` in `processes` forked workers; `report` is called (in this process) for each file."""
    context = multiprocessing.get_context("fork")
    job_queue: Any = context.Queue()
    results: Any = context.Queue()
    for start in range(0, len(jobs), BATCH_FILES):
        job_queue.put(jobs[start:start + BATCH_FILES])
    for _ in range(processes):
        job_queue.put(None)
    parent = os.getpid()
    workers = [context.Process(target=_worker, args=(folder, job_queue, results, parent, tuple(close_fds)),
                               daemon=True) for _ in range(processes)]
    for worker in workers:
        worker.start()
    segments: list[W3Segment] = []
    done = 0

    def handle(kind: str, payload: Any) -> None:
        nonlocal segments, done
        if kind == "file":
            report(payload)
        elif kind == "segments":
            segments += payload
            done += 1
        else:
            raise PoolError(payload)

    try:
        while done < processes:
            try:
                handle(*results.get(timeout=POLL_SECONDS))
            except queue.Empty:
                dead = [worker for worker in workers if worker.exitcode not in (None, 0)]
                if dead:
                    _drain(results, handle)
                    codes = ", ".join(_exit_description(worker.exitcode) for worker in dead)
                    raise PoolError(f"an indexing worker died ({codes}); nothing was changed") from None
        for worker in workers:
            worker.join()
        return segments
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
        for worker in workers:
            worker.join()
        # Jobs no worker took (the workers failed) stay in the queue's feeder; without this the process
        # would wait for them forever at exit (multiprocessing joins the feeder thread).
        job_queue.cancel_join_thread()
        job_queue.close()
        results.close()


def _drain(results: Any, handle: Callable[[str, Any], None]) -> None:
    """Handle whatever results are still in the queue (a dead worker's error message, say)."""
    while True:
        try:
            handle(*results.get(timeout=POLL_SECONDS))
        except queue.Empty:
            return


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _worker(folder: Path, jobs: Any, results: Any, parent: int, close_fds: tuple[int, ...]) -> None:
    """A worker process: index batches of files until the sentinel, then send the segments written."""
    _detach_from_parent(parent, close_fds)
    segments = _Segments(folder)
    try:
        for batch in iter(jobs.get, None):
            for job in batch:
                results.put(("file", _index_one(segments, job)))
        results.put(("segments", segments.finish()))
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which fails the build
        segments.cancel()
        results.put(("error", _describe(error)))
        results.close()
        results.join_thread()
        os._exit(1)
    results.close()
    results.join_thread()


def _describe(error: BaseException) -> str:
    """A one-line description of a worker's failure (disk full named as such)."""
    if isinstance(error, OSError) and error.errno is not None:
        return f"indexing failed: {error.strerror or error} ({getattr(error, 'filename', '') or 'index folder'})"
    last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    return f"indexing failed: {type(error).__name__}: {error}{where}"


def _detach_from_parent(parent_pid: int, fds: Iterable[int]) -> None:
    """In a forked worker: close the parent's lock descriptors and exit when the parent dies."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)


def _watch_parent(parent_pid: int) -> None:
    """Exit this process as soon as its parent is gone (where prctl is unavailable)."""
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)
