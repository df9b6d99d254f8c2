"""Adapter settings: one set of names for the environment, Flask config and Django settings.

``RESTATE_INGRESS_URL`` in the environment, ``app.config["RESTATE_INGRESS_URL"]`` in Flask,
``RESTATE = {"INGRESS_URL": ...}`` in Django and ``Restate(app, {"INGRESS_URL": ...})`` in
FastAPI are the same setting. References to code (``PRINCIPAL``, ``WEBHOOKS``) are
``"package.module:name"`` strings everywhere. Explicit values win over the environment,
which wins over the defaults. Every adapter validates through ``check_settings`` so that a bad
value is reported the same way everywhere (Django turns the problems into system-check messages).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

ENV_PREFIX = "RESTATE_"
DEFAULT_IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_KEY_MAX_LENGTH = 255
# Providers give up on a delivery after 5 s (Shopify, Paddle, Razorpay) to 10 s (GitHub) and
# redeliver it later anyway: a webhook mount answers 503 well before that instead of holding a
# worker for the ingress client's whole retry budget.
DEFAULT_WEBHOOK_TIMEOUT = 2.0

# Restate stores every ingress header in its journal, and some would change the request itself:
# these are never forwarded, whatever FORWARD_HEADERS says.
NEVER_FORWARDED = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "expect",
        "idempotency-key",
    }
)

_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")

Principal = Callable[[Any], Any]
"""Given the framework's request object, the authenticated caller (a string or an id), or None.
A plain or an ``async def`` function."""


@dataclasses.dataclass(frozen=True)
class SettingProblem:
    """One thing wrong with the settings. ``id`` is ``E001``.. (errors) or ``W001``.. (warnings)."""

    id: str
    setting: str
    message: str
    hint: str = ""

    @property
    def level(self) -> Literal["error", "warning"]:
        return "error" if self.id.startswith("E") else "warning"

    def __str__(self) -> str:
        text = f"restate_web.{self.id} {self.setting}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class RestateConfigError(ValueError):
    """The adapter settings are invalid; ``problems`` lists every error found."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = problems
        super().__init__("invalid Restate settings:\n" + "\n".join(f"  {p}" for p in problems))


@dataclasses.dataclass(frozen=True)
class RestateSettings:
    """Validated adapter settings (see the README's Settings section for each one)."""

    ingress_url: str | None = None
    """The ingress URL; the nodes of a cluster comma-separated (see ``ingress_urls``)."""
    ingress_token: str | None = None
    idempotency_header: str = DEFAULT_IDEMPOTENCY_HEADER
    idempotency_key_max_length: int = DEFAULT_KEY_MAX_LENGTH
    generate_idempotency_keys: bool = False
    forward_headers: tuple[str, ...] = ()
    forward_trace_context: bool = True
    principal: Principal | None = None
    timeout: float | None = None
    retry: bool = True
    guard_contexts: bool = True
    webhooks: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Webhook endpoints by URL name: an endpoint object, a dotted path to one, or a factory."""
    admin_url: str | None = None
    """Restate's admin API for the deploy commands (None: http://localhost:9070)."""
    admin_token: str | None = None
    identity_keys: tuple[str, ...] = ()
    """Restate request-identity public keys (``publickeyv1_...``) served services verify."""
    services: Any = None
    """SDK services to serve from the web app (a list, or a ``"module:name"`` of one)."""
    services_path: str = "/restate"
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    """Seconds a webhook mount waits for Restate (retries included) before answering 503."""
    async_transport: Literal["httpx", "aiohttp"] = "httpx"
    """What the async clients (async views, async webhook mounts) send with."""

    @property
    def ingress_urls(self) -> tuple[str, ...]:
        """The configured ingress URLs (empty: the client's default, RESTATE_INGRESS_URL)."""
        return tuple(self.ingress_url.split(",")) if self.ingress_url else ()

    @property
    def header_lower(self) -> str:
        """The idempotency header's name as ASGI and httpx spell it."""
        return self.idempotency_header.lower()

    @property
    def header_environ_key(self) -> str:
        """The idempotency header's key in a WSGI environ / Django ``request.META``."""
        return "HTTP_" + self.idempotency_header.upper().replace("-", "_")


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
    raise ValueError(f"expected true or false, got {value!r}")


def _parse_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value.strip() or None


def _parse_url(value: Any) -> str | None:
    url = _parse_str(value)
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError(f"must start with http:// or https://, got {url!r}")
    return url


def _parse_ingress_urls(value: Any) -> str | None:
    """One URL, or the ingresses of a cluster's nodes: comma-separated or a list; kept as one
    comma-separated string, which is what the clients (and RESTATE_INGRESS_URL) take."""
    if value is None:
        return None
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    if isinstance(value, (bytes, Mapping)) or not isinstance(items, Iterable):
        raise ValueError(f"expected a URL or a list of URLs, got {type(value).__name__}")
    urls: list[str] = []
    for item in items:
        url = _parse_url(item)
        if url is not None and url.rstrip("/") not in urls:
            urls.append(url.rstrip("/"))
    return ",".join(urls) or None


def _parse_header_name(value: Any) -> str:
    name = _parse_str(value)
    if name is None or not _TOKEN_RE.match(name):
        raise ValueError(f"not a valid HTTP header name: {value!r}")
    return name


def _parse_positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a positive integer, got {value!r}")
    number = int(value)
    if number < 1 or number > 512:
        raise ValueError(f"must be between 1 and 512 (Restate's own limit), got {number}")
    return number


def _parse_timeout(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number of seconds, got {value!r}")
    number = float(value)
    if number <= 0:
        raise ValueError(f"must be a positive number of seconds, got {value!r}")
    return number


def _parse_webhook_timeout(value: Any) -> float:
    number = _parse_timeout(value)
    if number is None:
        raise ValueError("expected a positive number of seconds (the default is 2)")
    return number


def _parse_header_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    names = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        name = _parse_header_name(item).lower()
        if name in NEVER_FORWARDED or name.startswith("x-restate-"):
            raise ValueError(
                f"{name!r} is never forwarded: Restate stores ingress headers in its journal "
                "(and this one would leak credentials or change the request)"
            )
        names.append(name)
    return tuple(dict.fromkeys(names))


def _parse_principal(value: Any) -> Principal | None:
    if value is None:
        return None
    if isinstance(value, str):
        module, sep, attr = value.strip().partition(":")
        if not sep or not module or not attr:
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        try:
            found: Any = importlib.import_module(module)
            for name in attr.split("."):
                found = getattr(found, name)
            value = found
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot import {value!r}: {exc}") from exc
    if not callable(value):
        raise ValueError(f"expected a callable taking the request, got {type(value).__name__}")
    principal: Principal = value
    return principal


_WEBHOOK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _parse_webhooks(value: Any) -> dict[str, Any]:
    """``{"stripe": endpoint_or_dotted_path}``; from the environment ``stripe=pkg.mod:obj,...``."""
    if value is None:
        return {}
    if isinstance(value, str):
        pairs: dict[str, Any] = {}
        for item in value.split(","):
            if not item.strip():
                continue
            name, sep, target = item.partition("=")
            if not sep or not target.strip():
                raise ValueError(f"expected 'name=package.module:endpoint', got {item.strip()!r}")
            pairs[name.strip()] = target.strip()
        value = pairs
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a dict of name -> endpoint, got {type(value).__name__}")
    for name, target in value.items():
        if not isinstance(name, str) or not _WEBHOOK_NAME_RE.match(name):
            raise ValueError(f"webhook name {name!r} must be a short URL-safe name like 'stripe'")
        if not (isinstance(target, str) or callable(target) or hasattr(target, "handle")):
            raise ValueError(
                f"webhook {name!r} must be a WebhookEndpoint, a dotted path or a factory, "
                f"got {type(target).__name__}"
            )
    return dict(value)


def _parse_identity_keys(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    keys = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"expected publickeyv1_... strings, got {type(item).__name__}")
        if not item.strip():
            continue
        if not item.strip().startswith("publickeyv1_"):
            raise ValueError(
                f"{item.strip()[:20]!r}... is not a Restate request-identity public key "
                "(publickeyv1_...; restate-server logs its own at start)"
            )
        keys.append(item.strip())
    return tuple(keys)


def _parse_services(value: Any) -> Any:
    if value is None or isinstance(value, (str, list, tuple)):
        return value
    raise ValueError(f"expected a list of services or 'module:name', got {type(value).__name__}")


def _parse_path(value: Any) -> str:
    path = _parse_str(value)
    if path is None or not path.startswith("/"):
        raise ValueError(f"must be a URL path starting with '/', got {value!r}")
    return path.rstrip("/") or "/"


def _parse_async_transport(value: Any) -> str:
    name = (_parse_str(value) or "httpx").lower()
    if name not in ("httpx", "aiohttp"):
        raise ValueError(f"expected 'httpx' or 'aiohttp', got {value!r}")
    if name == "aiohttp" and importlib.util.find_spec("aiohttp") is None:
        raise ValueError(
            "'aiohttp' needs the aiohttp package, which is not installed; install it with: "
            "pip install 'restate-web[aiohttp]'"
        )
    return name


_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "INGRESS_URL": ("ingress_url", _parse_ingress_urls),
    "INGRESS_TOKEN": ("ingress_token", _parse_str),
    "IDEMPOTENCY_HEADER": ("idempotency_header", _parse_header_name),
    "IDEMPOTENCY_KEY_MAX_LENGTH": ("idempotency_key_max_length", _parse_positive_int),
    "GENERATE_IDEMPOTENCY_KEYS": ("generate_idempotency_keys", _parse_bool),
    "FORWARD_HEADERS": ("forward_headers", _parse_header_list),
    "FORWARD_TRACE_CONTEXT": ("forward_trace_context", _parse_bool),
    "PRINCIPAL": ("principal", _parse_principal),
    "TIMEOUT": ("timeout", _parse_timeout),
    "RETRY": ("retry", _parse_bool),
    "GUARD_CONTEXTS": ("guard_contexts", _parse_bool),
    "WEBHOOKS": ("webhooks", _parse_webhooks),
    "ADMIN_URL": ("admin_url", _parse_url),
    "ADMIN_TOKEN": ("admin_token", _parse_str),
    "IDENTITY_KEYS": ("identity_keys", _parse_identity_keys),
    "SERVICES": ("services", _parse_services),
    "SERVICES_PATH": ("services_path", _parse_path),
    "WEBHOOK_TIMEOUT": ("webhook_timeout", _parse_webhook_timeout),
    "ASYNC_TRANSPORT": ("async_transport", _parse_async_transport),
}

SETTING_NAMES: tuple[str, ...] = tuple(_FIELDS)
"""Every setting name (without the ``RESTATE_`` prefix)."""

# Problem ids: the same in every framework; Django reports them as restate_web.<id>.
E_NOT_A_MAPPING = "E001"
E_INVALID_VALUE = "E002"
E_FORWARD_FORBIDDEN = "E003"
W_UNKNOWN_SETTING = "W001"


def check_settings(
    values: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
) -> tuple[RestateSettings, list[SettingProblem]]:
    """Settings from ``values`` (names without prefix) over ``RESTATE_*`` in ``env``.

    Returns the settings (invalid values fall back to their defaults) and every problem found.
    """
    env = os.environ if env is None else env
    problems: list[SettingProblem] = []
    raw_values: Any = values
    values = raw_values if isinstance(raw_values, Mapping) else {}
    if raw_values is not None and not isinstance(raw_values, Mapping):
        problems.append(
            SettingProblem(
                E_NOT_A_MAPPING,
                "RESTATE",
                f"must be a dict of settings, got {type(raw_values).__name__}",
            )
        )
    for name in values:
        if name not in _FIELDS:
            close = difflib.get_close_matches(str(name), SETTING_NAMES, n=1)
            problems.append(
                SettingProblem(
                    W_UNKNOWN_SETTING,
                    str(name),
                    "is not a restate-web setting and is ignored",
                    f"did you mean {close[0]}?" if close else "known: " + ", ".join(SETTING_NAMES),
                )
            )
    kwargs: dict[str, Any] = {}
    for name, (field, parse) in _FIELDS.items():
        if name in values:
            raw, source = values[name], name
        elif ENV_PREFIX + name in env:
            raw, source = env[ENV_PREFIX + name], ENV_PREFIX + name
        else:
            continue
        try:
            kwargs[field] = parse(raw)
        except (ValueError, TypeError) as exc:
            code = E_FORWARD_FORBIDDEN if "never forwarded" in str(exc) else E_INVALID_VALUE
            problems.append(SettingProblem(code, source, str(exc)))
    return RestateSettings(**kwargs), problems


def load_settings(
    values: Mapping[str, Any] | RestateSettings | None = None,
    env: Mapping[str, str] | None = None,
) -> RestateSettings:
    """Like ``check_settings``, but raises ``RestateConfigError`` on any error, and warns
    (``UserWarning``) of the rest: an unknown name is most likely a misspelt setting, which
    Django's system checks report as ``W001``; FastAPI and Flask have no such checks."""
    if isinstance(values, RestateSettings):
        return values
    settings, problems = check_settings(values, env)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise RestateConfigError(errors)
    for problem in problems:
        warnings.warn(str(problem), UserWarning, stacklevel=3)
    return settings
