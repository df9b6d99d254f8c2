"""Django settings for ``python -m django restate ...`` in the deploy tests."""

import os

SECRET_KEY = "deploy-tests-only"
DEBUG = True
INSTALLED_APPS = ["restate_web.adapters.django"]
MIDDLEWARE = ["restate_web.adapters.django.middleware.RestateMiddleware"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
RESTATE = {
    "ADMIN_URL": os.environ["DEPLOY_TEST_ADMIN_URL"],
    "WEBHOOKS": {"stripe": "tests.deploy.hooks:stripe"},
}
