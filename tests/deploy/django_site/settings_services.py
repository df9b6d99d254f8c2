"""The deploy tests' Django settings plus served Restate services, shaped by the environment:
``DEPLOY_TEST_SERVICES`` ("module:name"), ``DEPLOY_TEST_ALLOWED_HOSTS`` (comma-separated);
``RESTATE_IDENTITY_KEYS`` and ``RESTATE_SERVICES_PATH`` are read by restate-web itself."""

import os

from .settings import *  # noqa: F403
from .settings import RESTATE

RESTATE = {**RESTATE, "SERVICES": os.environ.get("DEPLOY_TEST_SERVICES") or None}
ALLOWED_HOSTS = os.environ.get("DEPLOY_TEST_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
