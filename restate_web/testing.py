"""Run a real restate-server and real SDK services for tests, demos and benchmarks.

Everything listens on 127.0.0.1 on free ports, lives in a temporary directory, and is stopped
by its own process id: nothing is left running and nothing is found or killed by name.

>>> with RestateServer.start() as server, ServiceProcess.start("my.services:app") as services:
...     server.register(services.url)
...     IngressClient(server.ingress_url).service("Greeter").call("greet", "Ada")

This module is also a pytest plugin (installed with restate-web): fixtures ``restate_server``,
``restate_services``, ``ingress_client`` and ``restate_cluster``; see the README's "Testing with
the pytest plugin". ``RestateCluster`` runs several nodes as one Restate cluster.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

SERVER_BIN_ENV = "RESTATE_SERVER_BIN"
# Where `make` installs the pinned npm package (@restatedev/restate-server).
DEFAULT_INSTALL_DIR = ".restate-server"
# The restate-server release restate-web is tested against (the Makefile pins the same).
SERVER_VERSION = "1.7.12"


class HarnessError(RuntimeError):
    """A process the harness starts did not come up; the message carries its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing uses right now, outside the ephemeral range.

    Every outgoing connection on the machine takes its local port from the kernel's ephemeral
    range, so a port picked there can be taken by some client's connection between this check
    and the server binding it (a cluster node then failed with "Address in use"). Ports below
    that range are only ever taken by listeners that chose them.
    """
    first, last = _ephemeral_ports()
    candidates = range(10_000, first) if first > 11_000 else range(last + 1, 65_536)
    for _ in range(200):
        port = _port_picker.choice(candidates)
        if _bindable(port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # all taken: any free one
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Its own generator: tests that seed the random module (Hypothesis does) must not make every
# test process pick the same ports.
_port_picker = random.Random()


def _ephemeral_ports() -> tuple[int, int]:
    """The kernel's ephemeral port range (Linux reads it from /proc; elsewhere IANA's)."""
    try:
        first, last = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(first), int(last)
    except (OSError, ValueError):
        return 49_152, 65_535


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def find_server_binary(search_from: str | os.PathLike[str] | None = None) -> str:
    """The restate-server native binary: $RESTATE_SERVER_BIN, or the project's npm install.

    The npm package's ``restate-server`` entry is a node wrapper that spawns the real binary;
    we run the binary itself so that stopping our child process really stops the server.
    """
    explicit = os.environ.get(SERVER_BIN_ENV)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise HarnessError(f"{SERVER_BIN_ENV}={explicit} is not an executable file")
        return explicit
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    start = Path(search_from or os.getcwd()).resolve()
    for folder in (start, *start.parents):
        pattern = str(
            folder
            / DEFAULT_INSTALL_DIR
            / "node_modules/@restatedev"
            / f"restate-server-{sys.platform}-{machine}/bin/restate-server"
        )
        for candidate in glob.glob(pattern):
            if os.access(candidate, os.X_OK):
                return candidate
    raise HarnessError(
        f"restate-server is not installed: no {DEFAULT_INSTALL_DIR}/ in {start} or a parent. "
        f"Install it in your project with `npm install --prefix {DEFAULT_INSTALL_DIR} "
        f"@restatedev/restate-server@{SERVER_VERSION}`, or give the binary with "
        f"--restate-server-bin PATH (pytest), the ini option restate_server_bin, or "
        f"{SERVER_BIN_ENV}"
    )


def _http_json(method: str, url: str, body: Any = None, timeout: float = 10.0) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - our own URL
    # Without it the admin API's /query answers in Arrow IPC, not JSON.
    request.add_header("accept", "application/json")
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw) if raw else None
        except ValueError:
            return error.code, raw.decode("utf-8", "replace")


def _wait_until(
    check: Any, timeout: float, what: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HarnessError(
                f"{what} exited with code {process.returncode} while starting:\n" + _tail(log_path)
            )
        with contextlib.suppress(OSError, ValueError):
            if check():
                return
        time.sleep(0.05)
    raise HarnessError(f"{what} did not become ready in {timeout:.0f}s:\n" + _tail(log_path))


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop one child by its pid: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=grace)


class RestateServer:
    """One restate-server process with its own data directory and loopback ports.

    ``stop()`` and ``start_again()`` keep the data directory and ports, so a test can take
    Restate down and bring the same server (with its journal) back; ``kill()`` is SIGKILL.
    """

    def __init__(self, base_dir: Path, binary: str, own_dir: bool) -> None:
        self.base_dir = base_dir
        self.binary = binary
        self._own_dir = own_dir
        self.ingress_port = free_port()
        self.admin_port = free_port()
        self.node_port = free_port()
        self.log_path = base_dir / "restate-server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @classmethod
    def start(
        cls,
        base_dir: str | os.PathLike[str] | None = None,
        *,
        binary: str | None = None,
        timeout: float = 60.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> RestateServer:
        own_dir = base_dir is None
        path = Path(tempfile.mkdtemp(prefix="restate-web-")) if base_dir is None else Path(base_dir)
        server = cls(path, binary or find_server_binary(), own_dir)
        server._extra_env = dict(extra_env or {})
        server.start_again(timeout=timeout)
        return server

    _extra_env: dict[str, str]

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start_again(self, timeout: float = 60.0) -> None:
        """Start (or restart after ``stop``/``kill``) on the same ports and data directory."""
        if self.running():
            return
        self._launch()
        assert self.process is not None
        _wait_until(self.healthy, timeout, "restate-server", self.process, self.log_path)

    def _launch(self) -> None:
        """Start the process without waiting for it."""
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own binary
            self._command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._environment(),
        )

    def _command(self) -> list[str]:
        return [
            self.binary,
            "--base-dir",
            str(self.base_dir),
            "--node-name",
            "restate-web-test",
            "--no-logo",
            "--listen-mode",
            "tcp",
        ]

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "RESTATE_INGRESS__BIND_ADDRESS": f"127.0.0.1:{self.ingress_port}",
            "RESTATE_ADMIN__BIND_ADDRESS": f"127.0.0.1:{self.admin_port}",
            "RESTATE_BIND_ADDRESS": f"127.0.0.1:{self.node_port}",
            "RESTATE_ADVERTISED_ADDRESS": f"http://127.0.0.1:{self.node_port}",
            "RESTATE_LOG_FORMAT": "compact",
            "RESTATE_LOG_FILTER": "warn,restate=info",
            **self._extra_env,
        }

    def healthy(self) -> bool:
        try:
            ingress, _ = _http_json("GET", f"{self.ingress_url}/restate/health", timeout=1)
            admin, _ = _http_json("GET", f"{self.admin_url}/health", timeout=1)
        except OSError:
            return False
        return ingress == 200 and admin == 200

    def register(self, service_url: str, *, force: bool = True) -> dict[str, Any]:
        """Register a deployment (the SDK endpoint at ``service_url``) with the admin API."""
        deadline = time.monotonic() + 30
        while True:
            status, body = _http_json(
                "POST", f"{self.admin_url}/deployments", {"uri": service_url, "force": force}
            )
            if status in (200, 201):
                return body if isinstance(body, dict) else {}
            if time.monotonic() > deadline:
                raise HarnessError(f"registering {service_url} failed: HTTP {status} {body}")
            time.sleep(0.2)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run SQL on the admin introspection API (sys_invocation, state, ...)."""
        status, body = _http_json("POST", f"{self.admin_url}/query", {"query": sql})
        if status != 200 or not isinstance(body, dict):
            raise HarnessError(f"admin query failed: HTTP {status} {body}")
        rows = body.get("rows", [])
        return rows if isinstance(rows, list) else []

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server by its process id (SIGTERM, then SIGKILL)."""
        if self.process is not None:
            _stop_process(self.process, grace)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL: the crash case, no chance to flush or say goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.stop()

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> RestateServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# How a node's log says it leads a partition ("Processor became Leader of epoch e3 ...
# partition_id=1"); every new leader of a partition has a higher epoch than the one before.
_LEADER_LINE = re.compile(r"became Leader of epoch e(\d+).*?partition_id=(\d+)")


class ClusterNode(RestateServer):
    """One node of a ``RestateCluster``: its own configuration file, data directory and ports.

    ``kill()`` is SIGKILL to the server binary itself (not to a launcher, which would orphan
    it); ``start_again()`` restarts it on its data and ports.
    """

    def __init__(self, base_dir: Path, binary: str, name: str, provision: bool) -> None:
        super().__init__(base_dir, binary, own_dir=False)
        self.name = name
        self.provision = provision
        self._extra_env = {}
        self.config_path = base_dir / "restate.toml"

    def write_config(
        self, cluster: str, peers: Sequence[ClusterNode], partitions: int, replication: int
    ) -> None:
        fabric = f"127.0.0.1:{self.node_port}"
        addresses = ", ".join(f'"http://127.0.0.1:{peer.node_port}"' for peer in peers)
        self.config_path.write_text(
            f"""node-name = "{self.name}"
cluster-name = "{cluster}"
base-dir = "{self.base_dir / "data"}"
auto-provision = {"true" if self.provision else "false"}
default-replication = {replication}
default-num-partitions = {partitions}
disable-telemetry = true
listen-mode = "tcp"
bind-address = "{fabric}"
advertised-address = "http://{fabric}"
rocksdb-total-memory-size = "512 MiB"

[metadata-client]
addresses = [{addresses}]

[admin]
bind-address = "127.0.0.1:{self.admin_port}"
advertised-address = "{self.admin_url}"

[admin.query-engine]
memory-size = "256 MiB"

[ingress]
bind-address = "127.0.0.1:{self.ingress_port}"
advertised-address = "{self.ingress_url}"
"""
        )

    def _command(self) -> list[str]:
        return [self.binary, "--config-file", str(self.config_path), "--no-logo"]

    def _environment(self) -> dict[str, str]:
        # The configuration file is the whole configuration: RESTATE_* variables of the
        # calling process (which override the file) are not passed on.
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTATE_")}
        env.update(
            RESTATE_LOG_FORMAT="compact",
            RESTATE_LOG_FILTER="warn,restate=info",
            RESTATE_LOG_DISABLE_ANSI_CODES="true",
        )
        return env

    def led_partitions(self) -> dict[int, int]:
        """Partition id -> the highest leader epoch this node's log says it won."""
        led: dict[int, int] = {}
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return led
        for match in _LEADER_LINE.finditer(text):
            epoch, partition = int(match.group(1)), int(match.group(2))
            led[partition] = max(epoch, led.get(partition, 0))
        return led

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running() else "down"
        return f"<ClusterNode {self.name} ingress {self.ingress_url} ({state})>"


class RestateCluster:
    """A Restate cluster of ``size`` nodes on 127.0.0.1, each running every role (ingress,
    admin, worker, log server, replicated metadata), in one temporary directory.

    The first node provisions the cluster; logs and metadata are replicated (``replication``
    copies), so a cluster of three keeps serving with one node down.

    >>> with RestateCluster.start(3) as cluster, ServiceProcess.start("my.services:app") as svc:
    ...     cluster.register(svc.url)
    ...     client = IngressClient(cluster.ingress_urls)
    ...     cluster.kill(cluster.busiest_leader())
    """

    def __init__(self, nodes: list[ClusterNode], base_dir: Path, own_dir: bool) -> None:
        self.nodes = nodes
        self.base_dir = base_dir
        self._own_dir = own_dir
        self.partitions = 0

    @classmethod
    def start(
        cls,
        size: int = 3,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        binary: str | None = None,
        partitions: int = 4,
        replication: int = 2,
        name: str = "restate-web-test",
        timeout: float = 90.0,
    ) -> RestateCluster:
        """Start ``size`` nodes at once and wait until each is healthy and every partition has
        a leader (about 15 s for three nodes on a small machine)."""
        if size < 1 or not 1 <= replication <= size:
            raise ValueError(
                f"a cluster of {size} nodes cannot keep {replication} copies: "
                "use 1 <= replication <= size"
            )
        own_dir = base_dir is None
        root = (
            Path(tempfile.mkdtemp(prefix="restate-web-cluster-"))
            if base_dir is None
            else Path(base_dir)
        )
        found = binary or find_server_binary()
        nodes = []
        for number in range(1, size + 1):
            folder = root / f"n{number}"
            folder.mkdir(parents=True, exist_ok=True)
            nodes.append(ClusterNode(folder, found, f"n{number}", provision=number == 1))
        for node in nodes:
            node.write_config(name, nodes, partitions, replication)
        cluster = cls(nodes, root, own_dir)
        cluster.partitions = partitions
        try:
            for node in nodes:
                node._launch()
            deadline = time.monotonic() + timeout
            for node in nodes:
                assert node.process is not None
                left = max(1.0, deadline - time.monotonic())
                _wait_until(
                    node.healthy, left, f"cluster node {node.name}", node.process, node.log_path
                )
            cluster.wait_for_leaders(max(1.0, deadline - time.monotonic()))
        except BaseException:
            cluster.close()
            raise
        return cluster

    # -- addresses

    @property
    def ingress_urls(self) -> list[str]:
        """Every node's ingress (down or not): what a client of the cluster is given."""
        return [node.ingress_url for node in self.nodes]

    @property
    def admin_url(self) -> str:
        """The admin API of a running node (every node serves the whole cluster's)."""
        return self._running_node().admin_url

    def node(self, which: ClusterNode | int | str) -> ClusterNode:
        """A node by object, index (0-based) or name (``"n1"``)."""
        if isinstance(which, ClusterNode):
            return which
        if isinstance(which, int):
            return self.nodes[which]
        for node in self.nodes:
            if node.name == which:
                return node
        raise KeyError(f"no node named {which!r}; the nodes are {[n.name for n in self.nodes]}")

    def running_nodes(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.running()]

    def _running_node(self) -> ClusterNode:
        for node in self.nodes:
            if node.running():
                return node
        raise HarnessError("no node of the cluster is running")

    # -- deployments and queries

    def register(
        self, service_url: str, *, force: bool = True, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Register a deployment through a running node's admin API, then wait until every
        running node's admin lists its services (its ingress then knows them too)."""
        answer = self._running_node().register(service_url, force=force)
        names = {service["name"] for service in answer.get("services", [])}
        deadline = time.monotonic() + timeout
        for node in self.running_nodes():
            while names - self._service_names(node):
                if time.monotonic() > deadline:
                    raise HarnessError(
                        f"node {node.name} did not learn the services {sorted(names)} of "
                        f"{service_url} within {timeout:.0f}s"
                    )
                time.sleep(0.1)
        return answer

    @staticmethod
    def _service_names(node: ClusterNode) -> set[str]:
        try:
            status, body = _http_json("GET", f"{node.admin_url}/services", timeout=2)
        except OSError:
            return set()
        if status != 200 or not isinstance(body, dict):
            return set()
        return {service.get("name") for service in body.get("services", [])}

    def query(self, sql: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """SQL on a running node's admin introspection API (covers every partition).

        Retried for up to ``timeout`` seconds while the cluster cannot reach some partition
        (right after a node died or came back the query engine answers "node lookup for
        partition N failed" until its routing has caught up).
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._running_node().query(sql)
            except HarnessError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    # -- leaders

    def partition_leaders(self) -> dict[int, ClusterNode]:
        """Partition id -> the node that leads it, as the nodes' logs tell (the latest leader
        epoch wins; a node that died still shows until another node takes over)."""
        best: dict[int, tuple[int, ClusterNode]] = {}
        for node in self.nodes:
            for partition, epoch in node.led_partitions().items():
                if partition not in best or epoch > best[partition][0]:
                    best[partition] = (epoch, node)
        return {partition: node for partition, (_, node) in sorted(best.items())}

    def busiest_leader(self) -> ClusterNode:
        """The running node that leads the most partitions."""
        counts = {node.name: 0 for node in self.running_nodes()}
        for node in self.partition_leaders().values():
            if node.name in counts:
                counts[node.name] += 1
        if not counts:
            raise HarnessError("no node of the cluster is running")
        return self.node(max(counts, key=lambda name: counts[name]))

    def wait_for_leaders(self, timeout: float = 60.0) -> dict[int, ClusterNode]:
        """Wait until every partition is led by a running node; returns the leaders."""
        deadline = time.monotonic() + timeout
        while True:
            leaders = self.partition_leaders()
            if len(leaders) >= self.partitions and all(n.running() for n in leaders.values()):
                return leaders
            if time.monotonic() > deadline:
                led = {p: n.name for p, n in leaders.items()}
                tails = "\n".join(f"--- {n.name}\n{_tail(n.log_path, 15)}" for n in self.nodes)
                raise HarnessError(
                    f"not every one of the {self.partitions} partitions has a running leader "
                    f"after {timeout:.0f}s (leaders: {led}):\n{tails}"
                )
            time.sleep(0.1)

    # -- faults

    def kill(self, which: ClusterNode | int | str) -> ClusterNode:
        """SIGKILL one node's server process (by its pid): the crash case."""
        node = self.node(which)
        node.kill()
        return node

    def stop(self, which: ClusterNode | int | str, grace: float = 10.0) -> ClusterNode:
        """Stop one node by its pid (SIGTERM, then SIGKILL after ``grace``)."""
        node = self.node(which)
        node.stop(grace)
        return node

    def restart(self, which: ClusterNode | int | str, timeout: float = 60.0) -> ClusterNode:
        """Start a stopped or killed node again on its data and ports; waits until healthy."""
        node = self.node(which)
        node.start_again(timeout=timeout)
        return node

    def close(self, grace: float = 10.0) -> None:
        """Stop every node by its pid (all at once: a node waits for its peers otherwise)."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    node.process.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop(grace)
        if self._own_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> RestateCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ServiceProcess:
    """An ASGI app (restate-sdk services, or a web app) served by a server in a child process."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, log_path: Path, own_log_dir: bool
    ) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self._own_log_dir = own_log_dir

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(
        cls,
        app: str,
        *,
        server: str = "hypercorn",
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        timeout: float = 30.0,
        log_dir: str | os.PathLike[str] | None = None,
        args: Sequence[str] = (),
    ) -> ServiceProcess:
        """Serve ``app`` ("module:attribute") on 127.0.0.1 in a child process.

        ``server`` is "hypercorn" (HTTP/2 cleartext, which restate-sdk endpoints need; it also
        serves WSGI apps) or "uvicorn"."""
        port = port or free_port()
        own = log_dir is None
        folder = (
            Path(tempfile.mkdtemp(prefix="restate-web-svc-")) if log_dir is None else Path(log_dir)
        )
        log_path = folder / f"{app.replace(':', '_').replace('/', '_')}-{port}.log"
        bind = f"127.0.0.1:{port}"
        if server == "hypercorn":
            argv = [sys.executable, "-m", "hypercorn", "--bind", bind, *args, app]
        elif server == "uvicorn":
            host, _, port_text = bind.partition(":")
            argv = [
                sys.executable,
                "-m",
                "uvicorn",
                "--host",
                host,
                "--port",
                port_text,
                "--log-level",
                "warning",
                *args,
                app,
            ]
        else:
            raise ValueError(f"unknown server {server!r}: use hypercorn or uvicorn")
        log = open(log_path, "ab")  # noqa: SIM115 - the child owns it; closed below
        try:
            process = subprocess.Popen(  # noqa: S603 - fixed argv
                argv,
                cwd=str(cwd) if cwd else None,
                env={**os.environ, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Its own process group (id = its pid): kill() reaches the worker processes
                # hypercorn spawns, which would otherwise outlive it and keep serving.
                start_new_session=True,
            )
        finally:
            log.close()
        service = cls(process, port, log_path, own)
        try:
            _wait_until(
                lambda: _port_open(port), timeout, f"{server} serving {app}", process, log_path
            )
        except BaseException:
            service.close()
            raise
        return service

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the server, then SIGKILL to whatever of its process group is left: a
        worker still draining its connections when the server exits would outlive it."""
        _stop_process(self.process, grace)
        self.kill()

    def kill(self) -> None:
        """SIGKILL to the server and its workers (its process group, whose id is its pid)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the orphaned workers are reaped by init
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        self.stop()
        if self._own_log_dir:
            shutil.rmtree(self.log_path.parent, ignore_errors=True)

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


POSTGRES_BIN_ENV = "RESTATE_WEB_POSTGRES_BIN"


def find_postgres_bindir() -> str:
    """The folder with PostgreSQL's ``initdb`` and ``postgres``: $RESTATE_WEB_POSTGRES_BIN, the
    one on PATH, or Debian's /usr/lib/postgresql/<version>/bin (``make install-postgres``)."""
    explicit = os.environ.get(POSTGRES_BIN_ENV)
    candidates = [explicit] if explicit else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if os.access(os.path.join(folder, "initdb"), os.X_OK) and os.access(
            os.path.join(folder, "postgres"), os.X_OK
        ):
            return folder
    raise HarnessError(
        "PostgreSQL's initdb and postgres were not found: install the server (Debian/Ubuntu: "
        "`apt-get install postgresql`; in this repository `make install-postgres`; Homebrew: "
        f"`brew install postgresql`), or set {POSTGRES_BIN_ENV} to a folder with initdb and "
        "postgres"
    )


class PostgresServer:
    """A throw-away PostgreSQL server: its own data directory, 127.0.0.1 on a free port, no
    password (trust), stopped by its process id. Databases come from ``create_database``.

    PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user
    (Debian's package creates it) or ``nobody``.
    """

    def __init__(self, base_dir: Path, bindir: str) -> None:
        self.base_dir = base_dir
        self.bindir = bindir
        self.port = free_port()
        self.data_dir = base_dir / "data"
        self.log_path = base_dir / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._user: tuple[int, int] | None = None
        if os.geteuid() == 0:
            import pwd

            for name in ("postgres", "nobody"):
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    continue
                self._user = (entry.pw_uid, entry.pw_gid)
                break
            else:
                raise HarnessError("running as root and there is no postgres or nobody user")

    @classmethod
    def start(cls, *, timeout: float = 60.0) -> PostgresServer:
        base = Path(tempfile.mkdtemp(prefix="restate-web-pg-"))
        server = cls(base, find_postgres_bindir())
        try:
            server._init()
            server._run(timeout)
        except BaseException:
            server.close()
            raise
        return server

    def _demote(self) -> None:  # runs in the child before exec
        if self._user is not None:
            os.setgid(self._user[1])
            os.setuid(self._user[0])

    def _init(self) -> None:
        if self._user is not None:
            os.chown(self.base_dir, *self._user)
        with open(self.log_path, "ab") as log:
            if self._user is not None:
                os.chown(self.log_path, *self._user)
            done = subprocess.run(  # noqa: S603 - fixed argv
                [
                    os.path.join(self.bindir, "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=self._demote,
                check=False,
                timeout=120,
            )
        if done.returncode != 0:
            raise HarnessError("initdb failed:\n" + _tail(self.log_path))

    def _run(self, timeout: float) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it; closed below
        try:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [
                    os.path.join(self.bindir, "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.base_dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    # A test database: speed over durability (a crash loses the whole folder).
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=self._demote,
            )
        finally:
            log.close()
        _wait_until(
            lambda: _port_open(self.port) and self._accepts(),
            timeout,
            "postgres",
            self.process,
            self.log_path,
        )

    def _accepts(self) -> bool:
        done = subprocess.run(  # noqa: S603 - fixed argv
            [
                os.path.join(self.bindir, "pg_isready"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
            ],
            capture_output=True,
            check=False,
            timeout=10,
        )
        return done.returncode == 0

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """A SQLAlchemy URL (``driver=""`` for a plain ``postgresql://`` URL)."""
        scheme = driver or "postgresql"
        return f"{scheme}://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, underscores); returns its name."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database names here are letters, digits and _: {name!r}")
        done = subprocess.run(  # noqa: S603 - fixed argv
            [
                os.path.join(self.bindir, "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode != 0:
            raise HarnessError(f"createdb {name} failed: {done.stderr.decode(errors='replace')}")
        return name

    def stop(self, grace: float = 20.0) -> None:
        """Fast shutdown (SIGINT: open sessions are ended), then SIGKILL, by process id."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(timeout=grace)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextlib.contextmanager
def restate_stack(
    services_app: str, *, cwd: str | os.PathLike[str] | None = None
) -> Iterator[tuple[RestateServer, ServiceProcess]]:
    """A restate-server plus an SDK services process registered with it, torn down after."""
    with RestateServer.start() as server, ServiceProcess.start(services_app, cwd=cwd) as svc:
        server.register(svc.url)
        yield server, svc


# The pytest plugin (entry point ``pytest11``: restate_web = "restate_web.testing"): its fixtures
# live in a private module so that demos and benchmarks can use this one without pytest.
try:
    import pytest as _pytest  # noqa: F401
except ImportError:  # pragma: no cover - outside a test run
    pass
else:
    from ._pytest_plugin import (  # noqa: F401
        RestateServices,
        ingress_client,
        pytest_addoption,
        restate_cluster,
        restate_server,
        restate_services,
    )
