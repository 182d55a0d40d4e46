"""bench/web.py's measurements at one size, in a process of their own with Django set up on
that size's database (support/web_settings.py): the data set, gunicorn, the load runs and
their database checks, the admin pages, the pulse's queries and the beat scans. Returns plain
figures; bench/web.py compares the sizes and prints the goals."""

import http.client
import importlib
import secrets
import statistics
import string
import sys
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from support import web_data
from support.web_server import gunicorn, locust_run
from support.web_sizes import Size
from support.web_urls import BARE_TABLE, CREATE_BARE_TABLE

from notifications.models import Notification
from pairs.models import Meeting, Pair
from programmes.forms import CONFIDENCE_PREFIX
from programmes.links import Purpose, make_token, participant_url
from programmes.models import KeySkill, Participant, Person, Programme
from reporting.sponsor import sponsor_months, sponsor_status_path
from risks.models import RiskFlag
from surveys.models import Pulse

CONCURRENT_SUBMISSIONS = 200
ADMIN_REQUESTS = 5
PAGE_USERS = 1
ADMIN_BUDGET_S = 2.0
BEAT_RUNS = 3
BEAT_BUDGET_S = 5.0


def measure(
    size: Size,
    *,
    rebuild: bool,
    load: bool,
    rounds: int,
    seconds: int,
    users: int,
    port: int,
    env: dict[str, str],
) -> dict[str, Any]:
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_BARE_TABLE)
    started = time.perf_counter()
    rebuilt = rebuild or not web_data.is_built(size)
    if rebuilt:
        _progress(f"building the {size.name} data set ({size.pairs:,} pairs)")
        web_data.build(size, today=timezone.localdate())
    build_s = time.perf_counter() - started
    web_data.pool_reset()
    # Planner statistics of the data as it is (autovacuum may not have analysed a fresh bulk
    # load yet: with a table's estimate of a few thousand rows where it holds 400,000, the
    # pair list's subqueries became sequential scans and the page took 30 s).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    data = web_data.built()
    pages = _admin_pages(data)
    result: dict[str, Any] = {
        "size": size.name,
        "pairs": Pair.objects.count(),
        "pulses": Pulse.objects.count(),
        "rebuilt": rebuilt,
        "build_s": build_s,
        "admin_queries": {label: _admin_queries(url) for label, url in pages},
    }
    manager_cookie = _login_cookie(web_data.MANAGER)
    _progress(f"{size.name}: built in {build_s:.0f} s; starting gunicorn")
    with gunicorn(env, port) as base:
        result["admin_ms"] = {}
        for label, url in pages:
            result["admin_ms"][label] = _admin_ms(base, url, manager_cookie)
            _progress(f"{size.name}: admin {label} {result['admin_ms'][label]['ms']:.0f} ms")
        _progress(f"{size.name}: admin pages timed")
        if load:
            result["load"] = _load(
                data, base=base, rounds=rounds, seconds=seconds, users=users, env=env
            )
            result["concurrent"] = _concurrent(base)
    web_data.pool_reset()
    if load:
        result["pulse_queries"] = _pulse_queries()
        web_data.pool_reset()
    _progress(f"{size.name}: beat scans")
    result["beat"] = _beat()
    return result


def _progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# --- Logins and pages ----------------------------------------------------------------------


def _login_cookie(username: str) -> str:
    """A session cookie of ``username``, made as the test client's force_login makes one (not
    through the sign-in form, which django-axes watches)."""
    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _admin_pages(data: web_data.Built) -> list[tuple[str, str]]:
    def changelist(model: Any) -> str:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    return [
        ("pairs", changelist(Pair)),
        ("participants", changelist(Participant)),
        ("people", changelist(Person)),
        ("sessions", changelist(Meeting)),
        ("pulses", changelist(Pulse)),
        ("flags queue", changelist(RiskFlag)),
        ("programme KPIs", reverse("admin:programmes_programme_kpis", args=[data.programme_id])),
        ("cohort diagnosis", reverse("admin:programmes_cohort_diagnosis", args=[data.cohort_id])),
        ("outbox", changelist(Notification)),
    ]


def _admin_queries(url: str) -> int:
    client = Client()
    client.force_login(User.objects.get(username=web_data.MANAGER))
    client.get(url)  # warm: the first request fills caches a manager's every request shares
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code} in-process")
    return len(queries)


def _get(base: str, path: str, cookie: str) -> tuple[int, float]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, elapsed


def _admin_ms(base: str, path: str, cookie: str) -> dict[str, float]:
    """The median of up to ADMIN_REQUESTS requests one after another, after three to warm the
    workers up (each request may go to any of the three). A page slower than ADMIN_BUDGET_S a
    request is timed fewer times (at least once after one warm-up), so that one slow page
    cannot hold the run up for many minutes; ``n`` says how many were timed."""
    times: list[float] = []
    started = time.perf_counter()
    for n in range(3 + ADMIN_REQUESTS):
        status, elapsed = _get(base, path, cookie)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        if n >= 3 or (n >= 1 and elapsed > ADMIN_BUDGET_S):
            times.append(elapsed * 1000)
        if times and time.perf_counter() - started > ADMIN_BUDGET_S * 4:
            break
    return {"ms": statistics.median(times), "n": len(times)}


# --- Load runs -----------------------------------------------------------------------------


def _csrf() -> tuple[str, str]:
    token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return f"{settings.CSRF_COOKIE_NAME}={token}", token


def _pulse_data(token: str) -> dict[str, str]:
    """Answers to every question a pulse page may ask: a field the page does not ask is
    ignored by the form."""
    data = {
        "csrfmiddlewaretoken": token,
        "held": "yes",
        "learning": "Drafts are shared early",
        "action": "Share mine earlier",
        "safety": "4",
        "teaching": "3",
        "good_fit": "yes",
        "previous_action_done": "partly",
    }
    for skill_id in KeySkill.objects.filter(programme__slug=web_data.SLUG).values_list(
        "pk", flat=True
    ):
        data[f"{CONFIDENCE_PREFIX}{skill_id}"] = "4"
    return data


def _pulse_path(participant_id: int, meeting_id: int) -> str:
    return reverse(
        "surveys:pulse",
        args=[make_token(participant_id=participant_id, purpose=Purpose.PULSE, scope=meeting_id)],
    )


def _bare_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {BARE_TABLE}")  # noqa: S608
        return cursor.fetchone()[0]


def _check(run: dict[str, Any], *, rows: int, what: str) -> dict[str, Any]:
    """The database after a write run: exactly one row per distinct saved submission, no
    5xx, nothing but redirects."""
    statuses = Counter(run["statuses"])
    saved = run.get("saved", [])
    distinct = len(set(saved)) if saved else statuses.get("302", 0)
    server_errors = sum(n for code, n in statuses.items() if code.startswith("5"))
    other = sum(n for code, n in statuses.items() if code != "302")
    run["check"] = {
        "what": what,
        "rows": rows,
        "distinct": distinct,
        "server_errors": server_errors,
        "not_redirect": other,
        "ok": rows == distinct
        and len(saved) == len(set(saved))
        and server_errors == 0
        and other == 0,
    }
    return run


def _load(
    data: web_data.Built, *, base: str, rounds: int, seconds: int, users: int, env: dict[str, str]
) -> dict[str, Any]:
    cookie, token = _csrf()
    links = [_pulse_path(p, m) for p, m in web_data.pool_links(web_data.LOAD)]
    sponsor_cookie = _login_cookie(web_data.SPONSOR)
    programme = Programme.objects.get(pk=data.programme_id)
    months = sponsor_months(programme)
    if not months:
        raise RuntimeError("the bench programme has no KPI snapshots: no sponsor page")
    pair_url = participant_url(
        participant_id=data.participant_id, purpose=Purpose.PAIR, pair_id=data.pair_id
    )
    gets = {
        "bare lookup": reverse("bench_bare_lookup", args=[data.pair_id]),
        "pair page": urlsplit(pair_url).path,
        "sponsor page": sponsor_status_path(programme, months[-1]),
    }
    kinds = ["bare insert", "pulse", "warm bare insert", "warm pulse", *gets]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in kinds}
    posts = {
        "bare insert": {"method": "POST", "paths": [reverse("bench_bare_insert")], "once": False},
        "pulse": {"method": "POST", "paths": links, "once": True},
    }
    # One round first whose figures are dropped: every worker has loaded its templates and
    # opened its connection before anything is timed.
    for number in range(-1, rounds):
        warm = number < 0
        _progress("warming up" if warm else f"round {number + 1} of {rounds}")
        # Alternate which goes first, so neither always runs on a warmer server.
        order = ["bare insert", "pulse"] if number % 2 == 0 else ["pulse", "bare insert"]
        for name in order:
            spec = {**posts[name], "cookie": cookie, "data": _pulse_data(token)}
            if name == "pulse":
                web_data.pool_reset()
                run = locust_run(spec, base=base, users=users, seconds=seconds, env=env)
                run = _check(run, rows=web_data.pool_pulses(web_data.LOAD), what="pulses")
            else:
                with connection.cursor() as cursor:
                    cursor.execute(f"TRUNCATE {BARE_TABLE}")
                run = locust_run(spec, base=base, users=users, seconds=seconds, env=env)
                run = _check(run, rows=_bare_rows(), what="bare rows")
            # A warm-up run's database check counts all the same.
            runs[name if not warm else "warm " + name].append(run)
        names = list(gets) if number % 2 == 0 else list(reversed(gets))
        for name in names:
            cookies = sponsor_cookie if name == "sponsor page" else ""
            spec = {"method": "GET", "paths": [gets[name]], "once": False, "cookie": cookies}
            # One request at a time: its time, not that of a queue for the CPU (two cores).
            run = locust_run(spec, base=base, users=PAGE_USERS, seconds=seconds, env=env)
            statuses = Counter(run["statuses"])
            if set(statuses) != {"200"}:
                raise RuntimeError(f"{name} answered {dict(statuses)}")
            if not warm:
                runs[name].append(run)
    for run in runs["pulse"] + runs["warm pulse"]:
        run.pop("saved", None)
    return {"runs": runs, "links": len(links), "users": users, "seconds": seconds}


def _concurrent(base: str) -> dict[str, Any]:
    """CONCURRENT_SUBMISSIONS simultaneous POSTs of one pulse link: how many rows, which
    statuses."""
    web_data.pool_reset()
    participant_id, meeting_id = web_data.pool_links(web_data.CONCURRENT)[0]
    path = _pulse_path(participant_id, meeting_id)
    cookie, token = _csrf()
    body = urlencode(_pulse_data(token))
    parts = urlsplit(base)
    barrier = threading.Barrier(CONCURRENT_SUBMISSIONS)
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def submit() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=300)
        try:
            conn.connect()
            barrier.wait(timeout=60)
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )
            response = conn.getresponse()
            response.read()
            status = str(response.status)
        except (OSError, threading.BrokenBarrierError) as error:
            status = f"error {type(error).__name__}"
        finally:
            conn.close()
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=submit) for _ in range(CONCURRENT_SUBMISSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = Pulse.objects.filter(meeting_id=meeting_id, participant_id=participant_id).count()
    server_errors = sum(n for code, n in statuses.items() if not code.startswith(("2", "3", "4")))
    return {
        "submissions": CONCURRENT_SUBMISSIONS,
        "rows": rows,
        "statuses": dict(statuses),
        "ok": rows == 1 and server_errors == 0,
    }


def _pulse_queries() -> int:
    """Queries of one first submission of a real signed link through the whole stack
    in-process (the test client), the page read first as a participant would; BEGIN and
    COMMIT are in the count, as the tests count SAVEPOINT and RELEASE."""
    participant_id, meeting_id = web_data.pool_links(web_data.QUERIES)[0]
    path = _pulse_path(participant_id, meeting_id)
    client = Client()
    if client.get(path).status_code != 200:
        raise RuntimeError("the pulse page of the query count's link does not open")
    data = _pulse_data("unused")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, data)
    if response.status_code != 302:
        raise RuntimeError(f"the in-process pulse POST answered {response.status_code}")
    return len(queries)


# --- Beat scans ----------------------------------------------------------------------------


def _beat() -> dict[str, dict[str, Any]]:
    """Each beat task run in-process: once to do what is due, then up to BEAT_RUNS times with
    nothing new due (once only when that takes over BEAT_BUDGET_S): the median time and the
    queries of the last."""
    figures = {}
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        module, attribute = entry["task"].rsplit(".", 1)
        task = getattr(importlib.import_module(module), attribute)
        _progress(f"beat {name}")
        task()
        times, counts = [], []
        for _ in range(BEAT_RUNS):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                task()
                times.append((time.perf_counter() - started) * 1000)
            counts.append(len(queries))
            if times[-1] > BEAT_BUDGET_S * 1000:
                break
        figures[name] = {
            "ms": statistics.median(times),
            "queries": counts[-1],
            "varies": len(set(counts)) > 1,
        }
    return figures
