"""A word's postings read from Whoosh's inverted index into numpy arrays, a block at a time.

Whoosh's matchers hand out one posting per Python call (25-40 µs each with scoring), which is what made a
frequent word slow to rank. The postings of a W3 segment are blocks: a pickled info tuple, then a zlib
stream holding a pickled (delta-encoded ids, weights, values) tuple. `PostingsFile` maps a segment's
postings file and decodes a term's blocks directly (one pickle per block of up to `BLOCK_LIMIT` postings,
the ids summed with numpy), given the term's info from Whoosh's term table; rare terms are inline in the
term info. The mapping is read-only and shared, so decoding is thread-safe; the term lookup goes through
the caller's (per-thread) Whoosh reader.
"""

from __future__ import annotations

import io
import mmap
import pickle
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

_MAGIC = b"W3Bl"
_INT = struct.Struct("!i")
#: More bytes than a block's pickled info tuple takes (six small numbers).
_INFO_BYTES = 96
EMPTY = (np.empty(0, np.int64), np.empty(0, np.float32))


class PostingsError(Exception):
    """A postings file does not hold what its term table says; the message names the file."""


class PostingsFile:
    """The postings file (.pst) of one segment, mapped read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as stream:
            self._map = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else None

    def decode(self, terminfo: Any, wanted: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, weights) of the term described by `terminfo` (a Whoosh W3TermInfo).

        With `wanted` (ascending docnums), only the blocks whose id range holds one of them are decoded: the
        others are skipped by their headers, as a skip list would, so a frequent word costs little when few
        documents are candidates. The result then still holds every posting of the decoded blocks.
        """
        if terminfo.is_inlined():
            ids, weights, _ = terminfo.inlined_postings()
            if weights is None:
                return np.asarray(ids, dtype=np.int64), np.ones(len(ids), np.float32)
            return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float32)
        offset, length = terminfo.extent()
        if isinstance(length, tuple):  # Whoosh 2.7 reads the extent's length back as a 1-tuple
            length = length[0]
        if self._map is None or self._map[offset:offset + 4] != _MAGIC:
            raise PostingsError(f"{self.path}: no postings at offset {offset}")
        data = memoryview(self._map)[offset + 4:offset + length]
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        position = 0
        first_id = 0
        last = False
        while not last:
            (size,) = _INT.unpack_from(data, position)
            last = size < 0
            start = position + _INT.size
            end = start + abs(size)
            stream = io.BytesIO(data[start:start + _INFO_BYTES])
            count, last_id = pickle.load(stream)[:2]
            position = end
            if wanted is not None:
                low, high = np.searchsorted(wanted, (first_id, last_id + 1))
                first_id = last_id + 1
                if low == high:
                    continue
            block = data[start + stream.tell():end]
            delta, block_weights, _ = pickle.loads(zlib.decompress(block))
            ids.append(np.cumsum(np.asarray(delta, dtype=np.int64)))
            if block_weights is None:
                weights.append(np.ones(count, np.float32))
            elif isinstance(block_weights, float):
                weights.append(np.full(count, block_weights, np.float32))
            else:
                weights.append(np.asarray(block_weights, dtype=np.float32))
        data.release()
        if not ids:
            return EMPTY
        return np.concatenate(ids), np.concatenate(weights)
