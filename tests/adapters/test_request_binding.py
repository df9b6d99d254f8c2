"""What a request's binding promises in every framework: derived keys in program order with
one principal lookup per request, the right client for the code that asks, forwarded headers
checked at entry, and one configuration for the sync and async clients."""

from __future__ import annotations

import uuid

import pytest

from restate_web.adapters.fastapi import RestateBinding, RestateClient
from tests.adapters.apps.concurrent import views as concurrent

FRAMEWORKS = ["fastapi", "flask", "django"]


def _post_pair(framework: str, ingress_url: str, key: str) -> list[dict]:
    """Post /pair twice with one Idempotency-Key to a fresh app of ``framework``."""
    headers = {"Idempotency-Key": key}
    if framework == "fastapi":
        from fastapi.testclient import TestClient

        with TestClient(concurrent.fastapi_app(ingress_url)) as client:
            replies = [client.post("/pair", headers=headers) for _ in range(2)]
            return [r.json() for r in replies if r.status_code == 200] or [r.text for r in replies]
    if framework == "flask":
        client = concurrent.flask_app(ingress_url).test_client()
        return [client.post("/pair", headers=headers).get_json() for _ in range(2)]
    from django.test import Client
    from django.test.utils import override_settings

    settings = {
        "ROOT_URLCONF": concurrent.__name__,
        "MIDDLEWARE": ["restate_web.adapters.django.middleware.RestateMiddleware"],
        "RESTATE": {
            "INGRESS_URL": ingress_url,
            "PRINCIPAL": f"{concurrent.__name__}:slow_principal",
        },
    }
    with override_settings(**settings):
        client = Client(headers=headers)
        return [client.post("/pair").json() for _ in range(2)]


@pytest.fixture
def django_ready():
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.adapters.apps.django_project.settings")
    import django

    django.setup()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_concurrent_calls_keep_their_own_keys_when_replayed(
    framework, ingress_url, restate_server, django_ready
):
    """Defect 1: gather(call("x"), call("y")) to one target, replayed with the same key. Each
    call's ordinal is fixed when it is made, and the (async, slow) principal is looked up once
    per request: the replay gets x's answer for x and y's for y, never the other's."""
    concurrent.LOOKUPS.clear()
    first, replay = _post_pair(framework, ingress_url, str(uuid.uuid4()))
    assert first == {"x": "x", "y": "y"}
    assert replay == {"x": "x", "y": "y"}
    assert len(concurrent.LOOKUPS) == 2  # one lookup per request, shared by both calls


@pytest.mark.parametrize("framework", ["flask", "django"])
def test_threads_that_first_ask_at_once_share_the_request_binding(
    framework, ingress_url, restate_server, django_ready
):
    """A request's binding is made when code first asks for it; threads of one request that
    ask at the same moment get the same one, so their derived keys are distinct ordinals of
    one sequence (separate bindings would all derive ordinal 1: one key, one invocation, and
    every thread would get the first thread's answer)."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if framework == "flask":
        reply = concurrent.flask_app(ingress_url).test_client().post("/fan-out", headers=headers)
        echoes = reply.get_json()["echoes"]
    else:
        from django.test import Client
        from django.test.utils import override_settings

        settings = {
            "ROOT_URLCONF": concurrent.__name__,
            "MIDDLEWARE": ["restate_web.adapters.django.middleware.RestateMiddleware"],
            "RESTATE": {"INGRESS_URL": ingress_url},
        }
        with override_settings(**settings):
            echoes = Client(headers=headers).post("/fan-out").json()["echoes"]
    assert echoes == [str(i) for i in range(concurrent.FAN_OUT)]


@pytest.mark.parametrize("mode", ["testclient", "wsgi", "asgi"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_django_request_restate_is_the_client_for_the_code_that_reads_it(
    mode, kind, web_registry, ingress_url, ingress
):
    """Defect 4: an IngressClient in sync code (also a helper an async view runs through
    sync_to_async), an AsyncIngressClient in async code, both bound to the request: their
    calls share one sequence of ordinals, so a replay starts nothing new. ``with`` and ``async
    with`` work on them as on any client."""
    from tests.adapters.conftest import _get_web

    web = _get_web(web_registry, ("django", mode), ingress_url)
    counter, key = f"clients-{uuid.uuid4().hex[:12]}", str(uuid.uuid4())
    first = web.post(f"/{kind}/clients/{counter}", {"Idempotency-Key": key})
    replay = web.post(f"/{kind}/clients/{counter}", {"Idempotency-Key": key})
    assert first.status == replay.status == 200, (first.body, replay.body)
    expected_kind = {"sync": kind == "sync", "async": kind == "async"}
    assert first.json()["entered"] == expected_kind
    sent = first.json()["sent"]
    assert [(s["sync"], s["async"]) for s in sent] == (
        [(True, False)] if kind == "sync" else [(True, False), (False, True)]
    )
    ids = [s["invocation_id"] for s in sent]
    assert len(set(ids)) == len(ids)  # ordinal 1 and 2: two invocations
    assert [s["invocation_id"] for s in replay.json()["sent"]] == ids
    ingress.object("Counter", counter).call("key")  # queued behind the sends
    assert ingress.object("Counter", counter).call("get") == len(ids)


class RecordingProxy:
    """A loopback HTTP proxy that records the request line of each request and answers 502.

    A real process is unnecessary: what matters is which connections the clients open."""

    def __init__(self) -> None:
        import socket
        import threading

        self.lines: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.lines.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")

    def close(self) -> None:
        self._server.close()


def test_sync_and_async_clients_take_the_same_network_path(monkeypatch):
    """Defect 9: the adapters' async clients honour the environment (HTTP_PROXY, trust_env) as
    the blocking client does, so the sync and async views of one app reach Restate alike."""
    import asyncio

    from restate_web.adapters import Integration
    from restate_web.ingress import IngressError

    proxy = RecordingProxy()
    try:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        integration = Integration({"INGRESS_URL": "http://restate.invalid:8080", "RETRY": False})
        with pytest.raises(IngressError):
            integration.sync_client().service("Greeter").call("greet", "sync")

        async def from_async_code() -> None:
            await integration.async_client().service("Greeter").call("greet", "async")

        with pytest.raises(IngressError):
            asyncio.run(from_async_code())
    finally:
        proxy.close()
        integration.close()
    assert proxy.lines == ["POST http://restate.invalid:8080/Greeter/greet HTTP/1.1"] * 2


def _expected_key(path: str, principal: str) -> str:
    from restate_web.adapters._idempotency import KeyScope, derive_key
    from restate_web.ingress._core import Target

    return derive_key(KeyScope("POST", path, principal), "k", Target("service", "Svc", "h"), 1)


def _derive(client) -> str:
    from restate_web.ingress._core import Target

    return client.binding.reserve_key(Target("service", "Svc", "h")).get()


def test_setting_the_principal_per_request_in_fastapi():
    """The README's way: a dependency that authenticates sets it on ``RestateBinding``."""
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient

    from restate_web.adapters.fastapi import Restate

    app = FastAPI()
    Restate(app, {"INGRESS_URL": "http://127.0.0.1:9"})

    async def current_user(binding: RestateBinding) -> str:
        binding.set_principal("user:bob")
        return "bob"

    @app.post("/orders")
    def orders(restate: RestateClient, user: str = Depends(current_user)) -> dict:
        return {"key": _derive(restate)}

    with TestClient(app) as client:
        reply = client.post("/orders", headers={"Idempotency-Key": "k"})
    assert reply.json() == {"key": _expected_key("/orders", "user:bob")}


def test_setting_the_principal_per_request_in_flask():
    from flask import Flask

    from restate_web.adapters.flask import Restate

    app = Flask(__name__)
    restate = Restate(app, {"INGRESS_URL": "http://127.0.0.1:9"})

    @app.before_request
    def authenticate() -> None:
        restate.binding.set_principal("user:bob")

    @app.post("/orders")
    def orders() -> dict:
        return {"key": _derive(restate.client)}

    reply = app.test_client().post("/orders", headers={"Idempotency-Key": "k"})
    assert reply.get_json() == {"key": _expected_key("/orders", "user:bob")}


def test_setting_the_principal_per_request_in_django(django_ready):
    from django.test import Client
    from django.test.utils import override_settings

    settings = {
        "ROOT_URLCONF": "tests.adapters.apps.concurrent.principal_urls",
        "MIDDLEWARE": [
            "restate_web.adapters.django.middleware.RestateMiddleware",
            "tests.adapters.apps.concurrent.principal_urls.SetPrincipalMiddleware",
        ],
        "RESTATE": {"INGRESS_URL": "http://127.0.0.1:9"},
    }
    with override_settings(**settings):
        reply = Client(headers={"Idempotency-Key": "k"}).post("/orders")
    assert reply.json() == {"key": _expected_key("/orders", "user:bob")}


def test_django_request_restate_without_the_middleware_says_to_add_it(django_ready):
    from django.test import RequestFactory

    request = RequestFactory().post("/orders")
    with pytest.raises(RuntimeError, match="RestateMiddleware"):
        request.restate  # noqa: B018


def test_another_frameworks_adapter_can_mark_its_requests_for_the_guards():
    """``guards.enter_web_request`` (for adapters of other frameworks): the marked info is the
    current web request until the token is reset, and the guards name its view."""
    from restate_web import guards

    class Info:
        framework = "Bottle"
        client_hint = "the request's client"

        def view_name(self) -> str:
            return "shop.views.checkout"

    info = Info()
    assert guards.current_web_request() is None
    token = guards.enter_web_request(info)
    try:
        assert guards.current_web_request() is info
        with pytest.raises(guards.DurableContextOutsideHandler) as raised:
            guards.ensure_durable_context("charge()")
        assert "the Bottle view 'shop.views.checkout'" in str(raised.value)
    finally:
        guards.exit_web_request(token)
    assert guards.current_web_request() is None
