"""Turning Python values into request bodies and response bodies back into Python values.

Plain JSON values, dataclasses and pydantic models go out as JSON; ``bytes`` pass through
untouched. When the restate-sdk is installed, a handler reference (the decorated function)
brings its own serdes, so the client encodes exactly as the handler decodes.
"""

from __future__ import annotations

import collections.abc
import contextlib
import dataclasses
import datetime
import decimal
import enum
import functools
import json
import sys
import types
import typing
import uuid
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
        encoded = codec.serialize(value)
        if not encoded and value is None and content_type is None:
            # The SDK's serdes encode "no input" as no bytes; Restate refuses an empty body that
            # has a content type for a handler without input, so send neither (as for a name).
            return None, None
        return encoded, content_type or JSON_CONTENT_TYPE
    if value is None:
        return None, None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), content_type or BYTES_CONTENT_TYPE
    if _is_pydantic_model(value):
        return value.model_dump_json().encode(), content_type or JSON_CONTENT_TYPE
    body = json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)
    return body.encode(), content_type or JSON_CONTENT_TYPE


class ResultDecodeError(ValueError):
    """A handler's result does not fit the ``response_type`` it was to be decoded into."""


def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else str(tp).replace("typing.", "")


@functools.cache
def _pydantic_type_adapter() -> Any:
    """pydantic's ``TypeAdapter`` when pydantic is installed (imported on first use), else None."""
    try:
        from pydantic import TypeAdapter
    except ImportError:
        return None
    return TypeAdapter


_adapters: dict[Any, Any] = {}


def _validate_json(type_adapter: Any, tp: Any, body: bytes) -> Any:
    from pydantic import ValidationError

    try:
        adapter = _adapters.get(tp)
    except TypeError:  # an unhashable type (e.g. Annotated with unhashable metadata)
        adapter = None
    if adapter is None:
        adapter = type_adapter(tp)
        with contextlib.suppress(TypeError):
            if len(_adapters) < 512:
                _adapters[tp] = adapter
    try:
        return adapter.validate_json(body or b"null")
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'result'}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        raise ResultDecodeError(f"the result does not fit {_type_name(tp)} ({details})") from error


def _convert(data: Any, tp: Any, path: str) -> Any:
    """Build ``tp`` from decoded JSON without pydantic: dataclasses (nested), containers,
    Optional/Union, Literal, enums, dates and times, UUID, Decimal and plain types."""
    if tp is Any or tp is object:
        return data
    if tp is None or tp is type(None):
        if data is not None:
            raise ResultDecodeError(f"{path}: expected null, got {type(data).__name__}")
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or _is_union_type(tp):
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(data, arg, path)
            except ResultDecodeError as error:
                errors.append(str(error))
        raise ResultDecodeError(f"{path}: {data!r} fits none of {_type_name(tp)} ({errors[0]})")
    if origin is typing.Literal:
        if data not in args:
            raise ResultDecodeError(f"{path}: expected one of {args!r}, got {data!r}")
        return data
    if origin is typing.Annotated:
        return _convert(data, args[0], path)
    if origin in (list, set, frozenset, tuple, collections.abc.Sequence):
        if not isinstance(data, list):
            raise ResultDecodeError(f"{path}: expected a JSON array, got {type(data).__name__}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(data) != len(args):
                raise ResultDecodeError(
                    f"{path}: expected {len(args)} items for {_type_name(tp)}, got {len(data)}"
                )
            pairs = enumerate(zip(data, args, strict=True))
            return tuple(_convert(v, t, f"{path}[{i}]") for i, (v, t) in pairs)
        item_type = args[0] if args else Any
        items = [_convert(v, item_type, f"{path}[{i}]") for i, v in enumerate(data)]
        return items if origin in (list, collections.abc.Sequence) else origin(items)
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(data, dict):
            raise ResultDecodeError(f"{path}: expected a JSON object, got {type(data).__name__}")
        value_type = args[1] if len(args) == 2 else Any
        return {k: _convert(v, value_type, f"{path}[{k!r}]") for k, v in data.items()}
    if origin is not None:  # another generic (e.g. a user's Generic[T] class): as its origin
        return _convert(data, origin, path)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(data, tp, path)
    if _is_pydantic_model_type(tp):
        return tp.model_validate(data)
    if isinstance(tp, type):
        return _scalar(data, tp, path)
    raise ResultDecodeError(f"{path}: cannot decode into {tp!r} without pydantic")


def _dataclass(data: Any, tp: type, path: str) -> Any:
    if not isinstance(data, dict):
        raise ResultDecodeError(
            f"{path}: expected a JSON object for {tp.__name__}, got {type(data).__name__}"
        )
    hints = typing.get_type_hints(tp, include_extras=True)
    kwargs = {}
    for field in dataclasses.fields(tp):
        if not field.init:
            continue
        if field.name in data:
            kwargs[field.name] = _convert(
                data[field.name], hints.get(field.name, Any), f"{path}.{field.name}"
            )
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ResultDecodeError(
                f"{path}.{field.name}: missing (a required field of {tp.__name__})"
            )
    return tp(**kwargs)


def _scalar(data: Any, tp: type, path: str) -> Any:
    try:
        if issubclass(tp, enum.Enum):
            return tp(data)
        if isinstance(data, str):
            if tp is datetime.datetime:
                return datetime.datetime.fromisoformat(data.replace("Z", "+00:00"))
            if tp is datetime.date:
                return datetime.date.fromisoformat(data)
            if tp is datetime.time:
                return datetime.time.fromisoformat(data)
            if tp is uuid.UUID:
                return uuid.UUID(data)
        if tp is decimal.Decimal and isinstance(data, (str, int, float)):
            return decimal.Decimal(str(data))
    except (ValueError, decimal.InvalidOperation) as error:
        raise ResultDecodeError(f"{path}: {data!r} is not a valid {tp.__name__}") from error
    if tp is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if tp is int and isinstance(data, bool):
        raise ResultDecodeError(f"{path}: expected int, got bool")
    if issubclass(tp, dict) and isinstance(data, dict):  # TypedDict and dict subclasses
        return data
    if not isinstance(data, tp):
        raise ResultDecodeError(f"{path}: expected {tp.__name__}, got {type(data).__name__}")
    return data


def _is_union_type(tp: Any) -> bool:
    return isinstance(tp, types.UnionType)


def _is_json(content_type: str | None) -> bool:
    return content_type is None or "json" in content_type.lower()


def decode_body(
    body: bytes,
    content_type: str | None,
    *,
    response_type: Any = None,
    codec: Codec | None = None,
) -> Any:
    """Decode a handler's output.

    Without a type: JSON becomes Python, anything else is bytes. ``bytes``: the body as is;
    ``str``: a JSON string, or the text of a non-JSON body. Any other type is validated with
    pydantic's ``TypeAdapter`` when pydantic is installed, else converted by ``_convert``; a
    body that is not JSON, or does not fit, raises ``ResultDecodeError`` (a ValueError).
    """
    if codec is not None and response_type is None:
        return codec.deserialize(body)
    if response_type is bytes:
        return body
    is_json = _is_json(content_type)
    if response_type is None or response_type is Any:
        if not body:
            return None
        if not is_json:
            return body
        try:
            return json.loads(body)
        except ValueError as error:
            raise ResultDecodeError(f"the result is not valid JSON: {error}") from error
    if response_type is str and not is_json:
        try:
            return body.decode()
        except UnicodeDecodeError as error:
            raise ResultDecodeError(
                "the result is not UTF-8 text; use response_type=bytes"
            ) from error
    if not is_json:
        raise ResultDecodeError(
            f"the result has content type {content_type!r}, not JSON, so it cannot be decoded "
            f"as {_type_name(response_type)}; use response_type=bytes (or str) for raw results"
        )
    type_adapter = _pydantic_type_adapter()
    if type_adapter is not None:
        return _validate_json(type_adapter, response_type, body)
    try:
        data = json.loads(body) if body else None
    except ValueError as error:
        raise ResultDecodeError(f"the result is not valid JSON: {error}") from error
    return _convert(data, response_type, "result")


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
