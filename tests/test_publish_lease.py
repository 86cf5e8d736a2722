"""The publish lease on a real cluster: one publisher at a time, stale and orphaned leases taken over, a
publisher that lost its lease never flips, the lease renewed while publishing and released afterwards."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from search.sphinxql import lease as lease_module
from search.sphinxql.connection import ClusterError, parse_address
from search.sphinxql.lease import LEASE_ROW, STALE, PublishBusy
from search.sphinxql.publish import CopyReport, publish
from search.sphinxql.schema import META_INDEX
from search.themes import Themes
from test_publish import cluster, committed, query  # noqa: F401 - the cluster fixture

OTHER_TOKEN = 7


def lease_row(backend: str) -> list[tuple[Any, ...]]:
    return query(parse_address(backend), f"SELECT generation, part, value FROM {META_INDEX} WHERE id = {LEASE_ROW}")


def hold(backend: str, host: str, pid: int, age: float) -> None:
    """Write a lease row of another publisher, renewed `age` seconds ago."""
    holder = json.dumps({"host": host, "pid": pid, "since": "2026-12-01T23:00:00+0000"})
    query(parse_address(backend), f"REPLACE INTO {META_INDEX} (id, kind, generation, part, value) VALUES "
                                  f"({LEASE_ROW}, 'lease', {int(time.time() - age)}, {OTHER_TOKEN}, '{holder}')")


def gone_pid() -> int:
    """The pid of a process of this host that has exited."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.parametrize(("host", "pid", "age", "taken"), [
    ("nightly-2.example", 4242, 5, False),
    ("nightly-2.example", 4242, STALE - 30, False),
    ("nightly-2.example", 4242, STALE + 30, True),
    (socket.gethostname(), None, 5, False),
    (socket.gethostname(), "gone", 5, True),
], ids=["held elsewhere", "held elsewhere, nearly stale", "stale", "held by a live process here",
        "held by a process here that is gone"])
def test_a_publish_takes_the_lease_only_when_it_is_free_stale_or_orphaned(
        workspace: tuple[Path, Path], cluster: Any, host: str, pid: Any, age: float, taken: bool) -> None:
    _, index = workspace
    pid = {None: 1, "gone": gone_pid()}.get(pid, pid)
    hold(cluster.backend, host, pid, age)
    if taken:
        report = publish(index, cluster.backend, Themes())
        assert report.generation == committed(cluster.backend) == 1
        assert lease_row(cluster.backend) == []
    else:
        with pytest.raises(PublishBusy, match=f"another publish holds the cluster.*host {host}, process {pid}"):
            publish(index, cluster.backend, Themes())
        assert committed(cluster.backend) == 0
        assert lease_row(cluster.backend)[0][1] == OTHER_TOKEN


def test_a_publisher_that_lost_its_lease_does_not_flip(workspace: tuple[Path, Path], cluster: Any) -> None:
    _, index = workspace

    def take_over(copy: CopyReport) -> None:
        hold(cluster.backend, "nightly-2.example", 4242, 0)

    with pytest.raises(ClusterError, match="taken over by another publisher.*nothing was flipped"):
        publish(index, cluster.backend, Themes(), progress=take_over)
    assert committed(cluster.backend) == 0
    assert lease_row(cluster.backend)[0][1] == OTHER_TOKEN, "the other publisher's lease is left alone"


def test_the_lease_is_renewed_while_publishing_and_released_after(workspace: tuple[Path, Path], cluster: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, index = workspace
    monkeypatch.setattr(lease_module, "RENEW", 0.05)
    seen: list[tuple[Any, ...]] = []

    def watch(copy: CopyReport) -> None:
        seen.append(lease_row(cluster.backend)[0])
        time.sleep(1.2)
        seen.append(lease_row(cluster.backend)[0])

    publish(index, cluster.backend, Themes(), progress=watch)
    first, later = seen[0], seen[-1]
    assert first[1] == later[1] != OTHER_TOKEN, "one holder throughout"
    assert json.loads(first[2])["host"] == socket.gethostname()
    assert int(later[0]) > int(first[0]), "renewed while publishing"
    assert lease_row(cluster.backend) == []
    publish(index, cluster.backend, Themes())
    assert lease_row(cluster.backend) == []
