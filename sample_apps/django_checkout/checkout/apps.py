from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "sample_apps.django_checkout.checkout"
    label = "checkout"
