"""Client configuration and argument checking: no server needed, nothing is sent."""

from __future__ import annotations

import sys
from datetime import timedelta

import httpx
import pytest

from restate_web._optional import MissingDependencyError
from restate_web.ingress import AsyncIngressClient, IngressClient, RetryPolicy


def test_bad_ingress_url_is_refused_with_where_to_set_it(monkeypatch):
    monkeypatch.setenv("RESTATE_INGRESS_URL", "localhost:8080")
    with pytest.raises(ValueError, match="RESTATE_INGRESS_URL"):
        IngressClient()


def test_token_from_environment_becomes_a_bearer_header(monkeypatch):
    monkeypatch.setenv("RESTATE_INGRESS_TOKEN", "t0ken")
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json="ok")

    with IngressClient("http://restate.test", transport=httpx.MockTransport(record)) as client:
        client.service("S").call("h")
    assert seen[0].headers["authorization"] == "Bearer t0ken"


def test_default_timeout_waits_for_long_handlers_but_connects_fast():
    with IngressClient("http://restate.test") as client:
        timeout = client._http.timeout
    assert timeout.read is None
    assert timeout.connect is not None and timeout.connect <= 5


def test_a_number_is_a_deadline_and_connecting_still_gives_up_fast():
    with IngressClient("http://localhost:1", timeout=30) as client:
        assert client._config.deadline == 30
        assert client._http.timeout.read == 30 and client._http.timeout.connect == 5
    with IngressClient("http://localhost:1", timeout=1) as client:
        assert client._http.timeout.connect == 1, "no attempt may outlive the deadline"
    with IngressClient("http://localhost:1") as client:
        assert client._config.deadline is None
    with IngressClient("http://localhost:1", timeout=httpx.Timeout(3)) as client:
        assert client._config.deadline is None, "an httpx.Timeout limits each attempt only"
        assert client._http.timeout.read == 3


def test_http2_without_h2_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "h2", None)  # as if the package were not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'restate-web\[http2\]'"):
        IngressClient("http://restate.test", http2=True)
    with pytest.raises(MissingDependencyError, match=r"restate-web\[http2\]"):
        AsyncIngressClient("http://restate.test", http2=True)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"delay": 5}, TypeError, "timedelta"),
        ({"delay": timedelta(seconds=-1)}, ValueError, "negative"),
        ({"idempotency_key": ""}, ValueError, "1-512 characters"),
        ({"idempotency_key": "x" * 600}, ValueError, "1-512 characters"),
    ],
)
def test_send_arguments_are_checked_before_sending(kwargs, error, message):
    never = httpx.MockTransport(lambda request: 1 / 0)  # sending anything fails the test
    with (
        IngressClient("http://restate.test", transport=never) as c,
        pytest.raises(error, match=message),
    ):
        c.service("S").send("h", None, **kwargs)


def test_names_and_keys_are_checked():
    with IngressClient("http://restate.test") as client:
        with pytest.raises(ValueError, match="must not be empty"):
            client.service("")
        with pytest.raises(TypeError, match="key is a string"):
            client.object("Cart", 42)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="handler name"):
            client.service("S").call(None)  # type: ignore[arg-type]


def test_retry_policy_is_validated():
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2)


def test_public_api_is_what_users_write():
    import restate_web.ingress as ingress

    assert set(ingress.__all__) == {
        *("IngressClient", "AsyncIngressClient", "RetryPolicy"),
        *("ServiceHandle", "ObjectHandle", "WorkflowHandle", "InvocationHandle"),
        *("SendHandle", "AwakeableHandle"),
        *("AsyncServiceHandle", "AsyncObjectHandle", "AsyncWorkflowHandle"),
        *("AsyncInvocationHandle", "AsyncSendHandle", "AsyncAwakeableHandle"),
        *("IngressError", "IngressTimeout", "IngressUnavailable", "InvocationFailed"),
        *("NotFound", "NotReady", "IngressInHandlerError"),
    }
    for internal in ("CallBinding", "Target", "current_restate_context", "DEFAULT_TIMEOUT"):
        assert not hasattr(ingress, internal), f"{internal} is private (restate_web.ingress._core)"
