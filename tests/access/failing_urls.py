"""A URLconf for idempotency tests: API views that fail, or that re-enter with the same key while running.

They stand in for any view under /api/ so the middleware can be watched releasing or guarding a key
without mocking anything of ours.
"""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client
from django.urls import path

calls: list[str] = []


def fails_once(request: HttpRequest) -> HttpResponse:
    calls.append("fails_once")
    if calls.count("fails_once") == 1:
        return JsonResponse({"code": "server_error"}, status=500)
    return JsonResponse({"attempt": calls.count("fails_once")}, status=201)


def raises_once(request: HttpRequest) -> HttpResponse:
    calls.append("raises_once")
    if calls.count("raises_once") == 1:
        raise RuntimeError("the database went away")
    return JsonResponse({"attempt": calls.count("raises_once")}, status=201)


def reenters(request: HttpRequest) -> HttpResponse:
    """While this request runs, the same caller sends the same key again (same body, then another)."""
    calls.append("reenters")
    client = Client(HTTP_AUTHORIZATION=request.headers["Authorization"])
    key = request.headers["Idempotency-Key"]
    inner = {}
    for label, body in (("same", request.body), ("different", b'{"other": true}')):
        response = client.post(
            request.path, body, content_type="application/json", headers={"Idempotency-Key": key}
        )
        inner[label] = {"status": response.status_code, "body": json.loads(response.content)}
    return JsonResponse(inner, status=201)


urlpatterns = [
    path("api/v1/test/fails-once", fails_once),
    path("api/v1/test/raises-once", raises_once),
    path("api/v1/test/reenters", reenters),
]
