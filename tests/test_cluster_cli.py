"""The commands on a cluster: `serve`, `search`, `themes` and `stats` take --backend (or BULLETINS_BACKEND)
and answer from the cluster what they answer from the index folder; a malformed address is a usage error,
an unreachable one a one-line message."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.sphinxql.publish import publish
from search.themes import Themes
from test_serve import get_json, running_server
from test_webui import sample_index
from webui.cli import main


@pytest.fixture(scope="module")
def published(sphinx_cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(index folder, backend address) of the web sample published to a 2-shard cluster."""
    root = sample_index(tmp_path_factory)
    cluster = sphinx_cluster(shards=2, mirrors=0)
    publish(root, cluster.backend, Themes())
    yield root, cluster.backend


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.mark.parametrize("command", [["search", "文明", "--json"], ["themes", "--json"], ["stats", "--json"]])
def test_commands_answer_the_same_from_the_cluster(published: tuple[Path, str], command: list[str]) -> None:
    root, backend = published
    local = run(*command, "--index", str(root))
    remote = run(*command, "--index", str(root), "--backend", backend)
    from_env = run(*command, "--index", str(root), env={"BULLETINS_BACKEND": backend})
    assert local.exit_code == remote.exit_code == from_env.exit_code == 0, remote.output
    left, right = json.loads(local.output), json.loads(remote.output)
    assert json.loads(from_env.output) == right | ({"took_ms": json.loads(from_env.output).get("took_ms")}
                                                  if "took_ms" in right else {})
    if command[0] == "search":
        assert (left["total"], left["facets"]) == (right["total"], right["facets"]) and right["total"] > 0
    elif command[0] == "themes":
        assert left == right
    else:
        assert right["backend"] == backend
        for name in ("articles", "bulletins", "date_from", "date_to", "districts", "years"):
            assert left[name] == right[name], name
        assert right["vocabulary"] == left["vocabulary"]


BAD = [("mysql://127.0.0.1:9306", 2, "sphinxql://HOST:PORT"), ("sphinxql://127.0.0.1", 2, "sphinxql://HOST:PORT")]
UNREACHABLE = [("sphinxql://127.0.0.1:1", 1, "cannot connect")]


@pytest.mark.parametrize(("command", "address", "status", "says"),
                         [(command, *case) for command in (["search", "文明"], ["themes"], ["stats"], ["serve"])
                          for case in BAD]
                         + [(command, *case) for command in (["search", "文明"], ["themes"], ["stats"])
                            for case in UNREACHABLE])
def test_bad_and_unreachable_backends_say_so(command: list[str], address: str, status: int, says: str,
                                              tmp_path: Path) -> None:
    result = run(*command, "--index", str(tmp_path), "--backend", address)
    assert result.exit_code == status, result.output
    assert says in result.output and "Traceback" not in result.output


def test_serve_searches_the_cluster(published: tuple[Path, str], tmp_path: Path) -> None:
    root, backend = published
    with running_server(tmp_path / "no-index-here", "--backend", backend, "--workers", "1") as (base, process):
        body = get_json(base + "/api/search?q=" + urllib.parse.quote("志愿"))
        assert body["total"] > 0 and body["partial"] is False
        stats = get_json(base + "/api/stats")
        assert stats["backend"] == backend
