"""Requests/s of a trivial endpoint per framework, bare vs with the restate-web adapter installed.

Run: ``.venv/bin/python -m bench.adapters [--seconds 0.3] [--rounds 15] [--processes 3]``

No Restate call and no network: each app is called directly through its ASGI or WSGI entry
point, so the numbers show what the adapter adds to every request (finding and screening the
Idempotency-Key header, the per-request state, Django's ``request.restate``). Requests carry an
``Idempotency-Key`` header, the adapter's most expensive path. Bare and adapted runs are
measured in rotated rounds together with a second bare app; an interpreter's overhead is the
median of the bare/adapted ratios, trusted only when the same median for bare/bare (the A/A
row's noise) is within 1 %, adding rounds until it is. That is repeated in ``--processes``
fresh interpreters and the median of their overheads reported with its range. Rates are per
second of the benchmark thread's CPU time, so other processes on the machine do not skew them.
Target: under 5 %. ``bench.adapter_instructions`` counts the same requests' instructions,
which do not depend on the machine's moment-to-moment speed."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench._common import ROOT, print_table

KEY_HEADER = ("Idempotency-Key", '"8e03978e-40d5-43e8-bc93-6894a57f9324"')


# --- FastAPI (ASGI) ----------------------------------------------------------------------------


def fastapi_app(with_adapter: bool) -> Any:
    from fastapi import FastAPI

    from restate_web.adapters.fastapi import Restate

    app = FastAPI()
    if with_adapter:
        Restate(app, {"INGRESS_URL": "http://127.0.0.1:9"})

    @app.post("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


# What a browser or an API client typically sends besides the key: the FastAPI adapter looks
# the key up in the scope's header list, so its cost grows with the number of headers.
TYPICAL_HEADERS = [
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0"),
    (b"accept", b"application/json, text/plain, */*"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (b"content-type", b"application/json"),
    (b"origin", b"https://shop.example"),
    (b"referer", b"https://shop.example/checkout"),
    (b"connection", b"keep-alive"),
    (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
]


def asgi_runner(
    app: Any, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> Callable[[int], None]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/ping",
        "raw_path": b"/ping",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bench"),
            (b"content-length", b"0"),
            *(extra_headers or []),
            (KEY_HEADER[0].lower().encode(), KEY_HEADER[1].encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    loop = asyncio.new_event_loop()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message

    async def many(n: int) -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    return lambda n: loop.run_until_complete(many(n))


# --- Flask (WSGI) ------------------------------------------------------------------------------


def flask_app(with_adapter: bool) -> Any:
    from flask import Flask

    from restate_web.adapters.flask import Restate

    app = Flask("bench")
    app.config["RESTATE_INGRESS_URL"] = "http://127.0.0.1:9"
    if with_adapter:
        Restate(app)

    @app.post("/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def wsgi_runner(app: Any) -> Callable[[int], None]:
    environ = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/ping",
        "QUERY_STRING": "",
        "SERVER_NAME": "bench",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "bench",
        "CONTENT_LENGTH": "0",
        "HTTP_" + KEY_HEADER[0].upper().replace("-", "_"): KEY_HEADER[1],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        assert status.startswith("200"), status

    def many(n: int) -> None:
        for _ in range(n):
            env = dict(environ)
            env["wsgi.input"] = io.BytesIO(b"")
            body = app(env, start_response)
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return many


# --- Django (WSGI) -----------------------------------------------------------------------------


def _django_view(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"ok": True})


# An API endpoint: exempt from CSRF (only matters behind startproject's middleware).
_django_view.csrf_exempt = True  # type: ignore[attr-defined]


urlpatterns: list[Any] = []


# What `django-admin startproject` puts in MIDDLEWARE: the stack most projects really run.
STARTPROJECT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def django_app(with_adapter: bool, base_middleware: list[str] | None = None) -> Any:
    import django
    from django.conf import settings

    if not settings.configured:
        from django.urls import path

        urlpatterns.append(path("ping", _django_view))
        settings.configure(
            DEBUG=False,
            SECRET_KEY="bench",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "django.contrib.sessions",
                "django.contrib.messages",
                "restate_web.adapters.django",
            ],
            MIDDLEWARE=[],
            RESTATE={"INGRESS_URL": "http://127.0.0.1:9"},
        )
        django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    middleware = list(base_middleware or []) + (
        ["restate_web.adapters.django.middleware.RestateMiddleware"] if with_adapter else []
    )
    with override_settings(MIDDLEWARE=middleware):
        handler = WSGIHandler()  # loads its middleware chain now
    return handler


# --- measuring ---------------------------------------------------------------------------------


def rate(run: Callable[[int], None], seconds: float) -> float:
    """Requests per second of CPU time (thread time: other processes' load does not count)."""
    run(200)  # warm up
    batch, done, start = 200, 0, time.thread_time()
    while (elapsed := time.thread_time() - start) < seconds:
        run(batch)
        done += batch
    return done / elapsed


TARGETED = ("fastapi", "flask", "django")
FRAMEWORKS: dict[str, tuple[Callable[[bool], Any], Callable[[Any], Callable[[int], None]]]] = {
    "fastapi": (fastapi_app, asgi_runner),
    "flask": (flask_app, wsgi_runner),
    "django": (django_app, wsgi_runner),
    # Context, not the target: the same FastAPI request with a browser's usual headers in front
    # of the key (the adapter walks the header list).
    "fastapi+hdrs": (fastapi_app, lambda app: asgi_runner(app, TYPICAL_HEADERS)),
    # Context, not the target: the same view behind startproject's middleware (no session
    # cookie, so no database), the stack a real Django project pays for anyway.
    "django+std": (
        lambda with_adapter: django_app(with_adapter, STARTPROJECT_MIDDLEWARE),
        wsgi_runner,
    ),
}


def _percent_slower(baseline: list[float], other: list[float]) -> float:
    """How much slower ``other`` is than ``baseline``: the median of the rounds' ratios, in %."""
    return (statistics.median(a / b for a, b in zip(baseline, other, strict=True)) - 1) * 100


def measure(
    make: Callable[[bool], Any],
    runner: Callable[[Any], Callable[[int], None]],
    seconds: float,
    min_rounds: int,
    max_rounds: int,
    noise_limit: float,
) -> tuple[float, float, float, float, int]:
    """(bare req/s, adapted req/s, A/A %, overhead %, rounds) for one framework.

    Each round measures two separate bare apps (A and A') and the adapted app, in an order that
    rotates round by round. A/A is the median of A/A' ratios: the noise of this pairing on this
    machine, in the same run. Rounds are added (up to ``max_rounds``) until it is within
    ``noise_limit`` percent; only then does the overhead mean something.
    """
    runs = {
        "bare": runner(make(False)),
        "bare2": runner(make(False)),
        "adapted": runner(make(True)),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    orders = [
        ("bare", "bare2", "adapted"),
        ("adapted", "bare", "bare2"),
        ("bare2", "adapted", "bare"),
    ]
    rounds = 0
    while True:
        for name in orders[rounds % len(orders)]:
            rates[name].append(rate(runs[name], seconds))
        rounds += 1
        aa = _percent_slower(rates["bare"], rates["bare2"])
        if rounds >= max_rounds or (rounds >= min_rounds and abs(aa) <= noise_limit):
            break
    # Against both bare apps: each round gives two bare/adapted ratios.
    overhead = _percent_slower(rates["bare"] + rates["bare2"], rates["adapted"] * 2)
    return (
        statistics.median(rates["bare"]),
        statistics.median(rates["adapted"]),
        aa,
        overhead,
        rounds,
    )


def measure_all(args: argparse.Namespace) -> dict[str, tuple[float, float, float, float, int]]:
    """``measure`` of every framework, in this interpreter."""
    return {
        name: measure(
            make, runner, args.seconds, args.rounds, max(args.rounds, args.max_rounds), args.noise
        )
        for name, (make, runner) in FRAMEWORKS.items()
        if not args.only or name in args.only
    }


def measure_in_interpreters(
    args: argparse.Namespace,
) -> dict[str, list[tuple[float, float, float, float, int]]]:
    """``measure_all`` in ``args.processes`` fresh interpreters, one after the other.

    Rounds in one interpreter agree with each other far better than interpreters agree with
    each other (bench/README.md: the A/A row within 1 % while the overhead moved by 5-10 points
    between runs): each interpreter lays the apps out in memory anew.
    """
    results: dict[str, list[tuple[float, float, float, float, int]]] = {}
    for _ in range(args.processes):
        command = [sys.executable, "-m", "bench.adapters", "--child"]
        for name in args.only or []:
            command += ["--only", name]
        for option in ("seconds", "rounds", "max_rounds", "noise"):
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        for name, row in json.loads(done.stdout).items():
            results.setdefault(name, []).append(tuple(row))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="per measurement")
    parser.add_argument("--rounds", type=int, default=15, help="at least this many rounds")
    parser.add_argument("--max-rounds", type=int, default=45)
    parser.add_argument(
        "--noise", type=float, default=1.0, help="report overhead only when |A/A| <= this %%"
    )
    parser.add_argument("--processes", type=int, default=3, help="fresh interpreters, in turn")
    parser.add_argument("--only", action="append", help="frameworks to measure (default: all)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.pop("RESTATE_INGRESS_URL", None)
    if args.child:
        print(json.dumps(measure_all(args)))
        return
    rows: list[list[str]] = []
    worst: float | None = None
    for name, results in measure_in_interpreters(args).items():
        trusted = [r for r in results if abs(r[2]) <= args.noise]
        overheads = sorted(r[3] for r in trusted)
        if name in TARGETED and trusted:
            worst = max(worst or 0.0, statistics.median(overheads))
        rows.append(
            [
                name,
                f"{statistics.median(r[0] for r in results):,.0f}",
                f"{statistics.median(r[1] for r in results):,.0f}",
                f"{len(trusted)} of {len(results)}",
                " / ".join(f"{r[2]:.1f}%" for r in results),
                f"{statistics.median(overheads):.1f}%" if trusted else "noisy",
                f"{overheads[0]:.1f}% to {overheads[-1]:.1f}%" if trusted else "",
                "< 5%" if name in TARGETED else "context",
            ]
        )
    print_table(
        "Adapter overhead per request, timed (median over interpreters of each one's median "
        "of rotated rounds; A/A = bare vs bare, per interpreter)",
        [
            "framework",
            "bare req/s",
            "adapter req/s",
            "trusted",
            "A/A",
            "overhead",
            "its range",
            "target",
        ],
        rows,
    )
    verdict = "none trusted" if worst is None else f"{worst:.1f}%"
    print(f"\nworst trusted overhead {verdict} (target < 5%; counted: bench.adapter_instructions)")
    print("trusted: interpreters whose |A/A| <= the noise limit; only those give an overhead")
    print("fastapi+hdrs: with 9 more typical request headers; django+std: the same Django view")
    print("behind startproject's middleware (both for context, not the target)")


if __name__ == "__main__":
    main()
