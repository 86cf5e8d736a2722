"""The only place an index is written: full and incremental builds of bulletin files, one build at a time.

A build walks the sources, hashes every file and compares the hashes with the file table of the live
generation (`index.generation`), so what is indexed is known from the index alone. Every build writes a
new generation (`index.store`): a full build (or the first one) from scratch, an incremental build as a
hard-linked copy of the live generation in which vanished and changed files' articles are marked deleted
and new articles go into new segments. The generation is committed (a Whoosh TOC), checked and only then
made live by replacing CURRENT, so a killed build leaves the served index complete and untouched.

Parallelism: files are read, parsed, analysed and written as segments by worker processes
(`index.pool`), one per core; small incremental builds run in this process. When an incremental build
leaves too many segments, the smallest are merged into one (their stored documents analysed again).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.reading import SegmentReader

from index import failpoints
from index import schema as f
from index.analysis import unit_groups
from index.dictionary import DictionaryError, get_tokenizer
from index.documents import article_documents
from index.generation import Generation, GenerationError, IndexedFile, SegmentArrays, commit_toc
from index.model import Bulletin
from index.pool import FileResult, Job, PoolError, PoolOutcome, index_in_parallel, index_serially
from index.readers import SUPPORTED_SUFFIXES
from index.schema import build_schema
from index.segment import INDEX_NAME, SegmentBuilder
from index.store import IndexLocation, IndexMismatchError, check_compatible, now_iso, read_meta, write_meta
from index.unitindex import query_symbols
from index.vocabulary import Vocabulary, VocabularyError, build_vocabulary

#: Builds with fewer files to index than this run in this process (forking costs more than it saves).
PARALLEL_MIN_FILES = 40
#: Without a terminal, one progress line per this many files.
LOG_EVERY = 100
#: An incremental build refuses to delete more than this share of the indexed files (an unmounted or
#: emptied source folder must not empty the index overnight); --full rebuilds from what is there.
MASS_DELETE_SHARE = 0.5
#: ... when at least this many files would go.
MASS_DELETE_MIN = 5
#: An incremental build that leaves more segments than this merges the smallest MERGE_SEGMENTS of them.
MAX_SEGMENTS = 8
MERGE_SEGMENTS = 4

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


@dataclass(frozen=True)
class FileNote:
    """Something a file needed to be read (replaced characters, a conversion, OCR); it was indexed."""

    file: str
    note: str


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
    notes: list[FileNote] = field(default_factory=list)
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


#: Largest source file read, by suffix ("" for the rest): text formats are decoded whole in memory, office
#: files and PDFs (scans included) are read page by page by their libraries.
MAX_SOURCE_BYTES = {".txt": 16 * 2**20, ".md": 16 * 2**20, ".html": 16 * 2**20, ".htm": 16 * 2**20,
                    "": 128 * 2**20}


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
            if other is not candidate and os.path.realpath(other.path) != os.path.realpath(candidate.path):
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
            if not name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES and (
                    path.is_file() or path.is_symlink()):
                yield SourceFile(path, path.relative_to(base).as_posix())


def file_hash(path: Path) -> str:
    """The sha256 of a file's bytes: a changed hash means the file must be indexed again."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_sources(files: list[SourceFile], skipped: list[Skipped]) -> dict[str, str]:
    """Hashes of the readable files by key; unreadable and oversized ones are added to `skipped` (a broken
    or looping link is named as such), so no file is ever read whole beyond its limit."""
    hashes = {}
    for source in files:
        try:
            size = source.path.stat().st_size
            limit = max_source_bytes(source.path)
            if size > limit:
                skipped.append(Skipped(source.key, f"too large for a bulletin: {size / 2**20:.1f} MB "
                                                   f"(at most {limit / 2**20:.0f} MB for {source.path.suffix} files)"))
                continue
            hashes[source.key] = file_hash(source.path)
        except OSError as error:
            kind = "broken or looping link" if source.path.is_symlink() else "cannot open"
            skipped.append(Skipped(source.key, f"{kind}: {error.strerror or error}"))
    return hashes


def max_source_bytes(path: Path) -> int:
    """The largest file of this kind a build reads (text is read whole; a bulletin is tens of kilobytes)."""
    return MAX_SOURCE_BYTES.get(path.suffix.lower(), MAX_SOURCE_BYTES[""])


# Lock and leftovers

#: Descriptors that forked indexing workers must not keep open (the build lock).
_inherited_fds: set[int] = set()


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
    """Delete what killed builds leave: unfinished generations (call under the lock)."""
    live = location.generation()
    generations = sorted(path.name for path in location.root.glob("gen-*") if path.is_dir())
    keep = {live} if live else set()
    older = [name for name in generations if live and name < live]
    if older:
        keep.add(older[-1])
    for name in generations:
        if name not in keep:
            shutil.rmtree(location.root / name, ignore_errors=True)


# Indexing


def _processes() -> int:
    """Worker processes for a parallel build: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _index_jobs(folder: Path, jobs: list[Job], show_bar: bool, log: Log) -> PoolOutcome:
    """Index `jobs` into new segments in `folder`: in parallel when there are enough files."""
    outcome = PoolOutcome()
    bar = _progress_bar(len(jobs)) if show_bar else None

    def report(result: FileResult) -> None:
        outcome.results.append(result)
        if len(outcome.results) == 1:
            failpoints.reach("indexing")
        if bar is not None:
            bar.update(1)
        elif len(outcome.results) % LOG_EVERY == 0:
            log(f"indexed {len(outcome.results)}/{len(jobs)} files")

    (folder / f"{INDEX_NAME}.tmp").mkdir(exist_ok=True)
    processes = _processes()
    try:
        if processes > 1 and len(jobs) >= PARALLEL_MIN_FILES:
            outcome.segments = index_in_parallel(folder, jobs, processes, report, close_fds=_inherited_fds)
        else:
            outcome.segments = index_serially(folder, jobs, report)
    except PoolError as error:
        raise BuildError(str(error)) from error
    except OSError as error:
        raise BuildError(f"indexing failed: {error.strerror or error} ({error.filename or folder})") from error
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(folder / f"{INDEX_NAME}.tmp", ignore_errors=True)
    return outcome


def _progress_bar(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="indexing", unit="file", file=sys.stderr)


def _jobs(files: list[SourceFile], hashes: dict[str, str]) -> list[Job]:
    return [Job(source.path, source.key, hashes[source.key]) for source in files if source.key in hashes]


def _skipped(outcome: PoolOutcome) -> list[Skipped]:
    return [Skipped(result.key, result.reason) for result in outcome.results if result.reason is not None]


def _notes(outcome: PoolOutcome) -> list[FileNote]:
    """What reading the indexed files took (replaced characters, conversions, OCR), one entry per note."""
    return [FileNote(result.key, note)
            for result in outcome.results if result.reason is None for note in result.notes]


# Full build


def _full_build(location: IndexLocation, files: list[SourceFile], show_bar: bool, log: Log) -> BuildReport:
    """Build a new generation from all files, check it and make it live; discard it on any failure."""
    path = location.create_generation()
    try:
        report = BuildReport(location.root, path.name, full=True)
        hashes = _hash_sources(files, report.skipped)
        jobs = _jobs(files, hashes)
        log(f"full build of {len(jobs)} files into {path}")
        outcome = _index_jobs(path, jobs, show_bar, log)
        log("committing")
        _commit(path, outcome.segments, 1)
        _build_vocabulary(path, None, log)
        report.articles = _check_generation(path, outcome.documents)
        _activate(location, path)
    except BaseException:
        location.discard(path)
        raise
    report.added = sorted(outcome.indexed)
    report.skipped += _skipped(outcome)
    report.notes += _notes(outcome)
    return report


def _commit(path: Path, segments: list[Any], generation: int) -> None:
    """Commit the TOC listing `segments` in generation folder `path` (disk errors become BuildError)."""
    failpoints.reach("committing")
    try:
        commit_toc(path, build_schema(), segments, generation)
    except OSError as error:
        raise BuildError(f"cannot commit the index in {path}: {error.strerror or error}") from error
    failpoints.reach("checking")


def _build_vocabulary(path: Path, previous: Path | None, log: Log) -> None:
    """Write the query vocabulary of the committed generation (`index.vocabulary`), reusing `previous`'s pinyin."""
    started = time.monotonic()
    try:
        figures = build_vocabulary(path, previous)
    except (OSError, VocabularyError) as error:
        raise BuildError(f"cannot write the vocabulary of {path}: {error}") from error
    log(f"vocabulary: {figures['entries']} entries, {figures['pinyin_keys']} pinyin keys "
        f"in {time.monotonic() - started:.1f} s")


def _activate(location: IndexLocation, path: Path) -> None:
    """Record the build's end in meta.json and make generation `path` the live one."""
    _touch_built_at(path)
    failpoints.reach("activating")
    location.activate(path)


def _check_generation(path: Path, expected: int) -> int:
    """The article count of a committed generation, or BuildError unless it holds `expected` articles, every
    segment's array file is sound and the index finds the text of its first article."""
    try:
        generation = Generation(path)
    except GenerationError as error:
        raise BuildError(f"the new index is damaged ({error}); the served index is unchanged") from error
    count = generation.doc_count()
    whoosh_count = whoosh_index.open_dir(str(path)).doc_count()
    if count != expected or whoosh_count != expected:
        raise BuildError(f"the new index holds {whoosh_count} articles, {expected} were expected; "
                         "the served index is unchanged")
    problems = generation.verify()
    try:
        problems += Vocabulary(path).verify()
    except VocabularyError as error:
        problems.append(str(error))
    if problems:
        raise BuildError(f"the new index is damaged ({'; '.join(problems)}); the served index is unchanged")
    if not _finds_first_article(path, generation):
        raise BuildError("the new index does not find its first article; the served index is unchanged")
    return count


def _finds_first_article(path: Path, generation: Generation) -> bool:
    """True when the first unit of the first live article is found in that article (or nothing is indexed)."""
    live = np.flatnonzero(generation.live())
    if not live.size:
        return True
    docnum = int(live[0])
    part = next(part for part in generation.segments if part.base <= docnum < part.base + part.doc_count)
    with whoosh_index.open_dir(str(path)).reader() as reader:
        stored = reader.stored_fields(docnum)
    groups = unit_groups(f"{stored.get(f.HEADLINE, '')}\n{stored.get(f.BODY, '')}")
    if not groups:
        return True
    local = docnum - part.base
    found = part.units.occurrences(query_symbols(groups[0][:1]))
    starts = part.field_starts
    return bool(np.any((found >= starts[2 * local]) & (found < starts[2 * local + 2])))


def _touch_built_at(path: Path) -> None:
    """Record the end of a successful build in the generation's meta.json."""
    write_meta(path, replace(read_meta(path), built_at=now_iso()))


# Incremental build


def indexed_files(path: Path) -> dict[str, IndexedFile]:
    """The files in the generation at `path` with their stored hashes and live article counts."""
    try:
        return Generation(path).files()
    except GenerationError as error:
        raise BuildError(f"{error}; rebuild the index with --full") from error


def _incremental_build(location: IndexLocation, live: Path, files: list[SourceFile], scopes: list[str],
                       show_bar: bool, log: Log) -> BuildReport:
    """A new generation in line with the files: new and changed files indexed, vanished ones deleted."""
    try:
        check_compatible(live)
    except IndexMismatchError as error:
        raise IndexIncompatibleError(f"{error}; an incremental build cannot update it, run with --full") from error
    report = BuildReport(location.root, live.name, full=False)
    hashes = _hash_sources(files, report.skipped)
    known = indexed_files(live)
    before = sum(item.articles for item in known.values())
    unchanged = {key for key, digest in hashes.items() if key in known and known[key].digest == digest}
    report.unchanged = sorted(unchanged)
    changed = [source for source in files if source.key in hashes and source.key not in unchanged]
    walked = {source.key for source in files}
    report.deleted = sorted(key for key in known if key not in walked and _in_scope(key, scopes))
    _refuse_mass_deletion(len(report.deleted), len(known))
    log(f"incremental build of {live}: {len(changed)} files to index, {len(report.deleted)} to delete, "
        f"{len(report.unchanged)} unchanged")
    if not changed and not report.deleted:
        report.articles = before
        _touch_built_at(live)
        return report
    path = location.clone_generation(live)
    try:
        report.generation = path.name
        toc = TOC.read(FileStorage(str(path)), INDEX_NAME)
        outcome = _index_jobs(path, _jobs(changed, hashes), show_bar, log)
        report.added = sorted(key for key in outcome.indexed if key not in known)
        report.updated = sorted(key for key in outcome.indexed if key in known)
        report.skipped += _skipped(outcome)
        report.notes += _notes(outcome)
        if not outcome.segments and not report.deleted:
            location.discard(path)
            report.generation = live.name
            report.articles = before
            _touch_built_at(live)
            return report
        _delete_files(toc.segments, [known[key] for key in [*report.deleted, *report.updated]])
        segments = _merge_small_segments(path, toc.segments + outcome.segments, log)
        log("committing")
        _commit(path, segments, toc.generation + 1)
        _build_vocabulary(path, live, log)
        removed = sum(known[key].articles for key in [*report.deleted, *report.updated])
        report.articles = _check_generation(path, before - removed + outcome.documents)
        _activate(location, path)
    except BaseException:
        location.discard(path)
        raise
    return report


def _delete_files(segments: list[Any], files: list[IndexedFile]) -> None:
    """Mark every article of `files` deleted in the (not yet committed) segment objects."""
    for item in files:
        for number, first, count in item.places:
            for docnum in range(first, first + count):
                segments[number].delete_document(docnum)


def _merge_small_segments(path: Path, segments: list[Any], log: Log) -> list[Any]:
    """`segments`, with the smallest merged into one when there are more than MAX_SEGMENTS.

    The merged segment is written from the live stored documents of the small ones, analysed again, with
    their file table; it takes the place of the first of them, so search order is kept.
    """
    if len(segments) <= MAX_SEGMENTS:
        return segments
    live = {id(segment): segment.doc_count_all() - segment.deleted_count() for segment in segments}
    smallest = sorted(segments, key=lambda segment: live[id(segment)])[:MERGE_SEGMENTS]
    chosen = {id(segment) for segment in smallest}
    log(f"merging {len(smallest)} small segments ({sum(live[key] for key in chosen)} articles)")
    merged = _merge(path, [segment for segment in segments if id(segment) in chosen])
    result: list[Any] = []
    for segment in segments:
        if id(segment) not in chosen:
            result.append(segment)
        elif merged is not None:
            result.append(merged)
            merged = None
    return result


def _merge(path: Path, segments: list[Any]) -> Any | None:
    """One new segment holding the live documents of `segments` (None when none is left)."""
    builder = SegmentBuilder(path)
    try:
        schema = build_schema()
        storage = FileStorage(str(path))
        for segment in segments:
            arrays = SegmentArrays(path, segment, 0)
            reader = SegmentReader(storage, schema, segment)
            try:
                for key, digest, first, count in arrays.files:
                    if count and not segment.is_deleted(first):
                        builder.add_file(key, digest, (dict(reader.stored_fields(docnum))
                                                      for docnum in range(first, first + count)))
            finally:
                reader.close()
        if not builder.doc_count:
            builder.cancel()
            return None
        return builder.finish()
    except BaseException:
        builder.cancel()
        raise


def _refuse_mass_deletion(deleted: int, indexed: int) -> None:
    """BuildError when an incremental build would delete most of the index (a missing mount, say)."""
    if deleted >= MASS_DELETE_MIN and deleted > indexed * MASS_DELETE_SHARE:
        raise BuildError(f"this build would delete {deleted} of the {indexed} indexed files, so the sources look "
                         "incomplete (an unmounted or emptied folder?); nothing was changed. If the files really "
                         "are gone, run with --full to rebuild from what is there")


# Writing already parsed bulletins


def write_bulletins(root: Path, bulletins: dict[str, Bulletin], digest: str = "") -> Path:
    """Index parsed `bulletins` (file key → Bulletin) into a new live generation under `root`; its path.

    For tools and tests that have bulletins in hand rather than files; the hash of each file is `digest`
    (or "hash-<key>").
    """
    location = IndexLocation(root)
    location.root.mkdir(parents=True, exist_ok=True)
    with BuildLock(location.lock_path(), 30.0):
        path = location.create_generation()
        try:
            builder = SegmentBuilder(path)
            count = 0
            for key, bulletin in bulletins.items():
                count += builder.add_file(key, digest or f"hash-{key}",
                                          article_documents(bulletin, key, digest or f"hash-{key}"))
            _commit(path, [builder.finish()] if count else [], 1)
            _build_vocabulary(path, None, lambda message: None)
            _check_generation(path, count)
            location.activate(path)
        except BaseException:
            location.discard(path)
            raise
    return path
