"""``RestateCluster``: the nodes are the server binary itself, killed and stopped by pid, and
nothing is left running or on disk after ``close()``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from restate_web.testing import RestateCluster, find_server_binary


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_kill_is_sigkill_to_the_server_binary_and_restart_uses_its_data(cluster: RestateCluster):
    node = cluster.nodes[1]
    pid = node.pid
    assert pid is not None
    binary = Path(find_server_binary()).resolve()
    assert Path(os.readlink(f"/proc/{pid}/exe")).resolve() == binary, "not a launcher"
    data = sorted(p.name for p in (node.base_dir / "data").iterdir())

    cluster.kill(node)
    assert gone(pid)
    assert node.pid is not None and not node.running()
    with pytest.raises(KeyError, match="the nodes are"):
        cluster.node("n9")

    assert cluster.restart("n2") is node
    assert node.running() and node.pid != pid
    assert sorted(p.name for p in (node.base_dir / "data").iterdir()) == data
    leaders = cluster.wait_for_leaders()
    assert len(leaders) == 4 and all(n.running() for n in leaders.values())


def test_close_stops_every_node_by_pid_and_removes_its_directory():
    cluster = RestateCluster.start(1, replication=1, partitions=2)
    pids = [node.pid for node in cluster.nodes]
    folder = cluster.base_dir
    assert folder.exists()
    cluster.close()
    assert all(pid is not None and gone(pid) for pid in pids)
    assert not folder.exists()


def test_a_cluster_cannot_keep_more_copies_than_nodes():
    with pytest.raises(ValueError, match="cannot keep 3 copies"):
        RestateCluster.start(2, replication=3)
