"""The ingress URL setting and argument take a cluster's nodes: comma-separated or a list."""

from __future__ import annotations

import asyncio

import pytest

from restate_web.adapters._settings import check_settings, load_settings
from restate_web.ingress import AsyncIngressClient, IngressClient

N1, N2, N3 = "http://10.0.0.1:8080", "http://10.0.0.2:8080", "http://10.0.0.3:8080"


def test_settings_take_comma_separated_urls_or_a_list():
    from_env = load_settings({}, env={"RESTATE_INGRESS_URL": f"{N1}, {N2}/ ,{N3}"})
    from_list = load_settings({"INGRESS_URL": [N1, N2, N3]}, env={})
    assert from_env.ingress_urls == from_list.ingress_urls == (N1, N2, N3)
    assert from_env.ingress_url == f"{N1},{N2},{N3}"
    assert load_settings({"INGRESS_URL": N1}, env={}).ingress_urls == (N1,)
    assert load_settings({}, env={}).ingress_urls == ()


def test_a_bad_url_among_several_is_reported_by_name():
    _, problems = check_settings({"INGRESS_URL": [N1, "10.0.0.2:8080"]}, env={})
    assert [(p.id, p.setting) for p in problems] == [("E002", "INGRESS_URL")]
    assert "'10.0.0.2:8080'" in problems[0].message
    _, problems = check_settings({"INGRESS_URL": 8080}, env={})
    assert problems and problems[0].id == "E002"


def test_clients_take_a_list_or_comma_separated_urls(monkeypatch):
    with IngressClient([N1, N2]) as client:
        assert client.base_urls == (N1, N2)
        assert client.base_url == N1
        assert repr(client) == f"<IngressClient {N1},{N2}>"
    with IngressClient(f"{N1},{N2},{N1}/") as client:
        assert client.base_urls == (N1, N2), "trailing slashes and repeats are dropped"
    monkeypatch.setenv("RESTATE_INGRESS_URL", f"{N3},{N2}")
    with IngressClient() as client:
        assert client.base_urls == (N3, N2)


def test_async_client_takes_a_list():
    async def urls() -> tuple[str, ...]:
        async with AsyncIngressClient((N1, N2, N3)) as client:
            return client.base_urls

    assert asyncio.run(urls()) == (N1, N2, N3)


def test_bad_urls_are_refused_with_the_setting_to_fix():
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        IngressClient([N1, "ftp://x"])
    with pytest.raises(ValueError, match="no Restate ingress URL"):
        IngressClient(" , ")
    with pytest.raises(TypeError, match="an ingress URL is a str"):
        IngressClient([N1, 8080])  # type: ignore[list-item]
