"""Shared fixtures: the corpora in ../shared and the converters (LibreOffice, Tesseract), skipped when absent
and failing when CI is set; and an index of a sample of the bench corpus built once per session."""

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


def require_converter(what: str, missing: str | None) -> None:
    """Skip a test that needs a converter (LibreOffice, Tesseract) when it is missing; fail when CI is set.

    `missing` is None when the converter is there, else what to install.
    """
    if missing is None:
        return
    message = f"{what} is not installed here ({missing}); .ci/run installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def libreoffice() -> str:
    """The LibreOffice executable (the test skips without it, and fails under CI)."""
    from index.converters import libreoffice as find

    program = find()
    require_converter("LibreOffice", None if program else "apt-get install libreoffice-writer-nogui")
    return str(program)


@pytest.fixture(scope="session")
def tesseract() -> None:
    """Tesseract with the chi_sim data (the test skips without it, and fails under CI)."""
    from index.converters import ocr_missing

    require_converter("Tesseract with Chinese data", ocr_missing())


CJK_FONT_PATHS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                  "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    """A CJK font file to render scanned pages with (Debian's fonts-noto-cjk)."""
    found = next((Path(path) for path in CJK_FONT_PATHS if Path(path).exists()), None)
    require_converter("A CJK font", None if found else "apt-get install fonts-noto-cjk")
    assert found is not None
    return found
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
