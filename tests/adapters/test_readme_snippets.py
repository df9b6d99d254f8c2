"""The README's framework snippets, run as written against the real restate-server.

Each test takes a ```python block from README.md, executes it unchanged (only the example
ingress URL is replaced by the test server's), and drives the app the README way: a snippet
that does not run as written (a missing import, an undefined name) fails here.
"""

from __future__ import annotations

import re
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from restate_web.adapters.fastapi import AsyncRestateClient, RestateBinding
from restate_web.testing import RestateServices
from tests.conftest import ROOT

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def readme_block(marker: str) -> str:
    """The first ```python block after ``marker`` in README.md."""
    assert marker in README, f"README.md has no {marker!r}"
    found = re.search(r"```python\n(.*?)```", README.split(marker, 1)[1], re.S)
    assert found is not None, f"no python block after {marker!r}"
    return found.group(1)


def run_block(source: str, name: str, **namespace: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(namespace)
    sys.modules[name] = module  # Flask and Django look views' modules up by name
    exec(compile(source, f"README.md ({name})", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def readme_ingress(ingress_url: str, restate_services: RestateServices) -> Iterator[str]:
    restate_services("tests.adapters.readme_services:app", cwd=ROOT)
    yield ingress_url
    for name in [n for n in sys.modules if n.startswith("readme_snippet_")]:
        del sys.modules[name]


def _with_url(source: str, url: str) -> str:
    return source.replace('"http://localhost:8080"', repr(url))


def test_the_fastapi_snippet_runs_as_written(readme_ingress: str) -> None:
    from fastapi.testclient import TestClient

    module = run_block(_with_url(readme_block("## FastAPI\n"), readme_ingress), "readme_snippet_fa")
    order, key = f"o-{uuid.uuid4()}", str(uuid.uuid4())
    with TestClient(module.app) as client:
        assert client.post(f"/orders/{order}").json()["invocation"].startswith("inv_")
        paid = [client.post(f"/payments/{order}", headers={"Idempotency-Key": key}) for _ in "ab"]
        assert [r.json() for r in paid] == [f"charged {order} #1"] * 2
        assert client.post(f"/payments/{order}").status_code == 400
        assert client.post("/refunds").status_code == 400
        assert client.post("/refunds", headers={"Idempotency-Key": key}).status_code == 200


def test_the_flask_snippet_runs_as_written(readme_ingress: str) -> None:
    module = run_block(_with_url(readme_block("## Flask\n"), readme_ingress), "readme_snippet_fl")
    client = module.create_app().test_client()
    order, key = f"o-{uuid.uuid4()}", str(uuid.uuid4())
    assert client.post(f"/orders/{order}").get_json() == {"total": 1}
    for _ in "ab":
        reply = client.post(f"/payments/{order}", headers={"Idempotency-Key": key})
        assert reply.get_json() == {"paid": f"charged {order} #1"}
    assert client.post(f"/payments/{order}").status_code == 400


def test_the_django_snippet_runs_as_written(readme_ingress: str) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.adapters.apps.django_project.settings")
    import django
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import path

    django.setup()
    views = run_block(readme_block("## Django\n").split("# views.py", 1)[1], "readme_snippet_dj")
    urls = run_block("", "readme_snippet_dj_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("orders/<str:order_id>", views.create_order),
        path("payments/<str:pid>", views.pay),
    ]
    order, key = f"o-{uuid.uuid4()}", str(uuid.uuid4())
    with override_settings(ROOT_URLCONF=urls.__name__, RESTATE={"INGRESS_URL": readme_ingress}):
        client = Client()
        assert client.post(f"/orders/{order}").json() == {"total": 1}
        for _ in "ab":
            reply = Client(headers={"Idempotency-Key": key}).post(f"/payments/{order}")
            assert reply.json() == {"paid": f"charged {order} #1"}
        assert client.post(f"/payments/{order}").status_code == 400


def test_the_attach_after_timeout_snippet_runs_as_written(readme_ingress: str) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from restate_web.adapters.fastapi import Restate

    app = FastAPI()
    Restate(app, {"INGRESS_URL": readme_ingress})
    # The README waits 5 s before attaching; the slow test handler takes 2 s.
    source = readme_block("**Picking up an invocation by its key.**")
    source = source.replace("timeout=5", "timeout=1")
    module = run_block(source, "readme_snippet_attach", app=app)
    order, key = f"slow-{uuid.uuid4()}", str(uuid.uuid4())
    with TestClient(module.app) as client:
        reply = client.post(f"/orders/{order}/charge", headers={"Idempotency-Key": key})
        assert reply.json() == f"charged {order}"


def test_set_principal_is_refused_only_after_a_derived_key(readme_ingress: str) -> None:
    """README, "Setting the principal": after a call that derived a key, ``RuntimeError``; a
    request without a key derives none, so a late ``set_principal`` refuses nothing."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from restate_web.adapters.fastapi import Restate

    app = FastAPI()
    Restate(app, {"INGRESS_URL": readme_ingress})

    @app.post("/late/{order}")
    async def late(order: str, restate: AsyncRestateClient, binding: RestateBinding) -> str:
        await restate.object("Payment", order).call("charge")
        try:
            binding.set_principal("user:ada")
        except RuntimeError as error:
            return str(error)
        return "accepted"

    order = f"late-{uuid.uuid4()}"
    with TestClient(app) as client:
        assert client.post(f"/late/{order}").json() == "accepted"
        refused = client.post(f"/late/{order}", headers={"Idempotency-Key": order}).json()
        assert "set it before the first call" in refused


def test_unconfigured_settings_hold_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """README, "What the adapters share": one attribute per setting; URLs and tokens not
    configured are None (the clients then use the default URL)."""
    from restate_web.adapters import Integration
    from restate_web.adapters._settings import SETTING_NAMES

    for name in SETTING_NAMES:
        monkeypatch.delenv(f"RESTATE_{name}", raising=False)
    integration = Integration({})
    settings = integration.settings
    assert all(hasattr(settings, name.lower()) for name in SETTING_NAMES)
    assert (settings.ingress_url, settings.admin_url) == (None, None)
    assert (settings.ingress_token, settings.admin_token) == (None, None)
    assert settings.idempotency_header == "Idempotency-Key"
    assert settings.idempotency_key_max_length == 255
    assert settings.webhook_timeout == 2
    assert (settings.retry, settings.forward_trace_context, settings.guard_contexts) == (
        True,
        True,
        True,
    )
    assert settings.async_transport == "httpx" and settings.services_path == "/restate"
    assert repr(integration.sync_client()) == "<IngressClient http://localhost:8080>"
    integration.close()
