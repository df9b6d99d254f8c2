"""The command as other tools call it: exit status, formats, selection, configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from restate_web.cli import main as restate_web_main
from restate_web.lint import RULES

ROOT = Path(__file__).resolve().parents[2]

BAD = """\
import time
import uuid

import restate

svc = restate.Service("Svc")


@svc.handler()
async def h(ctx: restate.Context) -> None:
    ctx.set("at", time.time())
    ctx.set("id", str(uuid.uuid4()))
"""

GOOD = """\
import restate

svc = restate.Service("Svc")


@svc.handler()
async def h(ctx: restate.Context) -> None:
    ctx.set("at", await ctx.time())
"""


def run_lint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "restate_web.lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "good.py").write_text(GOOD)
    return tmp_path


def test_text_format_and_exit_status_one(project: Path) -> None:
    result = run_lint("bad.py", "good.py", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("bad.py:11:19: RW101 `time.time()` in handler 'Svc/h'")
    assert lines[1].startswith("bad.py:12:23: RW102 `uuid.uuid4()`")
    assert len(lines) == 2
    assert "Found 2 findings in 1 file" in result.stderr


def test_no_findings_exit_zero(project: Path) -> None:
    result = run_lint("good.py", cwd=project)
    assert result.returncode == 0
    assert result.stdout == ""
    assert "No findings" in result.stderr


def test_directory_default_and_skipped_folders(project: Path) -> None:
    for skipped in (".venv", "node_modules", ".hidden"):
        (project / skipped).mkdir()
        (project / skipped / "bad.py").write_text(BAD)
    (project / "pkg").mkdir()
    (project / "pkg" / "more.py").write_text(BAD)
    result = run_lint("--format", "json", cwd=project)
    paths = sorted({finding["path"] for finding in json.loads(result.stdout)})
    assert paths == [os.path.join(".", "bad.py"), os.path.join(".", "pkg", "more.py")]


def test_json_format_keys(project: Path) -> None:
    result = run_lint("--format", "json", "bad.py", cwd=project)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [set(item) for item in data] == [{"path", "line", "col", "code", "message"}] * 2
    assert data[0] == {
        "path": "bad.py",
        "line": 11,
        "col": 19,
        "code": "RW101",
        "message": data[0]["message"],
    }
    assert "await ctx.time()" in data[0]["message"]


def test_json_chain_for_a_finding_through_helpers(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        "import httpx\n\n\ndef post(x):\n    return httpx.post('https://x.example', json=x)\n\n\n"
        "def notify(x):\n    return post(x)\n"
    )
    (tmp_path / "services.py").write_text(
        "import restate\nfrom helpers import notify\n\nsvc = restate.Service('Svc')\n\n\n"
        "@svc.handler()\nasync def h(ctx, x: dict) -> None:\n    notify(x)\n"
    )
    result = run_lint("--format", "json", ".", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert len(data) == 1
    assert data[0]["path"] == os.path.join(".", "services.py")
    assert (data[0]["line"], data[0]["col"], data[0]["code"]) == (9, 5, "RW104")
    assert data[0]["chain"] == ["h()", "notify()", "post()", "httpx.post()"]
    assert "h() -> notify() -> post() -> httpx.post()" in data[0]["message"]


def test_sarif_format(project: Path) -> None:
    result = run_lint("--format", "sarif", "bad.py", cwd=project)
    assert result.returncode == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [r.code for r in RULES]
    first = run["results"][0]
    assert first["ruleId"] == "RW101"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "RW101"
    location = first["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "bad.py"},
        "region": {"startLine": 11, "startColumn": 19},
    }


def test_github_format(project: Path) -> None:
    result = run_lint("--format", "github", "bad.py", cwd=project)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("::error file=bad.py,line=11,col=19,title=RW101::RW101 `time.time()`")
    assert "\n" not in first


def test_select_and_ignore_prefixes(project: Path) -> None:
    assert run_lint("--select", "RW102", "bad.py", cwd=project).stdout.count("RW1") == 1
    only_time = run_lint("--ignore", "RW102", "bad.py", cwd=project)
    assert "RW101" in only_time.stdout and "RW102" not in only_time.stdout
    none = run_lint("--select", "RW3,RW9", "bad.py", cwd=project)
    assert none.returncode == 0 and none.stdout == ""
    assert run_lint("--ignore", "RW1", "bad.py", cwd=project).returncode == 0


def test_unknown_code_is_a_usage_error(project: Path) -> None:
    result = run_lint("--select", "XY1", "bad.py", cwd=project)
    assert result.returncode == 2
    assert "not a rule code" in result.stderr


def test_unknown_format_is_a_usage_error(project: Path) -> None:
    result = run_lint("--format", "xml", "bad.py", cwd=project)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_missing_path_is_a_usage_error(project: Path) -> None:
    result = run_lint("nope.py", cwd=project)
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_pyproject_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.restate-web.lint]\nignore = ["RW101"]\n')
    result = run_lint("bad.py", cwd=project)
    assert "RW102" in result.stdout and "RW101" not in result.stdout
    # the command line wins, key by key
    result = run_lint("--ignore", "RW102", "bad.py", cwd=project)
    assert "RW101" in result.stdout and "RW102" not in result.stdout
    (project / "pyproject.toml").write_text('[tool.restate-web.lint]\nselect = "RW102"\n')
    assert "RW101" not in run_lint("bad.py", cwd=project).stdout  # one code as a string
    (project / "pyproject.toml").write_text("[tool.restate-web.lint]\nselect = 5\n")
    not_a_list = run_lint("bad.py", cwd=project)
    assert not_a_list.returncode == 2 and "list of strings" in not_a_list.stderr
    (project / "pyproject.toml").write_text('[tool.restate-web.lint]\nselct = ["RW1"]\n')
    broken = run_lint("bad.py", cwd=project)
    assert broken.returncode == 2 and "unknown key" in broken.stderr


def test_exclude_from_the_command_line_and_pyproject(project: Path) -> None:
    (project / "scripts").mkdir()
    (project / "scripts" / "tool.py").write_text(BAD)
    assert "scripts" in run_lint(".", cwd=project).stdout
    excluded = run_lint("--exclude", "scripts/*", "--exclude", "bad.py", ".", cwd=project)
    assert excluded.returncode == 0, excluded.stdout
    (project / "pyproject.toml").write_text(
        '[tool.restate-web.lint]\nexclude = ["scripts/*", "bad.py"]\n'
    )
    assert run_lint(".", cwd=project).returncode == 0


def test_exclude_applies_to_files_named_on_the_command_line(project: Path) -> None:
    # pre-commit passes the changed files by name: an `exclude` in pyproject.toml must still
    # skip them, or the hook reports the very files the project excluded.
    (project / "scripts").mkdir()
    (project / "scripts" / "tool.py").write_text(BAD)
    (project / "pyproject.toml").write_text('[tool.restate-web.lint]\nexclude = ["scripts/*"]\n')
    named = run_lint("scripts/tool.py", "good.py", cwd=project)
    assert named.returncode == 0, named.stdout
    assert "scripts" not in named.stdout
    assert "(1 file checked)" in named.stderr
    assert run_lint("scripts/tool.py", "bad.py", cwd=project).returncode == 1


def test_noqa_comments(project: Path) -> None:
    source = BAD.replace("time.time())", "time.time())  # noqa: RW101").replace(
        "uuid.uuid4()))", "uuid.uuid4()))  # noqa"
    )
    (project / "quiet.py").write_text(source)
    assert run_lint("quiet.py", cwd=project).returncode == 0
    other = BAD.replace("time.time())", "time.time())  # noqa: RW102")
    (project / "other.py").write_text(other)
    assert "RW101" in run_lint("other.py", cwd=project).stdout


def test_parse_error_is_reported_not_a_crash(project: Path) -> None:
    (project / "broken.py").write_text("def broken(:\n")
    result = run_lint(".", cwd=project)
    assert result.returncode == 2
    assert "broken.py:1:" in result.stderr and "syntax error" in result.stderr
    assert "Traceback" not in result.stderr
    assert "bad.py:11:19: RW101" in result.stdout  # the other files are still linted


def test_rules_catalogue_is_markdown() -> None:
    result = run_lint("--rules", cwd=ROOT)
    assert result.returncode == 0
    text = result.stdout
    assert text.startswith("# ")
    for rule in RULES:
        assert f"## {rule.code} " in text
    assert "Fix:" in text and "```python" in text


def test_restate_web_console_script(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(project)
    try:
        status = restate_web_main(["lint", "--format", "json", "bad.py"])
    finally:
        os.chdir(cwd)
    assert status == 1
    assert [f["code"] for f in json.loads(capsys.readouterr().out)] == ["RW101", "RW102"]
    script = Path(sys.executable).with_name("restate-web")
    completed = subprocess.run(
        [str(script), "lint", "good.py"], cwd=project, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_flake8_plugin_runs_in_real_flake8(project: Path) -> None:
    (project / "quiet.py").write_text(BAD.replace("time.time())", "time.time())  # noqa: RW101"))
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "RW", "bad.py", "quiet.py", "good.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("bad.py:11:19: RW101 `time.time()`")
    assert lines[1].startswith("bad.py:12:23: RW102")
    assert lines[2].startswith("quiet.py:12:23: RW102")
    assert len(lines) == 3


def test_pre_commit_hook_definition_runs_as_pre_commit_would(project: Path) -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: restate-web-lint" in text
    assert "language: python" in text
    assert "types: [python]" in text
    entry = next(line for line in text.splitlines() if line.strip().startswith("entry:"))
    command = entry.split(":", 1)[1].split()
    assert command == ["restate-web", "lint"]
    script = str(Path(sys.executable).with_name(command[0]))
    # pre-commit appends the staged file names to the entry
    failing = subprocess.run(
        [script, *command[1:], "bad.py", "good.py"], cwd=project, capture_output=True, check=False
    )
    assert failing.returncode == 1
    passing = subprocess.run(
        [script, *command[1:], "good.py"], cwd=project, capture_output=True, check=False
    )
    assert passing.returncode == 0


def test_the_projects_own_services_lint_clean_from_the_command_line() -> None:
    result = run_lint("sample_apps", "tests", "bench", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
