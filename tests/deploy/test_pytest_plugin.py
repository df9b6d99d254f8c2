"""restate-web's pytest plugin as a user's suite sees it: installed with the package (pytest11),
it serves and registers the user's services on a real restate-server and hands out an ingress
client; without a server binary the tests fail with the reason, never skip."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from restate_web.testing import find_server_binary
from tests.deploy.conftest import ROOT

SERVICES = """
import restate

greeter = restate.Service("PluginGreeter")


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello {name}"


app = restate.app([greeter])
"""

TESTS = """
def test_greets(restate_services, ingress_client, restate_server):
    served = restate_services("user_services:app")
    assert served is restate_services("user_services:app")  # served and registered once
    assert ingress_client.service("PluginGreeter").call("greet", "Ada") == "Hello Ada"
    assert restate_server.admin_url.startswith("http://127.0.0.1:")
"""


def run_user_suite(folder: Path, *args: str, ini: str = "") -> subprocess.CompletedProcess[str]:
    (folder / "pyproject.toml").write_text(f"[tool.pytest.ini_options]\n{ini}\n")
    (folder / "user_services.py").write_text(SERVICES)
    (folder / "test_user.py").write_text(textwrap.dedent(TESTS))
    env = {k: v for k, v in os.environ.items() if k != "RESTATE_SERVER_BIN"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.server
def test_a_users_suite_gets_server_services_and_client(tmp_path):
    binary = find_server_binary(ROOT)
    result = run_user_suite(tmp_path, ini=f'restate_server_bin = "{binary}"')
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_a_missing_server_fails_and_never_skips(tmp_path):
    result = run_user_suite(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "restate-server could not start" in result.stdout
    assert "restate-server is not installed" in result.stdout
    assert "skipped" not in result.stdout
    assert "1 error" in result.stdout

    wrong = run_user_suite(tmp_path, "--restate-server-bin", str(tmp_path / "nope"))
    assert wrong.returncode == 1
    assert "is not an executable file" in wrong.stdout


def test_a_missing_server_says_how_to_install_it_in_the_users_project(tmp_path):
    # A user's project has no Makefile of ours: the reason must name the npm command and the
    # ways to point at a binary, once (not chained to the harness's own exception).
    result = run_user_suite(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "make test" not in result.stdout
    assert "npm install --prefix .restate-server @restatedev/restate-server@1.7.12" in result.stdout
    assert "--restate-server-bin" in result.stdout and "RESTATE_SERVER_BIN" in result.stdout
    assert "During handling of the above exception" not in result.stdout


@pytest.mark.server
def test_a_relative_server_bin_on_the_command_line_is_relative_to_where_pytest_runs(tmp_path):
    # As for any path typed on pytest's command line: relative to the directory pytest runs
    # in, not to the rootdir (they differ when pytest runs from a subfolder).
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "restate-server").symlink_to(find_server_binary(ROOT))
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (project / "user_services.py").write_text(SERVICES)
    (project / "tests" / "test_user.py").write_text(textwrap.dedent(TESTS))
    env = {k: v for k, v in os.environ.items() if k != "RESTATE_SERVER_BIN"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--restate-server-bin=../../bin/restate-server",
        ],
        cwd=project / "tests",
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


STOPPED_BY_SIGTERM = """
import json, os, time


def test_waits_to_be_stopped(restate_services, restate_server):
    served = restate_services("user_services:app")
    pids = {"server": restate_server.pid, "service": served.pid}
    with open("pids.json.tmp", "w") as out:
        json.dump(pids, out)
    os.replace("pids.json.tmp", "pids.json")
    time.sleep(120)
"""


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.server
def test_a_suite_stopped_with_sigterm_stops_its_servers(tmp_path):
    # CI stops a cancelled or timed-out job with SIGTERM; by default Python then ends without
    # teardown, and restate-server and the service's hypercorn (its own session) run on.
    binary = find_server_binary(ROOT)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pytest.ini_options]\nrestate_server_bin = "{binary}"\n'
    )
    (tmp_path / "user_services.py").write_text(SERVICES)
    (tmp_path / "test_user.py").write_text(STOPPED_BY_SIGTERM)
    env = {k: v for k, v in os.environ.items() if k != "RESTATE_SERVER_BIN"}
    suite = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pids: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "pids.json").exists():
            assert suite.poll() is None, suite.communicate()[0]
            assert time.monotonic() < deadline, "the user's test never started its servers"
            time.sleep(0.1)
        pids = json.loads((tmp_path / "pids.json").read_text())
        assert running(pids["server"]) and running(pids["service"])
        suite.send_signal(signal.SIGTERM)
        output, _ = suite.communicate(timeout=60)
        assert "KeyboardInterrupt" in output, output
        deadline = time.monotonic() + 15
        while (running(pids["server"]) or running(pids["service"])) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert not running(pids["server"]), "restate-server outlived the suite"
        assert not running(pids["service"]), "the service's hypercorn outlived the suite"
    finally:  # whatever outlived the suite is stopped here by its id, not left running
        if suite.poll() is None:
            suite.kill()
            suite.wait()
        if pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pids["server"], signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pids["service"], signal.SIGKILL)  # hypercorn's own process group
