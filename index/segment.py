"""Writing one index segment: a Whoosh segment and, beside it, the segment's array file.

`SegmentBuilder` takes documents (as `index.documents` makes them, or as stored fields read back from
another segment), analyses each headline and body once (normalisation, jieba words, units) and writes:

* the Whoosh segment through Whoosh's codec writers: stored fields, sortable columns, field lengths and the
  postings of every indexed field, sorted in memory and handed to the field writer term by term. This is
  what `SegmentWriter` does, without its posting pool (a tuple, a temporary run file and a heap merge per
  posting), which made most of the build time;
* `<segment id>.arrays` (`index.arrayfile`): the segment's unit index (`index.unitindex`), field lengths in
  units and in words, the facet values as integer codes with their value tables, the article ids and the
  table of files with their hashes and document ranges, and its normalised headlines (for the query
  vocabulary's headline phrases, `index.vocabulary`). The name carries the segment id, so Whoosh's own
  clean-up removes it together with the segment's other files.

Nothing a builder writes is visible until a TOC that lists the segment is committed (`index.store`).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter, W3Segment, W3TermInfo
from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage

from index import schema as f
from index.analysis import word_counts
from index.arrayfile import write_array_file
from index.normalize import normalize
from index.strings import pack
from index.unitindex import UnitStream, build_postings, encode_texts

INDEX_NAME = "MAIN"
ARRAYS_EXT = ".arrays"
#: Version of the array file layout (checked when a segment is opened).
ARRAYS_VERSION = 1
#: Postings per Whoosh block: larger blocks mean fewer pickles to decode for a frequent word.
BLOCK_LIMIT = 512
#: Terms with fewer postings than this keep them inline in the term table (no block to write or read).
INLINE_LIMIT = 16
#: Documents whose units are encoded together (bounds the temporary text held in memory).
CHUNK_DOCS = 2000
#: String-valued facet columns kept as codes in the array file, and integer-valued ones kept as they are.
STRING_COLUMNS = (f.DISTRICT, f.COLUMN, f.SOURCE, f.SERIES, f.OFFICE)
INT_COLUMNS = (f.YEAR, f.MONTH, f.DATE_NUM, f.ORDINAL)


class _InliningPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer with its inlining fixed (2.7 calls a misspelt `set_inline` and fails)."""

    def finish_postings(self) -> W3TermInfo:
        if self.written() or len(self) >= self._inlinelimit:
            return super().finish_postings()
        terminfo = self._terminfo
        terminfo.add_block(self)
        terminfo._inlined = (tuple(self._ids), _compact_weights(self._weights), tuple(self._values) or None)
        self._terminfo = None
        return terminfo


def _compact_weights(weights: array) -> tuple[float, ...] | tuple[int, ...] | None:
    """Inline weights as Whoosh's ListMatcher takes them, in the fewest pickled bytes: None when all are 1
    (the usual case), whole numbers as ints."""
    if all(weight == 1.0 for weight in weights):
        return None
    if all(weight.is_integer() for weight in weights):
        return tuple(int(weight) for weight in weights)
    return tuple(weights)


class InliningCodec(W3Codec):
    """Whoosh's W3 codec writing rare terms' postings inline in the term table.

    Most terms of a vocabulary occur in a handful of documents; inlined, they cost no block (a pickle, a
    zlib stream and a seek) to write or to read. Segments pickle their codec, so this class is part of the
    index format, like the analyzer in the schema.
    """

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> W3PostingsWriter:
        return _InliningPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                       compression=self._compression, inlinelimit=self._inlinelimit)


def new_codec() -> W3Codec:
    """The codec every segment is written with."""
    return InliningCodec(blocklimit=BLOCK_LIMIT, inlinelimit=INLINE_LIMIT)


def arrays_path(folder: Path, segment: W3Segment) -> Path:
    """Where the array file of `segment` lives in the generation `folder`."""
    return folder / segment.make_filename(ARRAYS_EXT)


def _add_postings(writer: Any, docs: array, weights: array, values: list[bytes], lengths: np.ndarray) -> None:
    """Hand a term's postings (ascending docnums) to Whoosh's postings writer a block at a time.

    The same buffers and statistics `W3PostingsWriter.add_posting` keeps, filled per block instead of per
    posting: `add_posting` costs a few microseconds of checks per posting, most of a build's writing time.
    """
    postings = writer._postwriter
    limit = postings._blocklimit
    for start in range(0, len(docs), limit):
        if len(postings):
            postings._write_block()
        end = min(start + limit, len(docs))
        postings._ids = docs[start:end]
        postings._weights = weights[start:end]
        postings._values = values[start:end] if any(values[start:end]) else []
        postings._maxweight = max(postings._weights)
        block_lengths = lengths[start:end]
        postings._minlength = int(block_lengths.min()) or None
        postings._maxlength = int(block_lengths.max())


class _Codes:
    """Integer codes of the distinct values of one string column, in order of first appearance."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}
        self.codes = array("i")

    def add(self, value: str) -> None:
        self.codes.append(self.values.setdefault(value, len(self.values)))


class SegmentBuilder:
    """Buffers analysed documents and writes them as one segment into `folder` (see the module doc)."""

    def __init__(self, folder: Path, schema: Schema | None = None, indexname: str = INDEX_NAME) -> None:
        self.folder = Path(folder)
        self.storage = FileStorage(str(self.folder))
        self.schema = schema or f.build_schema()
        self.codec = new_codec()
        self.segment = self.codec.new_segment(self.storage, indexname)
        self._perdoc = self.codec.per_document_writer(self.storage, self.segment)
        self._terms: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = {}
        self._words: dict[str, dict[str, tuple[array, array]]] = {name: {} for name in f.WORD_FIELDS}
        self._word_lengths: dict[str, array] = {name: array("i") for name in f.WORD_FIELDS}
        self._pending: list[str] = []
        self._streams: list[UnitStream] = []
        self._strings = {name: _Codes() for name in STRING_COLUMNS}
        self._ints = {name: array("i") for name in INT_COLUMNS}
        self._ids: list[str] = []
        self._headlines: list[str] = []
        self._files: list[list[Any]] = []
        self.doc_count = 0
        self.analysis_seconds = 0.0

    # Adding documents.

    def add_file(self, key: str, digest: str, documents: Iterable[dict[str, Any]]) -> int:
        """Add the documents of one source file and record it in the file table; returns how many."""
        first = self.doc_count
        for document in documents:
            self.add(document)
        self._files.append([key, digest, first, self.doc_count - first])
        return self.doc_count - first

    def add(self, document: dict[str, Any]) -> None:
        """Analyse and add one document (stored and facet fields; headline and body are analysed here)."""
        docnum = self.doc_count
        started = time.perf_counter()
        texts = {name: normalize(document.get(source) or "") for name, source in f.WORD_FIELDS.items()}
        counts = {name: word_counts(text) for name, text in texts.items()}
        self.analysis_seconds += time.perf_counter() - started
        perdoc = self._perdoc
        perdoc.start_doc(docnum)
        for name in sorted(document):
            value = document[name]
            if value is None or name not in self.schema:
                continue
            field = self.schema[name]
            if field.indexed:
                table = self._terms.setdefault(name, {})
                for term, _, weight, value_bytes in field.index(value):
                    table.setdefault(term, []).append((docnum, weight, value_bytes))
            perdoc.add_field(name, field, value if field.stored else None, 0)
            if field.column_type is not None:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        for name, (word_table, length) in counts.items():
            perdoc.add_field(name, self.schema[name], None, length)
            self._word_lengths[name].append(length)
            postings = self._words[name]
            for word, frequency in word_table.items():
                entry = postings.get(word)
                if entry is None:
                    entry = postings[word] = (array("I"), array("I"))
                entry[0].append(docnum)
                entry[1].append(frequency)
        perdoc.finish_doc()
        for name in STRING_COLUMNS:
            self._strings[name].add(str(document.get(name) or ""))
        for name in INT_COLUMNS:
            self._ints[name].append(int(document.get(name) or 0))
        self._ids.append(document[f.ID_])
        self._headlines.append(texts[f.HEADLINE_WORDS])
        self._pending += [texts[f.HEADLINE_WORDS], texts[f.BODY_WORDS]]
        if len(self._pending) >= 2 * CHUNK_DOCS:
            self._encode_pending()
        self.doc_count += 1

    def _encode_pending(self) -> None:
        if self._pending:
            self._streams.append(encode_texts(self._pending))
            self._pending = []

    # Writing.

    def finish(self) -> W3Segment:
        """Write the segment's files and return the Whoosh segment (listed in no TOC yet)."""
        self._perdoc.close()
        self._write_postings()
        self._encode_pending()
        write_array_file(arrays_path(self.folder, self.segment), self._arrays(), self._meta())
        self.segment.set_doc_count(self.doc_count)
        return self.segment

    def cancel(self) -> None:
        """Remove whatever this builder has written."""
        if not self._perdoc.is_closed:
            try:
                self._perdoc.close()
            except Exception:  # noqa: BLE001 - cleaning up after a failure; the files are removed below
                pass
        prefix = self.segment.segment_id() + "."
        for path in self.folder.glob(prefix + "*"):
            path.unlink(missing_ok=True)

    def _write_postings(self) -> None:
        """Every indexed field's postings, fields and terms in Whoosh's order (by name, then term bytes)."""
        writer = self.codec.field_writer(self.storage, self.segment)
        lengths = {name: np.frombuffer(values, dtype=np.int32) for name, values in self._word_lengths.items()}
        for name in sorted(set(self._terms) | set(f.WORD_FIELDS)):
            field = self.schema[name]
            if name in f.WORD_FIELDS:
                terms = self._words[name]
                if not terms:
                    continue
                writer.start_field(name, field)
                field_lengths = lengths[name]
                for term in sorted(terms, key=lambda word: word.encode("utf-8")):
                    docs, frequencies = terms[term]
                    writer.start_term(term.encode("utf-8"))
                    _add_postings(writer, docs, array("f", frequencies), [],
                                  field_lengths[np.frombuffer(docs, dtype=np.uint32)])
                    writer.finish_term()
            else:
                writer.start_field(name, field)
                for term in sorted(self._terms[name]):
                    postings = self._terms[name][term]
                    writer.start_term(term)
                    _add_postings(writer, array("I", (docnum for docnum, _, _ in postings)),
                                  array("f", (weight for _, weight, _ in postings)),
                                  [value or b"" for _, _, value in postings], np.ones(len(postings), np.int32))
                    writer.finish_term()
            writer.finish_field()
        writer.close()

    def _units(self) -> UnitStream:
        """The segment's whole unit stream: the chunks' streams one after the other."""
        symbols, positions, starts, counts = [], [], [], []
        offset = 0
        for stream in self._streams:
            symbols.append(stream.symbols)
            positions.append(stream.positions.astype(np.int64) + offset)
            starts.append(stream.starts[:-1].astype(np.int64) + offset)
            counts.append(stream.counts)
            offset += stream.length
        if offset >= 2**31:
            raise ValueError("segment too large for 32-bit unit positions")
        starts.append(np.array([offset], dtype=np.int64))
        concat = (lambda parts, dtype: np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype))
        return UnitStream(concat(symbols, np.int32), concat(positions, np.int32), concat(starts, np.int32),
                          concat(counts, np.int32))

    def _arrays(self) -> dict[str, np.ndarray]:
        stream = self._units()
        arrays = {f"units.{name}": value for name, value in build_postings(stream.symbols, stream.positions).items()}
        arrays["field_starts"] = stream.starts
        arrays["field_units"] = stream.counts
        arrays["word_lengths"] = np.stack([np.frombuffer(self._word_lengths[name], dtype=np.int32)
                                           for name in f.WORD_FIELDS], axis=1).reshape(-1) \
            if self.doc_count else np.empty(0, np.int32)
        for name in STRING_COLUMNS:
            arrays[f"column.{name}"] = np.frombuffer(self._strings[name].codes, dtype=np.int32)
        for name in INT_COLUMNS:
            arrays[f"column.{name}"] = np.frombuffer(self._ints[name], dtype=np.int32)
        arrays["ids"] = np.array(self._ids, dtype="S") if self._ids else np.empty(0, "S1")
        arrays["vocab.headlines.blob"], arrays["vocab.headlines.offsets"] = pack(self._headlines)
        return arrays

    def _meta(self) -> dict[str, Any]:
        return {
            "version": ARRAYS_VERSION,
            "segment": self.segment.segment_id(),
            "doc_count": self.doc_count,
            "values": {name: list(codes.values) for name, codes in self._strings.items()},
            "files": self._files,
        }
