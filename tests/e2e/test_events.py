"""Notifications: `GET /api/tasks/events` (server-sent events) and signed webhooks.

Webhooks go to a small receiver inside the test (http.server on 127.0.0.1, port 0, in a
thread) that records every POST and can answer 500 to the first ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import sqlite3
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import FINISHED, echo, run_promptline, wait_until

SECRET = "whsec-e2e-canary-3f9a"
#: Short webhook retries for the tests; the receivers listen on loopback, so it is allowed.
FAST_WEBHOOKS = {"webhook_secret": SECRET, "webhook_retry_delay": "0.1", "webhook_allow_hosts": "127.0.0.1"}


# Server-sent events


class EventStream:
    """An open `GET /api/tasks/events`: its events, read as they come."""

    def __init__(self, server, params: dict, read_timeout: float = 60):
        self.response = server.http.get(server.base + "/api/tasks/events", params=params, stream=True, timeout=(10, read_timeout))
        assert self.response.status_code == 200, f"events answered {self.response.status_code}: {self.response.text[:500]}"
        assert self.response.headers["content-type"] == "text/event-stream"
        self.lines = self.response.iter_lines(chunk_size=1, decode_unicode=True)
        self.events: list[tuple[str, dict]] = []
        self.comments: list[str] = []

    def next(self) -> tuple[str, dict] | None:
        """The next event, or None when the stream has ended."""
        name, data = None, None
        for line in self.lines:
            if line.startswith(":"):
                self.comments.append(line)
            elif line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
            elif line == "" and name is not None:
                self.events.append((name, data))
                return name, data
            elif line != "":
                raise AssertionError(f"unexpected line in the event stream: {line!r}")
        return None

    def read_all(self) -> list[tuple[str, dict]]:
        """Reads to the end of the stream; answers every event it had."""
        while self.next() is not None:
            pass
        return self.events

    def close(self):
        self.response.close()


def statuses_by_task(events) -> dict[str, list[dict]]:
    by_task: dict[str, list[dict]] = {}
    for name, data in events:
        if name == "status":
            by_task.setdefault(data["task_id"], []).append(data)
    return by_task


def assert_well_formed(events, ids: list[str]):
    """Each task: no repeated state, finished last and only once; then `done`, last, once."""
    assert events and events[-1][0] == "done", f"the stream did not end with done: {events[-3:]}"
    assert [name for name, _ in events].count("done") == 1
    by_task = statuses_by_task(events)
    assert set(by_task) == set(ids), f"events for {set(by_task) ^ set(ids)} unexpected or missing"
    for task_id, seen in by_task.items():
        states = [(e["status"], e.get("progress")) for e in seen]
        assert all(a != b for a, b in zip(states, states[1:])), f"{task_id}: a state was sent twice in a row: {states}"
        finished = [e for e in seen if e["status"] in FINISHED | {"not_found"}]
        assert len(finished) == 1 and seen[-1] is finished[0], f"{task_id}: not finished exactly once, last: {states}"
        for e in seen[:-1]:
            assert "result" not in e and "error" not in e, f"{task_id}: an unfinished event has result/error: {e}"


def test_a_batch_stream_sees_every_task_complete_then_done(mock, start_server):
    server = start_server(mock, workers=2)
    prompts = [f"[[mock:token_delay_ms=30]] events batch {i} " + " ".join(f"w{j}" for j in range(8)) for i in range(6)]
    r = server.submit_raw({"prompts": prompts, "max_tokens": 20})
    assert r.status_code == 202, r.text
    body = r.json()
    ids, batch_id = body["task_ids"], body["batch_id"]
    assert body["status"] == "queued" and len(ids) == len(prompts)

    stream = EventStream(server, {"batch_id": batch_id})
    events = stream.read_all()
    assert_well_formed(events, ids)
    by_task = statuses_by_task(events)
    for task_id, prompt in zip(ids, prompts):
        last = by_task[task_id][-1]
        assert last == {"task_id": task_id, "status": "completed", "progress": "100", "result": echo(prompt), "error": None}
    assert events[-1][1] == {"completed": 6, "error": 0, "cancelled": 0, "not_found": 0}
    # Two workers for six streamed tasks: the later ones were seen waiting, some in progress.
    assert any(e["status"] == "queued" for seen in by_task.values() for e in seen), "no task was seen queued"
    assert any(e["status"] == "processing" and 0 < int(e["progress"]) < 100 for seen in by_task.values() for e in seen), \
        "no progress between 0 and 100 was streamed"
    # The same tasks by id, once finished: one event each, then done.
    again = EventStream(server, {"task_ids": ",".join(ids)}).read_all()
    assert [name for name, _ in again] == ["status"] * 6 + ["done"]


def test_unknown_ids_are_not_found_and_count_as_finished(mock, start_server):
    server = start_server(mock)
    [known] = server.submit(["known task"])
    server.wait_one(known)
    unknown = str(uuid.uuid4())
    events = EventStream(server, {"task_ids": f"{unknown},{known}"}).read_all()
    assert events == [
        ("status", {"task_id": unknown, "status": "not_found"}),
        ("status", {"task_id": known, "status": "completed", "progress": "100", "result": echo("known task"), "error": None}),
        ("done", {"completed": 1, "error": 0, "cancelled": 0, "not_found": 1}),
    ]


def test_failed_and_cancelled_tasks_end_the_stream_too(mock, start_server):
    server = start_server(mock, workers=1, max_attempts=1)
    ids = server.submit(["[[mock:status=400]] refused", "[[mock:latency_ms=300]] slow", "never runs"])
    stream = EventStream(server, {"task_ids": ",".join(ids)})
    assert server.delete(f"/api/tasks/{ids[2]}").status_code == 200
    events = stream.read_all()
    assert_well_formed(events, ids)
    last = {task_id: seen[-1] for task_id, seen in statuses_by_task(events).items()}
    assert last[ids[0]]["status"] == "error" and "400" in last[ids[0]]["error"] and last[ids[0]]["result"] is None
    assert last[ids[1]]["status"] == "completed"
    assert last[ids[2]]["status"] == "cancelled"
    assert events[-1][1] == {"completed": 1, "error": 1, "cancelled": 1, "not_found": 0}


@pytest.mark.parametrize("params, status, words", [
    ({}, 400, "task_ids"),
    ({"task_ids": ",,"}, 400, "task_ids is empty"),
    ({"task_ids": "a", "batch_id": "b"}, 400, "not both"),
    ({"task_ids": "a", "summary_id": "b"}, 400, "one of task_ids, batch_id or summary_id"),
    ({"batch_id": "0" * 32}, 404, "not found"),
])
def test_a_bad_stream_request_says_what_is_wrong(mock, start_server, params, status, words):
    server = start_server(mock, workers=0)
    r = server.get("/api/tasks/events", params=params)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]


def test_closing_the_connection_stops_the_stream(mock, start_server):
    server = start_server(mock, workers=0, log_level="debug")
    ids = server.submit(["waits forever", "waits too"])
    stream = EventStream(server, {"task_ids": ",".join(ids)})
    assert stream.next()[1]["status"] == "queued"
    stream.close()
    wait_until(lambda: "event stream ended" in server.proc.stderr_text() and "client closed" in server.proc.stderr_text(),
               30, "the server to notice the closed connection")
    assert server.get("/api/stats").status_code == 200


def test_a_graceful_shutdown_ends_open_streams(mock, start_server):
    server = start_server(mock, workers=0)
    ids = server.submit(["queued at shutdown"])
    stream = EventStream(server, {"task_ids": ",".join(ids)})
    assert stream.next()[1]["status"] == "queued"
    assert server.stop(signal.SIGTERM, timeout=60) == 0
    assert stream.next() is None, "the stream went on after the server stopped"


def test_a_stream_on_one_instance_sees_tasks_another_processes(mock, start_server, shared_redis, redis_prefix):
    intake = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=0, instance_id="intake")
    prompts = [f"cross-instance {i}" for i in range(5)]
    r = intake.submit_raw({"prompts": prompts})
    assert r.status_code == 202, r.text
    ids, batch_id = r.json()["task_ids"], r.json()["batch_id"]
    stream = EventStream(intake, {"batch_id": batch_id})
    first = [stream.next() for _ in ids]
    assert [data["status"] for _, data in first] == ["queued"] * 5
    # Only now does an instance with workers appear.
    worker = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=4, instance_id="worker")
    events = stream.read_all()
    assert_well_formed(events, ids)
    last = {task_id: seen[-1] for task_id, seen in statuses_by_task(events).items()}
    assert [last[i]["result"] for i in ids] == [echo(p) for p in prompts]
    assert events[-1][1] == {"completed": 5, "error": 0, "cancelled": 0, "not_found": 0}
    # The batch is known on the other instance too.
    assert [n for n, _ in EventStream(worker, {"batch_id": batch_id}).read_all()] == ["status"] * 5 + ["done"]


# Webhooks


class Receiver:
    """An HTTP server that records every POST; the first `fail_first` get a 500."""

    def __init__(self, fail_first: int = 0):
        self.posts: list[dict] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.posts.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    failing = len(receiver.posts) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/promptline?token=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.posts)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    started = []

    def start(fail_first: int = 0) -> Receiver:
        r = Receiver(fail_first)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


def verify(post: dict, secret: str = SECRET) -> dict:
    """Checks a delivery's signature as a receiver would; answers its body."""
    headers = {k.lower(): v for k, v in post["headers"].items()}
    timestamp = headers["x-promptline-timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + post["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["x-promptline-signature"]), "the signature does not verify"
    assert headers["content-type"] == "application/json"
    return json.loads(post["body"])


def submission_record(server, batch_id: str) -> dict:
    """The stored record of a submission on the embedded store (the server stopped)."""
    with sqlite3.connect(server.data_dir / "promptline.sqlite") as db:
        [(body,)] = db.execute("SELECT body FROM documents WHERE collection = 'submissions' AND id = ?", (batch_id,)).fetchall()
    return json.loads(body)


def redis_submission_record(redis, prefix: str, batch_id: str) -> dict:
    return json.loads(redis.cli("HGET", f"{prefix}doc:submissions:{batch_id}", "b"))


def test_a_finished_batch_gets_one_signed_post(mock, start_server, receiver):
    hook = receiver()
    server = start_server(mock, **FAST_WEBHOOKS, log_level="trace")
    prompts = ["hook one", "[[mock:status=400]] hook two", "hook three"]
    r = server.submit_raw({"prompts": prompts, "webhook_url": hook.url, "max_tokens": 10})
    assert r.status_code == 202, r.text
    ids, batch_id = r.json()["task_ids"], r.json()["batch_id"]
    server.wait(ids)
    wait_until(lambda: hook.count() >= 1, 30, "the webhook POST")
    assert server.stop() == 0
    assert hook.count() == 1, f"{hook.count()} POSTs for one batch"
    post = hook.posts[0]
    assert post["path"] == "/hooks/promptline?token=abc"
    body = verify(post)
    headers = {k.lower(): v for k, v in post["headers"].items()}
    assert headers["x-promptline-event"] == "batch.finished"
    assert headers["x-promptline-delivery"] == batch_id and headers["x-promptline-attempt"] == "1"
    assert body["event"] == "batch.finished" and body["batch_id"] == batch_id and body["total"] == 3
    assert body["counts"] == {"completed": 2, "error": 1, "cancelled": 0, "not_found": 0}
    assert body["tasks"] == [{"task_id": i, "status": s} for i, s in zip(ids, ["completed", "error", "completed"])]
    assert body["finished_at"] >= body["created_at"]
    record = submission_record(server, batch_id)
    assert record["webhook"]["state"] == "delivered" and record["webhook"]["attempts"] == 1
    # The secret is nowhere in what the server said or logged.
    assert SECRET not in server.proc.stderr_text() + server.proc.stdout_text() + r.text


def test_a_failing_receiver_gets_the_delivery_on_the_third_try(mock, start_server, receiver):
    hook = receiver(fail_first=2)
    server = start_server(mock, **FAST_WEBHOOKS)
    r = server.submit_raw({"prompts": ["retried hook"], "webhook_url": hook.url})
    batch_id = r.json()["batch_id"]
    wait_until(lambda: hook.count() >= 3, 60, "three webhook POSTs")
    assert server.stop() == 0
    assert hook.count() == 3
    bodies = [verify(post) for post in hook.posts]
    assert all(body == bodies[0] for body in bodies), "the retries did not send the same body"
    assert [{k.lower(): v for k, v in p["headers"].items()}["x-promptline-attempt"] for p in hook.posts] == ["1", "2", "3"]
    assert bodies[0]["counts"]["completed"] == 1
    record = submission_record(server, batch_id)
    assert record["webhook"]["state"] == "delivered" and record["webhook"]["attempts"] == 3
    assert "webhook delivery failed; trying again later" in server.proc.stderr_text()


def test_a_restart_carries_on_with_a_pending_delivery(mock, start_server, receiver):
    hook = receiver(fail_first=10**6)
    server = start_server(mock, **FAST_WEBHOOKS)
    r = server.submit_raw({"prompts": ["hook across a restart"], "webhook_url": hook.url})
    batch_id = r.json()["batch_id"]
    wait_until(lambda: hook.count() >= 1, 30, "a first (failing) POST")
    assert server.stop() == 0
    failed = hook.count()
    record = submission_record(server, batch_id)
    assert record["webhook"]["state"] == "pending" and record["webhook"]["attempts"] == failed
    hook.fail_first = 0
    again = start_server(mock, data_dir=server.data_dir, **FAST_WEBHOOKS)
    wait_until(lambda: hook.count() > failed, 30, "a POST from the restarted server")
    assert again.stop() == 0
    assert hook.count() == failed + 1
    assert [verify(post)["batch_id"] for post in hook.posts] == [batch_id] * (failed + 1)
    record = submission_record(again, batch_id)
    assert record["webhook"]["state"] == "delivered" and record["webhook"]["attempts"] == failed + 1


def test_a_receiver_that_always_fails_is_given_up(mock, start_server, receiver):
    hook = receiver(fail_first=1000)
    server = start_server(mock, **FAST_WEBHOOKS, webhook_max_attempts=3)
    r = server.submit_raw({"prompts": ["abandoned hook"], "webhook_url": hook.url})
    wait_until(lambda: "webhook given up" in server.proc.stderr_text(), 60, "the webhook to be given up")
    assert server.stop() == 0
    assert hook.count() == 3
    record = submission_record(server, r.json()["batch_id"])
    assert record["webhook"]["state"] == "failed" and "500" in record["webhook"]["lastError"]


def test_two_instances_on_one_redis_send_one_post(mock, start_server, receiver, shared_redis, redis_prefix):
    hook = receiver()
    servers = [start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=2, instance_id=f"hook-{n}", **FAST_WEBHOOKS)
               for n in range(2)]
    batches = []
    for n in range(6):
        r = servers[n % 2].submit_raw({"prompts": [f"two instances {n} {i}" for i in range(4)], "webhook_url": hook.url})
        assert r.status_code == 202, r.text
        batches.append(r.json()["batch_id"])
    wait_until(lambda: hook.count() >= len(batches), 60, "one POST per batch")
    wait_until(lambda: shared_redis.cli("ZCARD", f"{redis_prefix}docs:pending-webhooks") == "0", 30, "no webhook pending")
    for server in servers:
        assert server.stop() == 0
    delivered = [verify(post)["batch_id"] for post in hook.posts]
    assert sorted(delivered) == sorted(batches), f"POSTs per batch: {[delivered.count(b) for b in batches]}"
    for batch_id in batches:
        assert redis_submission_record(shared_redis, redis_prefix, batch_id)["webhook"]["attempts"] == 1


#: URLs a webhook may not reach without --webhook-allow-hosts, and what the 422 says of each.
INSIDE = [
    ("http://127.0.0.1:9/hook", "127.0.0.1 is a loopback address"),
    ("http://[::1]:9/hook", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]:9/hook", "is a loopback address"),
    ("http://10.0.0.1/hook", "10.0.0.1 is a private address"),
    ("http://172.16.5.4/hook", "172.16.5.4 is a private address"),
    ("http://192.168.1.1/hook", "192.168.1.1 is a private address"),
    ("http://[fd00::1]/hook", "fd00::1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata address"),
    ("http://169.254.10.10/hook", "169.254.10.10 is a link-local address"),
    ("http://[fe80::1]/hook", "fe80::1 is a link-local address"),
    ("http://224.0.0.1/hook", "224.0.0.1 is a multicast address"),
    ("http://[ff02::1]/hook", "ff02::1 is a multicast address"),
    ("http://0.0.0.0:9/hook", "0.0.0.0 is the unspecified address"),
    ("http://[::]:9/hook", ":: is the unspecified address"),
    ("http://100.64.0.1/hook", "100.64.0.1 is a reserved address"),
    ("http://255.255.255.255/hook", "255.255.255.255 is the broadcast address"),
    ("https://localhost:9/hook", "localhost resolves to "),
]


def test_webhook_urls_that_reach_inside_are_refused_naming_the_reason(mock, start_server):
    server = start_server(mock, workers=0, webhook_secret=SECRET)
    for url, reason in INSIDE:
        r = server.submit_raw({"prompts": ["inside"], "webhook_url": url})
        assert r.status_code == 422, f"{url}: {r.status_code} {r.text}"
        detail = r.json()["detail"]
        assert detail.startswith("webhook_url: ") and reason in detail, f"{url}: {detail}"
        assert "--webhook-allow-hosts" in detail, detail
    assert "loopback address" in server.submit_raw({"prompts": ["x"], "webhook_url": "https://localhost:9/hook"}).json()["detail"]
    r = server.submit_raw({"prompts": ["nowhere"], "webhook_url": "http://promptline-e2e.invalid/hook"})
    assert r.status_code == 422 and "promptline-e2e.invalid does not resolve" in r.json()["detail"], r.text
    r = server.post("/api/summaries", json={"texts": ["x"], "webhook_url": "http://169.254.169.254/latest/meta-data/"})
    assert r.status_code == 422 and "the cloud metadata address" in r.json()["detail"], r.text
    # Nothing was stored.
    assert server.stats()["queue"]["queued"] == 0
    assert mock.stats()["total_calls"] == 0


def test_an_allowed_receiver_gets_its_delivery_and_the_rest_stays_refused(mock, start_server, receiver):
    hook = receiver()
    # Allowed by name: the POST keeps the name in its Host header but goes to the address checked.
    server = start_server(mock, **{**FAST_WEBHOOKS, "webhook_allow_hosts": "localhost, 10.9.0.0/16", "webhook_timeout": "1"})
    url = hook.url.replace("127.0.0.1", "localhost")
    r = server.submit_raw({"prompts": ["allowed hook"], "webhook_url": url})
    assert r.status_code == 202, r.text
    wait_until(lambda: hook.count() >= 1, 30, "the webhook POST")
    post = hook.posts[0]
    assert {k.lower(): v for k, v in post["headers"].items()}["host"] == url.split("/")[2]
    verify(post)
    for inside in ("http://127.0.0.1:9/hook", "http://10.8.0.1/hook"):
        r = server.submit_raw({"prompts": ["still inside"], "webhook_url": inside})
        assert r.status_code == 422 and "--webhook-allow-hosts" in r.json()["detail"], r.text
    r = server.submit_raw({"prompts": ["allowed block"], "webhook_url": "http://10.9.1.2:9/hook", "max_tokens": 5})
    assert r.status_code == 202, r.text
    assert server.stop() == 0
    assert hook.count() == 1


def test_a_delivery_checks_the_address_again(mock, start_server, receiver):
    hook = receiver()
    # Accepted while loopback is allowed, delivered by a server that no longer allows it.
    server = start_server(mock, workers=0, **FAST_WEBHOOKS)
    r = server.submit_raw({"prompts": ["rechecked hook"], "webhook_url": hook.url})
    assert r.status_code == 202, r.text
    batch_id = r.json()["batch_id"]
    assert server.stop() == 0
    again = start_server(mock, data_dir=server.data_dir, webhook_secret=SECRET, webhook_max_attempts=1)
    wait_until(lambda: "webhook given up" in again.proc.stderr_text(), 60, "the webhook to be given up")
    assert again.stop() == 0
    assert hook.count() == 0
    record = submission_record(again, batch_id)
    assert record["webhook"]["state"] == "failed" and "127.0.0.1 is a loopback address" in record["webhook"]["lastError"]


def test_webhook_url_is_refused_without_a_secret(mock, start_server, workdir):
    server = start_server(mock, workers=0)
    r = server.submit_raw({"prompts": ["unsigned"], "webhook_url": "http://127.0.0.1:9/hook"})
    assert r.status_code == 422, r.text
    assert "--webhook-secret" in r.json()["detail"]
    assert server.stats()["queue"]["queued"] == 0
    help_text = run_promptline(["serve", "--help"], workdir).stdout
    for name in ("--webhook-secret", "PROMPTLINE_WEBHOOK_SECRET", "--webhook-timeout", "--webhook-max-attempts",
                 "--webhook-retry-delay", "--webhook-allow-hosts", "PROMPTLINE_WEBHOOK_ALLOW_HOSTS"):
        assert name in help_text, f"serve --help does not name {name}"
