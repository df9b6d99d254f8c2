"""The Django scenario views: request.restate in sync and async views."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

from restate_web.adapters.django import idempotency_key_required

from .. import common


def sync_count(request: Any, key: str) -> JsonResponse:
    return JsonResponse(common.count(request.restate, key))


async def async_count(request: Any, key: str) -> JsonResponse:
    return JsonResponse(await common.acount(request.restate, key))


def sync_count_twice(request: Any, key: str) -> JsonResponse:
    return JsonResponse(common.count_twice(request.restate, key))


async def async_count_twice(request: Any, key: str) -> JsonResponse:
    return JsonResponse(await common.acount_twice(request.restate, key))


@idempotency_key_required
def sync_required(request: Any, key: str) -> JsonResponse:
    return JsonResponse(common.count(request.restate, key))


@idempotency_key_required
async def async_required(request: Any, key: str) -> JsonResponse:
    return JsonResponse(await common.acount(request.restate, key))


def sync_explicit(request: Any, key: str) -> JsonResponse:
    return JsonResponse(common.explicit(request.restate, key))


async def async_explicit(request: Any, key: str) -> JsonResponse:
    return JsonResponse(await common.aexplicit(request.restate, key))


def sync_headers(request: Any) -> JsonResponse:
    return JsonResponse(common.journaled_headers(request.restate))


async def async_headers(request: Any) -> JsonResponse:
    return JsonResponse(await common.ajournaled_headers(request.restate))


def sync_derived(request: Any, rest: str) -> JsonResponse:
    return JsonResponse(common.derived_keys(request.restate))


async def async_derived(request: Any, rest: str) -> JsonResponse:
    return JsonResponse(common.derived_keys(request.restate))


def sync_durable_only(request: Any) -> JsonResponse:
    return JsonResponse(common.durable_only_from_view())


async def async_durable_only(request: Any) -> JsonResponse:
    return JsonResponse(common.durable_only_from_view())


def sync_durable_only_spawned(request: Any) -> JsonResponse:
    return JsonResponse(common.durable_only_spawned())


async def async_durable_only_spawned(request: Any) -> JsonResponse:
    return JsonResponse(await common.adurable_only_spawned())


def sync_use_leaked(request: Any, name: str) -> JsonResponse:
    return JsonResponse(common.use_leaked(name))


async def async_use_leaked(request: Any, name: str) -> JsonResponse:
    return JsonResponse(common.use_leaked(name))


# --- request.restate is the client for the code that reads it -----------------------------------


def _describe(client: Any) -> dict[str, Any]:
    from restate_web.ingress import AsyncIngressClient, IngressClient

    return {
        "sync": isinstance(client, IngressClient),
        "async": isinstance(client, AsyncIngressClient),
    }


def _send_from_sync_code(request: Any, counter: str) -> dict[str, Any]:
    client = request.restate
    receipt = client.object("Counter", counter).send("add", 1)
    return {**_describe(client), "invocation_id": receipt.invocation_id}


def sync_clients(request: Any, key: str) -> JsonResponse:
    with request.restate as client:
        entered = _describe(client)
        sent = _send_from_sync_code(request, key)
    return JsonResponse({"entered": entered, "sent": [sent]})


async def async_clients(request: Any, key: str) -> JsonResponse:
    from asgiref.sync import sync_to_async

    async with request.restate as client:
        entered = _describe(client)
        # A helper written for sync code, run from the async view: it gets the blocking client
        # (its send happens), bound to the same request (the next call to the target is #2).
        from_helper = await sync_to_async(_send_from_sync_code)(request, key)
        receipt = await client.object("Counter", key).send("add", 1)
    sent = [from_helper, {**_describe(client), "invocation_id": receipt.invocation_id}]
    return JsonResponse({"entered": entered, "sent": sent})
