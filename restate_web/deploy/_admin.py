"""A small blocking client for restate-server's admin API (port 9070 by default)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

DEFAULT_ADMIN_URL = "http://localhost:9070"


class AdminError(RuntimeError):
    """The admin API refused a request, or could not be reached (``status`` is None then)."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class AdminClient:
    """Blocking admin API client: deployments, services, SQL introspection, version.

    ``token`` is sent as a bearer token (Restate Cloud and secured admin endpoints).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = (url or DEFAULT_ADMIN_URL).rstrip("/")
        headers = {"accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202),
    ) -> tuple[int, Any]:
        """Send one request; returns (status, decoded JSON or text). Raises AdminError."""
        try:
            response = self._http.request(method, path, json=json_body, params=params)
        except httpx.HTTPError as error:
            raise AdminError(
                f"could not reach the Restate admin API at {self.url}: {error}. Is restate-server "
                "running? Set ADMIN_URL (env RESTATE_ADMIN_URL) to its admin address."
            ) from error
        try:
            body: Any = response.json() if response.content else None
        except json.JSONDecodeError:
            body = response.text
        if response.status_code not in ok:
            message = body.get("message") if isinstance(body, dict) else body
            raise AdminError(
                f"{method} {path} answered HTTP {response.status_code}: {message}",
                response.status_code,
                body,
            )
        return response.status_code, body

    def version(self) -> dict[str, Any]:
        return _as_dict(self.request("GET", "/version")[1])

    def health(self) -> bool:
        return self.request("GET", "/health", ok=(200,))[0] == 200

    def services(self) -> list[dict[str, Any]]:
        return _as_list(_as_dict(self.request("GET", "/services")[1]).get("services"))

    def deployments(self) -> list[dict[str, Any]]:
        return _as_list(_as_dict(self.request("GET", "/deployments")[1]).get("deployments"))

    def deployment(self, deployment_id: str) -> dict[str, Any]:
        return _as_dict(self.request("GET", f"/deployments/{deployment_id}")[1])

    def register(
        self,
        uri: str,
        *,
        force: bool,
        breaking: bool,
        dry_run: bool = False,
        use_http_11: bool = False,
        additional_headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """``POST /deployments`` with ``force`` and ``breaking`` always explicit (their defaults
        differ between the unprefixed and the /v2 path). 201: created or overwritten; 200: a
        deployment with this URI exists and nothing changed."""
        body: dict[str, Any] = {
            "uri": uri,
            "force": force,
            "breaking": breaking,
            "dry_run": dry_run,
        }
        if use_http_11:
            body["use_http_11"] = True
        if additional_headers:
            body["additional_headers"] = dict(additional_headers)
        status, answer = self.request("POST", "/deployments", json_body=body, ok=(200, 201))
        return status, _as_dict(answer)

    def remove_deployment(self, deployment_id: str) -> None:
        # Without force=true 1.7.12 answers 501; the caller decides what may be removed.
        self.request("DELETE", f"/deployments/{deployment_id}", params={"force": "true"})

    def query(self, sql: str) -> list[dict[str, Any]]:
        """SQL introspection (``sys_invocation``, ``sys_deployment``, ...) as JSON rows."""
        body = _as_dict(self.request("POST", "/query", json_body={"query": sql}, ok=(200,))[1])
        return _as_list(body.get("rows"))


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
