"""Django under ASGI serving RESTATE["SERVICES"] from RESTATE["SERVICES_PATH"], signed."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.deploy.django_site.settings_services")

from restate_web.adapters.django.asgi import get_asgi_application

application = get_asgi_application()
