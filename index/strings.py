"""Sorted string tables as two numpy arrays (UTF-8 bytes and offsets), for mapped array files.

A table of strings sorted by their UTF-8 bytes (the same order as code points) is one byte blob and an
offsets array; lookups are binary searches over the mapped bytes, so a large table costs no Python objects
and its pages are shared by every process that maps the file. Used by the vocabulary (`index.vocabulary`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pack(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The blob (uint8) and offsets (one more than strings; uint32, or int64 for a blob of 4 GB or more) of
    `strings`, in the order given."""
    encoded = [text.encode("utf-8") for text in strings]
    lengths = np.array([len(item) for item in encoded], dtype=np.int64)
    total = int(lengths.sum())
    offsets = np.zeros(len(encoded) + 1, dtype=np.uint32 if total < 2**32 else np.int64)
    if encoded:
        offsets[1:] = np.cumsum(lengths)
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8) if encoded else np.empty(0, np.uint8)
    return blob, offsets


def unpack(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    """Every string of a packed table, in order."""
    data = blob.tobytes()
    ends = offsets.tolist()
    return [data[ends[i]:ends[i + 1]].decode("utf-8") for i in range(len(ends) - 1)]


class StringTable:
    """A read-only sorted string table over packed arrays: item access, exact lookup and prefix ranges."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob = blob
        self.offsets = offsets
        self._size = max(len(offsets) - 1, 0)

    def __len__(self) -> int:
        return self._size

    def raw(self, index: int) -> bytes:
        return self.blob[int(self.offsets[index]):int(self.offsets[index + 1])].tobytes()

    def __getitem__(self, index: int) -> str:
        return self.raw(index).decode("utf-8")

    def _bisect(self, key: bytes) -> int:
        """The first index whose string is not below `key`."""
        low, high = 0, self._size
        while low < high:
            middle = (low + high) // 2
            if self.raw(middle) < key:
                low = middle + 1
            else:
                high = middle
        return low

    def find(self, text: str) -> int:
        """The index of `text`, or -1 when it is not in the table."""
        key = text.encode("utf-8")
        index = self._bisect(key)
        return index if index < self._size and self.raw(index) == key else -1

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """The index range [low, high) of the strings that start with `prefix`."""
        key = prefix.encode("utf-8")
        return self._bisect(key), self._bisect(key + b"\xff")
