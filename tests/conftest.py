"""Shared fixtures: paths to the corpora in ../shared (skipped when absent, failing under CI), and an index of a
sample of the bench corpus built once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED_DIR = SHARED / "corpus" / "seed"
BENCH_DIR = SHARED / "corpus" / "bench"


def require_shared(path: Path) -> Path:
    """Return `path`, skipping the test when ../shared is absent (and failing when CI is set)."""
    if not path.exists():
        message = f"{path} is missing: the shared corpora are expected beside the project"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    return require_shared(SEED_DIR)


@pytest.fixture(scope="session")
def bench_dir() -> Path:
    return require_shared(BENCH_DIR)


#: The bench sample: every SAMPLE_EVERY-th bench bulletin (about 120 bulletins, 1,400 articles).
SAMPLE_EVERY = 12


@pytest.fixture(scope="session")
def bench_sample(bench_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(source folder, index root) of every SAMPLE_EVERY-th bench bulletin, copied and indexed once."""
    from index.writer import build

    files = sorted((bench_dir / "bulletins").rglob("*.txt"))[::SAMPLE_EVERY]
    source = tmp_path_factory.mktemp("bench-src")
    for path in files:
        target = source / path.relative_to(bench_dir / "bulletins")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    root = tmp_path_factory.mktemp("bench-index")
    build([source], root, full=True, progress=False, log=lambda message: None)
    return source, root
