"""Reading a committed generation at the index level: its segments, their array files and the live documents.

A generation folder holds one Whoosh index whose TOC lists the segments, each with its array file
(`index.segment`). Global document numbers are Whoosh's: the segments in TOC order, each starting where the
previous one ends, so a number found in an array file plus its segment's base is the document Whoosh
stores. Deleted documents are Whoosh's (kept in the TOC); they stay in the arrays and are masked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import json

import numpy as np
from whoosh.codec.whoosh3 import W3Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, clean_files

from index.arrayfile import ArrayFile, ArrayFileError
from index.atomic import replacing
from index.segment import ARRAYS_VERSION, INDEX_NAME, arrays_path
from index.unitindex import UnitIndex


#: The manifest of a committed generation: the size of every index file, so a truncated or missing one is
#: found by a stat of each file (at every open, and by `bulletins stats`), before a query trips over it.
MANIFEST = "files.json"
#: Files of a generation written after the commit, so not in its manifest: meta.json (the end of the build)
#: and the query vocabulary (`index.vocabulary`, checked by its own checksums).
UNLISTED = {"meta.json", MANIFEST}
UNLISTED_PREFIXES = ("vocabulary.",)


class GenerationError(Exception):
    """A generation cannot be read: a segment file is missing or damaged. The message names it."""


@dataclass(frozen=True)
class IndexedFile:
    """A source file as the index knows it: content hash, live articles and where they are."""

    digest: str
    articles: int
    places: tuple[tuple[int, int, int], ...] = field(default=())  # (segment index, first docnum, count)


class SegmentArrays:
    """One segment's array file, opened: its unit index, lengths, columns and tables."""

    def __init__(self, folder: Path, segment: W3Segment, base: int) -> None:
        self.segment = segment
        self.base = base
        self.doc_count = segment.doc_count_all()
        path = arrays_path(folder, segment)
        try:
            self.file = ArrayFile(path)
        except ArrayFileError as error:
            raise GenerationError(str(error)) from error
        meta = self.file.meta
        if meta.get("version") != ARRAYS_VERSION or meta.get("doc_count") != self.doc_count:
            raise GenerationError(f"{path} does not belong to segment {segment.segment_id()} "
                                  f"({meta.get('doc_count')} documents, the segment has {self.doc_count})")
        array = self.file.array
        self.units = UnitIndex(array("units.keys"), array("units.offsets"), array("units.positions"))
        self.field_starts = array("field_starts")
        self.field_units = array("field_units")
        self.word_lengths = array("word_lengths")
        self.values: dict[str, list[str]] = meta["values"]
        self.files: list[list[Any]] = meta["files"]

    def column(self, name: str) -> np.ndarray:
        return self.file.array(f"column.{name}")

    def ids(self) -> np.ndarray:
        return self.file.array("ids")

    def deleted(self) -> np.ndarray:
        """Local numbers of this segment's deleted documents."""
        return np.fromiter(self.segment.deleted_docs(), dtype=np.int64)


class Generation:
    """The segments of the committed Whoosh index in `path`, with their array files."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        damaged = manifest_problems(self.path)
        if damaged:
            raise GenerationError(f"damaged index in {self.path}: {'; '.join(damaged)}")
        storage = FileStorage(str(self.path))
        try:
            toc = TOC.read(storage, INDEX_NAME)
        except Exception as error:  # noqa: BLE001 - Whoosh raises several kinds for a damaged TOC
            raise GenerationError(f"cannot read the index in {self.path}: {type(error).__name__}: {error}") from error
        self.toc_generation = toc.generation
        self.schema = toc.schema
        self.segments: list[SegmentArrays] = []
        base = 0
        for segment in toc.segments:
            self.segments.append(SegmentArrays(self.path, segment, base))
            base += segment.doc_count_all()
        self.doc_count_all = base

    def live(self) -> np.ndarray:
        """A boolean per global document number: True unless deleted."""
        live = np.ones(self.doc_count_all, dtype=bool)
        for part in self.segments:
            deleted = part.deleted()
            live[part.base + deleted] = False
        return live

    def doc_count(self) -> int:
        return self.doc_count_all - sum(part.segment.deleted_count() for part in self.segments)

    def column(self, name: str) -> np.ndarray:
        """An integer column over every global document (int32)."""
        if not self.segments:
            return np.empty(0, np.int32)
        return np.concatenate([part.column(name) for part in self.segments]).astype(np.int32)

    def string_column(self, name: str) -> tuple[np.ndarray, list[str]]:
        """Global codes of a string column and the value of each code (segment tables merged)."""
        values: dict[str, int] = {}
        parts = []
        for part in self.segments:
            table = np.array([values.setdefault(value, len(values)) for value in part.values[name]], dtype=np.int32)
            codes = part.column(name)
            parts.append(table[codes] if len(table) else np.zeros(len(codes), np.int32))
        codes = np.concatenate(parts) if parts else np.empty(0, np.int32)
        return codes.astype(np.int32), list(values)

    def files(self) -> dict[str, IndexedFile]:
        """Every source file with live articles: its hash, live count and document ranges."""
        found: dict[str, IndexedFile] = {}
        for number, part in enumerate(self.segments):
            deleted = np.sort(part.deleted())
            for key, digest, first, count in part.files:
                gone = int(np.searchsorted(deleted, first + count) - np.searchsorted(deleted, first))
                if count - gone <= 0:
                    continue
                known = found.get(key)
                places = (known.places if known else ()) + ((number, first, count),)
                found[key] = IndexedFile(digest, (known.articles if known else 0) + count - gone, places)
        return found

    def check_files(self) -> list[str]:
        """Files of the manifest that are missing or not of their recorded size (no manifest: none)."""
        return manifest_problems(self.path)

    def verify(self) -> list[str]:
        """Problems found in the index files (sizes against the manifest) and the array files (checksums,
        document counts); empty when the index is sound."""
        problems = self.check_files()
        for part in self.segments:
            damaged = part.file.verify()
            if damaged:
                problems.append(f"{part.file.path.name}: damaged arrays {', '.join(damaged)}")
            if len(part.field_units) != 2 * part.doc_count or len(part.ids()) != part.doc_count:
                problems.append(f"{part.file.path.name}: array lengths do not match {part.doc_count} documents")
            if sum(count for _, _, _, count in part.files) != part.doc_count:
                problems.append(f"{part.file.path.name}: the file table does not cover its documents")
        return problems


def commit_toc(path: Path, schema: Any, segments: list[W3Segment], generation: int) -> None:
    """Write the TOC listing `segments` (Whoosh's atomic rename) and delete files no TOC lists any more."""
    storage = FileStorage(str(path))
    TOC(schema, segments, generation).write(storage, INDEX_NAME)
    clean_files(storage, INDEX_NAME, generation, segments)
    write_manifest(path)


def write_manifest(path: Path) -> None:
    """Record the size of every index file of the generation in `path` (replaced atomically)."""
    sizes = {item.name: item.stat().st_size for item in sorted(path.iterdir())
             if item.is_file() and item.name not in UNLISTED and not item.name.startswith((".", *UNLISTED_PREFIXES))}
    with replacing(path / MANIFEST, "w", encoding="utf-8") as stream:
        json.dump(sizes, stream, ensure_ascii=False, indent=0)


def manifest_problems(path: Path) -> list[str]:
    """What does not match the manifest of the generation in `path`: missing files, other sizes."""
    try:
        sizes = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        return [f"{MANIFEST} is unreadable ({error})"]
    problems = []
    for name, size in sizes.items():
        try:
            actual = (path / name).stat().st_size
        except FileNotFoundError:
            problems.append(f"{name} is missing")
            continue
        if actual != size:
            problems.append(f"{name} is {actual:,} bytes, {size:,} when it was written (truncated or overwritten)")
    return problems
