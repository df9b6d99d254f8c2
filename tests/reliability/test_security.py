"""Security properties, end-to-end through the web apps (real processes) and restate-server.

- Idempotency keys of two principals never collide: the same Idempotency-Key on the same route
  from alice, bob and an anonymous caller makes three invocations, each principal's replays get
  its own answer; and derived keys stay distinct over many principals and keys whose
  concatenations coincide.
- Signed callback URL tokens cannot be forged (random, bit-flipped, signed with another secret),
  moved to another awakeable, turned from resolve into reject, extended, or replayed after they
  expired; the genuine URL resolves its awakeable, once.
- No secret and no genuine token appears in the web apps' logs.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from restate_web.adapters import KeyScope, derive_key
from restate_web.ingress import IngressClient, NotReady
from restate_web.ingress._core import Target
from restate_web.webhooks import make_callback_url, make_reject_callback_url

from .conftest import FRAMEWORKS, count_invocations

KEYS = 20
PRINCIPALS = ("alice", "bob", None)


def test_principals_never_share_an_invocation(rel_server, rel_apps):
    run = uuid.uuid4().hex[:8]
    before = count_invocations(rel_server, "RelOnce", "make")
    answers: dict[tuple[str, int, str | None], set[str]] = {}
    with httpx.Client(timeout=30) as http:
        for framework in FRAMEWORKS:
            for i in range(KEYS):
                for principal in PRINCIPALS:
                    headers = {"Idempotency-Key": f'"{run}-{i}"'}
                    if principal is not None:
                        headers["X-User"] = principal
                    for _ in range(2):  # the request and a replay
                        response = http.post(
                            f"{rel_apps[framework].url}/orders",
                            json={"item": f"item-{i}"},
                            headers=headers,
                        )
                        assert response.status_code == 200, response.text
                        found = answers.setdefault((framework, i, principal), set())
                        found.add(response.json()["answer"])
    invocations = count_invocations(rel_server, "RelOnce", "make") - before
    distinct = {answer for found in answers.values() for answer in found}
    replay_mismatch = [k for k, found in answers.items() if len(found) != 1]
    print(
        f"\n[principals] frameworks={len(FRAMEWORKS)} keys={KEYS} principals={len(PRINCIPALS)} "
        f"requests={2 * len(answers)} invocations={invocations} distinct_answers={len(distinct)} "
        f"replay_mismatch={len(replay_mismatch)}"
    )
    assert replay_mismatch == []
    # Each framework's app is a deployment of its own here (different routes in real life), but
    # the derived key does not include the framework: the same request on the same route by
    # the same principal is the same invocation in all three.
    assert invocations == KEYS * len(PRINCIPALS)
    assert len(distinct) == KEYS * len(PRINCIPALS)
    for i in range(KEYS):
        per_principal = [answers[("fastapi", i, p)] for p in PRINCIPALS]
        assert len(set.union(*per_principal)) == len(PRINCIPALS)
        for framework in FRAMEWORKS[1:]:
            for principal in PRINCIPALS:
                assert answers[(framework, i, principal)] == answers[("fastapi", i, principal)]


def test_derived_keys_of_principals_never_collide():
    target = Target("service", "RelOnce", "make")
    pieces = ["", "a", "ab", "b", "p:a", ":", "user:1", "user:12", "1", "\x00", "é"]
    derived: dict[str, tuple[Any, ...]] = {}
    for principal in [None, *pieces]:
        for key in pieces[1:]:
            for path in ("/orders", "/orders/", "/Orders"):
                scope = KeyScope("POST", path, principal)
                value = derive_key(scope, key, target, 1)
                assert value not in derived, (derived.get(value), (principal, key, path))
                derived[value] = (principal, key, path)
    print(f"\n[derived keys] combinations={len(derived)} collisions=0")


def _params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _with(url: str, **changes: str) -> str:
    params = {**_params(url), **changes}
    return url.split("?", 1)[0] + "?" + urlencode(params)


def _flip(token: str, position: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[position % len(raw)] ^= 1 << (position % 8)
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.timeout(120)
def test_callback_tokens_cannot_be_forged_moved_or_replayed_after_expiry(
    rel_server, rel_apps, rel_secrets
):
    secret = rel_secrets["callback"]
    run = uuid.uuid4().hex[:8]
    tally: dict[str, list[int]] = {}
    genuine: set[str] = set()
    with IngressClient(rel_server.ingress_url) as restate, httpx.Client(timeout=30) as http:

        def post(kind: str, url: str, body: Any = None) -> int:
            status = http.post(url, json=body).status_code
            tally.setdefault(kind, []).append(status)
            return status

        expiring: list[tuple[str, str, str]] = []
        for framework in FRAMEWORKS:
            base = f"{rel_apps[framework].url}/callbacks"
            a, b = (f"sec-{run}-{framework}-{name}" for name in "ab")
            ids = {}
            for key in (a, b):
                restate.workflow("PaymentWait", key).submit(1)
                ids[key] = restate.workflow("PaymentWait", key).call("awakeable_id")
            url_a = make_callback_url(base, ids[a], secret, ttl=600)
            token = _params(url_a)["token"]
            genuine.add(token)
            for i in range(40):
                forged = base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("=")
                post("forged: random token", _with(url_a, token=forged))
                post("forged: one bit flipped", _with(url_a, token=_flip(token, i * 7)))
            post("forged: another secret", make_callback_url(base, ids[a], "x" * 32, ttl=600))
            post("moved to another awakeable", _with(url_a, awakeable=ids[b]))
            post("resolve turned into reject", _with(url_a, action="reject"))
            post("expiry extended", _with(url_a, expires=str(int(_params(url_a)["expires"]) + 1)))
            old = make_callback_url(base, ids[a], secret, ttl=60, now=time.time() - 120)
            genuine.add(_params(old)["token"])
            post("expired", old)
            with pytest.raises(NotReady):  # none of that touched either awakeable
                restate.workflow("PaymentWait", a).output()
            with pytest.raises(NotReady):
                restate.workflow("PaymentWait", b).output()

            # Genuine, short-lived URLs: used once in time, replayed after they expired.
            # (5 s: ample time to use them once on a busy machine.)
            short_a = make_callback_url(base, ids[a], secret, ttl=5)
            short_b = make_reject_callback_url(base, ids[b], secret, ttl=5)
            genuine.update(_params(u)["token"] for u in (short_a, short_b))
            assert post("genuine resolve", short_a, {"by": "url"}) == 200
            assert post("genuine reject", short_b, {"reason": "declined by url"}) == 200
            expiring.append((a, b, short_a))
            expiring.append((a, b, short_b))

        # Once every one of them has expired, replay them all.
        last = max(int(_params(url)["expires"]) for _, _, url in expiring)
        time.sleep(max(0.0, last + 1.1 - time.time()))
        for a, b, url in expiring:
            post("replayed after expiry", url, {"by": "replay"})
            assert restate.workflow("PaymentWait", a).attach() == {
                "amount": 1,
                "paid": True,
                "result": {"by": "url"},
            }
            assert restate.workflow("PaymentWait", b).attach() == {
                "amount": 1,
                "paid": False,
                "reason": "declined by url",
            }

    summary = {kind: f"{len(found)}x{sorted(set(found))}" for kind, found in tally.items()}
    print(f"\n[callback tokens] {summary}")
    for kind, found in tally.items():
        if kind.startswith("genuine"):
            assert set(found) == {200}
        elif kind in ("expired", "replayed after expiry"):
            assert set(found) == {410}, kind
        else:
            assert set(found) == {403}, kind
    logs = "\n".join(app.all_logs() for app in rel_apps.values())
    assert secret not in logs and rel_secrets["stripe"] not in logs
    assert [t for t in genuine if t in logs] == []
