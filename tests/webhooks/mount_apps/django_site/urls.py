from django.urls import include, path

urlpatterns = [path("webhooks/", include("restate_web.adapters.django.urls"))]
