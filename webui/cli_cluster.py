"""`bulletins cluster`: write, start, stop and check a searchd cluster on one host, or register the topology
of nodes spread over several hosts (search/sphinxql/cluster.py, docs/scale-out.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from search.sphinxql import cluster as tools
from search.sphinxql.connection import ClusterError

T = TypeVar("T")

_DIR = click.argument("directory", type=click.Path(file_okay=False, path_type=Path))


def _run(action: Callable[[], T]) -> T:
    """`action`, with a cluster error or bad argument turned into the CLI's one-line error (exit 1)."""
    try:
        return action()
    except (ClusterError, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from error


@click.group()
def cluster() -> None:
    """A sharded Sphinx 2.2 / Manticore cluster: one coordinator, N shards, M mirrors of each."""


@cluster.command()
@_DIR
@click.option("--shards", type=int, default=2, show_default=True, help="Shards the articles are spread over.")
@click.option("--mirrors", type=int, default=0, show_default=True, help="Extra copies of every shard.")
@click.option("--base-port", type=int, default=9306, show_default=True,
              help="The coordinator's SphinxQL port; data node n uses base+1+2n (SphinxQL) and base+2+2n (API).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address every node listens on.")
def init(directory: Path, shards: int, mirrors: int, base_port: int, host: str) -> None:
    """Write the node configs, data folders and cluster.json of a new cluster in DIRECTORY."""
    topology = _run(lambda: tools.init_cluster(directory, shards, mirrors, base_port, host))
    copies = sum(len(shard.copies) for shard in topology.shards)
    click.echo(f"cluster in {directory}: coordinator {topology.address}, {len(topology.shards)} shard(s), "
               f"{copies} data node(s); start it with `bulletins cluster start {directory}`")


@cluster.command()
@_DIR
def start(directory: Path) -> None:
    """Start every node not running, wait until each answers, and store the topology on the coordinator."""
    topology = _run(lambda: tools.start_cluster(directory))
    click.echo(f"cluster up: --backend {topology.address}")


@cluster.command()
@_DIR
def stop(directory: Path) -> None:
    """Stop every node of the cluster (SIGTERM, waiting until each has saved its index and exited)."""
    _run(lambda: tools.stop_cluster(directory))
    click.echo(f"cluster in {directory} stopped")


@cluster.command()
@_DIR
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(directory: Path, as_json: bool) -> None:
    """Show every node's role, shard, port, pid and whether it answers; exit 3 when a node is down."""
    report = _run(lambda: tools.cluster_status(directory))
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"backend {report['backend']}")
        click.echo(f"{'role':<12}{'shard':>6}{'port':>7}{'pid':>9}  state")
        for node in report["nodes"]:
            shard = "-" if node["shard"] is None else node["shard"]
            pid = "-" if node["pid"] is None else node["pid"]
            click.echo(f"{node['role']:<12}{shard:>6}{node['port']:>7}{pid:>9}  {'up' if node['up'] else 'DOWN'}")
    if not all(node["up"] for node in report["nodes"]):
        raise click.exceptions.Exit(3)


@cluster.command()
@click.argument("source")
@click.option("--backend", required=True, metavar="sphinxql://HOST:PORT", help="The coordinator's SphinxQL address.")
def register(source: str, backend: str) -> None:
    """Store the topology in SOURCE (a cluster folder, its cluster.json or JSON text) on the coordinator:
    for nodes on several hosts, started by systemd rather than `cluster start`."""
    topology = _run(lambda: tools.register_topology(source, backend))
    click.echo(f"topology of {len(topology.shards)} shard(s) stored on {backend}")
