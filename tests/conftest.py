"""Shared fixtures: the corpora in ../shared and the converters (LibreOffice, Tesseract), skipped when absent
and failing when CI is set; an index of a sample of the bench corpus built once per session; and real searchd
clusters on free loopback ports (`sphinx_cluster`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.normalize import is_cjk
from search.sphinxql.topology import Topology

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


#: Bulletins of the generated sample corpus behind `built` and `workspace`.
SAMPLE_BULLETINS = 8


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated sample corpus and its full index, built once per module (tests work on copies)."""
    from index.samplegen import generate_corpus
    from index.writer import build

    base = tmp_path_factory.mktemp("built")
    generate_corpus(base / "corpus", bulletins=SAMPLE_BULLETINS)
    build([base / "corpus"], base / "index", full=True, progress=False, log=lambda _: None)
    return base / "corpus", base / "index"


@pytest.fixture
def workspace(built: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the sample corpus and of its index."""
    corpus, index = built
    shutil.copytree(corpus, tmp_path / "corpus")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "corpus", tmp_path / "index"


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


@dataclass(frozen=True)
class SphinxCluster:
    """A running cluster of `sphinx_cluster`: its topology and folder (for search.sphinxql.cluster's tools)."""

    topology: Topology
    directory: Path

    @property
    def backend(self) -> str:
        """The coordinator's address, as `--backend` takes it."""
        return str(self.topology.address)


def require_searchd() -> None:
    """Skip a test that runs searchd when it is missing; fail when CI is set."""
    require_converter("Sphinx searchd", None if shutil.which("searchd") else "apt-get install sphinxsearch")


@pytest.fixture(scope="module")
def sphinx_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SphinxCluster]]:
    """Factory of real clusters: `sphinx_cluster(shards=2, mirrors=0)` inits one in a temporary folder on free
    loopback ports (another range when a port is taken meanwhile), starts it and returns a SphinxCluster.
    Every cluster it made is stopped when the test module ends, also after a failure."""
    from search.sphinxql.cluster import PortBusy, free_base_port, init_cluster, start_cluster, stop_cluster

    require_searchd()
    made: list[Path] = []

    def make(shards: int = 2, mirrors: int = 0) -> SphinxCluster:
        attempts = 0
        while True:
            directory = tmp_path_factory.mktemp("cluster")
            init_cluster(directory, shards, mirrors, free_base_port(1 + 2 * shards * (1 + mirrors)))
            made.append(directory)
            try:
                return SphinxCluster(start_cluster(directory), directory)
            except PortBusy:
                stop_cluster(directory)
                attempts += 1
                if attempts == 5:
                    raise

    yield make
    problems = []
    for directory in made:
        try:
            stop_cluster(directory)
        except Exception as error:  # noqa: BLE001 - stop every cluster, then report
            problems.append(f"{directory}: {error}")
    assert not problems, "could not stop: " + "; ".join(problems)


#: The search backends every backend-parametrised test module runs on (`backend` fixture).
BACKENDS = ("embedded", "sphinxql")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend a module's engines and apps search: the local generation, or a 2-shard cluster."""
    return request.param


@pytest.fixture(scope="module")
def on_backend(backend: str, request: pytest.FixtureRequest) -> Callable[[Path], str | None]:
    """`on_backend(index_root, themes=None)`: None for the embedded backend; for sphinxql, a new 2-shard
    cluster with the index's live generation published to it, and its address (pass it as
    `Engine(root, backend=...)` or the app's BACKEND)."""

    def publish_to_cluster(root: Path, themes=None) -> str | None:
        if backend == "embedded":
            return None
        from search.sphinxql.publish import publish
        from search.themes import Themes

        cluster = request.getfixturevalue("sphinx_cluster")(shards=2, mirrors=0)
        publish(root, cluster.backend, themes or Themes())
        return cluster.backend

    return publish_to_cluster


def cjk_runs(text: str) -> list[str]:
    """The maximal runs of CJK characters in `text` (query material for the bench tests)."""
    runs, current = [], []
    for char in text:
        if is_cjk(char):
            current.append(char)
        elif current:
            runs.append("".join(current))
            current = []
    return runs + (["".join(current)] if current else [])
