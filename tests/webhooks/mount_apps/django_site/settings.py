from tests.webhooks.mount_apps.endpoints import WEBHOOKS

SECRET_KEY = "restate-web-webhook-tests"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.webhooks.mount_apps.django_site.urls"
INSTALLED_APPS = ["restate_web.adapters.django"]
MIDDLEWARE = [
    # CSRF protection is on, as in any real project: the webhook views must be exempt.
    "django.middleware.csrf.CsrfViewMiddleware",
    "restate_web.adapters.django.middleware.RestateMiddleware",
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
RESTATE = {"WEBHOOKS": WEBHOOKS}
