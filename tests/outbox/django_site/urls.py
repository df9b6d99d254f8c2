from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from tests.outbox.django_site import views

urlpatterns = [
    path("sync/orders", csrf_exempt(views.sync_order)),
    path("async/orders", csrf_exempt(views.async_order)),
    path("autocommit/orders", csrf_exempt(views.autocommit_order)),
    path("other/orders", csrf_exempt(views.other_database_order)),
]
