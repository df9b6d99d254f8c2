"""The framework-agnostic core: header parsing, key derivation, settings, bindings, clients."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from restate_web.adapters import Integration, RequestBinding, RestateConfigError
from restate_web.adapters._idempotency import (
    KeyScope,
    MalformedIdempotencyKey,
    derive_key,
    parse_idempotency_key,
)
from restate_web.adapters._settings import check_settings, load_settings
from restate_web.ingress._core import Target
from tests.conftest import ROOT


def parse(*values: str, max_length: int = 255) -> str | None:
    return parse_idempotency_key(values, header="Idempotency-Key", max_length=max_length)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ('"abc"', "abc"),
        ("abc", "abc"),
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"with space"', "with space"),
        (r'"q\"uote\\d"', 'q"uote\\d'),
        ("  padded  ", "padded"),
        ("", None),
        ('""', None),
        ("   ", None),
    ],
)
def test_header_values_per_the_ietf_draft(raw, key):
    assert parse(raw) == key


@pytest.mark.parametrize(
    "raw",
    ['"a", "b"', "a,b", "a b", "ab\tcd", "a\x00b", '"abc', '"abc";p=1', '"bad\\escape"', "ünï"],
)
def test_malformed_header_values(raw):
    with pytest.raises(MalformedIdempotencyKey):
        parse(raw)


def test_length_limit_and_several_headers():
    assert parse("k" * 10, max_length=10) == "k" * 10
    with pytest.raises(MalformedIdempotencyKey, match="at most 10"):
        parse("k" * 11, max_length=10)
    with pytest.raises(MalformedIdempotencyKey, match="2 Idempotency-Key headers"):
        parse("a", "b")
    assert parse("", "a") == "a"  # an empty line is no header


def test_derived_keys_depend_on_every_input():
    scope = KeyScope("POST", "/orders/1", "user:1")
    target = Target("object", "Counter", "add", "k")
    base = derive_key(scope, "key", target, 1)
    assert base == derive_key(KeyScope("post", "/orders/1", "user:1"), "key", target, 1)
    variants = {
        derive_key(KeyScope("PUT", "/orders/1", "user:1"), "key", target, 1),
        derive_key(KeyScope("POST", "/orders/2", "user:1"), "key", target, 1),
        derive_key(KeyScope("POST", "/orders/1", "user:2"), "key", target, 1),
        derive_key(KeyScope("POST", "/orders/1", None), "key", target, 1),
        derive_key(scope, "key2", target, 1),
        derive_key(scope, "key", Target("object", "Counter", "add", "k2"), 1),
        derive_key(scope, "key", Target("object", "Counter", "get", "k"), 1),
        derive_key(scope, "key", target, 2),
    }
    assert base not in variants and len(variants) == 8
    assert base.startswith("rw:Counter/add:1:") and len(base) < 512


def test_settings_names_env_and_explicit_values():
    env = {"RESTATE_INGRESS_URL": "http://env:8080", "RESTATE_FORWARD_HEADERS": "x-a, X-B"}
    settings = load_settings({"TIMEOUT": "2.5", "GENERATE_IDEMPOTENCY_KEYS": "true"}, env)
    assert settings.ingress_url == "http://env:8080"
    assert settings.forward_headers == ("x-a", "x-b")
    assert settings.timeout == 2.5 and settings.generate_idempotency_keys is True
    assert load_settings({"INGRESS_URL": "https://dict"}, env).ingress_url == "https://dict"


@pytest.mark.parametrize(
    ("values", "problem_id"),
    [
        ({"INGRESS_URL": "localhost:8080"}, "E002"),
        ({"FORWARD_HEADERS": ["Cookie"]}, "E003"),
        ({"FORWARD_HEADERS": "authorization"}, "E003"),
        ({"IDEMPOTENCY_HEADER": "bad header"}, "E002"),
        ({"TIMEOUT": -1}, "E002"),
        ({"PRINCIPAL": "no.such.module:func"}, "E002"),
        ({"PRINCIPAL": "tests.adapters.apps.common.principal_from_header"}, "E002"),
        ({"INGRES_URL": "http://x"}, "W001"),
        (["not", "a", "dict"], "E001"),
    ],
)
def test_bad_settings_are_reported(values, problem_id):
    _, problems = check_settings(values, env={})
    assert [p.id for p in problems] == [problem_id]
    if problem_id.startswith("E"):
        with pytest.raises(RestateConfigError, match=rf"restate_web\.{problem_id}"):
            load_settings(values, env={})


def test_principal_references_are_module_colon_name():
    settings = load_settings({"PRINCIPAL": "tests.adapters.apps.common:principal_from_header"})
    from tests.adapters.apps.common import principal_from_header

    assert settings.principal is principal_from_header
    _, problems = check_settings({"PRINCIPAL": "tests.adapters.apps.common.principal_from_header"})
    assert "package.module:function" in problems[0].message


def test_unknown_setting_suggests_the_right_name():
    _, problems = check_settings({"INGRES_URL": "http://x"}, env={})
    assert problems[0].hint == "did you mean INGRESS_URL?"


class DictBinding(RequestBinding):
    """A request as a dict of headers: what an adapter of another framework would write."""

    def __init__(self, integration, found, headers, request=None):
        super().__init__(integration, found)
        self.headers = headers
        self.request = request

    method = "POST"
    path = "/p"

    def header(self, name):
        return self.headers.get(name)

    def principal_argument(self):
        return self.request


def make_binding(integration, headers=None, principal=None, key="k"):
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    found = integration.screen_key(key)
    assert not hasattr(found, "status"), found
    binding = DictBinding(integration, found, headers)
    if principal is not None:
        binding.set_principal(principal())
    return binding


def test_binding_ordinals_explicit_principal_and_forwarding():
    integration = Integration({"FORWARD_HEADERS": ["x-tenant"], "GUARD_CONTEXTS": False})
    binding = make_binding(
        integration,
        {"x-tenant": "t1", "cookie": "c", "traceparent": "garbage"},
        principal=lambda: 42,
    )
    target = Target("service", "Greeter", "greet")
    first, second = binding.reserve_key(target).get(), binding.reserve_key(target).get()
    assert first != second
    assert first == derive_key(KeyScope("POST", "/p", "42"), "k", target, 1)
    with pytest.raises(RuntimeError, match="set_principal"):
        binding.set_principal("late")
    # An invalid traceparent is dropped; cookies are never forwarded.
    assert dict(binding.forwarded_headers()) == {"x-tenant": "t1"}
    assert make_binding(integration, key=None).reserve_key(target) is None


def test_active_opentelemetry_span_wins_over_the_incoming_traceparent():
    from opentelemetry.sdk.trace import TracerProvider

    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    integration = Integration({"GUARD_CONTEXTS": False})
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("view"):
        binding = make_binding(integration, {"traceparent": incoming})
        assert "traceparent" not in binding.forwarded_headers()
        client = integration.sync_client().with_binding(binding)
        op = client.service("Greeter")._call_op("greet", "x", {})
        sent = op.request.headers["traceparent"]
    assert sent != incoming and sent.startswith("00-")
    outside = make_binding(integration, {"traceparent": incoming})
    assert outside.forwarded_headers()["traceparent"] == incoming


def test_generated_keys_only_when_the_app_opts_in():
    target_call = ("greet", "x", {})
    plain = Integration({"GUARD_CONTEXTS": False})
    opted = Integration({"GENERATE_IDEMPOTENCY_KEYS": True, "GUARD_CONTEXTS": False})
    for integration, keyed in ((plain, False), (opted, True)):
        client = integration.sync_client().with_binding(make_binding(integration, key=None))
        op = client.service("Greeter")._call_op(*target_call)
        assert ("idempotency-key" in op.request.headers) is keyed


def test_a_loop_client_is_closed_when_its_loop_ends():
    integration = Integration({"GUARD_CONTEXTS": False})

    async def use() -> object:
        client = integration.async_client()
        assert integration.async_client() is client  # one per loop
        return client

    first = asyncio.run(use())
    second = asyncio.run(use())
    assert first is not second
    assert first._http.is_closed and second._http.is_closed  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="event loop"):
        integration.async_client()


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("restate_web.adapters.fastapi", "fastapi"),
        ("restate_web.adapters.flask", "flask"),
        ("restate_web.adapters.django", "django"),
    ],
)
def test_a_missing_framework_names_the_extra(module, extra):
    code = (
        f"import sys; sys.modules[{extra!r}] = None\n"
        f"try:\n    import {module}\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert f"pip install 'restate-web[{extra}]'" in out


# --- the adapters' screen: one C-level match per request, the parser for everything else -------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from restate_web.adapters._idempotency import key_of, key_screens  # noqa: E402

_header_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=14),
    st.text(max_size=8),
    st.builds(lambda s: f'"{s}"', st.text(max_size=12)),
    st.just('"' + "k" * 12 + '"'),
    st.just("k" * 13),
)


@given(_header_text)
def test_the_screen_accepts_only_what_the_parser_accepts_as_the_same_key(value):
    """Whatever the screen lets through must be exactly the parser's key (bytes and str alike);
    whatever it refuses still goes to the parser, so the screen can never change a decision."""
    screen_str, screen_bytes = key_screens(12)
    found = screen_str.fullmatch(value)
    if found is None:
        return
    assert key_of(found) == parse(value, max_length=12)
    found_bytes = screen_bytes.fullmatch(value.encode("latin-1"))
    assert found_bytes is not None and key_of(found_bytes) == key_of(found)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"with space"', "with space"),
        ("a=b/c:d", "a=b/c:d"),
    ],
)
def test_the_usual_keys_pass_the_screen(value, key):
    screen_str, screen_bytes = key_screens(255)
    assert key_of(screen_str.fullmatch(value)) == key
    assert key_of(screen_bytes.fullmatch(value.encode())) == key


@pytest.mark.parametrize("value", ['""', " abc", '"a\\"b"', "k" * 256, '"a", "b"', "a b", ""])
def test_values_the_parser_must_decide_miss_the_screen(value):
    screen_str, _ = key_screens(255)
    assert screen_str.fullmatch(value) is None


def test_an_async_principal_is_awaited_once_and_refused_from_plain_sync_code():
    calls: list[str] = []

    async def current_user(request: dict) -> str:
        calls.append(request["name"])
        await asyncio.sleep(0.01)
        return f"user:{request['name']}"

    integration = Integration({"INGRESS_URL": "http://127.0.0.1:9", "PRINCIPAL": current_user})

    def binding() -> RequestBinding:
        return DictBinding(integration, "k", {}, {"name": "alice"})

    target = Target("service", "Svc", "h")
    with pytest.raises(TypeError, match="PRINCIPAL callable is async"):
        binding().reserve_key(target).get()

    async def concurrent_calls(b: RequestBinding) -> list[str]:
        first, second = b.reserve_key(target), b.reserve_key(target)
        return await asyncio.gather(second.aget(), first.aget())

    calls.clear()
    second, first = asyncio.run(concurrent_calls(binding()))
    assert calls == ["alice"]  # one lookup for both calls
    scope = KeyScope("POST", "/p", "user:alice")
    assert first == derive_key(scope, "k", target, 1)  # ordinals in the order the calls were made
    assert second == derive_key(scope, "k", target, 2)
