"""Faults around the index: damaged files, a full disk and a read-only index folder.

A damaged index answers 503 naming the fix, `bulletins stats` says what is wrong (exit 1), and
`bulletins build --full` repairs it. A build that runs out of disk or cannot write fails with one clear
line and exit status 1, leaves the served index as it was and no half-written generation behind.
The disk tests mount a small tmpfs, which needs root (they skip without it, and fail under CI).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.samplegen import generate_corpus
from index.store import CURRENT, IndexLocation
from index.writer import build
from webui import create_app
from webui.engine import close_engine

BULLETINS_EXE = Path(sys.executable).parent / "bulletins"
QUERY = "文明"


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BULLETINS_EXE), *arguments], capture_output=True, text=True, timeout=300,
                          check=False)


def _api_total(index: Path) -> tuple[int, dict]:
    """Status and JSON of the API search for QUERY over `index` (the page answers with the same status)."""
    application = create_app({"INDEX": str(index), "TESTING": True})
    try:
        response = application.test_client().get("/api/search", query_string={"q": QUERY})
        page = application.test_client().get("/search", query_string={"q": QUERY})
        assert page.status_code == response.status_code
        return response.status_code, response.get_json()
    finally:
        close_engine(application)


def _answer(index: Path) -> tuple[int, int, list[str]]:
    """Status, total and hit ids of the search for QUERY over `index`."""
    status, body = _api_total(index)
    assert status == 200, body
    return status, body["total"], [hit["id"] for hit in body["hits"]]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """A corpus, a sound index of it and the number of articles the query finds there."""
    root = tmp_path_factory.mktemp("faults")
    generate_corpus(root / "corpus", bulletins=30, seed=11)
    build([root / "corpus"], root / "index", full=True, progress=False, log=lambda message: None)
    status, body = _api_total(root / "index")
    assert status == 200 and body["total"] > 0
    return root / "corpus", root / "index", body["total"]


def _live(index: Path) -> Path:
    return IndexLocation(index).current_path()


def _first(folder: Path, suffix: str) -> Path:
    return sorted(folder.glob(f"*{suffix}"))[0]


def _truncate(index: Path) -> str:
    target = _first(_live(index), ".pst")
    with open(target, "r+b") as stream:
        stream.truncate(100)
    return f"{target.name} is 100 bytes"


def _delete_terms(index: Path) -> str:
    target = _first(_live(index), ".trm")
    target.unlink()
    return f"{target.name} is missing"


def _delete_arrays(index: Path) -> str:
    target = _first(_live(index), ".arrays")
    target.unlink()
    return f"{target.name} is missing"


def _garbage_current(index: Path) -> str:
    (index / CURRENT).write_bytes(b"\x00\xffjunk")
    return "CURRENT is damaged"


def _current_names_nothing(index: Path) -> str:
    (index / CURRENT).write_text("gen-20000101T000000000000\n", encoding="utf-8")
    return "gen-20000101T000000000000, which is missing"


def _missing_meta(index: Path) -> str:
    (_live(index) / "meta.json").unlink()
    return "no readable meta.json"


def _bad_toc(index: Path) -> str:
    toc = _first(_live(index), ".toc")
    toc.write_bytes(b"not a toc")
    return "damaged index"


DAMAGE: list[tuple[str, Callable[[Path], str]]] = [
    ("truncated postings", _truncate), ("deleted term table", _delete_terms), ("deleted arrays", _delete_arrays),
    ("garbage CURRENT", _garbage_current), ("CURRENT naming nothing", _current_names_nothing),
    ("missing meta.json", _missing_meta), ("overwritten TOC", _bad_toc),
]


@pytest.mark.parametrize(("name", "damage"), DAMAGE, ids=[name for name, _ in DAMAGE])
def test_a_damaged_index_is_503_reported_by_stats_and_repaired_by_a_full_build(
        pristine: tuple[Path, Path, int], tmp_path: Path, name: str, damage: Callable[[Path], str]) -> None:
    corpus, sound, total = pristine
    index = tmp_path / "index"
    shutil.copytree(sound, index)
    said = damage(index)

    status, body = _api_total(index)
    assert status == 503, body
    assert "--full" in body["error"]["message"], body
    stats = _run("stats", "--index", str(index))
    assert stats.returncode == 1, stats
    shown = stats.stdout + stats.stderr
    assert said in shown and "--full" in shown and "Traceback" not in shown, shown

    repaired = _run("build", str(corpus), "--index", str(index), "--full")
    assert repaired.returncode == 0, repaired.stderr
    assert _run("stats", "--index", str(index)).returncode == 0
    assert _answer(index) == _answer(sound)
    assert _answer(index)[1] == total


def test_only_the_two_newest_generations_are_kept(pristine: tuple[Path, Path, int], tmp_path: Path) -> None:
    corpus, sound, _ = pristine
    index = tmp_path / "index"
    shutil.copytree(sound, index)
    for _ in range(3):
        assert _run("build", str(corpus), "--index", str(index), "--full").returncode == 0
    generations = sorted(path.name for path in index.glob("gen-*"))
    assert len(generations) == 2 and _live(index).name == generations[-1]


# A full disk and a read-only folder (tmpfs, as root)

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False) if os.geteuid() == 0 else None
    if done is None or done.returncode != 0:
        message = f"cannot mount a tmpfs here ({done.stderr.strip() if done else 'not root'})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _generations(index: Path) -> list[str]:
    return sorted(path.name for path in index.glob("gen-*"))


def test_a_full_disk_fails_cleanly_and_the_served_index_stays(small_disk: Path, tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    generate_corpus(small, bulletins=20, seed=3)
    generate_corpus(large, bulletins=600, seed=4)
    index = small_disk / "index"
    assert _run("build", str(small), "--index", str(index), "--full").returncode == 0
    before = _answer(index)
    live = _generations(index)

    failed = _run("build", str(large), "--index", str(index), "--full")
    assert failed.returncode == 1, failed
    lines = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "No space left on device" in lines[0], failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    assert _generations(index) == live, "the half-written generation is removed"
    assert _answer(index) == before

    incremental = _run("build", str(large), "--index", str(index))
    assert incremental.returncode == 1 and "No space left on device" in incremental.stderr
    assert _generations(index) == live
    assert _run("build", str(small), "--index", str(index)).returncode == 0


def test_a_read_only_index_folder_fails_cleanly(small_disk: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    generate_corpus(corpus, bulletins=10, seed=5)
    index = small_disk / "index"
    assert _run("build", str(corpus), "--index", str(index), "--full").returncode == 0
    before = _answer(index)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        for arguments in (["--full"], []):
            failed = _run("build", str(corpus), "--index", str(index), *arguments)
            assert failed.returncode == 1, failed
            lines = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
            assert len(lines) == 1 and "Read-only file system" in lines[0], failed.stderr
            assert "Traceback" not in failed.stderr
        assert _answer(index) == before
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


# Broken inputs among good ones

def _docx_bytes() -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("首都精神文明建设情况简报")
    document.add_paragraph("第 9 期")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf_bytes() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Bulletin 9")
    page.save()
    return buffer.getvalue()


#: (file name under the corpus, content or a maker, the reason named): each must be skipped, named with why.
BROKEN_INPUTS: list[tuple[str, Callable[[Path], None], str]] = [
    ("empty.txt", lambda path: path.write_bytes(b""), "empty"),
    ("binary.txt", lambda path: path.write_bytes(bytes(range(256)) * 64), ""),
    ("truncated.docx", lambda path: path.write_bytes(_docx_bytes()[:700]), ""),
    ("truncated.pdf", lambda path: path.write_bytes(_pdf_bytes()[:300]), ""),
    ("pdf-named.docx", lambda path: path.write_bytes(_pdf_bytes()), ""),
    ("huge.txt", lambda path: path.write_text("首都精神文明建设情况简报\n第 1 期\n" + "文明" * (10 * 2**20 // 3),
                                             encoding="utf-8"), "too large for a bulletin"),
    ("loop-a.txt", lambda path: (os.symlink("loop-b.txt", path), os.symlink("loop-a.txt", path.parent / "loop-b.txt")),
     "broken or looping link"),
]


def test_broken_inputs_are_named_and_the_rest_indexed_with_exit_status_3(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    good = generate_corpus(corpus / "good", bulletins=6, seed=8)
    spaced = corpus / "第 3 批 文件" / "2021 年 第7期 简报.txt"
    spaced.parent.mkdir(parents=True)
    shutil.move(good[0], spaced)
    for name, make, _ in BROKEN_INPUTS:
        make(corpus / name)

    done = subprocess.run(["prlimit", "--as=4000000000", "--", str(BULLETINS_EXE), "build", str(corpus),
                           "--index", str(tmp_path / "index")], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    skipped = {line.split(": ", 2)[1]: line.split(": ", 2)[2] for line in done.stderr.splitlines()
               if line.startswith("skipped: ")}
    expected = {f"corpus/{name}": reason for name, _, reason in BROKEN_INPUTS}
    expected["corpus/loop-b.txt"] = "broken or looping link"
    assert set(skipped) == set(expected), done.stderr
    for key, reason in expected.items():
        assert reason in skipped[key] and skipped[key], (key, skipped[key])
    assert "files: 6 added" in done.stdout
    application = create_app({"INDEX": str(tmp_path / "index"), "TESTING": True})
    try:
        stats = application.test_client().get("/api/stats").get_json()
    finally:
        close_engine(application)
    assert stats["bulletins"] == 6
