import os

from restate_web.adapters.django.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sample_apps.django_checkout.checkout.settings")
application = get_asgi_application()
