"""Shared fixtures: paths to the corpora in ../shared (skipped when absent, failing under CI)."""

from __future__ import annotations

import os
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
