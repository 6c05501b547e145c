"""Survey benchmarks: personal survey submissions under load, served by gunicorn on
PostgreSQL, next to a hand-written WSGI app storing the same responses in the same run.

- ``submit``: an open survey (NPS, CSAT, single choice, optional free text; built with
  ``survey_create``) and personal links for distinct customers of the bench database.
  gunicorn serves ``config.wsgi`` on 127.0.0.1 with production settings (DEBUG off,
  collected static files, persistent database connections); the load generator
  ``bench/survey_load.py`` runs in a separate process: USERS virtual users, each GETting a
  customer's form and POSTing valid answers (no CSRF pair: the personal link is exempt,
  docs/surveys.md "CSRF"; the reference's cookie and field are sent back; a short English
  or Chinese text on half of them, REPEAT_SHARE of the posts a second submission of a
  customer already posted), WARMUP seconds unmeasured, then DURATION seconds measured.
  Then the same load against ``bench/survey_reference_wsgi.py`` (the same gunicorn
  settings, a second survey with the same questions, the same tables).

Checks (the run stops if one fails), for the product and the reference: every GET 200,
every POST a redirect (no 4xx, no 5xx, no connection errors); every customer posted has
exactly one Response row for the survey, nobody else has one; each response holds exactly
the answers of the customer's last accepted post (number, choice, text). Reported: the
accepted POSTs per second of the measured window, p50 / p95 / p99 of POST latency, and the CPU
milliseconds per response each side used in that window (gunicorn's processes, PostgreSQL's
backends and its background processes, the load generator's, the whole machine's), read from
/proc: on the 2 cores they share, the sum sets the ceiling.
Both surveys, their responses and the survey features they wrote are removed afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from django.db import connection
from django.test import override_settings

from bench.harness import Measurement, percentile, vacuum, write_results

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CUSTOMERS = 100_000  # personal links per survey (the product and the reference each)
USERS = 32
WARMUP = 5.0
DURATION = 60.0
REPEAT_SHARE = 0.03
# 2 cores: three worker processes with four threads each (see docs/benchmarks.md, "surveys").
GUNICORN = ["--workers", "3", "--threads", "4", "--worker-class", "gthread", "--keep-alive", "5"]
TARGET = "≥ 300 responses/s, p99 < 250 ms"
RESPONSE_TABLES = ("surveys_response", "surveys_answer", "surveys_answer_choices")
TABLES = (*RESPONSE_TABLES, "segments_customerfeatures")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _survey(title: str):
    from surveys.services import ChoiceInput, QuestionInput, survey_create

    return survey_create(
        title_en=title,
        title_zh="基准测试问卷",
        intro_en="A few questions about your last order.",
        thank_you_en="Thank you!",
        anonymous_enabled=False,
        questions=[
            QuestionInput(
                kind="nps", text_en="How likely are you to recommend us?", text_zh="您向朋友推荐我们的可能性有多大？"
            ),
            QuestionInput(kind="csat", text_en="How satisfied are you with your order?", text_zh="您对订单满意吗？"),
            QuestionInput(
                kind="single",
                text_en="How did you hear of us?",
                text_zh="您是如何知道我们的？",
                choices=[
                    ChoiceInput(label_en="A friend", label_zh="朋友"),
                    ChoiceInput(label_en="An ad", label_zh="广告"),
                    ChoiceInput(label_en="A search engine", label_zh="搜索引擎"),
                    ChoiceInput(label_en="Social media", label_zh="社交媒体"),
                ],
            ),
            QuestionInput(kind="text", text_en="Anything else?", text_zh="还有其他意见吗？", required=False),
        ],
    )  # fmt: skip


def _ensure_features() -> None:
    """Every customer has a feature row in production (the scheduled refresh writes them),
    so a response's NPS group and CSAT are one UPDATE of an existing row. A bench database
    whose feature table is not complete gets a full refresh first (untimed), as the
    segments suite does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM segments_customerfeatures)"
        )
        customers, rows = cursor.fetchone()
    if rows < customers:
        from segments.services import features_refresh_full

        print(f"  refreshing features first (untimed): {rows:,} rows for {customers:,} customers", flush=True)
        features_refresh_full(parallel=2)
        vacuum("segments_customerfeatures")


def _customer_ids(count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_customer ORDER BY random() LIMIT %s", [count])
        return [row[0] for row in cursor.fetchall()]


def _plan(path: Path, survey_id: int, customers: list[int], secret: str, prefix: str) -> None:
    from surveys.links import survey_token

    with override_settings(SECRET_KEY=secret):
        paths = [f"{prefix}/r/{survey_token(survey_id, customer)}/" for customer in customers]
    path.write_text(json.dumps({"paths": paths, "customers": customers}))


def _server_env(secret: str, static_root: Path) -> dict:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_HSTS_SECONDS": "0",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DATABASE_CONN_MAX_AGE": "600",
        "PRECIS_LOG_LEVEL": "WARNING",
        "DATABASE_URL": os.environ["DATABASE_URL"],
    }


def _collectstatic(env: dict) -> None:
    """DEBUG off serves hashed static names from the manifest: collect them (untimed)."""
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"collectstatic failed:\n{done.stderr[-3000:]}")


class Server:
    """gunicorn serving ``app`` on 127.0.0.1:port, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, app: str, env: dict, log: Path) -> None:
        self.port = _free_port()
        self.log = log.open("ab")
        command = [str(VENV_BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{self.port}", *GUNICORN, "--timeout", "60"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                raise RuntimeError(f"gunicorn answered {error.code} to GET {path}; see {self.log.name}") from error
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (Linux /proc)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (nor waiting for I/O) since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


POSTGRES_BACKGROUND = ("checkpointer", "background writer", "walwriter", "autovacuum", "logical replication")


def _postgres_pids() -> tuple[list[int], list[int]]:
    """PostgreSQL's processes: the client backends, and the background ones (checkpointer,
    WAL writer, autovacuum, …), told apart by the title PostgreSQL gives each process."""
    backends, background = [], []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        role = title.rsplit(": ", 1)[-1]
        (background if role.startswith(POSTGRES_BACKGROUND) else backends).append(int(entry.name))
    return backends, background


def _cpu_sample(server: Server, load: subprocess.Popen) -> dict[str, float]:
    master = server.process.pid
    workers = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    backends, background = _postgres_pids()
    return {
        "server": _cpu_seconds([master, *workers]),
        "database": _cpu_seconds(backends),
        "database background": _cpu_seconds(background),
        "load generator": _cpu_seconds([load.pid]),
        "machine": _machine_busy_seconds(),
        "wall": time.perf_counter(),
    }


def _load(server: Server, plan: Path, out: Path) -> tuple[dict, dict[str, float]]:
    """Run the load generator against the server; its results and the CPU seconds each
    side used during the measured window (sampled here at its start and end)."""
    command = [
        sys.executable, str(ROOT / "bench" / "survey_load.py"), "--port", str(server.port), "--plan", str(plan),
        "--out", str(out), "--users", str(USERS), "--warmup", str(WARMUP), "--duration", str(DURATION),
        "--repeat-share", str(REPEAT_SHARE),
    ]  # fmt: skip
    load = subprocess.Popen(command)
    try:
        time.sleep(WARMUP)
        _analyze_as_autovacuum()
        start = _cpu_sample(server, load)
        time.sleep(DURATION)
        end = _cpu_sample(server, load)
        if load.wait(timeout=300) != 0:
            raise RuntimeError(f"the load generator exited with {load.returncode}")
    finally:
        if load.poll() is None:
            load.kill()
    return json.loads(out.read_text()), {key: end[key] - start[key] for key in start}


def _analyze_as_autovacuum() -> None:
    """ANALYZE the response tables once the warm-up has written to them, as autovacuum does
    after the first 50 rows of a table (this machine's PostgreSQL runs with autovacuum off).
    The cleanup's VACUUM leaves them empty, and the foreign-key checks a backend plans on an
    empty table scan the whole table on every insert until new statistics invalidate the plan:
    without this the run measured that, not the submissions (session 14, docs/benchmarks.md)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(RESPONSE_TABLES)}")


def _cpu_per_response(cpu: dict[str, float], per_second: float) -> dict[str, float]:
    """CPU milliseconds per accepted response of each side, and how busy the machine was."""
    responses = per_second * DURATION
    shares = {f"{key} ms": round(1000 * cpu[key] / responses, 2) for key in cpu if key != "wall"}
    return shares | {"machine busy %": round(100 * cpu["machine"] / cpu["wall"] / (os.cpu_count() or 1), 1)}


def _check(label: str, survey, result: dict) -> dict:
    """Raise unless every request succeeded and the stored responses are exactly the last
    accepted post of every customer posted. Returns counts for the notes."""
    from surveys.models import Answer

    if result["error_count"]:
        raise AssertionError(f"{label}: {result['error_count']} failed requests, e.g. {result['errors'][:5]}")
    if result["exhausted"]:
        raise AssertionError(f"{label}: the {CUSTOMERS:,} links ran out before the end of the run")
    statuses = Counter(post[2] for post in result["posts"])
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    if server_errors or set(statuses) - {302, 303}:
        raise AssertionError(f"{label}: POST statuses {dict(statuses)}")
    posted = {int(k): v for k, v in result["posted"].items()}
    accepted = {int(k): v for k, v in result["accepted"].items()}
    if accepted != posted:
        raise AssertionError(f"{label}: posts not accepted for {len(set(posted.items()) - set(accepted.items()))}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_id, count(*) FROM surveys_response WHERE survey_id = %s GROUP BY customer_id",
            [survey.pk],
        )
        rows = dict(cursor.fetchall())
    doubled = {customer for customer, count in rows.items() if count != 1}
    lost = set(posted) - set(rows)
    extra = set(rows) - set(posted)
    if doubled or lost or extra:
        raise AssertionError(
            f"{label}: {len(lost)} customers lost, {len(doubled)} doubled, {len(extra)} responses nobody posted"
        )
    stored: dict[int, dict[str, str]] = {}
    answers = Answer.objects.filter(response__survey=survey).values_list(
        "response__customer_id", "question_id", "number", "text", "choices"
    )
    for customer, question, number, text, choice in answers.iterator(chunk_size=20_000):
        value = str(number) if number is not None else (text or (str(choice) if choice is not None else ""))
        stored.setdefault(customer, {})[f"q{question}"] = value
    expected = {int(k): {name: value for name, value in v.items() if value != ""} for k, v in result["last"].items()}
    wrong = [customer for customer, fields in expected.items() if stored.get(customer) != fields]
    if wrong:
        customer = wrong[0]
        raise AssertionError(
            f"{label}: answers differ from the last post for {len(wrong)} customers, e.g. {customer}: "
            f"stored {stored.get(customer)}, posted {expected[customer]}"
        )
    repeated = sum(1 for count in posted.values() if count > 1)
    return {"customers": len(posted), "repeated": repeated, "posts": sum(posted.values())}


def _summary(result: dict) -> dict:
    window = (result["warmup"], result["warmup"] + result["duration"])
    measured = [p for p in result["posts"] if window[0] <= p[0] + p[1] < window[1]]
    latencies = [p[1] for p in measured]
    gets = [g[1] for g in result["gets"] if window[0] <= g[0] + g[1] < window[1]]
    return {
        "latencies": latencies,
        "per_second": sum(1 for p in measured if p[2] in (302, 303)) / result["duration"],
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "get_p50": percentile(gets, 50),
        "get_p99": percentile(gets, 99),
        "repeats": sum(1 for p in measured if p[4]),
    }


def _cleanup(survey_ids: list[int], customers: list[int]) -> None:
    """Delete the bench surveys with their responses, answers and choice links (set-based),
    recompute the survey features of the customers the product wrote, vacuum."""
    from surveys.models import Survey
    from surveys.services import survey_features_write

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM surveys_answer_choices WHERE answer_id IN (SELECT a.id FROM surveys_answer a "
            "JOIN surveys_response r ON r.id = a.response_id WHERE r.survey_id = ANY(%s))",
            [survey_ids],
        )
        cursor.execute(
            "DELETE FROM surveys_answer WHERE response_id IN "
            "(SELECT id FROM surveys_response WHERE survey_id = ANY(%s))",
            [survey_ids],
        )
        cursor.execute("DELETE FROM surveys_response WHERE survey_id = ANY(%s)", [survey_ids])
    Survey.objects.filter(pk__in=survey_ids).delete()
    # The product copied NPS group and CSAT into these customers' feature rows: recompute
    # them without the deleted answers (cleared unless another survey has their answers).
    if customers:
        survey_features_write(customer_ids=customers)
    vacuum(*TABLES)


def bench_submit() -> list[Measurement]:
    secret = secrets.token_urlsafe(50)
    workdir = Path(tempfile.mkdtemp(prefix="precis-bench-surveys-"))
    env = _server_env(secret, workdir / "static")
    created, written, finished = [], [], False
    _ensure_features()
    customers = _customer_ids(CUSTOMERS)
    try:
        print("  collecting static files (DEBUG off)", flush=True)
        _collectstatic(env)
        product_survey = _survey("bench: survey submission")
        reference_survey = _survey("bench: survey submission (reference)")
        created = [product_survey, reference_survey]
        _plan(workdir / "product.json", product_survey.pk, customers, secret, "/surveys")
        _plan(workdir / "reference.json", reference_survey.pk, customers[::-1], secret, "")
        runs = {}
        for label, app, survey in (
            ("product", "config.wsgi", product_survey),
            ("reference", "bench.survey_reference_wsgi:application", reference_survey),
        ):
            plan = workdir / f"{label}.json"
            probe = json.loads(plan.read_text())["paths"][-1]  # a GET only: never posted
            with Server(app, env, workdir / f"{label}.log") as server:
                server.wait_ready(probe)
                print(f"  {label}: {USERS} users, {WARMUP:.0f} s warm-up + {DURATION:.0f} s", flush=True)
                result, cpu = _load(server, plan, workdir / f"{label}-result.json")
            if label == "product":
                written = [int(customer) for customer in result["posted"]]
            counts = _check(label, survey, result)
            runs[label] = _summary(result) | counts
            runs[label]["cpu"] = _cpu_per_response(cpu, runs[label]["per_second"])
            print(
                f"  {label}: {runs[label]['per_second']:,.0f} responses/s, p50 {runs[label]['p50'] * 1000:.1f} ms, "
                f"p99 {runs[label]['p99'] * 1000:.1f} ms; {counts['customers']:,} customers, "
                f"{counts['repeated']:,} posted twice or more, all stored once; CPU per response "
                + ", ".join(f"{key} {value}" for key, value in runs[label]["cpu"].items()),
                flush=True,
            )
        finished = True
    finally:
        if created:
            _cleanup([survey.pk for survey in created], written)
        if finished:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"  gunicorn logs and load results kept in {workdir}", flush=True)
    product, reference = runs["product"], runs["reference"]
    met = product["per_second"] >= 300 and product["p99"] < 0.25
    throughput_ratio = product["per_second"] / reference["per_second"]
    measurement = Measurement(
        name="survey submission under load (gunicorn, GET form + POST answers)",
        target=TARGET,
        product_seconds=[round(s, 5) for s in product["latencies"]],
        reference_seconds=[round(s, 5) for s in reference["latencies"]],
        notes=(
            f"product {product['per_second']:,.0f} responses/s, POST p50 {product['p50'] * 1000:.1f} / "
            f"p95 {product['p95'] * 1000:.1f} / p99 {product['p99'] * 1000:.1f} ms "
            f"({'met' if met else 'NOT met'}); reference {reference['per_second']:,.0f} responses/s, "
            f"p50 {reference['p50'] * 1000:.1f} / p95 {reference['p95'] * 1000:.1f} / "
            f"p99 {reference['p99'] * 1000:.1f} ms; throughput ratio {throughput_ratio:.2f} "
            f"(product / reference); GET p50 {product['get_p50'] * 1000:.1f} ms (reference "
            f"{reference['get_p50'] * 1000:.1f} ms); {USERS} users, {WARMUP:.0f} s warm-up + {DURATION:.0f} s; "
            f"gunicorn {' '.join(GUNICORN)}; {product['customers']:,} customers posted "
            f"({product['repeated']:,} twice or more), each stored exactly once with its last answers, no 4xx/5xx; "
            f"CPU ms per response (product / reference): "
            + ", ".join(
                f"{key.removesuffix(' ms')} {product['cpu'][key]} / {reference['cpu'][key]}"
                for key in product["cpu"] if key.endswith(" ms")
            )
            + f"; machine busy {product['cpu']['machine busy %']} % / {reference['cpu']['machine busy %']} %"
        ),
        extra={
            label: {key: value for key, value in run.items() if key != "latencies"}
            for label, run in runs.items()
        }
        | {"users": USERS, "warmup": WARMUP, "duration": DURATION, "gunicorn": GUNICORN, "met": met},
    )  # fmt: skip
    return [measurement]


BENCHES = {"submit": "bench_submit"}


def run(context: dict, only: list[str] | None = None) -> None:
    measurements = []
    for key, name in BENCHES.items():
        if only and key not in only:
            continue
        bench = globals()[name]
        print(f"running {bench.__name__}", flush=True)
        measurements.extend(bench())
    path = write_results("surveys", measurements, context)
    print(f"wrote {path}")
