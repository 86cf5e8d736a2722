"""Replacing a file atomically: write a temporary file beside it, fsync it, rename it over the old one.

Readers (another process, a server worker) then see the old content or the new, never a mix, and a crash
leaves at worst a stray temporary file (named `.<name>.<random>`, which nothing reads).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def replacing_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`; once the block has written it, it is fsynced and replaces `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        yield Path(temporary)
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def replacing(path: Path, mode: str = "wb", **options: Any) -> Iterator[IO[Any]]:
    """A stream to a temporary file that replaces `path` when the block ends without error."""
    with replacing_path(path) as temporary, open(temporary, mode, **options) as stream:
        yield stream
