"""Settings of the Django scenario project (test client in-process, WSGI and ASGI processes)."""

SECRET_KEY = "restate-web-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.adapters.apps.django_project.urls"
INSTALLED_APPS = ["restate_web.adapters.django"]
MIDDLEWARE = [
    "tests.adapters.apps.django_project.auth.HeaderUserMiddleware",
    "restate_web.adapters.django.middleware.RestateMiddleware",
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
# The ingress URL comes from RESTATE_INGRESS_URL (processes) or override_settings (in-process).
RESTATE = {"FORWARD_HEADERS": ["x-allowed"]}
