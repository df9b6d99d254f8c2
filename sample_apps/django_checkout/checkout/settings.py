"""Settings of the Django checkout sample: as small as a real project allows."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sample-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "restate_web.adapters.django",
    "sample_apps.django_checkout.checkout",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "restate_web.adapters.django.middleware.RestateMiddleware",
]
ROOT_URLCONF = "sample_apps.django_checkout.checkout.urls"
WSGI_APPLICATION = "sample_apps.django_checkout.checkout.wsgi.application"
ASGI_APPLICATION = "sample_apps.django_checkout.checkout.asgi.application"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True

# One namespaced dict; unset keys fall back to the RESTATE_* environment variables.
RESTATE = {
    "INGRESS_URL": os.environ.get("RESTATE_INGRESS_URL", "http://localhost:8080"),
    "WEBHOOKS": {"stripe": "sample_apps.common.web:stripe_endpoint"},
}
