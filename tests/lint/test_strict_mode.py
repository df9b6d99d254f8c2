"""``install_context_guard(strict=True)``: the run-time counterpart of restate-web lint,
against real handlers (tests/lint/strict_services.py) served to the real restate-server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from restate_web.guards import (
    context_guard_installed,
    disable_strict_mode,
    enable_strict_mode,
    install_context_guard,
    strict_mode_enabled,
    uninstall_context_guard,
)
from restate_web.ingress import IngressClient, InvocationFailed
from restate_web.lint._rules import RULES_BY_CODE
from restate_web.testing import HarnessError, RestateServer, ServiceProcess

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def strict_client(restate_server: RestateServer) -> Iterator[IngressClient]:
    try:
        services = ServiceProcess.start("tests.lint.strict_services:app", cwd=ROOT)
    except HarnessError as error:
        pytest.fail(f"the strict-mode services could not start: {error}", pytrace=False)
    try:
        restate_server.register(services.url)
        with IngressClient(restate_server.ingress_url, retry=False) as client:
            yield client
    finally:
        services.close()


def _failure(client: IngressClient, handler: str, *arg: object) -> str:
    with pytest.raises(InvocationFailed) as caught:
        client.service("Strict").call(handler, *arg, timeout=60)
    return caught.value.message


def _assert_rule(message: str, code: str, what: str) -> None:
    rule = RULES_BY_CODE[code]
    assert message.startswith(f"{code} `{what}"), message
    assert "in handler 'Strict/" in message
    assert f"{rule.summary}. Fix: {rule.fix}" in message  # the linter's words


def test_socket_connect_outside_run_fails_with_rw104(strict_client: IngressClient) -> None:
    _assert_rule(_failure(strict_client, "badConnect"), "RW104", "socket.connect(('127.0.0.1'")


def test_socket_connect_inside_run_is_allowed(strict_client: IngressClient) -> None:
    answer = strict_client.service("Strict").call("goodConnect", timeout=60)
    assert answer.startswith("refused")  # connected to nothing, but was not stopped


def test_open_outside_run_fails_and_writes_nothing(
    strict_client: IngressClient, tmp_path: Path
) -> None:
    target = tmp_path / "bad.txt"
    _assert_rule(_failure(strict_client, "badOpen", str(target)), "RW104", "open(")
    assert not target.exists()


def test_open_inside_run_is_allowed(strict_client: IngressClient, tmp_path: Path) -> None:
    target = tmp_path / "good.txt"
    assert strict_client.service("Strict").call("goodOpen", str(target), timeout=60) == "written"
    assert target.read_text() == "written"


def test_subprocess_outside_run_fails(strict_client: IngressClient) -> None:
    _assert_rule(_failure(strict_client, "badSubprocess"), "RW104", "subprocess.Popen(")


def test_subprocess_inside_run_is_allowed(strict_client: IngressClient) -> None:
    assert strict_client.service("Strict").call("goodSubprocess", timeout=60) == 0


def test_create_task_from_a_handler_fails_with_rw301(strict_client: IngressClient) -> None:
    _assert_rule(_failure(strict_client, "badTask"), "RW301", "asyncio.create_task()")


def test_imports_tracebacks_and_sdk_tasks_are_not_reported(strict_client: IngressClient) -> None:
    answer = strict_client.service("Strict").call("everydayPython", timeout=60)
    assert answer == "email.mime.text True ab"
    made = strict_client.service("Strict").call("tempDir", timeout=60)
    assert os.path.isdir(made)
    os.rmdir(made)


def test_strict_mode_is_off_by_default_and_switches() -> None:
    """In this (test) process: strict mode only with strict=True, off again on uninstall."""
    import asyncio

    original = asyncio.create_task
    was_enabled = strict_mode_enabled()
    was_installed = context_guard_installed()
    try:
        disable_strict_mode()
        install_context_guard()
        assert not strict_mode_enabled()
        install_context_guard(strict=True)
        assert strict_mode_enabled()
        assert asyncio.create_task is not original
        uninstall_context_guard()
        assert not strict_mode_enabled()
        assert asyncio.create_task is original
        # outside any handler nothing is reported, even when enabled
        enable_strict_mode()
        with open(os.devnull) as handle:
            assert handle.read() == ""
    finally:
        disable_strict_mode()
        if was_installed:
            install_context_guard()
        if was_enabled:
            enable_strict_mode()


def test_strict_mode_judges_a_file_by_what_is_opened(tmp_path: Path) -> None:
    """Python's own files, installed packages' data and code files are not a handler's I/O
    (imports, tracebacks and libraries read them); any other file is."""
    import json

    import certifi

    from restate_web.guards import _open_is_handler_io

    assert not _open_is_handler_io(3)  # a file descriptor
    assert not _open_is_handler_io(json.__file__)  # the standard library
    assert not _open_is_handler_io(certifi.where())  # an installed package's data
    assert not _open_is_handler_io(str(ROOT / "tests" / "lint" / "strict_services.py"))
    assert not _open_is_handler_io(os.fsencode(json.__file__))
    assert _open_is_handler_io(str(tmp_path / "orders.json"))
    assert _open_is_handler_io("relative-data.csv")
