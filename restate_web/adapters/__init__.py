"""Framework adapters: FastAPI/Starlette, Flask and Django over one framework-agnostic core.

The framework modules (``restate_web.adapters.fastapi``, ``.flask``, ``.django``) import their
framework; this package does not. Here are the types they share: ``Integration`` (what
``get_integration()`` returns), ``RequestBinding`` (a request's binding, e.g. for
``set_principal``), ``RestateSettings`` and ``RestateConfigError``.
"""

from ._core import Integration, RequestBinding
from ._settings import RestateConfigError, RestateSettings

__all__ = [
    "Integration",
    "RequestBinding",
    "RestateConfigError",
    "RestateSettings",
]
