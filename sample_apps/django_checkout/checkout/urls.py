from django.urls import path

from . import views

urlpatterns = [
    path("orders", views.create_order),
    path("orders/<str:order_id>", views.get_order),
    path("stock/<str:sku>", views.get_stock),
    path("webhooks/stripe", views.stripe_webhook),
    path("debug/misuse", views.debug_misuse),
]
