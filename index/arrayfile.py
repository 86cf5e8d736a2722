"""A file of named numpy arrays plus a JSON header, written atomically and read through one shared mmap.

Layout: 8-byte magic, 8-byte little-endian header length, the UTF-8 JSON header, then each array's raw bytes
at a 64-byte aligned offset. The header lists every array (dtype, shape, offset, crc32) and carries small
metadata (string tables, counts). Readers map the file read-only, so the pages are shared by every process
that opens it (the page cache), opening costs no copy, and slicing is thread-safe.
"""

from __future__ import annotations

import json
import mmap
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from index.atomic import replacing

MAGIC = b"BSARRAY1"
_ALIGN = 64


class ArrayFileError(Exception):
    """An array file is missing, truncated or not one of ours; the message names the file."""


def write_array_file(path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
    """Write `arrays` and `meta` to `path` (via a temporary file and rename, fsynced)."""
    entries: dict[str, dict[str, Any]] = {}
    offset = 0
    prepared = {}
    for name, array in arrays.items():
        data = np.ascontiguousarray(array)
        offset = -(-offset // _ALIGN) * _ALIGN
        entries[name] = {"dtype": data.dtype.str, "shape": list(data.shape), "offset": offset,
                         "crc32": zlib.crc32(memoryview(data).cast("B")) if data.size else 0}
        prepared[name] = data
        offset += data.nbytes
    header = json.dumps({"arrays": entries, "meta": dict(meta)}, ensure_ascii=False).encode("utf-8")
    start = -(-(16 + len(header)) // _ALIGN) * _ALIGN
    with replacing(path) as stream:
        stream.write(MAGIC + len(header).to_bytes(8, "little") + header)
        stream.write(b"\0" * (start - 16 - len(header)))
        written = 0
        for name, data in prepared.items():
            target = entries[name]["offset"]
            stream.write(b"\0" * (target - written))
            stream.write(memoryview(data).cast("B") if data.size else b"")
            written = target + data.nbytes


class ArrayFile:
    """A read-only view of an array file: `array(name)` and `meta`, backed by one mmap."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open("rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                if size < 16:
                    raise ArrayFileError(f"{path} is truncated ({size} bytes)")
                self._map = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as error:
            raise ArrayFileError(f"cannot open {path}: {error.strerror or error}") from error
        if self._map[:8] != MAGIC:
            raise ArrayFileError(f"{path} is not an index array file")
        length = int.from_bytes(self._map[8:16], "little")
        try:
            header = json.loads(bytes(self._map[16:16 + length]).decode("utf-8"))
        except ValueError as error:
            raise ArrayFileError(f"{path} has a damaged header") from error
        self.meta: dict[str, Any] = header["meta"]
        self._entries: dict[str, dict[str, Any]] = header["arrays"]
        self._data_start = -(-(16 + length) // _ALIGN) * _ALIGN
        end = max((self._data_start + entry["offset"] + self._nbytes(entry) for entry in self._entries.values()),
                  default=self._data_start)
        if end > size:
            raise ArrayFileError(f"{path} is truncated: {size} bytes, {end} expected")

    @staticmethod
    def _nbytes(entry: dict[str, Any]) -> int:
        return int(np.dtype(entry["dtype"]).itemsize * int(np.prod(entry["shape"], dtype=np.int64)))

    def names(self) -> list[str]:
        return list(self._entries)

    def array(self, name: str) -> np.ndarray:
        """The named array, a read-only view of the mapped file."""
        entry = self._entries[name]
        count = int(np.prod(entry["shape"], dtype=np.int64))
        view = np.frombuffer(self._map, dtype=np.dtype(entry["dtype"]), count=count,
                             offset=self._data_start + entry["offset"])
        return view.reshape(entry["shape"])

    def verify(self) -> list[str]:
        """Names of arrays whose bytes no longer match their checksum (empty when the file is intact)."""
        damaged = []
        for name, entry in self._entries.items():
            data = self.array(name)
            crc = zlib.crc32(memoryview(np.ascontiguousarray(data)).cast("B")) if data.size else 0
            if crc != entry["crc32"]:
                damaged.append(name)
        return damaged

    def size(self) -> int:
        return len(self._map)
