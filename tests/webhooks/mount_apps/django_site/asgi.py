import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.webhooks.mount_apps.django_site.settings")

from restate_web.adapters.django.asgi import get_asgi_application

application = get_asgi_application()
