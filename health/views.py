from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from health.checks import HEARTBEAT_STALE_AFTER, check_broker, check_database, heartbeat_age


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 naming the one that does not.

    The worker heartbeat is reported but does not fail the check: a web process is healthy
    even while the workers restart, and its orchestrator should not kill it for that.
    """
    checks = {
        "database": "ok" if check_database() else "unreachable",
        "broker": "ok" if check_broker() else "unreachable",
    }
    age = heartbeat_age()
    if age is None:
        worker = "no heartbeat yet"
    else:
        seconds = int(age.total_seconds())
        worker = f"last heartbeat {seconds} s ago"
        if age > HEARTBEAT_STALE_AFTER:
            worker += " (stale: are the Celery worker and beat running?)"
    failing = [name for name, state in checks.items() if state != "ok"]
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": checks,
        "worker": worker,
    }
    if failing:
        body["message"] = f"{' and '.join(failing)} unreachable"
    return JsonResponse(body, status=503 if failing else 200)
