"""`Snapshot`: one opened generation, shared by every search thread of a process.

It holds what a search reads for every match, as numpy arrays over Whoosh's global document numbers: the
live mask, the facet and order columns, field lengths (units and words) and their averages, and each
segment's unit index and mapped postings file. Those come from the read-only files of the generation, so
several server processes share their pages. Whoosh readers (term lookups, stored documents) are opened
once per thread, because Whoosh's file objects seek; everything else is shared.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from whoosh import index as whoosh_index
from whoosh.index import EmptyIndexError
from whoosh.reading import TermNotFound

from index import schema as f
from index.generation import Generation, GenerationError
from index.segment import INDEX_NAME
from index.store import IndexError_, IndexLocation, IndexMeta, check_compatible
from index.unitindex import field_counts
from search.errors import IndexUnavailable
from search.facets import Column, FacetColumns
from search.parallel import map_segments
from search.postings import PostingsFile, PostingsError

_POSTINGS_EXT = ".pst"
#: Words with at least this many postings are decoded whole and kept in the posting cache.
CACHE_MIN_POSTINGS = 2000
#: Memory the posting cache of one snapshot may hold (per process), least recently used entries go first.
CACHE_BYTES = 64 * 2**20

T = TypeVar("T")


class PostingCache:
    """Decoded postings of frequent words (a bounded LRU, shared by the threads of a process).

    Like Lucene's query cache: the same common words come back in query after query, and decoding one of
    them costs more than the rest of a search.
    """

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self.size = 0
        self._entries: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[str, str], entry: tuple[np.ndarray, np.ndarray]) -> None:
        cost = sum(array.nbytes for array in entry)
        if cost > self.limit:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = entry
            self.size += cost
            while self.size > self.limit:
                _, dropped = self._entries.popitem(last=False)
                self.size -= sum(array.nbytes for array in dropped)


class Snapshot:
    """The live generation of an index root, opened (raises IndexUnavailable when there is none)."""

    def __init__(self, location: IndexLocation) -> None:
        try:
            path = location.current_path()
            self.meta: IndexMeta = check_compatible(path)
            self.generation = path.name
            self.path = path
            self.segments = Generation(path)
            self.index = whoosh_index.open_dir(str(path), indexname=INDEX_NAME)
            self.postings = [_postings_file(path, part.segment) for part in self.segments.segments]
        except (IndexError_, EmptyIndexError, GenerationError, OSError) as error:
            raise IndexUnavailable(f"{error} (索引不可用 / index unavailable: rebuild it with "
                                   f"`bulletins build SRC --full --index {location.root}`)") from error
        segments = self.segments
        self.size = segments.doc_count_all
        self.live = segments.live()
        self.live_count = int(self.live.sum())
        self.bases = np.array([part.base for part in segments.segments], dtype=np.int64)
        self.columns = _facet_columns(segments)
        self.unit_lengths = _pairs(segments, "field_units")
        self.word_lengths = _pairs(segments, "word_lengths")
        self.average_units = _averages(self.unit_lengths, self.live)
        self.average_words = _averages(self.word_lengths, self.live)
        self.id_rank = _id_rank(segments)
        self._orders: dict[str, np.ndarray] = {}
        self._derived: dict[str, tuple[Any, Any]] = {}
        self._derived_lock = threading.Lock()
        self._cache = PostingCache()
        self._local = threading.local()
        self._readers: list[Any] = []
        self._lock = threading.Lock()
        self.users = 0
        self.retired = False

    # Whoosh readers, one per thread.

    def reader(self) -> Any:
        """This thread's Whoosh reader of the generation."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self.index.reader()
            self._local.reader = reader
            self._local.leaves = [leaf for leaf, _ in reader.leaf_readers()] if self.size else []
            with self._lock:
                self._readers.append(reader)
        return reader

    def _leaves(self) -> list[Any]:
        self.reader()
        return self._local.leaves

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        return self.reader().stored_fields(int(docnum))

    def docnum_of(self, article_id: str) -> int | None:
        """The document number of a live article, or None."""
        try:
            docnum = self.reader().first_id(f.ID_, article_id)
        except TermNotFound:
            return None
        return docnum if docnum is not None and self.live[docnum] else None

    def documents(self, field: str, value: str) -> list[dict[str, Any]]:
        """Stored fields of every live document whose `field` is `value` (an ID field)."""
        reader = self.reader()
        try:
            docnums = list(reader.postings(field, value).all_ids())
        except TermNotFound:
            return []
        return [dict(reader.stored_fields(docnum)) for docnum in docnums if self.live[docnum]]

    def close(self) -> None:
        with self._lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            reader.close()

    # What the matcher reads.

    def word_postings(self, field: str, word: str,
                      wanted: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """Global docnums and frequencies of a jieba word in a word field, and its document frequency.

        With `wanted` (ascending global docnums) only the posting blocks that can hold them are decoded
        (the result covers at least those). A frequent word is decoded whole once and kept in the snapshot's
        posting cache. The document frequency is Whoosh's, deleted documents included, as Lucene's is until a
        merge.
        """
        infos = []
        for number, leaf in enumerate(self._leaves()):
            try:
                infos.append((number, leaf.term_info(field, word)))
            except TermNotFound:
                continue
        frequency = sum(terminfo.doc_frequency() for _, terminfo in infos)
        if frequency >= CACHE_MIN_POSTINGS:
            cached = self._cache.get((field, word))
            if cached is None:
                cached = self._decode(infos, None)
                self._cache.put((field, word), cached)
            return (*cached, frequency)
        return (*self._decode(infos, wanted), frequency)

    def _decode(self, infos: list[tuple[int, Any]], wanted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        ids, weights = [], []
        for number, terminfo in infos:
            base = int(self.bases[number])
            local = None
            if wanted is not None:
                count = self.segments.segments[number].doc_count
                low, high = np.searchsorted(wanted, (base, base + count))
                if low == high:
                    continue
                local = wanted[low:high] - base
            try:
                docnums, counts = self.postings[number].decode(terminfo, local)
            except PostingsError as error:
                raise IndexUnavailable(f"{error}: rebuild the index with `bulletins build SRC --full`") from error
            ids.append((docnums + base).astype(np.int32))
            weights.append(counts)
        if not ids:
            return np.empty(0, np.int32), np.empty(0, np.float32)
        return np.concatenate(ids), np.concatenate(weights)

    def unit_counts(self, symbols: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """How often the unit sequence occurs in each document's headline and body (dense int arrays).

        Segments are searched side by side when the sequence's postings are long (`search.parallel`)."""
        headline = np.zeros(self.size, dtype=np.int32)
        body = np.zeros(self.size, dtype=np.int32)
        parts = self.segments.segments

        def count(part: Any) -> None:
            found = part.units.occurrences(symbols)
            if found.size:
                counts = field_counts(found, part.field_starts)
                headline[part.base:part.base + part.doc_count] = counts[0::2]
                body[part.base:part.base + part.doc_count] = counts[1::2]

        work = sum(part.units.work(symbols) for part in parts) if len(parts) > 1 else 0
        map_segments(count, parts, work)
        return headline, body

    def unit_documents(self, symbols: Sequence[int]) -> np.ndarray:
        """A boolean per document: the unit sequence occurs in its headline or body."""
        found = np.zeros(self.size, dtype=bool)
        found[self._unit_docnums(symbols)] = True
        return found

    def unit_docnums(self, symbols: Sequence[int]) -> np.ndarray:
        """The live documents (ascending global docnums) whose headline or body holds the unit sequence:
        sparse, so a rare sequence costs a few binary searches, not a pass over every document."""
        docnums = self._unit_docnums(symbols)
        return docnums[self.live[docnums]]

    def _unit_docnums(self, symbols: Sequence[int]) -> np.ndarray:
        """Every document (deleted ones too, ascending) whose headline or body holds the unit sequence."""
        found = []
        for part in self.segments.segments:
            positions = part.units.occurrences(symbols)
            if positions.size:
                documents = (np.searchsorted(part.field_starts, positions, side="right") - 1) // 2
                first = np.ones(len(documents), dtype=bool)
                first[1:] = documents[1:] != documents[:-1]
                found.append(documents[first] + part.base)
        return np.concatenate(found) if found else np.empty(0, np.int64)

    def document_frequency(self, field: str, word: str) -> int:
        """In how many documents a jieba word occurs in a word field (Whoosh's count, deleted ones included)."""
        total = 0
        for leaf in self._leaves():
            try:
                total += leaf.term_info(field, word).doc_frequency()
            except TermNotFound:
                continue
        return total

    def derived(self, kind: str, key: Any, compute: Callable[[], T]) -> T:
        """A structure computed from this snapshot, kept while `key` stays the same (one per `kind`), such as
        theme membership keyed by the theme table's digest. One thread computes it; the others wait for it."""
        with self._derived_lock:
            known = self._derived.get(kind)
            if known is not None and known[0] == key:
                return known[1]
            value = compute()
            self._derived[kind] = (key, value)
            return value

    def order(self, sort: str) -> np.ndarray:
        """Rank of every document in date order ("date": newest first, "date-asc": oldest first)."""
        rank = self._orders.get(sort)
        if rank is None:
            dates = self.columns.date_num if sort == "date-asc" else -self.columns.date_num
            order = np.lexsort((self.id_rank, self.columns.ordinal, dates))
            rank = np.empty(self.size, dtype=np.int64)
            rank[order] = np.arange(self.size)
            self._orders[sort] = rank
        return rank


def _postings_file(path: Path, segment: Any) -> PostingsFile:
    return PostingsFile(path / segment.make_filename(_POSTINGS_EXT))


def _pairs(segments: Generation, name: str) -> np.ndarray:
    """A (documents × 2) float array of a per-field array file entry: headline, body."""
    if not segments.segments:
        return np.zeros((0, 2))
    values = np.concatenate([getattr(part, name) for part in segments.segments])
    return values.reshape(-1, 2).astype(np.float64)


def _averages(lengths: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Average headline and body length over the live documents (at least 1)."""
    if not live.any():
        return np.ones(2)
    return np.maximum(lengths[live].mean(axis=0), 1.0)


def _facet_columns(segments: Generation) -> FacetColumns:
    columns: dict[str, Column] = {}
    for name in (f.DISTRICT, f.COLUMN, f.SOURCE, f.SERIES):
        codes, values = segments.string_column(name)
        columns[name] = Column(codes, values)
    for name in (f.YEAR, f.MONTH, f.DATE_NUM, f.ORDINAL):
        columns[name] = Column.of_integers(segments.column(name))
    return FacetColumns(**columns)


def _id_rank(segments: Generation) -> np.ndarray:
    """Each document's place in article-id order: the last tie-break, so equal results keep one order."""
    if not segments.segments:
        return np.empty(0, np.int64)
    ids = np.concatenate([part.ids() for part in segments.segments])
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.argsort(ids, kind="stable")] = np.arange(len(ids))
    return rank
