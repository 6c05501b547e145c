"""The HTTP channel against a real local server: 2xx / 4xx / 5xx / timeout
classification, the Idempotency-Key, bearer token and body signature."""

import hashlib
import hmac
import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.channels import OutgoingMessage, backend_for
from campaigns.channels.console import ConsoleChannelBackend
from campaigns.channels.http import HttpChannelBackend


class Gateway(BaseHTTPRequestHandler):
    """/ok → 200 with an id, /bad → 400, /throttle → 429, /down → 503, /slow → 200 after 2 s."""

    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path == "/slow":
            time.sleep(2)
        status = {"/ok": 200, "/bad": 400, "/throttle": 429, "/down": 503, "/slow": 200}[self.path]
        answer = json.dumps({"id": f"gw-{json.loads(body)['message_id']}"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def sms(message_id: int) -> OutgoingMessage:
    return OutgoingMessage(message_id=message_id, channel="sms", to="+8613800000001", text="Spring sale: 15% off")


@pytest.mark.parametrize(
    ("path", "ok", "temporary"),
    [("/ok", True, False), ("/bad", False, False), ("/throttle", False, True), ("/down", False, True)],
)
def test_status_classification(gateway, path, ok, temporary):
    backend = HttpChannelBackend(channel="sms", url=gateway + path)
    [outcome] = backend.send_many([sms(11)])
    assert (outcome.ok, outcome.temporary) == (ok, temporary)
    assert outcome.message_id == 11
    if ok:
        assert outcome.provider_id == "gw-11"
    else:
        assert outcome.error.startswith("HTTP ")


def test_timeout_is_temporary(gateway):
    backend = HttpChannelBackend(channel="sms", url=gateway + "/slow", timeout=0.3)
    [outcome] = backend.send_many([sms(1)])
    assert not outcome.ok and outcome.temporary and "Timeout" in outcome.error


def test_connection_refused_is_temporary():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    [outcome] = HttpChannelBackend(channel="sms", url=f"http://127.0.0.1:{port}/").send_many([sms(1)])
    assert not outcome.ok and outcome.temporary


def test_every_request_carries_idempotency_key_token_and_signature(gateway):
    backend = HttpChannelBackend(channel="webhook", url=gateway + "/ok", token="t0k", signing_secret="s3cret")
    outcomes = backend.send_many([sms(21), sms(22)])
    assert [o.ok for o in outcomes] == [True, True]
    for message_id, request in zip((21, 22), Gateway.received, strict=True):
        headers = request["headers"]
        assert headers["Idempotency-Key"] == str(message_id)
        assert headers["Authorization"] == "Bearer t0k"
        expected = "sha256=" + hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
        assert headers["X-Precis-Signature"] == expected
        body = json.loads(request["body"])
        assert body == {"message_id": message_id, "channel": "webhook", "to": "+8613800000001",
                        "text": "Spring sale: 15% off"}  # fmt: skip


def test_batch_with_mixed_answers_keeps_order(gateway):
    backend = HttpChannelBackend(channel="sms", url=gateway + "/ok")
    outcomes = backend.send_many([sms(1), sms(2), sms(3)])
    assert [o.message_id for o in outcomes] == [1, 2, 3]


def test_backend_for_reads_the_settings(settings, gateway):
    settings.PRECIS_SMS_BACKEND = "campaigns.channels.http.HttpChannelBackend"
    settings.PRECIS_SMS_URL = gateway + "/ok"
    settings.PRECIS_SMS_IDEMPOTENT = True
    backend = backend_for("sms")
    assert isinstance(backend, HttpChannelBackend) and backend.idempotent
    assert backend.send_many([sms(5)])[0].provider_id == "gw-5"
    settings.PRECIS_SMS_IDEMPOTENT = False
    assert not backend_for("sms").idempotent


def test_missing_url_fails_temporarily(settings):
    settings.PRECIS_WEBHOOK_URL = ""
    [outcome] = HttpChannelBackend(channel="webhook").send_many([sms(1)])
    assert not outcome.ok and outcome.temporary and "PRECIS_WEBHOOK_URL" in outcome.error


def test_console_is_the_default_stand_in(settings):
    settings.PRECIS_WEBHOOK_BACKEND = ""
    assert isinstance(backend_for("webhook"), ConsoleChannelBackend)
    stream = io.StringIO()
    message = sms(9)
    message.payload = {"text": "hi"}
    [outcome] = ConsoleChannelBackend(channel="webhook", stream=stream).send_many([message])
    assert outcome.ok
    assert json.loads(stream.getvalue()) == {"message_id": 9, "channel": "webhook", "to": "+8613800000001",
                                             "payload": {"text": "hi"}}  # fmt: skip
