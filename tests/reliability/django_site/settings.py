"""Django settings of the reliability web app (served by uvicorn in the process tests)."""

from tests.adapters.apps.django_project.settings import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.django_site.urls"
RESTATE = {"FORWARD_HEADERS": []}  # the ingress URL comes from RESTATE_INGRESS_URL
