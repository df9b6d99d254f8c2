from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "tests.outbox.django_site.shop"
    label = "shop"
