"""Where an index lives on disk: generations of Whoosh indexes under one root, and a pointer to the live one.

    ROOT/CURRENT          name of the live generation (replaced atomically)
    ROOT/gen-<stamp>/     a Whoosh index (non-compound segments) plus meta.json
    ROOT/build.lock       held by the one running build

Every build writes a new generation and swaps CURRENT when it is complete and checked: a full build from
scratch, an incremental one as a copy of the live generation made of hard links (segment files are never
changed once written, so the copy costs no space) plus its new segments and a new TOC. A live generation
is therefore never modified, a killed build leaves only an unfinished folder that the next build removes,
and readers compare `generation()` to notice a finished build without a restart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import Index

from index.atomic import replacing
from index.dictionary import dictionary_hash
from index.schema import SCHEMA_VERSION, build_schema

CURRENT = "CURRENT"
#: What a generation folder is called (CURRENT holding anything else is damaged).
GENERATION_NAME = re.compile(r"gen-\d{8}T\d{12}")
META = "meta.json"
LOCK = "build.lock"


class IndexError_(Exception):
    """Base of index location errors (named with a trailing underscore to keep the builtin)."""


class IndexMissingError(IndexError_):
    """No finished index exists at the location yet."""


class IndexMismatchError(IndexError_):
    """The index was built with another schema version or other dictionaries: it needs a full rebuild."""


@dataclass
class IndexMeta:
    """What an index records about how it was built."""

    schema_version: int
    dictionary_hash: str
    created_at: str
    built_at: str

    @classmethod
    def fresh(cls) -> IndexMeta:
        now = now_iso()
        return cls(SCHEMA_VERSION, dictionary_hash(), now, now)


def now_iso() -> str:
    """The current UTC time to the second, as ISO 8601 (what meta.json and the build lock record)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old or the new content, never a mix."""
    with replacing(path, "w", encoding="utf-8") as stream:
        stream.write(text)


class IndexLocation:
    """An index root folder and its generations."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def generation(self) -> str | None:
        """Name of the live generation, or None when no build has finished (or CURRENT is damaged)."""
        name, _ = self._read_current()
        return name

    def _read_current(self) -> tuple[str | None, str | None]:
        """The live generation's name, or None and why not (None when no build has finished)."""
        try:
            raw = (self.root / CURRENT).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None, None
        except OSError as error:
            return None, f"{CURRENT} cannot be read ({error.strerror})"
        try:
            name = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return None, f"{CURRENT} is damaged (not text)"
        if not GENERATION_NAME.fullmatch(name):
            return None, f"{CURRENT} is damaged (it names no generation: {name[:40]!r})"
        if not (self.root / name).is_dir():
            return None, f"{CURRENT} names {name}, which is missing"
        return name, None

    def current_path(self) -> Path:
        """Folder of the live generation; IndexMissingError when there is none (saying why)."""
        name, problem = self._read_current()
        if name is None:
            if problem:
                raise IndexMissingError(f"the index at {self.root} is damaged: {problem}; rebuild it with "
                                        f"`bulletins build SRC --full --index {self.root}`")
            raise IndexMissingError(f"no index at {self.root}: run `bulletins build SRC --index {self.root}` first")
        return self.root / name

    def create_generation(self) -> Path:
        """A new, empty Whoosh index in a fresh generation folder (not live until `activate`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self._new_generation_path()
        path.mkdir()
        whoosh_index.create_in(str(path), build_schema())
        write_meta(path, IndexMeta.fresh())
        return path

    def clone_generation(self, source: Path) -> Path:
        """A new generation holding the same index as `source`: its files hard-linked (copied where the
        file system cannot link), meta.json copied; not live until `activate`."""
        path = self._new_generation_path()
        path.mkdir()
        for item in source.iterdir():
            if not item.is_file() or item.name.startswith(".") or item.name.endswith("LOCK"):
                continue
            if item.name == META:
                shutil.copyfile(item, path / META)
                continue
            try:
                os.link(item, path / item.name)
            except OSError:
                shutil.copy2(item, path / item.name)
        return path

    def _new_generation_path(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        return self.root / f"gen-{stamp}"

    def activate(self, path: Path) -> None:
        """Make generation `path` the live one, atomically, and delete generations older than the last."""
        previous = self.generation()
        _write_atomically(self.root / CURRENT, path.name + "\n")
        keep = {path.name, previous}
        for candidate in self.root.glob("gen-*"):
            if candidate.name not in keep and candidate.is_dir():
                shutil.rmtree(candidate, ignore_errors=True)

    def discard(self, path: Path) -> None:
        """Remove an unfinished generation."""
        shutil.rmtree(path, ignore_errors=True)

    def lock_path(self) -> Path:
        return self.root / LOCK


def read_meta(path: Path) -> IndexMeta:
    """The meta.json of generation `path`."""
    try:
        data = json.loads((path / META).read_text(encoding="utf-8"))
        return IndexMeta(**data)
    except (OSError, ValueError, TypeError) as error:
        raise IndexMismatchError(f"{path} has no readable {META}: rebuild with --full") from error


def write_meta(path: Path, meta: IndexMeta) -> None:
    _write_atomically(path / META, json.dumps(asdict(meta), ensure_ascii=False, indent=1))


def check_compatible(path: Path) -> IndexMeta:
    """The generation's meta, or IndexMismatchError when schema or dictionaries differ from ours."""
    meta = read_meta(path)
    if meta.schema_version != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"index at {path} has schema version {meta.schema_version}, this program uses {SCHEMA_VERSION}: "
            "rebuild it with `bulletins build SRC --full`")
    current = dictionary_hash()
    if meta.dictionary_hash != current:
        raise IndexMismatchError(
            f"index at {path} was built with dictionaries {meta.dictionary_hash}, now they are {current}: "
            "rebuild it with `bulletins build SRC --full`")
    return meta


def open_index(root: str | os.PathLike[str]) -> Index:
    """Open the live generation under `root` for reading."""
    path = IndexLocation(root).current_path()
    read_meta(path)
    return whoosh_index.open_dir(str(path))
