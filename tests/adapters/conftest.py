"""The adapter test matrix: every framework, in its own test client and in a real server process.

``web`` is parametrized over (framework, mode); ``kind`` over sync and async views. One set of
scenarios (test_scenarios.py) runs against all of them, against the session's real
restate-server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from restate_web.ingress import IngressClient
from restate_web.testing import RestateServer, ServiceProcess
from tests.conftest import ROOT

DJANGO_SETTINGS = "tests.adapters.apps.django_project.settings"

# (framework, mode): the test client in this process, or a real server process.
TARGETS = [
    ("fastapi", "testclient"),
    ("fastapi", "uvicorn"),
    ("flask", "testclient"),
    ("flask", "wsgi"),
    ("django", "testclient"),
    ("django", "wsgi"),
    ("django", "asgi"),
]
IN_PROCESS = [t for t in TARGETS if t[1] == "testclient"]

Headers = Sequence[tuple[str, str]] | dict[str, str] | None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def _http_pairs(headers: Headers) -> list[tuple[str, str | bytes]]:
    """For httpx: a value that is not ASCII goes as its UTF-8 bytes (as a browser sends it)."""
    return [(k, v if v.isascii() else v.encode()) for k, v in _pairs(headers)]


def _wsgi_pairs(headers: Headers) -> list[tuple[str, str]]:
    """For WSGI test clients: header bytes decoded as ISO-8859-1, as a WSGI server does."""
    return [(k, v.encode().decode("latin-1")) for k, v in _pairs(headers)]


class Web:
    """One framework app reachable through ``post``; the scenarios only use this."""

    def __init__(self, framework: str, mode: str) -> None:
        self.framework = framework
        self.mode = mode

    def post(self, path: str, headers: Headers = None) -> Reply:
        raise NotImplementedError

    def post_many(self, path: str, headers: Headers, count: int) -> list[Reply]:
        """``count`` identical requests at once (threads)."""
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(lambda _: self.post(path, headers), range(count)))

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"{self.framework}-{self.mode}"


class ProcessWeb(Web):
    def __init__(self, framework: str, mode: str, process: ServiceProcess) -> None:
        super().__init__(framework, mode)
        self.process = process
        self.http = httpx.Client(base_url=process.url, timeout=120)

    def post(self, path: str, headers: Headers = None) -> Reply:
        response = self.http.post(path, headers=_http_pairs(headers))
        return Reply(response.status_code, dict(response.headers), response.content)

    def close(self) -> None:
        self.http.close()
        self.process.close()


class FastAPIWeb(Web):
    def __init__(self, ingress_url: str) -> None:
        super().__init__("fastapi", "testclient")
        from fastapi.testclient import TestClient

        from tests.adapters.apps.fastapi_app import create_app

        self.app = create_app({"INGRESS_URL": ingress_url})
        self.client = TestClient(self.app)
        self.client.__enter__()  # runs the lifespan

    def post(self, path: str, headers: Headers = None) -> Reply:
        response = self.client.post(path, headers=_http_pairs(headers))
        return Reply(response.status_code, dict(response.headers), response.content)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


class FlaskWeb(Web):
    def __init__(self, ingress_url: str) -> None:
        super().__init__("flask", "testclient")
        from tests.adapters.apps.flask_app import create_app

        self.app = create_app({"RESTATE_INGRESS_URL": ingress_url})

    def post(self, path: str, headers: Headers = None) -> Reply:
        response = self.app.test_client().post(path, headers=_wsgi_pairs(headers))
        return Reply(response.status_code, dict(response.headers), response.get_data())


class DjangoWeb(Web):
    def __init__(self, ingress_url: str) -> None:
        super().__init__("django", "testclient")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", DJANGO_SETTINGS)
        import django
        from django.conf import settings
        from django.test.utils import override_settings

        django.setup()
        self.override = override_settings(RESTATE={**settings.RESTATE, "INGRESS_URL": ingress_url})
        self.override.enable()

    def post(self, path: str, headers: Headers = None) -> Reply:
        from django.test import Client

        joined: dict[str, str] = {}
        for name, value in _wsgi_pairs(headers):
            # One value per name, as a WSGI server joins repeated header lines.
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        response = Client(headers=joined).post(path)
        return Reply(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )

    def close(self) -> None:
        self.override.disable()


def _start(framework: str, mode: str, ingress_url: str) -> Web:
    env = {"RESTATE_INGRESS_URL": ingress_url, "DJANGO_SETTINGS_MODULE": DJANGO_SETTINGS}
    if mode == "testclient":
        return {"fastapi": FastAPIWeb, "flask": FlaskWeb, "django": DjangoWeb}[framework](
            ingress_url
        )
    app, server = {
        ("fastapi", "uvicorn"): ("tests.adapters.apps.fastapi_app:app", "uvicorn"),
        ("flask", "wsgi"): ("wsgi:tests.adapters.apps.flask_app:app", "hypercorn"),
        ("django", "wsgi"): (
            "wsgi:tests.adapters.apps.django_project.wsgi:application",
            "hypercorn",
        ),
        ("django", "asgi"): ("tests.adapters.apps.django_project.asgi:application", "uvicorn"),
    }[(framework, mode)]
    process = ServiceProcess.start(app, server=server, cwd=ROOT, env=env)
    return ProcessWeb(framework, mode, process)


@pytest.fixture(scope="session")
def web_registry(ingress_url: str) -> Iterator[dict[tuple[str, str], Web]]:
    registry: dict[tuple[str, str], Web] = {}
    yield registry
    for web in registry.values():
        web.close()


def _get_web(registry: dict[tuple[str, str], Web], target: tuple[str, str], url: str) -> Web:
    if target not in registry:
        registry[target] = _start(*target, url)
    return registry[target]


@pytest.fixture(params=TARGETS, ids=[f"{f}-{m}" for f, m in TARGETS])
def web(
    request: pytest.FixtureRequest, web_registry: dict[tuple[str, str], Web], ingress_url: str
) -> Web:
    return _get_web(web_registry, request.param, ingress_url)


@pytest.fixture(params=IN_PROCESS, ids=[f"{f}-{m}" for f, m in IN_PROCESS])
def web_in_process(
    request: pytest.FixtureRequest, web_registry: dict[tuple[str, str], Web], ingress_url: str
) -> Web:
    return _get_web(web_registry, request.param, ingress_url)


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def ingress(ingress_url: str) -> Iterator[IngressClient]:
    """A plain client for the tests' own checks (Counter totals)."""
    with IngressClient(ingress_url) as client:
        yield client


@pytest.fixture(scope="session")
def in_process_services(restate_server: RestateServer) -> Iterator[Any]:
    """tests/adapters/in_process.py served from this process and registered."""
    from tests.adapters.in_process import InProcessEndpoint

    endpoint = InProcessEndpoint()
    try:
        restate_server.register(endpoint.url)
        yield endpoint
    finally:
        endpoint.close()
