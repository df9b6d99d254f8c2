"""Deploying Restate services from the web app's own tooling.

The ``register``, ``deployments``, ``prune``, ``check`` and ``status`` subcommands of
``restate-web``, ``python manage.py restate`` and ``flask restate`` are thin over these
functions, which scripts may call directly:

>>> with AdminClient("http://localhost:9070") as admin:
...     result = register_deployment(admin, "http://app.internal/restate/v42")
...     print(result.outcome, result.deployment_id)
"""

from ._admin import DEFAULT_ADMIN_URL, AdminClient, AdminError
from ._operations import (
    CheckRequirements,
    CheckResult,
    DeploymentInfo,
    PruneResult,
    RegisterPlan,
    RegisterResult,
    StatusResult,
    check_services,
    list_deployments,
    prune_deployments,
    register_deployment,
    server_status,
)
from ._windows import REDELIVERY_WINDOWS

__all__ = [
    "DEFAULT_ADMIN_URL",
    "REDELIVERY_WINDOWS",
    "AdminClient",
    "AdminError",
    "CheckRequirements",
    "CheckResult",
    "DeploymentInfo",
    "PruneResult",
    "RegisterPlan",
    "RegisterResult",
    "StatusResult",
    "check_services",
    "list_deployments",
    "prune_deployments",
    "register_deployment",
    "server_status",
]
