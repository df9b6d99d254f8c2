"""Django shop for the outbox proofs. The database: $OUTBOX_DJANGO_DB, either
``sqlite:<path>`` or ``postgresql:<port>:<name>``; the ingress from RESTATE_INGRESS_URL."""

import os

SECRET_KEY = "restate-web-outbox-tests"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.outbox.django_site.urls"
INSTALLED_APPS = ["restate_web.adapters.django", "tests.outbox.django_site.shop"]
MIDDLEWARE = ["restate_web.adapters.django.middleware.RestateMiddleware"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
RESTATE = {"FORWARD_HEADERS": []}

_kind, _, _rest = os.environ.get("OUTBOX_DJANGO_DB", "sqlite:/tmp/outbox-unset.db").partition(":")
if _kind == "postgresql":
    _port, _, _name = _rest.partition(":")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _name,
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": _port,
        },
        # A second alias for send(..., outbox=True, using="other").
        "other": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _name + "_other",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": _port,
        },
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _rest,
            "OPTIONS": {"timeout": 60},
        },
        "other": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _rest + ".other",
            "OPTIONS": {"timeout": 60},
        },
    }
