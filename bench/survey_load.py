#!/usr/bin/env python
"""Load generator for the survey submission benchmark (``bench/surveys.py``), run as a
separate process on the same machine. Standard library only.

    python bench/survey_load.py --port 8123 --plan plan.json --out results.json \
        [--users 32] [--warmup 5] [--duration 30] [--repeat-share 0.03] [--ramp 3] [--seed 1]

``plan.json`` is ``{"paths": ["/surveys/r/<token>/", …], "customers": [id, …]}`` (same
order). Each virtual user is a thread with its own keep-alive connection; in a loop it takes
the next unused path (or, for ``--repeat-share`` of its iterations, one it posted before, to
exercise the update path), GETs the form, reads every hidden field and the ``csrftoken``
cookie if the page sets one (the product's personal link is CSRF-exempt and sets none;
the reference sets one), picks a random value for each radio group (NPS 0–10, CSAT 1–5, a
choice) and on about half of the posts a short English or Chinese text for each text area, and POSTs the
form. It records every POST's latency and status (and the GETs'), and, per customer, how
often it was posted and the fields of its last accepted post. The first ``--warmup``
seconds are not measured (the users start one after another over the first ``--ramp`` seconds, as
visitors arrive, rather than opening every connection in the same instant: gunicorn's worker that
wakes first would accept them all and keep them, leaving the other processes idle); the run
stops after ``--warmup + --duration`` seconds or when the paths run out (``exhausted``).
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

TEXTS = [
    "Fast delivery, thank you!",
    "The package arrived damaged.",
    "Good value for money.",
    "Customer service was slow to answer.",
    "I will order again.",
    "物流很快，非常满意！",
    "包装破损，有点失望。",
    "性价比很高。",
    "客服回复太慢了。",
    "还会再来买的。",
]

TAG = re.compile(r"<(input|textarea|form)\b([^>]*)>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'([a-zA-Z_:-]+)\s*=\s*"([^"]*)"')
COOKIE = re.compile(r"(?:^|[;,]\s*)csrftoken=([^;,\s]+)")


@dataclass
class Form:
    """What a rendered survey form asks for: where to post, the hidden fields, the values
    of each radio/checkbox group, and the text areas."""

    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)


def form_parse(page: str) -> Form:
    """The (first) form of a page, read with a regular expression over its tags."""
    form = Form()
    for tag, raw in TAG.findall(page):
        attributes = {key.lower(): html.unescape(value) for key, value in ATTRIBUTE.findall(raw)}
        tag = tag.lower()
        if tag == "form":
            if not form.action:
                form.action = attributes.get("action", "")
            continue
        name = attributes.get("name")
        if not name:
            continue
        if tag == "textarea":
            form.texts.append(name)
        elif attributes.get("type", "text").lower() == "hidden":
            form.hidden[name] = attributes.get("value", "")
        elif attributes.get("type", "").lower() in ("radio", "checkbox"):
            form.groups.setdefault(name, []).append(attributes.get("value", ""))
    return form


def csrf_cookie(set_cookie_headers: list[str]) -> str | None:
    for header in set_cookie_headers:
        found = COOKIE.search(header)
        if found:
            return found.group(1)
    return None


def answers_pick(form: Form, rng: random.Random, text_share: float = 0.5) -> dict[str, str]:
    """Valid answers: one random value per radio group, a short text on ``text_share`` of
    the forms (the text questions are optional)."""
    fields = dict(form.hidden)
    for name, values in form.groups.items():
        fields[name] = rng.choice(values)
    if rng.random() < text_share:
        for name in form.texts:
            fields[name] = rng.choice(TEXTS)
    return fields


class Run:
    """State shared by the virtual users."""

    def __init__(self, args: argparse.Namespace, paths: list[str], customers: list[int]) -> None:
        self.args = args
        self.paths = paths
        self.customers = customers
        self.next_index = 0
        self.lock = threading.Lock()
        self.started = 0.0
        self.stop_at = 0.0
        self.exhausted = False
        self.posts: list[tuple[float, float, int, int, bool]] = []  # start, latency, status, customer, repeat
        self.gets: list[tuple[float, float, int]] = []  # start, latency, status
        self.posted: dict[int, int] = {}  # customer → POSTs sent
        self.accepted: dict[int, int] = {}  # customer → POSTs answered with a redirect
        self.last: dict[int, dict[str, str]] = {}  # customer → answer fields of the last accepted POST
        self.errors: list[str] = []

    def take(self) -> int | None:
        with self.lock:
            if self.next_index >= len(self.paths):
                self.exhausted = True
                return None
            index = self.next_index
            self.next_index += 1
            return index


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict):
    """One request on the keep-alive connection (reopened once if the server closed it)."""
    for attempt in (0, 1):
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response, data
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            conn.close()
            if attempt:
                raise
    raise AssertionError("unreachable")


def user(run: Run, number: int) -> None:
    args = run.args
    rng = random.Random(args.seed * 1000 + number)
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    mine: list[int] = []
    while time.perf_counter() < run.stop_at:
        repeat = bool(mine) and rng.random() < args.repeat_share
        index = rng.choice(mine) if repeat else run.take()
        if index is None:
            break
        path, customer = run.paths[index], run.customers[index]
        try:
            started = time.perf_counter()
            response, data = _request(conn, "GET", path, None, {"Host": "127.0.0.1"})
            run.gets.append((started - run.started, time.perf_counter() - started, response.status))
            if response.status != 200:
                run.errors.append(f"GET {path}: {response.status}")
                continue
            form = form_parse(data.decode("utf-8"))
            cookie = csrf_cookie(response.headers.get_all("Set-Cookie") or [])
            fields = answers_pick(form, rng)
            body = urlencode(fields).encode()
            headers = {"Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded"}
            if cookie:
                headers["Cookie"] = f"csrftoken={cookie}"
            with run.lock:
                run.posted[customer] = run.posted.get(customer, 0) + 1
            started = time.perf_counter()
            response, _ = _request(conn, "POST", form.action or path, body, headers)
            latency = time.perf_counter() - started
            run.posts.append((started - run.started, latency, response.status, customer, repeat))
            if response.status in (302, 303):
                with run.lock:
                    run.accepted[customer] = run.accepted.get(customer, 0) + 1
                    run.last[customer] = {k: v for k, v in fields.items() if k.startswith("q")}
                if not repeat:
                    mine.append(index)
            else:
                run.errors.append(f"POST {path}: {response.status}")
        except (OSError, http.client.HTTPException) as error:
            run.errors.append(f"{path}: {type(error).__name__}: {error}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--repeat-share", type=float, default=0.03)
    parser.add_argument("--ramp", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with open(args.plan) as file:
        plan = json.load(file)
    run = Run(args, plan["paths"], plan["customers"])
    run.started = time.perf_counter()
    run.stop_at = run.started + args.warmup + args.duration
    threads = [threading.Thread(target=user, args=(run, n), daemon=True) for n in range(args.users)]
    gap = min(args.ramp, args.warmup) / args.users  # the users arrive within the warm-up
    for number, thread in enumerate(threads):
        if number:
            time.sleep(gap)
        thread.start()
    for thread in threads:
        thread.join()
    ended = time.perf_counter() - run.started
    result = {
        "users": args.users,
        "warmup": args.warmup,
        "duration": args.duration,
        "elapsed": ended,
        "exhausted": run.exhausted,
        "posts": run.posts,
        "gets": run.gets,
        "posted": {str(k): v for k, v in run.posted.items()},
        "accepted": {str(k): v for k, v in run.accepted.items()},
        "last": {str(k): v for k, v in run.last.items()},
        "errors": run.errors[:200],
        "error_count": len(run.errors),
    }
    with open(args.out, "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main()
