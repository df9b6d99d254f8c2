"""What only one framework has (lifespan, extension registry, system checks) and the guards."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from restate_web.adapters.fastapi import AsyncRestateClient
from restate_web.guards import (
    DurableContextOutsideHandler,
    LeakedContextError,
    durable_only,
    ensure_durable_context,
)
from tests.adapters.apps import common


def test_fastapi_wraps_the_user_lifespan_and_closes_the_client(ingress_url):
    from fastapi.testclient import TestClient

    from restate_web.adapters.fastapi import get_integration
    from tests.adapters.apps.fastapi_app import create_app

    app = create_app({"INGRESS_URL": ingress_url})
    with TestClient(app) as client:
        assert client.get("/lifespan").json() == {"user_lifespan": "started"}
        assert client.post("/async/count/" + uuid.uuid4().hex).status_code == 200
        loop_clients = get_integration(app)._loop_clients._entries
        (async_client,) = [entry[0] for entry in loop_clients.values()]
    assert app.state.user_lifespan == "stopped"
    assert async_client._http.is_closed
    from restate_web.adapters.fastapi import Restate

    with pytest.raises(RuntimeError, match="already installed"):
        Restate(app)


def test_fastapi_middleware_is_pure_asgi():
    from starlette.middleware.base import BaseHTTPMiddleware

    from restate_web.adapters.fastapi import RestateMiddleware
    from tests.adapters.apps.fastapi_app import create_app

    app = create_app()
    classes = [m.cls for m in app.user_middleware]
    assert RestateMiddleware in classes
    assert not any(isinstance(c, type) and issubclass(c, BaseHTTPMiddleware) for c in classes)


def test_flask_extension_and_config_keys(ingress_url):
    from flask import Flask

    from restate_web.adapters import Integration
    from restate_web.adapters.flask import Restate

    app = Flask(__name__)
    app.config.update(RESTATE_INGRESS_URL=ingress_url, RESTATE_IDEMPOTENCY_HEADER="X-Request-Key")
    restate = Restate(app)
    integration = app.extensions["restate"]
    assert isinstance(integration, Integration)
    assert integration.settings.idempotency_header == "X-Request-Key"
    with app.app_context():
        assert restate.integration is integration
        assert restate.client.base_url == ingress_url  # no request: the unbound client

    later = Flask("later")
    later.config["RESTATE_FORWARD_HEADERS"] = ["cookie"]
    with pytest.raises(ValueError, match=r"restate_web\.E003"):
        Restate().init_app(later)


@pytest.fixture
def django_ready():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.adapters.apps.django_project.settings")
    import django

    django.setup()


def test_django_system_checks_report_bad_settings(django_ready):
    from django.core import checks
    from django.test.utils import override_settings

    bad = {"INGRESS_URL": "ftp://x", "FORWARD_HEADERS": ["Authorization"], "RETRIES": 3}
    with override_settings(RESTATE=bad, MIDDLEWARE=[]):
        ids = sorted(m.id for m in checks.run_checks(tags=["restate_web"]))
    assert ids == ["restate_web.E002", "restate_web.E003", "restate_web.W001", "restate_web.W002"]
    with override_settings(RESTATE="nope"):
        ids = [m.id for m in checks.run_checks(tags=["restate_web"])]
    assert "restate_web.E001" in ids
    with override_settings(RESTATE={"INGRESS_URL": "http://127.0.0.1:8080"}):
        assert checks.run_checks(tags=["restate_web"]) == []


def test_django_manage_py_check_fails_on_bad_settings(django_ready):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.test.utils import override_settings

    with (
        override_settings(RESTATE={"TIMEOUT": "soon"}),
        pytest.raises(SystemCheckError, match=r"restate_web\.E002"),
    ):
        call_command("check")


def test_django_settings_changes_rebuild_the_integration(django_ready):
    from django.test.utils import override_settings

    from restate_web.adapters.django import get_integration

    with override_settings(RESTATE={"INGRESS_URL": "http://one:1"}):
        assert get_integration().settings.ingress_url == "http://one:1"
    with override_settings(RESTATE={"INGRESS_URL": "http://two:2"}):
        assert get_integration().settings.ingress_url == "http://two:2"


# --- guards ------------------------------------------------------------------------------------


def test_durable_only_outside_any_request():
    with pytest.raises(DurableContextOutsideHandler, match="charge\\(\\) is durable-only"):
        common.charge(1)
    with pytest.raises(DurableContextOutsideHandler, match="ordinary code"):
        ensure_durable_context("refund")

    @durable_only
    async def notify() -> None:
        return None

    import asyncio

    with pytest.raises(DurableContextOutsideHandler, match="notify"):
        asyncio.run(notify())


def test_durable_only_code_runs_inside_a_handler(ingress, in_process_services):
    result = ingress.service("AdapterLeaky").call("durableOnly", 5)
    assert result == {"result": "charged 5", "same_ctx": True}


def test_a_leaked_context_in_another_invocation_raises(ingress, in_process_services):
    name = f"leak-{uuid.uuid4().hex[:8]}"
    ingress.service("AdapterLeaky").call("leak", name)
    result = ingress.service("AdapterLeaky").call("useLeaked", name)
    assert result["error"] == "LeakedContextError"
    assert "from inside another invocation" in result["message"]


def test_a_leaked_context_in_a_background_thread_raises(ingress, in_process_services):
    name = f"leak-{uuid.uuid4().hex[:8]}"
    ingress.service("AdapterLeaky").call("leak", name)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            common.LEAKED[name].get("anything")
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=worker, name="leaky-worker")
    thread.start()
    thread.join(30)
    assert len(errors) == 1 and isinstance(errors[0], LeakedContextError)
    assert "thread 'leaky-worker'" in str(errors[0])


def test_django_reads_the_user_only_when_needed(django_ready, ingress_url, ingress):
    """A keyed request whose view never calls Restate must not load the session and user (with
    django.contrib.auth that is database work on every request), sync or async. When a view
    derives a key the user is loaded once: synchronously in a sync view, with ``await
    request.auser()`` in an async one (the ORM refuses synchronous use on an event loop)."""
    import uuid

    from django.test import Client
    from django.test.utils import override_settings

    from tests.adapters.apps.lazy_user import urls

    middleware = [
        "restate_web.adapters.django.middleware.RestateMiddleware",  # before the user is set
        "tests.adapters.apps.lazy_user.urls.CountingUserMiddleware",
    ]
    restate = {"INGRESS_URL": ingress_url}
    with override_settings(ROOT_URLCONF=urls.__name__, MIDDLEWARE=middleware, RESTATE=restate):
        client = Client(HTTP_IDEMPOTENCY_KEY='"k1"')
        urls.LOADS.clear()
        assert client.post("/sync").status_code == 200
        assert client.post("/async").status_code == 200
        assert urls.LOADS == []
        first = client.post("/sync-calls").json()["key"]
        assert urls.LOADS == ["/sync-calls sync"]  # read when the view derived a key
        second = Client(HTTP_IDEMPOTENCY_KEY='"k1"').post("/sync-calls").json()["key"]
        assert first == second and first.startswith("rw:Svc/h:")

        urls.LOADS.clear()
        counter = f"lazy-{uuid.uuid4()}"
        reply = client.post(f"/async-calls?counter={counter}")
        assert reply.status_code == 200, reply.content
        assert reply.json() == {"total": 1, "key": "k1"}
        assert urls.LOADS == ["/async-calls async"]
        # The same key and user again: the derived key is the same, so Restate runs it once.
        assert client.post(f"/async-calls?counter={counter}").json()["total"] == 1
        assert ingress.object("Counter", counter).call("get") == 1

        urls.LOADS.clear()
        counter = f"lazy-{uuid.uuid4()}"
        reply = client.post(f"/async-gather?counter={counter}")
        assert reply.status_code == 200, reply.content
        assert reply.json() == {"totals": [1, 2]}
        assert urls.LOADS == ["/async-gather async"]  # one auser() shared by both calls


def test_django_guards_name_class_based_views_and_any_request_argument(django_ready):
    from django.test import Client
    from django.test.utils import override_settings

    from tests.adapters.apps.lazy_user import urls

    middleware = ["restate_web.adapters.django.middleware.RestateMiddleware"]
    with override_settings(ROOT_URLCONF=urls.__name__, MIDDLEWARE=middleware):
        client = Client()
        for path, view in [
            ("/renamed", "lazy_user.urls.renamed_request"),
            ("/cbv", "lazy_user.urls.DurableOnlyView"),
            ("/async-cbv", "lazy_user.urls.AsyncDurableOnlyView"),
        ]:
            result = client.post(path).json()
            assert result["error"] == "DurableContextOutsideHandler", path
            assert f"the Django view 'tests.adapters.apps.{view}'" in result["message"], result


def test_django_requests_are_freed_without_the_garbage_collector(django_ready):
    """request.restate must not make a reference cycle with its request: every request would
    then wait for a garbage collection (memory, and collections in the request path)."""
    import gc
    import io
    import sys

    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    from tests.adapters.apps.lazy_user import urls

    middleware = ["restate_web.adapters.django.middleware.RestateMiddleware"]
    with override_settings(ROOT_URLCONF=urls.__name__, MIDDLEWARE=middleware):
        handler = WSGIHandler()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/remember",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
        "HTTP_IDEMPOTENCY_KEY": '"k-1"',
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    urls.SEEN.clear()
    gc.disable()
    try:
        with override_settings(ROOT_URLCONF=urls.__name__, MIDDLEWARE=middleware):
            response = handler(environ, lambda status, headers: None)
            body = b"".join(response)
            response.close()
        assert body == b'{"key": "k-1"}'
        del response
        assert len(urls.SEEN) == 1 and urls.SEEN[0]() is None  # freed by reference counting
    finally:
        gc.enable()


def test_fastapi_guards_name_decorated_views_in_nested_routers_and_mounts():
    import functools

    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from restate_web.adapters.fastapi import Restate

    def logged(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        return wrapper

    app = FastAPI()
    Restate(app, {"INGRESS_URL": "http://127.0.0.1:9"})
    inner, outer, mounted = APIRouter(), APIRouter(prefix="/outer"), FastAPI()

    @inner.post("/decorated")
    @logged
    def decorated_view() -> dict:
        return common.durable_only_from_view()

    @mounted.post("/mounted")
    async def mounted_view() -> dict:
        return common.durable_only_from_view()

    outer.include_router(inner, prefix="/inner")
    app.include_router(outer)
    app.mount("/sub", mounted)
    with TestClient(app) as client:
        for path, view in [
            ("/outer/inner/decorated", "decorated_view"),
            ("/sub/mounted", "mounted_view"),
        ]:
            result = client.post(path).json()
            assert result["error"] == "DurableContextOutsideHandler", path
            assert f"the FastAPI view '{__name__}.test_fastapi_guards_name" in result["message"]
            assert f"<locals>.{view}'" in result["message"], result


def test_fastapi_a_mounted_sub_app_uses_the_parents_integration(ingress_url, ingress):
    """Restate installed on the main app serves the routes of an app mounted in it: the
    sub-app's views get request-bound clients, and replays with one key run once."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from restate_web.adapters.fastapi import Restate, idempotency_key_required

    app, sub = FastAPI(), FastAPI()
    Restate(app, {"INGRESS_URL": ingress_url})

    @sub.post("/count/{counter}")
    async def count(counter: str, restate: AsyncRestateClient) -> dict:
        return {"total": await restate.object("Counter", counter).call("add", 1)}

    @sub.post("/required", dependencies=[idempotency_key_required])
    async def required() -> dict:
        return {"ok": True}

    app.mount("/shop", sub)
    counter = f"mounted-{uuid.uuid4()}"
    with TestClient(app) as client:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        first = client.post(f"/shop/count/{counter}", headers=headers)
        again = client.post(f"/shop/count/{counter}", headers=headers)
        malformed = client.post(f"/shop/count/{counter}", headers={"Idempotency-Key": "a b"})
        missing = client.post("/shop/required")
    assert first.status_code == 200 and first.json() == {"total": 1}
    assert again.json() == {"total": 1}
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
    assert missing.status_code == 400, missing.text  # the problem handler reaches mounted apps
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "tag:restate-web,2025:idempotency-key-missing"
    assert ingress.object("Counter", counter).call("get") == 1


_INSTALL = {
    "fastapi": (
        "from fastapi import FastAPI\n"
        "from restate_web.adapters.fastapi import Restate\n"
        "Restate(FastAPI())\n"
    ),
    "flask": (
        "from flask import Flask\n"
        "from restate_web.adapters.flask import Restate\n"
        "Restate(Flask('worker'))\n"
    ),
    "django": (
        "import django\n"
        "from django.conf import settings\n"
        "settings.configure(INSTALLED_APPS=['restate_web.adapters.django'], RESTATE={})\n"
        "django.setup()\n"
    ),
}


@pytest.mark.parametrize("framework", sorted(_INSTALL))
def test_web_workers_do_not_import_restate_sdk(framework):
    """Defect 11: with GUARD_CONTEXTS on (the default), a web worker that hosts no handler
    neither imports restate-sdk nor patches it; a process that imports the SDK afterwards (it
    runs handlers) gets the guard when it does."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = _INSTALL[framework] + (
        "import json, sys\n"
        "from restate_web import guards\n"
        "web = {'sdk_imported': 'restate' in sys.modules,\n"
        "       'guard_installed': guards.context_guard_installed()}\n"
        "import restate\n"
        "handlers = {'guard_installed': guards.context_guard_installed()}\n"
        "print(json.dumps([web, handlers]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    web, handlers = json.loads(out)
    assert web == {"sdk_imported": False, "guard_installed": False}
    assert handlers == {"guard_installed": True}


def test_the_guard_is_installed_at_once_when_the_sdk_is_already_imported():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import restate\n"
        "from fastapi import FastAPI\n"
        "from restate_web.adapters.fastapi import Restate\n"
        "from restate_web import guards\n"
        "Restate(FastAPI())\n"
        "print(guards.context_guard_installed())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"


def test_flask_init_app_twice_raises():
    """Defect 13: like FastAPI, a second install on one app refuses instead of wrapping the
    app's WSGI callable twice."""
    from flask import Flask

    from restate_web.adapters.flask import Restate

    app = Flask(__name__)
    restate = Restate(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        restate.init_app(app)
    with pytest.raises(RuntimeError, match="already initialised"):
        Restate(app)
    Restate().init_app(Flask("another"))  # one extension object may serve several apps


def test_fastapi_restate_twice_raises():
    from fastapi import FastAPI

    from restate_web.adapters.fastapi import Restate

    app = FastAPI()
    restate = Restate(app)
    with pytest.raises(RuntimeError, match="already installed"):
        restate.init_app(app)
    with pytest.raises(RuntimeError, match="already installed"):
        Restate(app)
