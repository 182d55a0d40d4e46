"""The product's URLs plus bench/web.py's bare views, which go through the same middleware
(sessions, CSRF, authentication, axes) as the product's pages:

- ``bench/bare/insert/`` (POST): one INSERT into ``bench_bare_row``, a table only the benchmark
  creates, then a redirect, as the pulse POST answers;
- ``bench/bare/lookup/<pk>/``: one ``Pair.objects.get(pk=…)`` and a small response.

Served only under support/web_settings.py; the product's own URLs know nothing of them."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path
from django.views.decorators.http import require_GET, require_POST

from pairs.models import Pair

BARE_TABLE = "bench_bare_row"
CREATE_BARE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} "
    "(id bigserial PRIMARY KEY, value text NOT NULL, created_at timestamptz NOT NULL)"
)


@require_POST
def bare_insert(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (value, created_at) VALUES (%s, now())",  # noqa: S608
            [request.POST.get("learning", "")[:280]],
        )
    return HttpResponseRedirect("/bench/bare/thanks/")


@require_GET
def bare_lookup(request: HttpRequest, pk: int) -> HttpResponse:
    pair = Pair.objects.get(pk=pk)
    return HttpResponse(f"<p>Pair {pair.pk}: {pair.status}</p>")


urlpatterns = [
    path("bench/bare/insert/", bare_insert, name="bench_bare_insert"),
    path("bench/bare/lookup/<int:pk>/", bare_lookup, name="bench_bare_lookup"),
    path("", include("mentoring.urls")),
]
