from django.urls import include, path

from . import views

urlpatterns = [
    path("orders", views.create_order),
    path("orders/<str:order_id>", views.get_order),
    path("stock/<str:sku>", views.get_stock),
    # The endpoints named in RESTATE["WEBHOOKS"]: POST /webhooks/stripe
    path("webhooks/", include("restate_web.adapters.django.urls")),
    path("debug/misuse", views.debug_misuse),
]
