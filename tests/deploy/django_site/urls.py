from django.http import JsonResponse
from django.urls import path


def ping(request):
    return JsonResponse({"app": "django"})


urlpatterns = [path("ping", ping)]
