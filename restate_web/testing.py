"""Run a real restate-server and real SDK services for tests, demos and benchmarks.

Everything listens on 127.0.0.1 on free ports, lives in a temporary directory, and is stopped
by its own process id: nothing is left running and nothing is found or killed by name.

>>> with RestateServer.start() as server, ServiceProcess.start("my.services:app") as services:
...     server.register(services.url)
...     IngressClient(server.ingress_url).service("Greeter").call("greet", "Ada")

This module is also a pytest plugin (installed with restate-web): fixtures ``restate_server``,
``restate_services`` and ``ingress_client``; see the README's "Testing with the pytest plugin".
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import platform
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


class HarnessError(RuntimeError):
    """A process the harness starts did not come up; the message carries its log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        "restate-server is not installed. Run `make test` (or `make install-server`), which "
        f"installs the pinned npm package into {DEFAULT_INSTALL_DIR}/, or set {SERVER_BIN_ENV}"
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
        env = {
            **os.environ,
            "RESTATE_INGRESS__BIND_ADDRESS": f"127.0.0.1:{self.ingress_port}",
            "RESTATE_ADMIN__BIND_ADDRESS": f"127.0.0.1:{self.admin_port}",
            "RESTATE_BIND_ADDRESS": f"127.0.0.1:{self.node_port}",
            "RESTATE_ADVERTISED_ADDRESS": f"http://127.0.0.1:{self.node_port}",
            "RESTATE_LOG_FORMAT": "compact",
            "RESTATE_LOG_FILTER": "warn,restate=info",
            **self._extra_env,
        }
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own binary
            [
                self.binary,
                "--base-dir",
                str(self.base_dir),
                "--node-name",
                "restate-web-test",
                "--no-logo",
                "--listen-mode",
                "tcp",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        _wait_until(self.healthy, timeout, "restate-server", self.process, self.log_path)

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
        _stop_process(self.process, grace)

    def kill(self) -> None:
        """SIGKILL to the server and its workers (its process group, whose id is its pid)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
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
        "PostgreSQL is not installed. Run `make install-postgres` (Debian's postgresql "
        f"package), or set {POSTGRES_BIN_ENV} to a folder with initdb and postgres"
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
        restate_server,
        restate_services,
    )
