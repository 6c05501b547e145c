"""The hand-written reference of the survey submission benchmark: a minimal WSGI app (no
Django) doing only what storing a personal survey response needs, into the product's own
tables, served by the same gunicorn settings as the product (``bench/surveys.py``).

- ``GET /r/<token>/``: check the token's signature (the same HMAC as
  ``django.core.signing.Signer(salt="precis.surveys.link")``, with ``DJANGO_SECRET_KEY``),
  then a small static form: a random CSRF value as cookie and hidden field, one radio group
  per NPS / CSAT / choice question and a text area per text question (built once per survey
  and process from one query).
- ``POST /r/<token>/``: the token again, the CSRF cookie equal to the field, the urlencoded
  body parsed, each answer checked (number in range, a choice of the question, required
  answers present), then one transaction: ``INSERT … ON CONFLICT (survey_id, customer_id)
  DO UPDATE … RETURNING id``, delete the old answers (and their choice links), insert the
  answers and the choice links; 302 to a thank-you address.

No sentiment scoring, no feature update, no templates, no middleware. One psycopg
connection per worker thread, kept open (``DATABASE_URL``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import UTC, datetime
from urllib.parse import parse_qs

import psycopg

SALT = "precis.surveys.link"
RANGES = {"nps": (0, 10), "csat": (1, 5)}

_local = threading.local()
_forms: dict[int, tuple[list[tuple[int, str, bool, frozenset[int]]], str]] = {}
_forms_lock = threading.Lock()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).strip(b"=").decode()


def token_read(token: str, secret: str) -> tuple[int, int] | None:
    """(survey id, customer id) of a genuine ``survey_token``, else None."""
    value, _, signature = token.rpartition(":")
    key = hashlib.sha256((SALT + "signer" + secret).encode()).digest()
    expected = _b64(hmac.new(key, value.encode(), hashlib.sha256).digest())
    if not value or not hmac.compare_digest(expected, signature):
        return None
    try:
        ids = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except ValueError:
        return None
    if not (isinstance(ids, list) and len(ids) == 2 and all(type(part) is int for part in ids)):
        return None
    return ids[0], ids[1]


def _connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return conn


def _form(survey_id: int):
    """The survey's questions (id, kind, required, choice ids) and its form's HTML with a
    ``__CSRF__`` and ``__ACTION__`` slot, read once per process."""
    with _forms_lock:
        cached = _forms.get(survey_id)
    if cached is not None:
        return cached
    conn = _connection()
    with conn.transaction():
        rows = conn.execute(
            "SELECT q.id, q.kind, q.required, coalesce(array_agg(c.id ORDER BY c.position, c.id) "
            "FILTER (WHERE c.id IS NOT NULL), '{}') FROM surveys_question q LEFT JOIN surveys_choice c "
            "ON c.question_id = q.id WHERE q.survey_id = %s GROUP BY q.id ORDER BY q.position, q.id",
            [survey_id],
        ).fetchall()
    questions = [(row[0], row[1], row[2], frozenset(row[3])) for row in rows]
    parts = ['<!doctype html><meta charset="utf-8"><form method="post" action="__ACTION__">',
             '<input type="hidden" name="csrfmiddlewaretoken" value="__CSRF__">']  # fmt: skip
    for question_id, kind, _, choices in questions:
        if kind in RANGES:
            low, high = RANGES[kind]
            values = range(low, high + 1)
        else:
            values = sorted(choices)
        if kind == "text":
            parts.append(f'<textarea name="q{question_id}"></textarea>')
        else:
            kind_input = "checkbox" if kind == "multiple" else "radio"
            parts.extend(f'<input type="{kind_input}" name="q{question_id}" value="{v}">' for v in values)
    parts.append('<button type="submit">Send</button></form>')
    form = (questions, "".join(parts))
    with _forms_lock:
        _forms[survey_id] = form
    return form


def _answers(questions, fields: dict[str, list[str]]) -> list[tuple[int, int | None, str, list[int]]] | None:
    """(question id, number, text, choice ids) per answered question, None if invalid."""
    answers = []
    for question_id, kind, required, choices in questions:
        values = [v for v in fields.get(f"q{question_id}", []) if v.strip()]
        if not values:
            if required:
                return None
            continue
        if kind in RANGES:
            if len(values) != 1 or not values[0].isdigit():
                return None
            number = int(values[0])
            low, high = RANGES[kind]
            if not low <= number <= high:
                return None
            answers.append((question_id, number, "", []))
        elif kind == "text":
            if len(values[0]) > 5000:
                return None
            answers.append((question_id, None, values[0].strip(), []))
        else:
            picked = [int(v) for v in values if v.isdigit() and int(v) in choices]
            if len(picked) != len(values) or (kind == "single" and len(picked) != 1):
                return None
            answers.append((question_id, None, "", picked))
    return answers


def _store(survey_id: int, customer_id: int, language: str, answers) -> int:
    conn = _connection()
    now = datetime.now(UTC)
    with conn.transaction():
        response_id = conn.execute(
            "INSERT INTO surveys_response (survey_id, customer_id, channel, language, submitted_at, updated_at) "
            "VALUES (%s, %s, 'personal', %s, %s, %s) ON CONFLICT (survey_id, customer_id) DO UPDATE "
            "SET channel = EXCLUDED.channel, language = EXCLUDED.language, updated_at = EXCLUDED.updated_at "
            "RETURNING id",
            [survey_id, customer_id, language, now, now],
        ).fetchone()[0]
        conn.execute(
            "DELETE FROM surveys_answer_choices WHERE answer_id IN "
            "(SELECT id FROM surveys_answer WHERE response_id = %s)",
            [response_id],
        )
        conn.execute("DELETE FROM surveys_answer WHERE response_id = %s", [response_id])
        values = ", ".join(["(%s, %s, %s, %s, '', NULL)"] * len(answers))
        params = [p for question_id, number, text, _ in answers for p in (response_id, question_id, number, text)]
        ids = conn.execute(
            "INSERT INTO surveys_answer (response_id, question_id, number, text, sentiment_label, sentiment_score) "
            f"VALUES {values} RETURNING id",
            params,
        ).fetchall()
        links = [(answer_id, choice) for (answer_id,), a in zip(ids, answers, strict=True) for choice in a[3]]
        if links:
            conn.execute(
                "INSERT INTO surveys_answer_choices (answer_id, choice_id) VALUES "
                + ", ".join(["(%s, %s)"] * len(links)),
                [p for link in links for p in link],
            )
    return response_id


def _reply(start_response, status: str, body: bytes = b"", headers: list | None = None) -> list[bytes]:
    start_response(status, [("Content-Length", str(len(body))), *(headers or [])])
    return [body]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    parts = path.strip("/").split("/")
    if len(parts) != 2 or parts[0] != "r":
        return _reply(start_response, "404 Not Found")
    ids = token_read(parts[1], os.environ["DJANGO_SECRET_KEY"])
    if ids is None:
        return _reply(start_response, "404 Not Found")
    survey_id, customer_id = ids
    questions, page = _form(survey_id)
    method = environ["REQUEST_METHOD"]
    if method == "GET":
        csrf = secrets.token_urlsafe(24)
        body = page.replace("__CSRF__", csrf).replace("__ACTION__", path).encode()
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Set-Cookie", f"csrftoken={csrf}; Path=/")]
        return _reply(start_response, "200 OK", body, headers)
    if method != "POST":
        return _reply(start_response, "405 Method Not Allowed")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    fields = parse_qs(environ["wsgi.input"].read(length).decode(), keep_blank_values=True)
    cookies = dict(part.strip().split("=", 1) for part in environ.get("HTTP_COOKIE", "").split(";") if "=" in part)
    csrf = fields.get("csrfmiddlewaretoken", [""])[0]
    if not csrf or not hmac.compare_digest(cookies.get("csrftoken", ""), csrf):
        return _reply(start_response, "403 Forbidden")
    answers = _answers(questions, fields)
    if answers is None:
        return _reply(start_response, "400 Bad Request")
    _store(survey_id, customer_id, fields.get("lang", [""])[0][:16], answers)
    return _reply(start_response, "302 Found", headers=[("Location", f"{path}thanks/")])
