"""Handler detection and the call graph across the files linted together."""

from __future__ import annotations

from pathlib import Path

import pytest

from restate_web.lint import Selection, lint_paths, lint_source

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("imports", "make"),
    [
        ("import restate", "restate.Service"),
        ("import restate as r", "r.Service"),
        ("from restate import Service", "Service"),
        ("from restate import Service as Svc", "Svc"),
        ("from restate.service import Service", "Service"),
        ("from restate import VirtualObject", "VirtualObject"),
        ("from restate import Workflow as WF", "WF"),
        ("import restate.object as o", "o.VirtualObject"),
    ],
)
def test_any_import_style_makes_a_handler(imports: str, make: str) -> None:
    decorator = "main" if make.endswith(("Workflow", "WF")) else "handler"
    source = (
        f"{imports}\nimport time\n\nthing = {make}('Thing')\n\n"
        f"@thing.{decorator}()\nasync def h(context, x):\n    time.sleep(1)\n"
    )
    assert [f.code for f in lint_source(source)] == ["RW103"]


def test_an_undecorated_function_or_another_decorator_is_not_a_handler() -> None:
    source = (
        "import time\nimport restate\nimport functools\n\nsvc = restate.Service('S')\n\n"
        "async def plain(ctx):\n    time.sleep(1)\n\n"
        "@functools.lru_cache\ndef cached(ctx):\n    time.sleep(1)\n\n"
        "class Other:\n    def handler(self):\n        return lambda f: f\n\n"
        "other = Other()\n\n@other.handler()\nasync def not_restate(ctx):\n    time.sleep(1)\n"
    )
    assert lint_source(source) == []


def test_handler_kinds_decide_rw501() -> None:
    template = (
        "import restate\nfrom datetime import timedelta\n\nobj = restate.{cls}('O')\n\n"
        "@obj.{decorator}({kind})\nasync def h(ctx):\n    await ctx.sleep(timedelta(hours=2))\n"
    )

    def codes(cls: str, decorator: str, kind: str) -> list[str]:
        return [
            f.code for f in lint_source(template.format(cls=cls, decorator=decorator, kind=kind))
        ]

    assert codes("VirtualObject", "handler", "") == ["RW501"]  # exclusive by default
    assert codes("VirtualObject", "handler", 'kind="exclusive"') == ["RW501"]
    assert codes("VirtualObject", "handler", 'kind="shared"') == []
    assert codes("Workflow", "handler", "") == []  # a workflow's other handlers are shared
    assert codes("Workflow", "main", "") == []
    assert codes("Service", "handler", "") == []


def test_helpers_in_another_package_module(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "clock.py").write_text(
        "from datetime import datetime\n\n\ndef stamp():\n    return datetime.now()\n"
    )
    (package / "util.py").write_text(
        "from .clock import stamp\n\n\ndef label(x):\n    return f'{x}-{stamp()}'\n"
    )
    (package / "services.py").write_text(
        "import restate\nfrom shop.util import label\n\nobj = restate.VirtualObject('O')\n\n\n"
        "@obj.handler()\nasync def h(ctx, x):\n    ctx.set('label', label(x))\n"
    )
    findings = lint_paths([str(tmp_path)])
    assert [(f.path, f.line, f.col, f.code) for f in findings] == [
        (str(package / "services.py"), 9, 22, "RW101")
    ]
    assert findings[0].chain == ("h()", "label()", "stamp()", "datetime.now()")
    # linted alone, the handler's file cannot see the helpers: nothing is guessed
    assert lint_paths([str(package / "services.py")]) == []


def test_service_object_defined_in_another_file(tmp_path: Path) -> None:
    (tmp_path / "defs.py").write_text("import restate\n\ngreeter = restate.Service('Greeter')\n")
    (tmp_path / "handlers.py").write_text(
        "import random\nfrom defs import greeter\n\n\n@greeter.handler()\n"
        "async def greet(ctx, name):\n    ctx.set('n', random.randint(1, 6))\n"
    )
    assert [f.code for f in lint_paths([str(tmp_path)])] == ["RW102"]


@pytest.mark.parametrize(
    ("imports", "reference"),
    [
        ("import defs", "defs.greeter"),
        ("import defs as d", "d.greeter"),
        ("from pkg import defs", "defs.greeter"),
        ("from . import defs", "defs.greeter"),
        ("import pkg.defs", "pkg.defs.greeter"),
    ],
)
def test_service_object_reached_through_its_module(
    tmp_path: Path, imports: str, reference: str
) -> None:
    # `@defs.greeter.handler()` is an import style too: the module imported, the service
    # object named through it.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "defs.py").write_text("import restate\n\ngreeter = restate.Service('Greeter')\n")
    if imports in ("import defs", "import defs as d"):
        (tmp_path / "defs.py").write_text((package / "defs.py").read_text())
        (package / "defs.py").unlink()
    (package / "handlers.py").write_text(
        f"import random\n{imports}\n\n\n@{reference}.handler()\n"
        "async def greet(ctx, name):\n    ctx.set('n', random.randint(1, 6))\n"
    )
    assert [f.code for f in lint_paths([str(tmp_path)])] == ["RW102"]


def test_recursive_helpers_terminate() -> None:
    source = (
        "import restate\nimport time\n\nsvc = restate.Service('S')\n\n"
        "def a(n):\n    return b(n - 1) if n else time.time()\n\n"
        "def b(n):\n    return a(n)\n\n"
        "@svc.handler()\nasync def h(ctx, n):\n    ctx.set('x', a(n))\n"
    )
    findings = lint_source(source)
    assert [f.code for f in findings] == ["RW101"]
    assert findings[0].chain == ("h()", "a()", "time.time()")


def test_handlers_in_an_optional_import_block() -> None:
    source = (
        "import asyncio\ntry:\n    import restate\nexcept ImportError:\n    restate = None\n\n"
        "if restate is not None:\n    wf = restate.Workflow('W')\n\n"
        "    @wf.main()\n    async def run(ctx):\n        await asyncio.sleep(3)\n"
    )
    assert [f.code for f in lint_source(source)] == ["RW103"]


def test_selection_filters_the_api_result(tmp_path: Path) -> None:
    (tmp_path / "s.py").write_text(
        "import restate, time, uuid\nsvc = restate.Service('S')\n"
        "@svc.handler()\nasync def h(ctx):\n    ctx.set('a', time.time())\n"
        "    ctx.set('b', str(uuid.uuid4()))\n"
    )
    assert [f.code for f in lint_paths([str(tmp_path)], Selection(select=("RW102",)))] == ["RW102"]
    assert [f.code for f in lint_paths([str(tmp_path)], Selection(ignore=("RW10",)))] == []


def test_the_projects_own_services_lint_clean() -> None:
    """sample_apps, tests and bench: what we ship and run must follow our own rules."""
    result = lint_paths([str(ROOT / "sample_apps"), str(ROOT / "tests"), str(ROOT / "bench")])
    assert result.failures == []
    assert list(result) == []
    assert result.files > 50


def test_a_client_created_in_another_module(tmp_path: Path) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "clients.py").write_text("from openai import AsyncOpenAI\n\nllm = AsyncOpenAI()\n")
    (package / "agent.py").write_text(
        "import restate\nfrom .clients import llm\n\nagent = restate.VirtualObject('Agent')\n\n\n"
        "@agent.handler()\nasync def chat(ctx, prompt: str) -> str:\n"
        "    answer = await llm.chat.completions.create(model='m', messages=[])\n"
        "    await ctx.run_typed('ok', lambda: llm.chat.completions.create(model='m'))\n"
        "    return str(answer)\n"
    )
    findings = lint_paths([str(tmp_path)])
    assert [(f.line, f.code) for f in findings] == [(9, "RW104")]
    assert "`llm.chat.completions.create()`" in findings[0].message


def test_a_module_cache_filled_by_a_handler_is_state() -> None:
    source = (
        "import restate\n\nsvc = restate.Service('S')\nCACHE = {}\n\n"
        "@svc.handler()\nasync def h(ctx, key):\n    if key not in CACHE:\n"
        "        CACHE[key] = await ctx.run_typed('load', lambda: key.upper())\n"
        "    return CACHE[key]\n"
    )
    assert [f.code for f in lint_source(source)] == ["RW401"]


def test_decorators_run_at_import_time_not_in_the_handler() -> None:
    source = (
        "import restate, time\n\nsvc = restate.Service('S')\n\n"
        "def tagged(at):\n    return lambda f: f\n\n"
        "@tagged(time.time())\n@svc.handler()\nasync def h(ctx):\n    return 1\n"
    )
    assert lint_source(source) == []


def test_function_tool_decorator_call_names_the_tool() -> None:
    source = (
        "import restate\nfrom agents import function_tool\n\n"
        "@function_tool(name_override='faq')\nasync def faq(q: str) -> str:\n    return q\n"
    )
    findings = lint_source(source)
    assert [(f.code, f.line, f.col) for f in findings] == [("RW801", 4, 2)]
    assert "`@function_tool` on `faq`" in findings[0].message


def test_deeply_nested_code_is_checked_not_a_crash(tmp_path: Path) -> None:
    long_sum = " + ".join(['"a"'] * 3000)
    (tmp_path / "deep.py").write_text(
        "import restate, time\n\nsvc = restate.Service('S')\n\n"
        f"@svc.handler()\nasync def h(ctx):\n    x = {long_sum}\n    time.sleep(1)\n    return x\n"
    )
    result = lint_paths([str(tmp_path)])
    assert result.failures == []
    assert [f.code for f in result] == ["RW103"]
