from __future__ import annotations

from django.urls import path

from tests.reliability.webapp import django_views

urlpatterns = [path(route, view) for route, view in django_views().items()]
