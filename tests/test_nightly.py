"""scripts/nightly-build.sh: runs the incremental build, logs with timestamps, exits with its status."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.samplegen import generate_corpus

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "nightly-build.sh"
BULLETINS = Path(sys.executable).with_name("bulletins")


def run_nightly(tmp_path: Path, source: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BULLETINS_SOURCE": str(source), "BULLETINS_INDEX": str(tmp_path / "index"),
           "BULLETINS_LOG": str(tmp_path / "log" / "nightly.log"), "BULLETINS_BIN": str(BULLETINS),
           "BULLETINS_WAIT": "5"}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nightly") / "corpus"
    generate_corpus(folder, bulletins=12)
    (folder / "truth.jsonl").unlink()
    return folder


def test_nightly_build_logs_and_reports_each_outcome(tmp_path: Path, corpus: Path) -> None:
    source = tmp_path / "corpus"
    shutil.copytree(corpus, source)
    log = tmp_path / "log" / "nightly.log"

    assert run_nightly(tmp_path, source).returncode == 0
    assert run_nightly(tmp_path, source).returncode == 0
    (source / "broken.pdf").write_bytes(b"not a pdf at all")
    assert run_nightly(tmp_path, source).returncode == 3
    missing = run_nightly(tmp_path, tmp_path / "no-such-folder")
    assert missing.returncode == 2
    unmounted = tmp_path / "unmounted" / "corpus"
    unmounted.mkdir(parents=True)
    assert run_nightly(tmp_path, unmounted).returncode == 1, "an empty mount point must not empty the index"

    lines = log.read_text(encoding="utf-8").splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in lines)
    finished = [line.split()[-1] for line in lines if "nightly build finished with status" in line]
    assert finished == ["0", "0", "3", "2", "1"]
    assert any("does not exist" in line for line in lines)
    assert any("--full" in line and "delete" in line for line in lines), lines[-4:]
    assert run_nightly(tmp_path, source).returncode == 3, "the index kept every article"
    assert any("12 unchanged" in line for line in log.read_text(encoding="utf-8").splitlines()[-4:])
    assert any("skipped: corpus/broken.pdf" in line for line in lines)
    assert any("12 unchanged" in line for line in lines)


def test_nightly_build_needs_a_source(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "BULLETINS_SOURCE"}
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "BULLETINS_SOURCE" in result.stderr
