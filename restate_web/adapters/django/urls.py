"""``path("webhooks/", include("restate_web.adapters.django.urls"))``: the endpoints named in
``RESTATE["WEBHOOKS"]``, each at ``<prefix><name>``."""

from .webhooks import webhook_urlpatterns

app_name = "restate_web"
urlpatterns = webhook_urlpatterns()
