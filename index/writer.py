"""The only place an index is written: full and incremental builds of bulletin files, one build at a time.

A build walks the sources, hashes every file and compares the hashes with the FILE/FILE_HASH values stored
in the live index, so what is indexed is known from the index alone (nothing lives outside Whoosh's atomic
commit). An incremental build commits into the live generation; a full build (or the first one) writes a
new generation, checks it and only then makes it live. Either way a killed build leaves the previous index
complete: Whoosh's commit replaces its TOC atomically and CURRENT is replaced atomically.

Parallelism: Whoosh's MpWriter hands documents to two subprocesses that run the jieba analysis (the bulk of
the work, ~37 ms per bulletin against ~3 ms to read and parse it, so reading stays in the parent). The
subprocesses are forked after jieba is loaded, close the inherited lock descriptors and die with their
parent, so a killed build leaves no orphan holding a lock.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import Index, LockError
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.query import Or, Term
from whoosh.writing import IndexWriter

from index import schema as f
from index.analysis import exact_terms
from index.dictionary import DictionaryError, get_tokenizer
from index.documents import article_documents
from index.parser import parse_file
from index.readers import SUPPORTED_SUFFIXES, ReadError
from index.store import IndexLocation, IndexMismatchError, check_compatible, now_iso, read_meta, write_meta

#: Analysis subprocesses of a parallel writer (the machines this runs on have two cores).
PROCS = 2
#: Posting-pool memory per writer process, in MB.
LIMIT_MB = 256
#: Builds with fewer files to index than this use one process (forking costs more than it saves).
PARALLEL_MIN_FILES = 40
#: Seconds to wait for Whoosh's own write lock (only a foreign writer can hold it: ours holds build.lock).
WHOOSH_LOCK_WAIT = 5.0
#: Without a terminal, one progress line per this many files.
LOG_EVERY = 100
#: An incremental build refuses to delete more than this share of the indexed files (an unmounted or
#: emptied source folder must not empty the index overnight); --full rebuilds from what is there.
MASS_DELETE_SHARE = 0.5
#: ... when at least this many files would go.
MASS_DELETE_MIN = 5

Log = Callable[[str], None]


class BuildError(Exception):
    """A build failed; the message says why and what to do. The served index is untouched."""


class IndexIncompatibleError(BuildError):
    """The live index was built with another schema or other dictionaries: only --full can rebuild it."""


class BuildLockedError(BuildError):
    """Another build holds the build lock (its pid is in the message and in `pid`)."""

    def __init__(self, message: str, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


@dataclass(frozen=True)
class SourceFile:
    """A bulletin file to index and its key (posix path relative to the parent of the folder given)."""

    path: Path
    key: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed and why."""

    file: str
    reason: str


@dataclass
class BuildReport:
    """What a build did: files per outcome, articles in the index and how long it took."""

    root: Path
    generation: str
    full: bool
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    articles: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """A short human-readable summary (counts only; callers name the skipped files where they want)."""
        kind = "full" if self.full else "incremental"
        lines = [
            f"{kind} build of {self.root} ({self.generation}) in {self.seconds:.1f} s",
            f"  files: {len(self.added)} added, {len(self.updated)} updated, {len(self.deleted)} deleted, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped",
            f"  articles in index: {self.articles}",
        ]
        return "\n".join(lines)


def _stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(sources: list[Path], root: Path, *, full: bool = False, progress: bool | None = None,
          lock_wait: float = 30.0, log: Log = _stderr_log) -> BuildReport:
    """Index the bulletin files under `sources` into the index at `root` (incremental unless `full`)."""
    started = time.monotonic()
    files = walk_sources(sources)
    location = IndexLocation(root)
    location.root.mkdir(parents=True, exist_ok=True)
    show_bar = sys.stderr.isatty() if progress is None else progress
    with BuildLock(location.lock_path(), lock_wait):
        remove_leftovers(location)
        _load_dictionaries()
        live = location.generation()
        if full or live is None:
            report = _full_build(location, files, show_bar, log)
        else:
            report = _incremental_build(location, location.root / live, files, source_scopes(sources),
                                        show_bar, log)
    report.seconds = time.monotonic() - started
    return report


def _load_dictionaries() -> None:
    """Load jieba in this process before any worker is forked, so workers share it."""
    try:
        get_tokenizer()
    except DictionaryError as error:
        raise BuildError(str(error)) from error


# Sources


def walk_sources(sources: Iterable[Path]) -> list[SourceFile]:
    """The files to index: supported, non-hidden files under each folder, plus each file named directly."""
    found: dict[str, SourceFile] = {}
    for source in (Path(item) for item in sources):
        if source.is_dir():
            candidates = _walk_folder(source)
        elif source.is_file():
            candidates = iter([SourceFile(source, source.name)])
        else:
            raise BuildError(f"source {source} does not exist")
        for candidate in candidates:
            other = found.setdefault(candidate.key, candidate)
            if other.path.resolve() != candidate.path.resolve():
                raise BuildError(f"{other.path} and {candidate.path} would both be indexed as {candidate.key}")
    return sorted(found.values(), key=lambda item: item.key)


def source_scopes(sources: Iterable[Path]) -> list[str]:
    """The keys each source covers: `name/` for a folder (every key under it), the file name for a file.

    An incremental build deletes only vanished files inside these scopes, so indexing one extra file or
    folder never drops what other sources put into the index.
    """
    return [f"{Path(source).resolve().name}/" if Path(source).is_dir() else Path(source).name
            for source in sources]


def _in_scope(key: str, scopes: list[str]) -> bool:
    return any(key == scope or (scope.endswith("/") and key.startswith(scope)) for scope in scopes)


def _walk_folder(folder: Path) -> Iterator[SourceFile]:
    """Supported files under `folder`, hidden files and folders skipped, keyed relative to its parent."""
    base = folder.resolve().parent
    for directory, subdirectories, names in os.walk(folder.resolve()):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        for name in sorted(names):
            path = Path(directory, name)
            if not name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file():
                yield SourceFile(path, path.relative_to(base).as_posix())


def file_hash(path: Path) -> str:
    """The sha256 of a file's bytes: a changed hash means the file must be indexed again."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_sources(files: list[SourceFile], skipped: list[Skipped]) -> dict[str, str]:
    """Hashes of the readable files by key; unreadable ones are added to `skipped`."""
    hashes = {}
    for source in files:
        try:
            hashes[source.key] = file_hash(source.path)
        except OSError as error:
            skipped.append(Skipped(source.key, f"cannot open: {error.strerror or error}"))
    return hashes


# Lock and leftovers


class BuildLock:
    """An exclusive flock on ROOT/build.lock, waited for up to `wait` seconds; released by the kernel on kill."""

    def __init__(self, path: Path, wait: float) -> None:
        self.path = path
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> BuildLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + max(self.wait, 0.0)
        while not _try_flock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise self._locked_error()
            time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {now_iso()}\n".encode())
        self.fd = fd
        _inherited_fds.add(fd)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None:
            _inherited_fds.discard(self.fd)
            os.close(self.fd)
            self.fd = None

    def _locked_error(self) -> BuildLockedError:
        """The error naming the holder recorded in the lock file."""
        try:
            pid_text, _, since = self.path.read_text(encoding="utf-8").strip().partition(" ")
            pid: int | None = int(pid_text)
        except (OSError, ValueError):
            pid, since = None, ""
        holder = f"pid {pid}, started {since}" if pid is not None else "unknown process"
        return BuildLockedError(
            f"another build ({holder}) holds {self.path}; gave up after waiting {self.wait:g} s", pid)


def _try_flock(fd: int) -> bool:
    """Take an exclusive flock without blocking; False when someone else holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def remove_leftovers(location: IndexLocation) -> None:
    """Delete what killed builds leave: unfinished generations and Whoosh temp files (call under the lock)."""
    live = location.generation()
    generations = sorted(path.name for path in location.root.glob("gen-*") if path.is_dir())
    keep = {live} if live else set()
    older = [name for name in generations if live and name < live]
    if older:
        keep.add(older[-1])
    for name in generations:
        if name not in keep:
            shutil.rmtree(location.root / name, ignore_errors=True)
    if live:
        _remove_whoosh_temp(location.root / live)


def _remove_whoosh_temp(path: Path) -> None:
    """Remove Whoosh's temp folder and half-written TOCs; orphan segment files go at the next commit."""
    index_name = whoosh_index._DEF_INDEX_NAME
    shutil.rmtree(path / f"{index_name}.tmp", ignore_errors=True)
    for leftover in path.glob(f"_{index_name}_*.toc.*"):
        leftover.unlink(missing_ok=True)


# Writers

#: Descriptors that forked analysis workers must not keep open (the build lock).
_inherited_fds: set[int] = set()


class _AnalysisTask(SubWriterTask):
    """Whoosh's analysis subprocess, closing inherited locks and dying with its parent."""

    parent_pid = 0
    close_fds: tuple[int, ...] = ()

    def run(self) -> None:
        _detach_from_parent(self.parent_pid, self.close_fds)
        super().run()


class _ParallelWriter(MpWriter):
    """MpWriter whose subprocesses are `_AnalysisTask`s."""

    def _new_task(self) -> SubWriterTask:
        task = _AnalysisTask(self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs,
                             self.multisegment)
        task.parent_pid = os.getpid()
        lock_fd = self.writelock.fd if self.writelock is not None else None
        task.close_fds = tuple(fd for fd in (*_inherited_fds, lock_fd) if fd is not None)
        self.tasks.append(task)
        task.start()
        return task

    def cancel(self) -> None:
        """Stop the subprocesses for real (MpWriter's cancel only flags its own copies of them)."""
        for task in self.tasks:
            task.terminate()
        for task in self.tasks:
            task.join()
        super().cancel()


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


def _open_writer(ix: Index, parallel: bool) -> IndexWriter:
    """A writer with non-compound segments; parallel analysis when there is enough to do."""
    options: dict[str, Any] = {"limitmb": LIMIT_MB, "compound": False, "timeout": WHOOSH_LOCK_WAIT}
    try:
        if parallel:
            return _ParallelWriter(ix, procs=PROCS, multisegment=True, **options)
        return ix.writer(**options)
    except LockError as error:
        raise BuildError(f"Whoosh's write lock in {ix.storage.folder} is held by a process outside "
                         "`bulletins build`; stop it and retry") from error


# Indexing


@dataclass
class _Outcome:
    """What indexing a list of files produced."""

    indexed: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    first_document: dict[str, Any] | None = None

    @property
    def documents(self) -> int:
        return sum(self.indexed.values())


def _index_files(writer: IndexWriter, files: list[SourceFile], hashes: dict[str, str], replace_keys: set[str],
                 show_bar: bool, log: Log) -> _Outcome:
    """Parse and add each file's articles; a file in `replace_keys` loses its old articles only once parsed."""
    outcome = _Outcome()
    for number, source in enumerate(_progress(files, show_bar), 1):
        try:
            documents = _documents_of(source, hashes[source.key])
        except _SkipFile as skip:
            outcome.skipped.append(Skipped(source.key, skip.reason))
            continue
        if source.key in replace_keys:
            writer.delete_by_term(f.FILE, source.key)
        for document in documents:
            writer.add_document(**document)
        outcome.indexed[source.key] = len(documents)
        if outcome.first_document is None:
            outcome.first_document = documents[0]
        if not show_bar and number % LOG_EVERY == 0:
            log(f"indexed {number}/{len(files)} files")
    return outcome


class _SkipFile(Exception):
    """A file cannot be indexed; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _documents_of(source: SourceFile, digest: str) -> list[dict[str, Any]]:
    """The documents of one file, or _SkipFile when it cannot be read, parsed or holds no article."""
    try:
        bulletin = parse_file(source.path, source.key)
    except ReadError as error:
        raise _SkipFile(error.reason) from error
    except Exception as error:  # noqa: BLE001 - any parser failure skips just this file
        raise _SkipFile(f"parse error: {type(error).__name__}: {error}") from error
    if not bulletin.articles:
        raise _SkipFile("no articles found")
    return article_documents(bulletin, source.key, digest)


def _progress(files: list[SourceFile], show_bar: bool) -> Iterable[SourceFile]:
    """`files`, wrapped in a tqdm bar on stderr when asked to."""
    if not show_bar:
        return files
    from tqdm import tqdm

    return tqdm(files, desc="indexing", unit="file", file=sys.stderr)


# Full build


def _full_build(location: IndexLocation, files: list[SourceFile], show_bar: bool, log: Log) -> BuildReport:
    """Build a new generation from all files, check it and make it live; discard it on any failure."""
    path = location.create_generation()
    try:
        report = BuildReport(location.root, path.name, full=True)
        hashes = _hash_sources(files, report.skipped)
        readable = [source for source in files if source.key in hashes]
        log(f"full build of {len(readable)} files into {path}")
        ix = whoosh_index.open_dir(str(path))
        writer = _open_writer(ix, parallel=len(readable) >= PARALLEL_MIN_FILES)
        try:
            outcome = _index_files(writer, readable, hashes, set(), show_bar, log)
        except BaseException:
            writer.cancel()
            raise
        log("committing")
        writer.commit()
        _check_generation(path, outcome)
        _touch_built_at(path)
        location.activate(path)
    except BaseException:
        location.discard(path)
        raise
    report.added = sorted(outcome.indexed)
    report.skipped += outcome.skipped
    report.articles = outcome.documents
    return report


def _check_generation(path: Path, outcome: _Outcome) -> None:
    """Raise BuildError unless the new generation holds every parsed article and answers a query."""
    ix = whoosh_index.open_dir(str(path))
    with ix.searcher() as searcher:
        count = searcher.doc_count()
        if count != outcome.documents:
            raise BuildError(f"the new index holds {count} articles, {outcome.documents} were parsed; "
                             "the served index is unchanged")
        query = _smoke_query(outcome.first_document)
        if query is not None and not searcher.search(query, limit=1):
            raise BuildError("the new index does not find its first article; the served index is unchanged")


def _smoke_query(document: dict[str, Any] | None) -> Or | None:
    """An exact-field query for the first token of a document's text (None when it has no text)."""
    if document is None:
        return None
    groups = exact_terms(document[f.HEADLINE] + "\n" + document[f.BODY])
    if not groups:
        return None
    token = groups[0][0]
    return Or([Term(f.HEADLINE_EXACT, token), Term(f.BODY_EXACT, token)])


def _touch_built_at(path: Path) -> None:
    """Record the end of a successful build in the generation's meta.json."""
    write_meta(path, replace(read_meta(path), built_at=now_iso()))


# Incremental build


@dataclass(frozen=True)
class _Indexed:
    """A file as the index knows it: its content hash and how many live articles it has."""

    digest: str
    articles: int


def indexed_files(ix: Index) -> dict[str, _Indexed]:
    """The files in an index with their stored hashes and live article counts (deleted articles ignored)."""
    found: dict[str, _Indexed] = {}
    with ix.reader() as reader:
        for raw in reader.lexicon(f.FILE):
            key = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            docnums = list(reader.postings(f.FILE, key).all_ids())
            if docnums:
                digest = reader.stored_fields(docnums[0]).get(f.FILE_HASH, "")
                found[key] = _Indexed(digest, len(docnums))
    return found


def _incremental_build(location: IndexLocation, path: Path, files: list[SourceFile], scopes: list[str],
                       show_bar: bool, log: Log) -> BuildReport:
    """Bring the live generation in line with the files: add new, re-index changed, delete vanished ones."""
    try:
        check_compatible(path)
    except IndexMismatchError as error:
        raise IndexIncompatibleError(f"{error}; an incremental build cannot update it, run with --full") from error
    report = BuildReport(location.root, path.name, full=False)
    hashes = _hash_sources(files, report.skipped)
    ix = whoosh_index.open_dir(str(path))
    before = ix.doc_count()
    known = indexed_files(ix)
    unchanged = {key for key, digest in hashes.items() if key in known and known[key].digest == digest}
    report.unchanged = sorted(unchanged)
    changed = [source for source in files if source.key in hashes and source.key not in unchanged]
    walked = {source.key for source in files}
    report.deleted = sorted(key for key in known if key not in walked and _in_scope(key, scopes))
    _refuse_mass_deletion(len(report.deleted), len(known))
    log(f"incremental build of {path}: {len(changed)} files to index, {len(report.deleted)} to delete, "
        f"{len(report.unchanged)} unchanged")
    if not changed and not report.deleted:
        report.articles = before
        _touch_built_at(path)
        return report
    writer = _open_writer(ix, parallel=len(changed) >= PARALLEL_MIN_FILES)
    try:
        for key in report.deleted:
            writer.delete_by_term(f.FILE, key)
        outcome = _index_files(writer, changed, hashes, set(known), show_bar, log)
    except BaseException:
        writer.cancel()
        raise
    log("committing")
    writer.commit()
    report.added = sorted(key for key in outcome.indexed if key not in known)
    report.updated = sorted(key for key in outcome.indexed if key in known)
    report.skipped += outcome.skipped
    removed = sum(known[key].articles for key in [*report.deleted, *report.updated])
    report.articles = _check_count(path, before - removed + outcome.documents)
    _touch_built_at(path)
    return report


def _refuse_mass_deletion(deleted: int, indexed: int) -> None:
    """BuildError when an incremental build would delete most of the index (a missing mount, say)."""
    if deleted >= MASS_DELETE_MIN and deleted > indexed * MASS_DELETE_SHARE:
        raise BuildError(f"this build would delete {deleted} of the {indexed} indexed files, so the sources look "
                         "incomplete (an unmounted or emptied folder?); nothing was changed. If the files really "
                         "are gone, run with --full to rebuild from what is there")


def _check_count(path: Path, expected: int) -> int:
    """The live article count, or BuildError when the committed index lost documents."""
    count = whoosh_index.open_dir(str(path)).doc_count()
    if count != expected:
        raise BuildError(f"the index at {path} holds {count} articles after the build, {expected} were expected: "
                         "rebuild it with --full")
    return count
