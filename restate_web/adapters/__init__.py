"""Framework adapters: FastAPI/Starlette, Flask and Django over one framework-agnostic core.

The framework modules (``restate_web.adapters.fastapi``, ``.flask``, ``.django``) import their
framework; this package does not. The shared pieces live here.
"""

from ._core import Integration, RequestBinding
from ._idempotency import (
    PROBLEM_CONTENT_TYPE,
    KeyScope,
    MalformedIdempotencyKey,
    Problem,
    derive_key,
    parse_idempotency_key,
)
from ._settings import (
    SETTING_NAMES,
    RestateConfigError,
    RestateSettings,
    SettingProblem,
    check_settings,
    load_settings,
)

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "SETTING_NAMES",
    "Integration",
    "KeyScope",
    "MalformedIdempotencyKey",
    "Problem",
    "RequestBinding",
    "RestateConfigError",
    "RestateSettings",
    "SettingProblem",
    "check_settings",
    "derive_key",
    "load_settings",
    "parse_idempotency_key",
]
