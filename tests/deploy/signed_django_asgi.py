"""Django under ASGI with Restate services routed from a prefix (with_services)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.deploy.django_site.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

from restate_web.serving import with_services  # noqa: E402
from tests.deploy.signed_services import django_greeter  # noqa: E402

application = with_services(
    get_asgi_application(),
    [django_greeter],
    path="/restate/dj",
    identity_keys=[os.environ["SIGNED_TEST_IDENTITY_KEY"]],
)
