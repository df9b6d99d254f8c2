"""Django settings for ``python -m django restate ...`` in the deploy tests."""

import os

SECRET_KEY = "deploy-tests-only"
DEBUG = True
INSTALLED_APPS = ["restate_web.adapters.django"]
MIDDLEWARE = ["restate_web.adapters.django.middleware.RestateMiddleware"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
RESTATE = {
    "ADMIN_URL": os.environ.get("DEPLOY_TEST_ADMIN_URL", "http://127.0.0.1:9"),
    "WEBHOOKS": {"stripe": "tests.deploy.hooks:stripe"},
}
ROOT_URLCONF = "tests.deploy.django_site.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
