"""Turning Python values into request bodies and response bodies back into Python values.

Plain JSON values, dataclasses and pydantic models go out as JSON; ``bytes`` pass through
untouched. When the restate-sdk is installed, a handler reference (the decorated function)
brings its own serdes, so the client encodes exactly as the handler decodes.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from typing import Any

JSON_CONTENT_TYPE = "application/json"
BYTES_CONTENT_TYPE = "application/octet-stream"


class Codec(typing.Protocol):
    """Anything with ``serialize``/``deserialize`` (restate-sdk's ``Serde`` fits this)."""

    def serialize(self, obj: Any) -> bytes: ...

    def deserialize(self, buf: bytes) -> Any: ...


def _is_pydantic_model(value: Any) -> bool:
    # Only consult pydantic when the application imported it: never import it ourselves here.
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def _is_pydantic_model_type(tp: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if _is_pydantic_model(value):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(
        f"cannot send a {type(value).__name__} to Restate as JSON; pass a JSON value, a dataclass, "
        "a pydantic model, or bytes with content_type="
    )


def encode_body(
    value: Any, *, content_type: str | None = None, codec: Codec | None = None
) -> tuple[bytes | None, str | None]:
    """Encode a handler argument. Returns (body, content type); None means 'no input'."""
    if codec is not None:
        return codec.serialize(value), content_type or JSON_CONTENT_TYPE
    if value is None:
        return None, None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), content_type or BYTES_CONTENT_TYPE
    if _is_pydantic_model(value):
        return value.model_dump_json().encode(), content_type or JSON_CONTENT_TYPE
    body = json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)
    return body.encode(), content_type or JSON_CONTENT_TYPE


def _convert(data: Any, tp: Any) -> Any:
    """Build ``tp`` from decoded JSON: dataclasses (nested), containers, Optional, plain types."""
    if tp is Any or tp is None:
        return data
    origin = typing.get_origin(tp)
    if origin is typing.Union or (sys.version_info >= (3, 10) and _is_union_type(tp)):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(data, arg)
            except (TypeError, ValueError):
                continue
        raise ValueError(f"{data!r} does not fit {tp}")
    if origin in (list, typing.List, set, frozenset, tuple):  # noqa: UP006
        args = typing.get_args(tp)
        item_type = args[0] if args else Any
        items = [_convert(item, item_type) for item in data]
        return origin(items) if origin in (set, frozenset, tuple) else items
    if origin is dict:
        args = typing.get_args(tp)
        value_type = args[1] if len(args) == 2 else Any
        return {key: _convert(value, value_type) for key, value in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = {f.name for f in dataclasses.fields(tp) if f.init}
        kwargs = {k: _convert(v, hints.get(k, Any)) for k, v in data.items() if k in fields}
        return tp(**kwargs)
    if _is_pydantic_model_type(tp):
        return tp.model_validate(data)
    if tp is float and isinstance(data, int):
        return float(data)
    if isinstance(tp, type) and not isinstance(data, tp):
        raise TypeError(f"expected {tp.__name__}, Restate returned {type(data).__name__}")
    return data


def _is_union_type(tp: Any) -> bool:
    import types

    return isinstance(tp, types.UnionType)


def decode_body(
    body: bytes,
    content_type: str | None,
    *,
    response_type: Any = None,
    codec: Codec | None = None,
) -> Any:
    """Decode a handler's output. Without a type: JSON becomes Python, anything else is bytes."""
    if codec is not None and response_type is None:
        return codec.deserialize(body)
    if response_type is bytes:
        return body
    if not body:
        return None
    if _is_pydantic_model_type(response_type):
        return response_type.model_validate_json(body)
    is_json = content_type is None or "json" in content_type.lower()
    if not is_json:
        if response_type is str:
            return body.decode()
        return body
    data = json.loads(body)
    if response_type is None:
        return data
    return _convert(data, response_type)


# --- restate-sdk handler references --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HandlerRef:
    """What we learn from an SDK handler reference: where it lives and how it encodes."""

    service: str
    handler: str
    kind: str | None
    input_codec: Codec | None
    output_codec: Codec | None
    content_type: str | None


def handler_ref(target: Any) -> HandlerRef | None:
    """Return a HandlerRef when ``target`` is a restate-sdk handler function, else None.

    Never imports the SDK: a decorated function can only exist if the application imported it.
    """
    if isinstance(target, str) or "restate" not in sys.modules:
        return None
    from restate.handler import handler_from_callable  # type: ignore[import-not-found,unused-ignore]

    try:
        handler: Any = handler_from_callable(target)
    except (ValueError, TypeError):
        return None
    io = handler.handler_io
    return HandlerRef(
        service=handler.service_tag.name,
        handler=handler.name,
        kind=handler.kind,
        input_codec=io.input_serde,
        output_codec=io.output_serde,
        content_type=io.content_type,
    )


def service_name(target: Any) -> str:
    """Accept a service name or an SDK ``Service``/``VirtualObject``/``Workflow`` definition."""
    if isinstance(target, str):
        if not target:
            raise ValueError("the service name must not be empty")
        return target
    name = getattr(target, "name", None)
    if isinstance(name, str) and name:
        return name
    raise TypeError(
        f"expected a service name (str) or a restate-sdk service definition, got {target!r}"
    )
