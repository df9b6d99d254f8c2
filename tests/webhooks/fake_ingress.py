"""A stand-in for the ingress clients, for routing and response-mapping tests only.

It records every call and raises whatever ``fail`` returns for it. The real
clients are exercised end to end against restate-server in test_webhook_e2e.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Call = tuple[Any, ...]


class FakeIngress:
    def __init__(
        self, fail: Callable[[Call], BaseException | None] | None = None, *, is_async: bool = False
    ) -> None:
        self.calls: list[Call] = []
        self._fail = fail or (lambda call: None)
        self.is_async = is_async

    def _do(self, call: Call) -> Any:
        def run() -> None:
            self.calls.append(call)
            error = self._fail(call)
            if error is not None:
                raise error

        if not self.is_async:
            run()
            return None

        async def run_async() -> None:
            run()

        return run_async()

    def awakeable(self, awakeable_id: str) -> _Awakeable:
        return _Awakeable(self, awakeable_id)

    def service(self, name: str) -> _Target:
        return _Target(self, name, None)

    def object(self, name: str, key: str) -> _Target:
        return _Target(self, name, key)

    def workflow(self, name: str, key: str) -> _Workflow:
        return _Workflow(self, name, key)


class _Awakeable:
    def __init__(self, client: FakeIngress, awakeable_id: str) -> None:
        self.client, self.id = client, awakeable_id

    def resolve(self, payload: Any = None) -> Any:
        return self.client._do(("resolve", self.id, payload))

    def reject(self, reason: str) -> Any:
        return self.client._do(("reject", self.id, reason))


class _Target:
    def __init__(self, client: FakeIngress, name: str, key: str | None) -> None:
        self.client, self.name, self.key = client, name, key

    def send(self, handler: str, arg: Any = None, *, idempotency_key: str | None = None) -> Any:
        return self.client._do(("send", self.name, self.key, handler, arg, idempotency_key))


class _Workflow:
    def __init__(self, client: FakeIngress, name: str, key: str) -> None:
        self.client, self.name, self.key = client, name, key

    def submit(self, arg: Any = None) -> Any:
        return self.client._do(("submit", self.name, self.key, arg))
