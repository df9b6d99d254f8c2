"""The pytest plugin's fixtures (loaded through ``restate_web.testing``, the ``pytest11`` entry
point): ``restate_server``, ``restate_services``, ``ingress_client`` and ``restate_cluster``.

A test that needs the server fails when it cannot start, with the reason; it never skips.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import pytest

from .testing import (
    HarnessError,
    RestateCluster,
    RestateServer,
    ServiceProcess,
    find_server_binary,
)

BIN_OPTION = "--restate-server-bin"
BIN_INI = "restate_server_bin"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("restate", "restate-web: a real restate-server for your tests")
    group.addoption(
        BIN_OPTION,
        dest="restate_server_bin",
        default=None,
        help="the restate-server binary (default: ini restate_server_bin, $RESTATE_SERVER_BIN, "
        "or .restate-server/ installed by `npm install --prefix .restate-server "
        "@restatedev/restate-server`)",
    )
    parser.addini(BIN_INI, "the restate-server binary (relative to the rootdir)", default="")


def _fail(reason: str) -> NoReturn:
    # `from None`: the reason is shown once, not chained to the harness's own exception.
    raise pytest.fail.Exception(reason, pytrace=False) from None


def _binary(config: pytest.Config) -> str:
    option = config.getoption("restate_server_bin")
    explicit = option or config.getini(BIN_INI)
    if explicit:
        path = Path(str(explicit))
        if not path.is_absolute():
            # As pytest does: a command-line path is relative to where pytest runs, an ini
            # value to the rootdir.
            base = config.invocation_params.dir if option else config.rootpath
            path = Path(base) / path
        if not os.access(path, os.X_OK):
            raise HarnessError(f"{BIN_OPTION} / {BIN_INI}: {path} is not an executable file")
        return str(path)
    return find_server_binary(search_from=config.rootpath)


class _SigtermAsInterrupt:
    """While a fixture's servers run, SIGTERM is a KeyboardInterrupt, as Ctrl-C is.

    CI runners stop a cancelled or timed-out job with SIGTERM, which by default ends Python at
    once: no fixture teardown, and the servers (hypercorn in a session of its own) keep
    running and holding their ports. As KeyboardInterrupt, pytest tears the session down and
    stops them. A handler someone else installed is left alone.
    """

    def __init__(self) -> None:
        self.users = 0  # fixtures whose servers run (a session's server, a module's cluster)
        self.installed = False

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set in the main thread
            return
        self.users += 1
        if self.users == 1 and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, self._interrupt)
            self.installed = True
        try:
            yield
        finally:
            self.users -= 1
            if not self.users and self.installed:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                self.installed = False

    @staticmethod
    def _interrupt(signum: int, frame: object) -> None:
        # A second SIGTERM must not cut the teardown short: the servers would be left running.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum} (SIGTERM)")


_sigterm = _SigtermAsInterrupt()


@pytest.fixture(scope="session")
def restate_server(pytestconfig: pytest.Config) -> Iterator[RestateServer]:
    """A real restate-server for the session, on free loopback ports, stopped at the end (also
    when pytest is stopped with SIGTERM)."""
    with _sigterm.held():
        try:
            server = RestateServer.start(binary=_binary(pytestconfig))
        except HarnessError as error:
            _fail(f"restate-server could not start: {error}")
        try:
            yield server
        finally:
            server.close()


class RestateServices:
    """``restate_services("my_app.services:app")``: serve an SDK app with hypercorn and register
    it with the session's restate-server (once per app and environment), stopped at the end."""

    def __init__(self, server: RestateServer, rootpath: Path) -> None:
        self._server = server
        self._rootpath = rootpath
        self._started: dict[tuple[Any, ...], ServiceProcess] = {}

    def __call__(
        self,
        app: str,
        *,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        use_http_11: bool = False,
    ) -> ServiceProcess:
        key = (app, str(cwd), tuple(sorted((env or {}).items())), use_http_11)
        if key in self._started:
            return self._started[key]
        from .deploy import AdminClient, AdminError, register_deployment

        try:
            process = ServiceProcess.start(app, cwd=cwd or self._rootpath, env=env)
        except HarnessError as error:
            _fail(f"could not serve {app}: {error}")
        self._started[key] = process
        try:
            with AdminClient(self._server.admin_url) as admin:
                # Tests may serve several versions of the same services: allow breaking changes.
                result = register_deployment(
                    admin, process.url, breaking=True, use_http_11=use_http_11
                )
        except AdminError as error:
            _fail(f"could not register {app} ({process.url}): {error}")
        if result.exit_code:
            _fail(f"could not register {app}: {result.message}")
        return process

    def close(self) -> None:
        for process in self._started.values():
            process.close()
        self._started.clear()


@pytest.fixture(scope="session")
def restate_services(
    restate_server: RestateServer, pytestconfig: pytest.Config
) -> Iterator[RestateServices]:
    """Serve and register your SDK services: ``restate_services("my_app.services:app")``."""
    services = RestateServices(restate_server, Path(pytestconfig.rootpath))
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def ingress_client(restate_server: RestateServer) -> Iterator[Any]:
    """An ``IngressClient`` for the session's restate-server, closed after the test."""
    from .ingress import IngressClient

    with IngressClient(restate_server.ingress_url) as client:
        yield client


@pytest.fixture(scope="module")
def restate_cluster(pytestconfig: pytest.Config) -> Iterator[RestateCluster]:
    """A three-node Restate cluster for the test module (one that kills nodes disturbs no
    other module), every partition led when the first test runs, stopped at the end."""
    with _sigterm.held():
        try:
            cluster = RestateCluster.start(3, binary=_binary(pytestconfig))
        except HarnessError as error:
            _fail(f"the Restate cluster could not start: {error}")
        try:
            yield cluster
        finally:
            cluster.close()
