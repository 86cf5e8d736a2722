"""The index writer: full and incremental builds, skipped files, exit statuses, the build lock, dictionaries."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from index import dictionary
from index import schema as f
from index.parser import parse_file
from index.samplegen import generate_corpus
from index.store import IndexLocation, open_index, read_meta, write_meta
from index.writer import BuildError, BuildLockedError, build
from search.engine import Engine
from search.request import SearchRequest
from conftest import SAMPLE_BULLETINS
from webui.cli import main

BULLETINS = SAMPLE_BULLETINS


def exact_hits(root: Path, text: str) -> int:
    """How many articles of the index at `root` contain `text` exactly (the search layer's count)."""
    engine = Engine(root)
    try:
        return engine.count(SearchRequest(q=f'"{text}"', synonyms=False))
    finally:
        engine.close()


def doc_count(root: Path) -> int:
    return open_index(root).doc_count()


def articles_of(root: Path, key: str) -> int:
    with open_index(root).searcher() as searcher:
        return len(list(searcher.document_numbers(**{f.FILE: key})))


def hits(root: Path, text: str) -> int:
    return exact_hits(root, text)


def article_count(paths: list[Path]) -> int:
    return sum(len(parse_file(path).articles) for path in paths)


def bulletin_files(corpus: Path) -> list[Path]:
    """The generated bulletins (files named like 2015-11-12_第1期.txt), not files a test adds."""
    return sorted(corpus.rglob("*_第*期.txt"))


def key_of(corpus: Path, path: Path) -> str:
    return path.relative_to(corpus.parent).as_posix()


def quiet_build(corpus: Path, index: Path, **options: object) -> object:
    return build([corpus], index, progress=False, log=lambda _: None, **options)


def test_full_build_indexes_every_article(built: tuple[Path, Path]) -> None:
    corpus, index = built
    files = bulletin_files(corpus)
    assert len(files) == BULLETINS
    assert doc_count(index) == article_count(files)
    for path in files:
        assert articles_of(index, key_of(corpus, path)) == len(parse_file(path).articles)
    headline = parse_file(files[0]).articles[0].headline
    assert hits(index, headline[:6]) >= 1
    meta = read_meta(IndexLocation(index).current_path())
    assert meta.built_at >= meta.created_at


def test_full_build_report_and_new_generation(workspace: tuple[Path, Path]) -> None:
    corpus, index = workspace
    before = IndexLocation(index).generation()
    report = quiet_build(corpus, index, full=True)
    assert report.full
    assert report.added == [key_of(corpus, path) for path in bulletin_files(corpus)]
    assert report.articles == doc_count(index) == article_count(bulletin_files(corpus))
    assert report.generation == IndexLocation(index).generation() != before
    assert not report.skipped


def _add(corpus: Path) -> tuple[str, int]:
    source = bulletin_files(corpus)[0]
    copy = corpus / "extra" / "copy.txt"
    copy.parent.mkdir()
    shutil.copy(source, copy)
    return key_of(corpus, copy), len(parse_file(source).articles)


def _update(corpus: Path) -> tuple[str, int]:
    path = bulletin_files(corpus)[1]
    text = path.read_text(encoding="utf-8")
    assert "。" in text
    path.write_text(text.replace("。", "。鹦鹉螺号潜艇。", 1), encoding="utf-8")
    return key_of(corpus, path), 0


def _delete(corpus: Path) -> tuple[str, int]:
    path = bulletin_files(corpus)[2]
    articles = len(parse_file(path).articles)
    path.unlink()
    return key_of(corpus, path), -articles


def _nothing(corpus: Path) -> tuple[str, int]:
    return "", 0


@pytest.mark.parametrize(("change", "outcome"), [
    (_add, "added"),
    (_update, "updated"),
    (_delete, "deleted"),
    (_nothing, None),
])
def test_incremental_build(workspace: tuple[Path, Path], change: Callable[[Path], tuple[str, int]],
                           outcome: str | None) -> None:
    corpus, index = workspace
    generation = IndexLocation(index).generation()
    before = doc_count(index)
    key, delta = change(corpus)
    report = quiet_build(corpus, index)
    assert not report.full and report.generation == IndexLocation(index).generation()
    assert (report.generation == generation) == (outcome is None), "a change is a new generation"
    for name in ("added", "updated", "deleted"):
        assert getattr(report, name) == ([key] if name == outcome else [])
    assert len(report.unchanged) == BULLETINS - (outcome in ("updated", "deleted"))
    assert report.articles == doc_count(index) == before + delta
    if outcome == "updated":
        assert hits(index, "鹦鹉螺号潜艇") == 1
    if outcome == "deleted":
        assert articles_of(index, key) == 0


def test_incremental_after_many_changes_uses_the_index_alone(workspace: tuple[Path, Path]) -> None:
    corpus, index = workspace
    for path in bulletin_files(corpus)[:3]:
        path.unlink()
    quiet_build(corpus, index)
    generate_corpus(corpus, bulletins=BULLETINS)
    report = quiet_build(corpus, index)
    assert len(report.added) == 3 and not report.updated and not report.deleted
    assert doc_count(index) == article_count(bulletin_files(corpus))


BROKEN = [
    ("binary.txt", bytes(range(256)) * 4),
    ("empty.txt", b""),
    ("corrupt.docx", b"PK\x03\x04 not really a zip archive"),
    ("corrupt.pdf", b"%PDF-1.4\n garbage without objects\n"),
]


@pytest.mark.parametrize(("name", "content"), BROKEN)
def test_broken_new_file_is_skipped_and_the_rest_indexed(workspace: tuple[Path, Path], name: str,
                                                         content: bytes) -> None:
    corpus, index = workspace
    shutil.rmtree(index)
    (corpus / name).write_bytes(content)
    report = quiet_build(corpus, index)
    assert [item.file for item in report.skipped] == [f"corpus/{name}"]
    assert report.skipped[0].reason
    assert len(report.added) == BULLETINS
    assert doc_count(index) == article_count(bulletin_files(corpus))


@pytest.mark.parametrize(("name", "content"), BROKEN[:2])
def test_broken_update_keeps_the_old_articles(workspace: tuple[Path, Path], name: str, content: bytes) -> None:
    corpus, index = workspace
    path = bulletin_files(corpus)[0]
    key = key_of(corpus, path)
    articles = articles_of(index, key)
    before = doc_count(index)
    path.write_bytes(content)
    report = quiet_build(corpus, index)
    assert [item.file for item in report.skipped] == [key]
    assert not report.updated and not report.deleted
    assert articles_of(index, key) == articles > 0
    assert doc_count(index) == before


def test_hidden_and_unsupported_files_are_not_walked(workspace: tuple[Path, Path]) -> None:
    corpus, index = workspace
    source = bulletin_files(corpus)[0]
    shutil.copy(source, corpus / ".hidden.txt")
    (corpus / ".git").mkdir()
    shutil.copy(source, corpus / ".git" / "x.txt")
    shutil.copy(source, corpus / "notes.csv")
    report = quiet_build(corpus, index)
    assert not report.added and not report.skipped
    assert len(report.unchanged) == BULLETINS


def test_a_file_argument_is_keyed_by_its_name(tmp_path: Path, built: tuple[Path, Path]) -> None:
    corpus, _ = built
    source = bulletin_files(corpus)[0]
    report = quiet_build(source, tmp_path / "index")
    assert report.added == [source.name]
    assert doc_count(tmp_path / "index") == len(parse_file(source).articles)


def test_building_another_source_keeps_the_first_sources_articles(workspace: tuple[Path, Path],
                                                                  tmp_path: Path) -> None:
    corpus, index = workspace
    before = doc_count(index)
    extra = tmp_path / "extra.txt"
    shutil.copy(bulletin_files(corpus)[0], extra)
    report = quiet_build(extra, index)
    assert report.added == ["extra.txt"] and report.deleted == []
    assert doc_count(index) == before + len(parse_file(extra).articles)
    assert quiet_build(corpus, index).deleted == []
    assert articles_of(index, "extra.txt") == len(parse_file(extra).articles)


def test_emptied_source_folder_does_not_empty_the_index(workspace: tuple[Path, Path]) -> None:
    corpus, index = workspace
    before = doc_count(index)
    for path in bulletin_files(corpus):
        path.unlink()
    with pytest.raises(BuildError, match=f"would delete {BULLETINS} of the {BULLETINS} indexed files"):
        quiet_build(corpus, index)
    assert doc_count(index) == before
    assert quiet_build(corpus, index, full=True).articles == 0


def test_leftover_generations_are_removed(workspace: tuple[Path, Path]) -> None:
    corpus, index = workspace
    live = IndexLocation(index).generation()
    unfinished = index / "gen-99991231T000000000000"
    unfinished.mkdir()
    (unfinished / "_MAIN_1.toc").write_bytes(b"half written")
    quiet_build(corpus, index)
    assert not unfinished.exists()
    assert IndexLocation(index).generation() == live


# Exit statuses


def _clean(corpus: Path, index: Path) -> list[str]:
    return ["build", str(corpus), "--index", str(index)]


def _with_broken_file(corpus: Path, index: Path) -> list[str]:
    (corpus / "broken.txt").write_bytes(b"")
    return _clean(corpus, index)


def _incompatible(corpus: Path, index: Path) -> list[str]:
    path = IndexLocation(index).current_path()
    meta = read_meta(path)
    meta.schema_version = 0
    write_meta(path, meta)
    return _clean(corpus, index)


def _missing_source(corpus: Path, index: Path) -> list[str]:
    return ["build", str(corpus / "absent"), "--index", str(index)]


def _no_source(corpus: Path, index: Path) -> list[str]:
    return ["build", "--index", str(index)]


@pytest.mark.parametrize(("arguments", "status", "stderr"), [
    (_clean, 0, ""),
    (_with_broken_file, 3, "skipped: corpus/broken.txt: empty file"),
    (_incompatible, 1, "--full"),
    (_missing_source, 2, "does not exist"),
    (_no_source, 2, "Missing argument"),
])
def test_build_exit_status(workspace: tuple[Path, Path], arguments: Callable[[Path, Path], list[str]], status: int,
                           stderr: str) -> None:
    corpus, index = workspace
    generation = IndexLocation(index).generation()
    result = CliRunner().invoke(main, arguments(corpus, index))
    assert result.exit_code == status, result.output + result.stderr
    assert stderr in result.stderr
    assert IndexLocation(index).generation() == generation


def test_full_fixes_an_incompatible_index(workspace: tuple[Path, Path]) -> None:
    corpus, index = workspace
    _incompatible(corpus, index)
    result = CliRunner().invoke(main, [*_clean(corpus, index), "--full"])
    assert result.exit_code == 0, result.stderr
    assert read_meta(IndexLocation(index).current_path()).schema_version == f.SCHEMA_VERSION


def test_stats_command(built: tuple[Path, Path]) -> None:
    corpus, index = built
    result = CliRunner().invoke(main, ["stats", "--index", str(index)])
    assert result.exit_code == 0, result.stderr
    assert f"articles: {article_count(bulletin_files(corpus))}" in result.output
    assert f"bulletins: {BULLETINS}" in result.output


# The build lock


@pytest.fixture
def held_lock(workspace: tuple[Path, Path]) -> Iterator[int]:
    """Hold the build lock the way a running build does (own open file description, pid inside)."""
    fd = os.open(IndexLocation(workspace[1]).lock_path(), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()} 2024-01-01T00:00:00+00:00\n".encode())
    try:
        yield fd
    finally:
        os.close(fd)


def test_second_build_waits_then_fails_naming_the_holder(workspace: tuple[Path, Path], held_lock: int) -> None:
    corpus, index = workspace
    started = time.monotonic()
    with pytest.raises(BuildLockedError, match=f"pid {os.getpid()}") as caught:
        quiet_build(corpus, index, lock_wait=0.6)
    assert time.monotonic() - started >= 0.6
    assert caught.value.pid == os.getpid()


def test_second_build_runs_once_the_first_releases(workspace: tuple[Path, Path], held_lock: int) -> None:
    corpus, index = workspace
    releaser = threading.Timer(0.5, fcntl.flock, (held_lock, fcntl.LOCK_UN))
    releaser.start()
    started = time.monotonic()
    report = quiet_build(corpus, index, lock_wait=20)
    releaser.join()
    assert time.monotonic() - started >= 0.5
    assert len(report.unchanged) == BULLETINS


def test_locked_exit_status(workspace: tuple[Path, Path], held_lock: int) -> None:
    corpus, index = workspace
    result = CliRunner().invoke(main, [*_clean(corpus, index), "--wait", "0"])
    assert result.exit_code == 1
    assert f"pid {os.getpid()}" in result.stderr


HOLD_BUILD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()} 2024-01-01T00:00:00+00:00\\n".encode())
print("locked", flush=True)
time.sleep(60)
"""

HOLD_WHOOSH_LOCK = """
import sys, time
from whoosh import index
lock = index.open_dir(sys.argv[1]).lock("WRITELOCK")
assert lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("which", ["build.lock", "whoosh WRITELOCK"])
def test_lock_left_by_a_killed_process_does_not_block(workspace: tuple[Path, Path], which: str) -> None:
    corpus, index = workspace
    if which == "build.lock":
        script, target = HOLD_BUILD_LOCK, IndexLocation(index).lock_path()
    else:
        script, target = HOLD_WHOOSH_LOCK, IndexLocation(index).current_path()
    holder = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    (corpus / "new.txt").write_bytes(bulletin_files(corpus)[0].read_bytes())
    report = quiet_build(corpus, index, lock_wait=2)
    assert report.added == ["corpus/new.txt"]


# Dictionaries


@pytest.fixture
def new_user_dict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A user dictionary; the environment and jieba are restored afterwards (the CLI option sets both)."""
    path = tmp_path / "user_dict.txt"
    path.write_text("鹦鹉螺号 100 n\n", encoding="utf-8")
    yield path
    os.environ.pop("BULLETINS_USER_DICT", None)
    dictionary.reset()


def test_dictionary_change_requires_full(workspace: tuple[Path, Path], new_user_dict: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index = workspace
    old_hash = read_meta(IndexLocation(index).current_path()).dictionary_hash
    monkeypatch.setenv("BULLETINS_USER_DICT", str(new_user_dict))
    dictionary.reset()
    with pytest.raises(BuildError, match="--full"):
        quiet_build(corpus, index)
    report = quiet_build(corpus, index, full=True)
    assert report.full and len(report.added) == BULLETINS
    new_hash = read_meta(IndexLocation(index).current_path()).dictionary_hash
    assert new_hash == dictionary.dictionary_hash() != old_hash
    assert len(quiet_build(corpus, index).unchanged) == BULLETINS


def test_user_dict_option(workspace: tuple[Path, Path], new_user_dict: Path) -> None:
    corpus, index = workspace
    result = CliRunner().invoke(main, [*_clean(corpus, index), "--user-dict", str(new_user_dict)])
    assert result.exit_code == 1 and "--full" in result.stderr


@pytest.mark.parametrize(("answer", "status", "full"), [("y\n", 0, True), ("n\n", 1, False)])
def test_build_offers_a_full_rebuild_on_a_terminal(workspace: tuple[Path, Path], new_user_dict: Path,
                                                   answer: str, status: int, full: bool) -> None:
    """With a terminal on stdin, an incompatible index makes `build` ask; yes rebuilds, no fails."""
    corpus, index = workspace
    before = IndexLocation(index).generation()
    controller, terminal = os.openpty()
    env = {**os.environ, "BULLETINS_USER_DICT": str(new_user_dict)}
    process = subprocess.Popen([sys.executable, "-m", "webui.cli", "build", str(corpus), "--index", str(index)],
                               stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    os.close(terminal)
    os.write(controller, answer.encode())
    try:
        out, err = process.communicate(timeout=300)
    finally:
        os.close(controller)
    assert process.returncode == status, err
    assert "Rebuild the whole index now" in err
    assert (IndexLocation(index).generation() != before) is full
