"""`bulletins cluster` and search/sphinxql/cluster.py with real searchd processes: the configs and port
layout, start/status/stop, the topology row, a document found through the coordinator, a killed primary
with its mirror still answering, and the errors (existing folder, bad arguments, busy port, no searchd)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path

import pymysql
import pytest
from click.testing import CliRunner

from index import schema as f
from search.sphinxql import schema
from search.sphinxql.cluster import (CLUSTER_FILE, ClusterError, cluster_status, free_base_port, init_cluster,
                                     kill_node, load_cluster, start_cluster, start_node, stop_cluster)
from search.sphinxql.connection import Address, connect
from search.sphinxql.topology import Topology
from webui.cli import main

from conftest import SphinxCluster, require_searchd


def cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["cluster", *args], env=env)


def names_and_ports(nodes) -> list[tuple[str, str, int | None, int, int | None]]:
    return [(node.name, node.role, node.shard, node.port, node.api_port) for node in nodes]


# --- init: files and port layout (no searchd needed) ---------------------------------------------------------

def test_init_writes_the_documented_layout_of_two_shards_with_a_mirror(tmp_path: Path) -> None:
    topology = init_cluster(tmp_path / "c", shards=2, mirrors=1, base_port=20000)
    _, nodes = load_cluster(tmp_path / "c")
    assert names_and_ports(nodes) == [
        ("coordinator", "coordinator", None, 20000, None),
        ("shard0-primary", "primary", 0, 20001, 20002),
        ("shard0-mirror1", "mirror", 0, 20003, 20004),
        ("shard1-primary", "primary", 1, 20005, 20006),
        ("shard1-mirror1", "mirror", 1, 20007, 20008),
    ]
    coordinator = (tmp_path / "c" / "coordinator.conf").read_text(encoding="utf-8")
    assert re.findall(r"^\s*agent_persistent = (.*)$", coordinator, re.M) == [
        "127.0.0.1:20002|127.0.0.1:20004:shard", "127.0.0.1:20006|127.0.0.1:20008:shard"]
    assert re.findall(r"^\s*listen = (.*)$", coordinator, re.M) == ["127.0.0.1:20000:mysql41"]
    mirror = (tmp_path / "c" / "shard1-mirror1.conf").read_text(encoding="utf-8")
    assert re.findall(r"^\s*listen = (.*)$", mirror, re.M) == ["127.0.0.1:20008", "127.0.0.1:20007:mysql41"]
    assert "max_packet_size = 32M" in mirror and "type = rt" in mirror
    assert topology.shard_of_agent("127.0.0.1:20008") == 1


@pytest.mark.parametrize(("shards", "mirrors"), [(1, 0), (2, 0), (1, 2), (3, 1), (4, 2)])
def test_init_port_layout(tmp_path: Path, shards: int, mirrors: int) -> None:
    base = 21000
    topology = init_cluster(tmp_path / "c", shards, mirrors, base, host="127.0.0.1")
    description = json.loads((tmp_path / "c" / CLUSTER_FILE).read_text(encoding="utf-8"))
    assert Topology.from_dict(description) == topology
    assert (topology.host, topology.port) == ("127.0.0.1", base)
    expected = [("coordinator", "coordinator", None, base, None)]
    n = 0
    for shard in range(shards):
        for copy in range(1 + mirrors):
            name = f"shard{shard}-primary" if copy == 0 else f"shard{shard}-mirror{copy}"
            expected.append((name, "primary" if copy == 0 else "mirror", shard, base + 1 + 2 * n, base + 2 + 2 * n))
            n += 1
    _, nodes = load_cluster(tmp_path / "c")
    assert names_and_ports(nodes) == expected
    assert [[(copy.role, copy.port, copy.api_port) for copy in shard.copies] for shard in topology.shards] == [
        [(role, port, api) for _, role, number, port, api in expected if number == shard] for shard in range(shards)]
    for node in nodes:
        assert node.config == tmp_path / "c" / f"{node.name}.conf" and node.config.is_file()
        assert node.pid_file.parent.is_dir()
        text = node.config.read_text(encoding="utf-8")
        assert f"pid_file = {node.pid_file}" in text
        assert f"listen = 127.0.0.1:{node.port}:mysql41" in text
    agents = re.findall(r"^\s*agent_persistent = ", (tmp_path / "c" / "coordinator.conf").read_text(encoding="utf-8"), re.M)
    assert len(agents) == shards


@pytest.mark.parametrize(("args", "message"), [
    (["--shards", "0"], "--shards must be at least 1"),
    (["--mirrors", "-1"], "--mirrors must be 0 or more"),
    (["--base-port", "0"], "out of range"),
    (["--shards", "2", "--mirrors", "1", "--base-port", "65530"], "out of range"),
    (["--host", "a b"], "--host"),
])
def test_init_refuses_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    result = cli("init", str(tmp_path / "c"), *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "c" / CLUSTER_FILE).exists()


def test_init_refuses_a_folder_that_holds_a_cluster(tmp_path: Path) -> None:
    assert cli("init", str(tmp_path / "c"), "--base-port", "22000").exit_code == 0
    before = (tmp_path / "c" / CLUSTER_FILE).read_text(encoding="utf-8")
    result = cli("init", str(tmp_path / "c"), "--base-port", "23000")
    assert result.exit_code == 1
    assert "already holds a cluster" in result.output and len(result.output.strip().splitlines()) == 1
    assert (tmp_path / "c" / CLUSTER_FILE).read_text(encoding="utf-8") == before
    with pytest.raises(ClusterError, match="already holds a cluster"):
        init_cluster(tmp_path / "c", 1, 0, 24000)


def test_a_folder_without_a_cluster_is_a_one_line_error(tmp_path: Path) -> None:
    for command in ("start", "stop", "status"):
        result = cli(command, str(tmp_path))
        assert result.exit_code == 1, command
        assert "holds no cluster" in result.output and "Traceback" not in result.output


def test_missing_searchd_says_what_to_install(tmp_path: Path) -> None:
    init_cluster(tmp_path / "c", 1, 0, free_base_port(3))
    result = cli("start", str(tmp_path / "c"), env={"PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "sphinxsearch" in result.output and "Manticore" in result.output
    assert "Traceback" not in result.output


# --- a running cluster ---------------------------------------------------------------------------------------

STORED = {f.ID_: "cluster-test-1", f.HEADLINE: "东城区垃圾分类进社区", f.BODY: "东城区开展垃圾分类宣传活动。",
          f.YEAR: 2024, f.MONTH: 5, f.DATE_NUM: 20240512, f.DISTRICT: "东城区", f.COLUMN: "工作动态"}


def sql(address: Address, statement: str, args: tuple = ()) -> list[tuple]:
    connection = connect(address)
    try:
        cursor = connection.cursor()
        cursor.execute(statement, args or None)
        return list(cursor.fetchall())
    finally:
        connection.close()


def replace_document(copy_address: Address, stored: dict) -> None:
    connection = connect(copy_address)
    try:
        connection.cursor().execute(schema.insert_statement([schema.row_values(stored, ["垃圾分类"], 1)], connection))
    finally:
        connection.close()


def search_ids(address: Address, text: str, option: str = "", index: str = schema.INDEX) -> list[str]:
    """The article ids whose headline or body holds `text` exactly, from `index` at `address`."""
    phrase = '"' + schema.unit_text(text) + '"'
    return [row[0] for row in sql(address, f"SELECT article_id FROM {index} WHERE MATCH(%s){option}", (phrase,))]


def settles_on_the_mirror(coordinator: Address, timeout: float = 10.0) -> bool:
    """Whether the coordinator answers 10 searches in a row in full within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < 10:
        if time.monotonic() > deadline:
            return False
        try:
            found = search_ids(coordinator, "垃圾分类")
        except pymysql.MySQLError as error:
            assert "connect() failed" in str(error), error
            found = []
        streak = streak + 1 if found == ["cluster-test-1"] else 0
        time.sleep(0.02)
    return True


STATUS_KEYS = {"role", "shard", "port", "pid", "up"}


@pytest.fixture(scope="module")
def running(sphinx_cluster) -> SphinxCluster:
    """One cluster of two shards with a mirror each, for the tests that leave it as they found it."""
    return sphinx_cluster(shards=2, mirrors=1)


def test_start_status_and_the_json_schema(running: SphinxCluster) -> None:
    cluster = running
    result = cli("status", str(cluster.directory), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"backend", "nodes"}
    assert report["backend"] == cluster.backend == f"sphinxql://127.0.0.1:{cluster.topology.port}"
    base = cluster.topology.port
    assert [(node["role"], node["shard"], node["port"]) for node in report["nodes"]] == [
        ("coordinator", None, base), ("primary", 0, base + 1), ("mirror", 0, base + 3),
        ("primary", 1, base + 5), ("mirror", 1, base + 7)]
    for node in report["nodes"]:
        assert set(node) == STATUS_KEYS
        assert node["up"] is True and isinstance(node["pid"], int) and node["pid"] > 0
        assert os.path.exists(f"/proc/{node['pid']}")
    assert len({node["pid"] for node in report["nodes"]}) == 5
    table = cli("status", str(cluster.directory))
    assert table.exit_code == 0
    assert table.output.count(" up") == 5 and "DOWN" not in table.output and cluster.backend in table.output

    # Starting a running cluster changes nothing.
    assert cli("start", str(cluster.directory)).exit_code == 0
    assert cluster_status(cluster.directory) == report


def test_the_topology_row_is_on_the_coordinator(running: SphinxCluster) -> None:
    cluster = running
    rows = sql(cluster.topology.address, f"SELECT value FROM {schema.META_INDEX} WHERE id = {schema.TOPOLOGY_ROW}")
    assert len(rows) == 1
    assert Topology.from_json(rows[0][0]) == cluster.topology

    # `register` stores a changed topology (nodes on other hosts) on the same coordinator.
    moved = json.loads(cluster.topology.to_json())
    moved["shards"][0]["copies"][0]["host"] = "10.0.0.7"
    result = cli("register", json.dumps(moved), "--backend", cluster.backend)
    assert result.exit_code == 0, result.output
    rows = sql(cluster.topology.address, f"SELECT value FROM {schema.META_INDEX} WHERE id = {schema.TOPOLOGY_ROW}")
    assert Topology.from_json(rows[0][0]) == Topology.from_dict(moved)
    assert cli("register", str(cluster.directory), "--backend", cluster.backend).exit_code == 0
    rows = sql(cluster.topology.address, f"SELECT value FROM {schema.META_INDEX} WHERE id = {schema.TOPOLOGY_ROW}")
    assert Topology.from_json(rows[0][0]) == cluster.topology


@pytest.mark.parametrize(("backend", "message"), [
    ("mysql://127.0.0.1:1", "not of the form sphinxql://HOST:PORT"),
    ("sphinxql://127.0.0.1:{data}", "did not store the topology"),
])
def test_register_refuses_what_is_not_a_coordinator(running: SphinxCluster, backend: str, message: str) -> None:
    cluster = running
    data_port = cluster.topology.shards[0].copies[0].port
    result = cli("register", str(cluster.directory), "--backend", backend.format(data=data_port))
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_killed_primary_is_down_and_its_mirror_still_answers(sphinx_cluster) -> None:
    cluster = sphinx_cluster(shards=2, mirrors=1)
    shard = cluster.topology.shards[1]
    primary, mirror = shard.copies
    for copy in shard.copies:
        replace_document(copy.address, STORED)
    coordinator = cluster.topology.address
    assert search_ids(coordinator, "垃圾分类") == ["cluster-test-1"]
    assert search_ids(coordinator, "分类宣传") == ["cluster-test-1"]
    assert search_ids(coordinator, "类进") == ["cluster-test-1"]
    assert search_ids(coordinator, "分类活动") == []
    assert search_ids(cluster.topology.shards[0].copies[0].address, "垃圾分类", index=schema.SHARD_INDEX) == []

    kill_node(cluster.directory, 1, "primary")
    nodes = cluster_status(cluster.directory)["nodes"]
    down = [node for node in nodes if not node["up"]]
    assert down == [{"role": "primary", "shard": 1, "port": primary.port, "pid": None, "up": False}]
    result = cli("status", str(cluster.directory))
    assert result.exit_code == 3 and result.output.count("DOWN") == 1

    assert search_ids(mirror.address, "垃圾分类", index=schema.SHARD_INDEX) == ["cluster-test-1"]
    # The coordinator's distributed index moves to the mirror: the queries right after the death may still go
    # to the dead copy (an agent error; the other shard's rows only), until ha_strategy = nodeads has marked
    # it, within a second; from then on every query is answered in full.
    assert settles_on_the_mirror(coordinator)

    start_node(cluster.directory, 1, "primary")
    assert all(node["up"] for node in cluster_status(cluster.directory)["nodes"])
    assert search_ids(primary.address, "垃圾分类", index=schema.SHARD_INDEX) == ["cluster-test-1"]


def read_or_empty(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_stop_takes_every_node_down_and_removes_the_pid_files(sphinx_cluster) -> None:
    cluster = sphinx_cluster(shards=1, mirrors=1)
    _, nodes = load_cluster(cluster.directory)
    pids = [node["pid"] for node in cluster_status(cluster.directory)["nodes"]]
    kill_node(cluster.directory, 0, "mirror")
    assert nodes[2].pid_file.exists()
    result = cli("stop", str(cluster.directory))
    assert result.exit_code == 0, result.output
    report = cluster_status(cluster.directory)
    assert [(node["pid"], node["up"]) for node in report["nodes"]] == [(None, False)] * 3
    assert not any(node.pid_file.exists() for node in nodes)
    assert not any(b"searchd" in read_or_empty(Path(f"/proc/{pid}/cmdline")) for pid in pids)
    status = cli("status", str(cluster.directory), "--json")
    assert status.exit_code == 3 and json.loads(status.output) == report
    assert cli("stop", str(cluster.directory)).exit_code == 0

    # It starts again with its data.
    start_cluster(cluster.directory)
    assert all(node["up"] for node in cluster_status(cluster.directory)["nodes"])


def test_a_stale_pid_file_is_not_a_running_node(tmp_path: Path) -> None:
    init_cluster(tmp_path / "c", 1, 0, free_base_port(3))
    _, nodes = load_cluster(tmp_path / "c")
    nodes[1].pid_file.write_text(f"{os.getpid()}\n")
    nodes[0].pid_file.write_text("not a pid\n")
    assert [node["pid"] for node in cluster_status(tmp_path / "c")["nodes"]] == [None, None]
    stop_cluster(tmp_path / "c")
    assert not any(node.pid_file.exists() for node in nodes)


def test_start_reports_a_busy_port_clearly(tmp_path: Path) -> None:
    require_searchd()
    base = free_base_port(5)
    init_cluster(tmp_path / "c", 2, 0, base)
    blocker = socket.socket()
    try:
        blocker.bind(("127.0.0.1", base + 4))
        blocker.listen()
        result = cli("start", str(tmp_path / "c"))
        assert result.exit_code == 1
        first = result.output.strip().splitlines()[0]
        assert "shard1-primary" in first and f"port {base + 4}" in first and "busy" in first
        assert "Traceback" not in result.output
        nodes = cluster_status(tmp_path / "c")["nodes"]
        assert [node["up"] for node in nodes] == [False, True, False]
    finally:
        blocker.close()
        stop_cluster(tmp_path / "c")
