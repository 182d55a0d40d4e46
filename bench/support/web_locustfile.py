"""bench/web.py's Locust users: each sends, as fast as the server answers, the one kind of
request a run measures, described by the JSON file BENCH_WEB_INPUT:

    {"method": "GET" or "POST", "paths": [...], "once": bool, "cookie": "...", "data": {...}}

With ``once`` each path is sent once in all (the distinct pulse links of a load run: a user
whose next link would be a second use of one stops, and the run counts it as ``exhausted``);
without, every request is for the first path. Redirects are not followed (the pulse and the
bare insert answer with one). At the end it writes BENCH_WEB_OUTPUT: the responses' status
codes and how many, and for ``once`` the paths answered with a redirect (saved submissions).
"""

import itertools
import json
import os
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

with open(os.environ["BENCH_WEB_INPUT"]) as file:
    SPEC: dict[str, Any] = json.load(file)
NEXT = itertools.count()
STATUSES: Counter[str] = Counter()
SAVED: list[str] = []
EXHAUSTED = [0]


@events.request.add_listener
def _count(response: Any = None, exception: Any = None, context: Any = None, **_: Any) -> None:
    status = getattr(response, "status_code", None) if exception is None else None
    STATUSES[str(status) if status else "error"] += 1
    if SPEC["once"] and status == 302 and context:
        SAVED.append(context["path"])


@events.quitting.add_listener
def _write(**_: Any) -> None:
    with open(os.environ["BENCH_WEB_OUTPUT"], "w") as file:
        json.dump({"statuses": STATUSES, "saved": SAVED, "exhausted": EXHAUSTED[0]}, file)


class BenchUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def one(self) -> None:
        paths = SPEC["paths"]
        if SPEC["once"]:
            index = next(NEXT)
            if index >= len(paths):
                EXHAUSTED[0] += 1
                raise StopUser()
            path = paths[index]
        else:
            path = paths[0]
        headers = {"Cookie": SPEC["cookie"]} if SPEC.get("cookie") else {}
        if SPEC.get("data"):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.client.request(
            SPEC["method"],
            path,
            name=SPEC["method"],
            data=urlencode(SPEC["data"]) if SPEC.get("data") else None,
            headers=headers,
            allow_redirects=False,
            context={"path": path},
        )
