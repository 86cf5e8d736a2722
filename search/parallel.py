"""A per-process pool of threads that runs a large query's per-segment numpy work side by side.

NumPy's sorts and binary searches release the GIL, so on a machine with idle cores the segments of one
query are searched at the same time (as Lucene's IndexSearcher does with an executor). Small work stays on
the calling thread, where handing it over would cost more than it saves. The pool is made lazily in each
process, so a server that forks its workers never inherits one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Below this much work (positions read, summed over the segments) the segments run one after another.
PARALLEL_MIN_WORK = 50_000

_pool: ThreadPoolExecutor | None = None
_pool_pid = 0
_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor | None:
    global _pool, _pool_pid
    threads = os.cpu_count() or 1
    if threads < 2:
        return None
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="segments")
            _pool_pid = os.getpid()
        return _pool


def map_segments(function: Callable[[Item], Result], items: Sequence[Item], work: int) -> list[Result]:
    """`function` over `items` in order: in the pool when there are several and `work` is large enough."""
    executor = _executor() if len(items) > 1 and work >= PARALLEL_MIN_WORK else None
    if executor is None:
        return [function(item) for item in items]
    return list(executor.map(function, items))
