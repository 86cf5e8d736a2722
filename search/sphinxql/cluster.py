"""A searchd cluster on one host (development, tests), written with the configs a multi-host deployment uses.

`init_cluster` writes one searchd config per node (the coordinator, each shard's primary and mirrors), a data
folder per node and `cluster.json` (the topology plus each node's files); `start_cluster` / `stop_cluster`
run the nodes through their pid files, `cluster_status` says which are up, and `register_topology` stores
the topology in a coordinator's metadata index, where the publisher and the backend read it.
docs/scale-out.md describes the layout and how to spread the same configs over several hosts.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.sphinxql import schema
from search.sphinxql.connection import Address, ClusterError, connect, parse_address
from search.sphinxql.topology import Copy, Shard, Topology

CLUSTER_FILE = "cluster.json"
COORDINATOR = "coordinator"
PRIMARY = "primary"
MIRROR = "mirror"
#: Seconds a node may take to accept SphinxQL connections after `searchd` returns, and to exit after SIGTERM
#: (an RT index saves its RAM chunk on the way down).
START_TIMEOUT = 20.0
STOP_TIMEOUT = 60.0
POLL = 0.05
#: Seconds a status probe waits for a node's SphinxQL greeting.
PROBE_TIMEOUT = 2.0
LOG_TAIL_LINES = 12
#: Characters a searchd config value cannot hold (a `#` starts a comment, a line ends the value).
_UNSAFE_PATH = set("#\n\r\\")

INSTALL_HINT = ("searchd is not installed: install Debian's sphinxsearch (`apt-get install sphinxsearch`) "
                "or Manticore Search")


class PortBusy(ClusterError):
    """A node could not listen on its port because another program does (choose another base port)."""


@dataclass(frozen=True)
class Node:
    """One searchd of the cluster and its files. `copy` is 0 for a primary, k for the k-th mirror."""

    name: str
    role: str
    shard: int | None
    copy: int
    host: str
    port: int
    api_port: int | None
    config: Path
    pid_file: Path
    log: Path

    @property
    def address(self) -> Address:
        return Address(self.host, self.port)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "shard": self.shard, "copy": self.copy, "host": self.host,
                "port": self.port, "api_port": self.api_port, "config": str(self.config),
                "pid_file": str(self.pid_file), "log": str(self.log)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Node:
        shard = data["shard"]
        return cls(str(data["name"]), str(data["role"]), None if shard is None else int(shard), int(data["copy"]),
                   str(data["host"]), int(data["port"]),
                   None if data["api_port"] is None else int(data["api_port"]),
                   Path(data["config"]), Path(data["pid_file"]), Path(data["log"]))


def searchd_binary() -> str:
    """The searchd executable on PATH (ClusterError saying what to install otherwise)."""
    found = shutil.which("searchd")
    if found is None:
        raise ClusterError(INSTALL_HINT)
    return found


# --- init -------------------------------------------------------------------------------------------------

def _node_names(shards: int, mirrors: int) -> list[tuple[str, str, int, int]]:
    """(name, role, shard, copy) of every data node in port order: shard 0's primary and mirrors, shard 1's…"""
    names = []
    for shard in range(shards):
        for copy in range(1 + mirrors):
            role = PRIMARY if copy == 0 else MIRROR
            suffix = PRIMARY if copy == 0 else f"{MIRROR}{copy}"
            names.append((f"shard{shard}-{suffix}", role, shard, copy))
    return names


def _searchd_section(node: Node, data: Path, data_node: bool) -> str:
    listen = [f"{node.host}:{node.api_port}"] if data_node else []
    listen.append(f"{node.host}:{node.port}:mysql41")
    lines = [f"listen = {spec}" for spec in listen] + [f"log = {node.log}"]
    if not data_node:
        # Every search as the coordinator received it; the data nodes log none (their share of each search
        # is the coordinator's, and writing it costs them time on every query).
        lines.append(f"query_log = {data / 'query.log'}")
    lines += [
        f"pid_file = {node.pid_file}",
        f"binlog_path = {data}",
        "workers = threads",
        # Seconds an API request (the coordinator's agents) may take to arrive, and an idle SphinxQL client
        # (the backend keeps connections open) may stay connected.
        "read_timeout = 5",
        "client_timeout = 3600",
        # The publisher sends REPLACE batches of several MB; the coordinator receives agents' result sets.
        "max_packet_size = 32M",
    ]
    if not data_node:
        # How often, and how many ms apart, the coordinator retries a failed agent. A copy that refuses
        # connections is left out only once ha_strategy = nodeads has marked it dead (within a second).
        lines += ["agent_retry_count = 2", "agent_retry_delay = 50"]
        # The agents are persistent (agent_persistent): the coordinator keeps this many connections to each
        # open instead of connecting for every query (about a millisecond less per search, measured).
        lines.append("persistent_connections_limit = 16")
    return "searchd\n{\n" + "".join(f"    {line}\n" for line in lines) + "}\n"


def _distributed_section(topology: Topology) -> str:
    agents = "".join(f"    agent_persistent = {'|'.join(copy.agent for copy in shard.copies)}:{schema.SHARD_INDEX}\n"
                     for shard in topology.shards)
    mirrored = any(len(shard.copies) > 1 for shard in topology.shards)
    return (f"index {schema.INDEX}\n{{\n    type = distributed\n{agents}"
            + ("    ha_strategy = nodeads\n" if mirrored else "")
            + "    agent_connect_timeout = 300\n    agent_query_timeout = 10000\n}\n")


def _config_text(node: Node, data: Path, topology: Topology, directory: Path) -> str:
    header = (f"# {node.name} of the bulletins cluster in {directory}\n"
              "# written by `bulletins cluster init` (search/sphinxql/cluster.py, docs/scale-out.md)\n\n")
    if node.role == COORDINATOR:
        body = (_distributed_section(topology) + "\n"
                + schema.meta_index_config(str(data / schema.META_INDEX)) + "\n"
                + _searchd_section(node, data, data_node=False))
    else:
        body = (schema.shard_index_config(str(data / schema.SHARD_INDEX)) + "\n"
                + _searchd_section(node, data, data_node=True))
    return header + body


def _check_arguments(directory: Path, shards: int, mirrors: int, base_port: int, host: str) -> None:
    if shards < 1:
        raise ValueError(f"--shards must be at least 1 (got {shards})")
    if mirrors < 0:
        raise ValueError(f"--mirrors must be 0 or more (got {mirrors})")
    last = base_port + 2 * shards * (1 + mirrors)
    if base_port < 1 or last > 65535:
        raise ValueError(f"ports {base_port}..{last} are out of range: {shards} shard(s) with {mirrors} mirror(s) "
                         f"need {last - base_port + 1} ports from --base-port, all within 1..65535")
    if not host or any(ch.isspace() or ch in ":#|" for ch in host):
        raise ValueError(f"--host {host!r} is not a host name or IPv4 address")
    if _UNSAFE_PATH & set(str(directory)):
        raise ValueError(f"{directory}: a searchd config cannot name a path with '#', '\\' or a line break")
    cluster_file = directory / CLUSTER_FILE
    if cluster_file.exists() or any(directory.glob("*.conf")):
        raise ClusterError(f"{directory} already holds a cluster ({CLUSTER_FILE} or node configs): "
                           "choose an empty folder, or stop the cluster and remove the folder first")


def free_base_port(count: int, host: str = "127.0.0.1", ports: tuple[int, int] = (20000, 32000)) -> int:
    """A base port such that `count` consecutive ports from it are free on `host` right now (tests and the
    benchmark start clusters on them). The range is below Linux's ephemeral ports (32768+), so an outgoing
    connection cannot take one between this check and searchd's bind."""
    low, high = ports
    for _ in range(200):
        base = random.randrange(low, high - count)
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind((host, port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise ClusterError(f"no {count} consecutive free ports on {host} in {low}..{high}")


def init_cluster(directory: str | Path, shards: int, mirrors: int, base_port: int,
                 host: str = "127.0.0.1") -> Topology:
    """Write the configs, data folders and cluster.json of a cluster in `directory` (new or empty).

    Ports: the coordinator's SphinxQL is `base_port`; data node n (primaries then mirrors of shard 0, then
    shard 1, …) has SphinxQL `base_port+1+2n` and the binary API `base_port+2+2n`.
    """
    directory = Path(directory).resolve()
    _check_arguments(directory, shards, mirrors, base_port, host)
    nodes = [_node(directory, COORDINATOR, COORDINATOR, None, 0, host, base_port, None)]
    copies: dict[int, list[Copy]] = {}
    for n, (name, role, shard, copy) in enumerate(_node_names(shards, mirrors)):
        node = _node(directory, name, role, shard, copy, host, base_port + 1 + 2 * n, base_port + 2 + 2 * n)
        nodes.append(node)
        copies.setdefault(shard, []).append(Copy(role, host, node.port, node.api_port))
    topology = Topology(host, base_port, tuple(Shard(shard, tuple(found)) for shard, found in copies.items()))
    directory.mkdir(parents=True, exist_ok=True)
    for node in nodes:
        data = node.pid_file.parent
        data.mkdir(exist_ok=True)
        node.config.write_text(_config_text(node, data, topology, directory), encoding="utf-8")
    description = json.loads(topology.to_json())
    description["nodes"] = [node.to_dict() for node in nodes]
    (directory / CLUSTER_FILE).write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    return topology


def _node(directory: Path, name: str, role: str, shard: int | None, copy: int, host: str, port: int,
          api_port: int | None) -> Node:
    data = directory / name
    return Node(name, role, shard, copy, host, port, api_port, directory / f"{name}.conf", data / "searchd.pid",
                data / "searchd.log")


# --- reading a cluster ----------------------------------------------------------------------------------

def load_cluster(directory: str | Path) -> tuple[Topology, list[Node]]:
    """The topology and nodes that `init_cluster` wrote in `directory` (ClusterError when there are none)."""
    path = Path(directory) / CLUSTER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Topology.from_dict(data), [Node.from_dict(node) for node in data["nodes"]]
    except FileNotFoundError as error:
        raise ClusterError(f"{directory} holds no cluster ({CLUSTER_FILE} is missing): "
                           "run `bulletins cluster init` first") from error
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ClusterError(f"{path} is not a readable cluster description: {error}") from error


def find_node(nodes: list[Node], shard: int | None, role: str) -> Node:
    """The node of `role` ("coordinator", "primary", "mirror" = the first mirror, or "mirrorK") of `shard`."""
    if role == COORDINATOR:
        return next(node for node in nodes if node.role == COORDINATOR)
    copy = 0 if role == PRIMARY else 1 if role == MIRROR else None
    if copy is None and role.startswith(MIRROR) and role[len(MIRROR):].isdigit():
        copy = int(role[len(MIRROR):])
    for node in nodes:
        if node.role != COORDINATOR and node.shard == shard and node.copy == copy:
            return node
    raise ClusterError(f"the cluster has no {role} of shard {shard}")


# --- processes --------------------------------------------------------------------------------------------

def _read_pid(node: Node) -> int | None:
    try:
        return int(node.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int, node: Node | None = None) -> bool:
    """Whether `pid` is a running process (not a zombie; daemons here are reparented to a PID 1 that may not
    reap them) and, given `node`, a searchd of that node's config (a reused pid is not the node)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
        return False
    return node is None or str(node.config).encode() in cmdline


def _node_processes(node: Node) -> list[int]:
    """Every live searchd process started on the node's config (its watchdog and daemon), pid file or not."""
    config = str(node.config).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                arguments = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if arguments and arguments[0].endswith(b"searchd") and config in arguments and _alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def node_pid(node: Node) -> int | None:
    """The pid of the node's running searchd, or None (no pid file, or a stale one)."""
    pid = _read_pid(node)
    return pid if pid is not None and _alive(pid, node) else None


def accepts(address: Address, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a SphinxQL server answers at `address` (the greeting and login, not just an open port)."""
    try:
        connect(address, read_timeout=timeout).close()
    except ClusterError:
        return False
    return True


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _log_text(node: Node, offset: int = 0) -> str:
    try:
        with node.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _log_size(node: Node) -> int:
    try:
        return node.log.stat().st_size
    except OSError:
        return 0


def _log_tail(node: Node, extra: str = "", offset: int = 0) -> str:
    lines = _log_text(node, offset).splitlines()
    lines = [line for line in extra.splitlines() if line.strip()][-LOG_TAIL_LINES:] + lines[-LOG_TAIL_LINES:]
    return "\n".join(f"    {line}" for line in lines) if lines else "    (no log)"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL)
    return True


def _kill_group(pid: int) -> None:
    """SIGKILL the searchd `pid` and its watchdog (its process group: searchd makes itself a session), so the
    watchdog does not restart it."""
    try:
        group = os.getpgid(pid)
        if group != os.getpgid(0):
            os.killpg(group, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def start_node(directory: str | Path, shard: int | None, role: str, timeout: float = START_TIMEOUT) -> Node:
    """Start one node unless it runs, and wait until it accepts SphinxQL (ClusterError naming the node and
    showing its log otherwise; a node that came up only partly is stopped again)."""
    _, nodes = load_cluster(directory)
    node = find_node(nodes, shard, role)
    _start(node, searchd_binary(), timeout)
    return node


def _start(node: Node, searchd: str, timeout: float) -> None:
    if node_pid(node) is not None:
        return
    _abort(node)  # a searchd of this config without a valid pid file is a leftover of a failed start
    busy = [port for port in (node.port, node.api_port) if port is not None and not _port_free(node.host, port)]
    if busy:
        raise PortBusy(f"cannot start {node.name}: port {', '.join(map(str, busy))} on {node.host} is busy "
                       "(another program listens there; choose another --base-port)")
    offset = _log_size(node)
    launch_output = node.pid_file.parent / "searchd.out"
    # Output to a file, not a pipe the daemon would inherit. The launcher returns once the daemon listens,
    # which on a busy port takes searchd's bind retries (20 s): hence Popen and a watch on the log.
    with launch_output.open("w", encoding="utf-8") as output_file:
        launcher = subprocess.Popen([searchd, "--config", str(node.config)], stdin=subprocess.DEVNULL,
                                    stdout=output_file, stderr=subprocess.STDOUT)
    try:
        _wait_up(node, launcher, launch_output, offset, timeout)
    finally:
        if launcher.poll() is None:
            launcher.kill()
        launcher.wait()


def _wait_up(node: Node, launcher: subprocess.Popen, launch_output: Path, offset: int, timeout: float) -> None:
    """Wait until the node answers SphinxQL; on failure kill what started and raise a ClusterError."""
    deadline = time.monotonic() + timeout
    while True:
        code = launcher.poll()
        if code is not None and code != 0:
            _abort(node)
            output = launch_output.read_text(encoding="utf-8", errors="replace")
            raise ClusterError(f"cannot start {node.name}: searchd exited with {code}:\n"
                               + _log_tail(node, output, offset))
        if "bind() failed" in _log_text(node, offset):
            # searchd retries a busy port for a while, then runs without that listener: fail now.
            launcher.kill()
            _abort(node)
            ports = " or ".join(str(port) for port in (node.port, node.api_port) if port is not None)
            raise PortBusy(f"cannot start {node.name}: port {ports} on {node.host} is busy (another program "
                           "took it); its log:\n" + _log_tail(node, "", offset))
        if code == 0 and node_pid(node) is not None and accepts(node.address, PROBE_TIMEOUT):
            return
        if time.monotonic() > deadline:
            reason = ("is not running" if node_pid(node) is None else
                      f"does not accept SphinxQL on {node.address}")
            launcher.kill()
            _abort(node)
            output = launch_output.read_text(encoding="utf-8", errors="replace")
            raise ClusterError(f"cannot start {node.name}: after {timeout:g} s it {reason}; its log:\n"
                               + _log_tail(node, output, offset))
        time.sleep(POLL)


def _abort(node: Node) -> None:
    """Kill what a failed start left of the node (it holds nothing to save yet) and its pid file."""
    for pid in _node_processes(node):
        _kill_group(pid)
        _wait_gone(pid, 5.0)
    node.pid_file.unlink(missing_ok=True)


def start_cluster(directory: str | Path, timeout: float = START_TIMEOUT) -> Topology:
    """Start every node not running (data nodes first, then the coordinator), wait until each accepts
    SphinxQL, then store the topology in the coordinator's metadata. Harmless on a running cluster."""
    topology, nodes = load_cluster(directory)
    searchd = searchd_binary()
    for node in sorted(nodes, key=lambda node: node.role == COORDINATOR):
        _start(node, searchd, timeout)
    store_topology(topology, topology.address)
    return topology


def _stop(node: Node, timeout: float = STOP_TIMEOUT) -> None:
    pid = node_pid(node)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
        if not _wait_gone(pid, timeout):
            _kill_group(pid)
            _wait_gone(pid, 5.0)
    _abort(node)


def stop_node(directory: str | Path, shard: int | None, role: str, timeout: float = STOP_TIMEOUT) -> Node:
    """Stop one node: SIGTERM and wait until it exits (as `searchd --stopwait`), SIGKILL after `timeout`.
    A node already down is fine; its stale pid file is removed."""
    _, nodes = load_cluster(directory)
    node = find_node(nodes, shard, role)
    _stop(node, timeout)
    return node


def kill_node(directory: str | Path, shard: int | None, role: str) -> Node:
    """Kill one node with SIGKILL, watchdog included (a crash that leaves its pid file behind)."""
    _, nodes = load_cluster(directory)
    node = find_node(nodes, shard, role)
    pid = node_pid(node)
    if pid is not None:
        _kill_group(pid)
        _wait_gone(pid, 5.0)
    return node


def stop_cluster(directory: str | Path, timeout: float = STOP_TIMEOUT) -> None:
    """Stop every node (the coordinator first), each by its pid file."""
    _, nodes = load_cluster(directory)
    errors = []
    for node in sorted(nodes, key=lambda node: node.role != COORDINATOR):
        try:
            _stop(node, timeout)
        except OSError as error:
            errors.append(f"{node.name}: {error}")
    if errors:
        raise ClusterError("could not stop " + "; ".join(errors))


# --- topology and status ------------------------------------------------------------------------------

def store_topology(topology: Topology, address: Address) -> None:
    """Write the topology row into the metadata index of the coordinator at `address`, and read it back."""
    connection = connect(address)
    try:
        cursor = connection.cursor()
        cursor.execute(f"REPLACE INTO {schema.META_INDEX} (id, kind, generation, part, value) "
                       "VALUES (%s, 'topology', 0, 0, %s)", (schema.TOPOLOGY_ROW, topology.to_json()))
        cursor.execute(f"SELECT value FROM {schema.META_INDEX} WHERE id = {schema.TOPOLOGY_ROW}")
        stored = cursor.fetchall()
    except Exception as error:  # noqa: BLE001 - PyMySQL raises its own errors and socket errors alike
        raise ClusterError(f"{address} did not store the topology: {str(error).replace(chr(0), '')}") from error
    finally:
        connection.close()
    if not stored or stored[0][0] != topology.to_json():
        raise ClusterError(f"{address} did not keep the topology row (is it a coordinator with "
                           f"the {schema.META_INDEX} index?)")


def read_topology_source(source: str | Path) -> Topology:
    """A topology from a cluster folder, a cluster.json (or other topology JSON) file, or JSON text."""
    text = str(source)
    if text.lstrip().startswith("{"):
        return _topology_from_text(text, "the given JSON")
    path = Path(source)
    if path.is_dir():
        path = path / CLUSTER_FILE
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ClusterError(f"cannot read a topology from {source}: {error.strerror or error}") from error
    return _topology_from_text(content, str(path))


def _topology_from_text(text: str, where: str) -> Topology:
    try:
        return Topology.from_json(text)
    except ValueError as error:
        raise ClusterError(f"{where} is not a cluster description: {error}") from error


def register_topology(directory_or_json: str | Path, backend_address: str) -> Topology:
    """Store the topology (a cluster folder, cluster.json or JSON text) on the coordinator at
    `backend_address` (`sphinxql://HOST:PORT`): for nodes on several hosts, where start_cluster is not used."""
    topology = read_topology_source(directory_or_json)
    store_topology(topology, parse_address(backend_address))
    return topology


def cluster_status(directory: str | Path) -> dict[str, Any]:
    """`{"backend": "sphinxql://HOST:PORT", "nodes": [{"role", "shard", "port", "pid", "up"}, …]}`; a node is
    up when its process runs and its port answers SphinxQL."""
    topology, nodes = load_cluster(directory)
    rows = []
    for node in nodes:
        pid = node_pid(node)
        rows.append({"role": node.role, "shard": node.shard, "port": node.port, "pid": pid,
                     "up": pid is not None and accepts(node.address)})
    return {"backend": str(topology.address), "nodes": rows}
