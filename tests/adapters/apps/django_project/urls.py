from __future__ import annotations

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from . import views

urlpatterns = []
for kind in ("sync", "async"):
    for route, name in [
        ("count/<str:key>", "count"),
        ("count-twice/<str:key>", "count_twice"),
        ("required/<str:key>", "required"),
        ("explicit/<str:key>", "explicit"),
        ("headers", "headers"),
        ("derived-keys/<path:rest>", "derived"),
        ("durable-only", "durable_only"),
        ("durable-only-spawned", "durable_only_spawned"),
        ("clients/<str:key>", "clients"),
        ("use-leaked/<str:name>", "use_leaked"),
    ]:
        view = getattr(views, f"{kind}_{name}")
        urlpatterns.append(path(f"{kind}/{route}", csrf_exempt(view), name=f"{kind}-{name}"))
