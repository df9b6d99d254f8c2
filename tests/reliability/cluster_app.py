"""The reliability web apps (webapp.py) as the cluster fault tests serve them: the ingress URLs
of every node come from RESTATE_INGRESS_URL (comma-separated), and a call that ends in
``IngressUnavailable`` or ``IngressTimeout`` answers 503 with Retry-After, as the README's
"Running against a cluster" recommends (the client retries with the same Idempotency-Key).

FastAPI (``fastapi_app``) for uvicorn, Flask (``flask_app``) for hypercorn's WSGI mode.
"""

from __future__ import annotations

from typing import Any

from restate_web.ingress import IngressTimeout, IngressUnavailable

from .webapp import create_fastapi_app, create_flask_app

RETRY_AFTER = "1"


def _problem(error: Exception) -> dict[str, Any]:
    return {"error": "restate_unavailable", "detail": type(error).__name__}


def _fastapi() -> Any:
    from fastapi import Request
    from fastapi.responses import JSONResponse

    app = create_fastapi_app()

    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse(_problem(error), 503, headers={"retry-after": RETRY_AFTER})

    app.add_exception_handler(IngressUnavailable, unavailable)
    app.add_exception_handler(IngressTimeout, unavailable)
    return app


def _flask() -> Any:
    from flask import jsonify

    app = create_flask_app()

    def unavailable(error: Exception) -> Any:
        return jsonify(_problem(error)), 503, {"retry-after": RETRY_AFTER}

    app.register_error_handler(IngressUnavailable, unavailable)
    app.register_error_handler(IngressTimeout, unavailable)
    return app


fastapi_app = _fastapi()
flask_app = _flask()
