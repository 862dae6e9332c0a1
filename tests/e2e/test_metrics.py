"""Operations: `/metrics` counts exactly what happened, JSON logs are JSON and carry task and
request ids, and `/health/ready` names a store it cannot reach."""

from __future__ import annotations

import json
import re
from collections import Counter

from conftest import echo, wait_until

CANARY = "sk-test-SECRET-metrics-canary"


# A Prometheus text exposition, read strictly


class Exposition:
    """The samples of a Prometheus text exposition (format 0.0.4). A line that is not a
    comment, a sample or empty fails the test, and so does a sample seen twice."""

    NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
    SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? (\S+)(?: -?\d+)?$")
    LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')

    def __init__(self, text: str):
        self.types: dict[str, str] = {}
        self.samples: dict[tuple[str, frozenset], float] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) >= 3 and parts[1] == "TYPE":
                    assert len(parts) == 4 and parts[3] in {"counter", "gauge", "histogram", "summary", "untyped"}, line
                    self.types[parts[2]] = parts[3]
                continue
            match = self.SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, label_text, value = match.groups()
            labels = self.parse_labels(label_text or "", line)
            key = (name, frozenset(labels.items()))
            assert key not in self.samples, f"sample repeated: {line!r}"
            self.samples[key] = float(value)  # accepts +Inf, -Inf, NaN as Prometheus writes them

    @classmethod
    def parse_labels(cls, text: str, line: str) -> dict[str, str]:
        labels: dict[str, str] = {}
        position = 0
        while position < len(text):
            match = cls.LABEL.match(text, position)
            assert match, f"bad labels in {line!r}"
            key, raw, _ = match.groups()
            assert key not in labels, f"label {key} repeated in {line!r}"
            labels[key] = re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), raw)
            position = match.end()
        return labels

    def value(self, name: str, **labels: str) -> float | None:
        """The sample with exactly these labels, or None."""
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name: str) -> list[tuple[dict, float]]:
        return [(dict(labels), value) for (n, labels), value in self.samples.items() if n == name]

    def total(self, name: str, **labels: str) -> float:
        """The sum over the samples of `name` whose labels include these."""
        return sum(value for found, value in self.series(name) if labels.items() <= found.items())


def scrape(server) -> Exposition:
    r = server.get("/metrics")
    assert r.status_code == 200, f"/metrics answered {r.status_code}: {r.text[:500]}"
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
    return Exposition(r.text)


def scrape_settled(server) -> Exposition:
    """A scrape once no task is in flight. A worker counts its attempt and frees its slot just
    after the store has the outcome, so a client that has seen every task finished can still
    scrape a moment before the last worker's counts."""
    def settled() -> Exposition | None:
        metrics = scrape(server)
        return metrics if metrics.value("promptline_tasks_in_flight") == 0 else None

    return wait_until(settled, timeout=10, what="no task in flight on /metrics")


def count_requests(server) -> Counter:
    """Counts, from the client's side, every answered request to `server` as (method, path, status)."""
    seen: Counter = Counter()

    def hook(response, *args, **kwargs):
        seen[(response.request.method, response.request.path_url.split("?")[0], str(response.status_code))] += 1

    server.http.hooks["response"].append(hook)
    return seen


# Tasks, requests and the cache


def test_counts_tasks_requests_and_cache_exactly(mock, start_server):
    server = start_server(mock)
    seen = count_requests(server)
    prompts = [f"metrics prompt {i}" for i in range(37)]
    ids = []
    for start in range(0, len(prompts), 5):  # 8 submissions: 7 of 5 prompts, 1 of 2
        ids += server.submit(prompts[start:start + 5])
    summaries = server.wait(ids)
    assert all(summaries[i]["status"] == "completed" for i in ids), summaries
    # The same prompt twice, one after the other: a miss, then a hit.
    for _ in range(2):
        [task_id] = server.submit(["the same prompt twice"])
        assert server.wait_one(task_id)["result"] == echo("the same prompt twice")

    metrics = scrape_settled(server)
    submits = seen[("POST", "/api/tasks", "202")]
    assert submits == 10
    assert metrics.types["promptline_http_requests_total"] == "counter"
    assert metrics.value("promptline_http_requests_total", method="POST", route="/api/tasks", status="202") == submits
    assert metrics.value("promptline_http_requests_total", method="GET", route="/api/tasks", status="200") == \
        seen[("GET", "/api/tasks", "200")]
    # Every request the client made, and no other, is counted (the scrape itself is not yet).
    assert metrics.total("promptline_http_requests_total") == sum(seen.values()) - 1
    assert metrics.value("promptline_http_request_duration_seconds_count", method="POST", route="/api/tasks") == submits

    assert metrics.value("promptline_tasks_finished_total", status="completed") == 39
    assert metrics.value("promptline_tasks_finished_total", status="error") == 0
    assert metrics.value("promptline_task_attempt_duration_seconds_count", outcome="completed") == 39
    assert metrics.total("promptline_task_retries_total") == 0
    assert metrics.value("promptline_queue_tasks", status="completed") == 39
    assert metrics.value("promptline_queue_tasks", status="queued") == 0
    assert metrics.value("promptline_workers") == 4
    assert metrics.value("promptline_store_up") == 1

    assert metrics.value("promptline_cache_requests_total", outcome="miss") == 38
    assert metrics.value("promptline_cache_requests_total", outcome="hit") == 1
    assert metrics.value("promptline_cache_requests_total", outcome="coalesced") == 0
    assert metrics.value("promptline_cache_entries") == 38
    upstream_calls = mock.stats()["total_calls"]
    assert upstream_calls == 38
    assert metrics.value("promptline_upstream_request_duration_seconds_count", outcome="ok") == upstream_calls
    assert metrics.total("promptline_upstream_errors_total") == 0

    # Counters only grow: a second scrape adds what happened in between, nothing more.
    again = scrape(server)
    assert again.value("promptline_cache_requests_total", outcome="miss") == 38
    assert again.value("promptline_http_requests_total", method="GET", route="/metrics", status="200") == \
        seen[("GET", "/metrics", "200")] - 1


def test_histograms_have_cumulative_buckets(mock, start_server):
    server = start_server(mock)
    ids = server.submit([f"histogram {i}" for i in range(5)])
    server.wait(ids)
    metrics = scrape(server)
    name = "promptline_upstream_request_duration_seconds"
    assert metrics.types[name] == "histogram"
    buckets = sorted(((float(labels["le"]), value) for labels, value in metrics.series(name + "_bucket")
                      if labels["outcome"] == "ok"), key=lambda b: b[0])
    assert buckets and buckets[-1][0] == float("inf")
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), f"buckets are not cumulative: {buckets}"
    assert counts[-1] == metrics.value(name + "_count", outcome="ok") == 5
    assert metrics.value(name + "_sum", outcome="ok") > 0


# Upstream errors and retries


def test_counts_upstream_errors_by_class_and_retries(mock, start_server):
    server = start_server(mock, max_attempts=3, upstream_timeout=1)
    prompts = {
        "[[mock:status=500,times=2]] flaky twice": "completed",
        "[[mock:status=400]] a bad request": "error",
        "[[mock:status=429,times=1,retry_after_ms=200]] limited once": "completed",
        "[[mock:status=429,type=insufficient_quota]] no money left": "error",
        "[[mock:stall_ms=3000,times=1]] hangs once": "completed",
        "[[mock:reset,times=1]] the line drops once": "completed",
    }
    ids = server.submit(list(prompts))
    summaries = server.wait(ids, timeout=60)
    assert [summaries[i]["status"] for i in ids] == list(prompts.values()), summaries

    metrics = scrape_settled(server)
    errors = {labels["error_class"]: value for labels, value in metrics.series("promptline_upstream_errors_total")}
    assert errors == {"server_error": 2, "client_error": 1, "rate_limited": 1, "insufficient_quota": 1,
                      "timeout": 1, "connection": 1}, errors
    retries = {labels["error_class"]: value for labels, value in metrics.series("promptline_task_retries_total")}
    assert retries == {"server_error": 2, "rate_limited": 1, "timeout": 1, "connection": 1}, retries
    assert metrics.value("promptline_task_attempt_duration_seconds_count", outcome="retried") == 5
    assert metrics.value("promptline_tasks_finished_total", status="completed") == 4
    assert metrics.value("promptline_tasks_finished_total", status="error") == 2
    assert metrics.value("promptline_rate_limit_pauses_total") == 1

    # 7 failed calls (2 + 1 + 1 + 1 + 1 + 1), and one good call for each of the 4 completed tasks.
    assert mock.stats()["total_calls"] == 11
    assert metrics.value("promptline_upstream_request_duration_seconds_count", outcome="ok") == 4
    assert metrics.value("promptline_upstream_request_duration_seconds_count", outcome="error") == 7


def test_cancellations_are_counted(mock, start_server):
    server = start_server(mock, workers=0)
    ids = server.submit(["cancel me", "cancel me too", "leave me queued"])
    for task_id in ids[:2]:
        assert server.delete(f"/api/tasks/{task_id}").status_code == 200
    assert server.delete(f"/api/tasks/{ids[0]}").status_code == 409
    metrics = scrape(server)
    assert metrics.value("promptline_tasks_finished_total", status="cancelled") == 2
    assert metrics.value("promptline_queue_tasks", status="cancelled") == 2
    assert metrics.value("promptline_queue_tasks", status="queued") == 1
    assert metrics.value("promptline_http_requests_total", method="DELETE", route="/api/tasks/{id}", status="409") == 1
    routes = {labels["route"] for labels, _ in metrics.series("promptline_http_requests_total")}
    assert routes == {"/api/tasks", "/api/tasks/{id}"}, routes


# JSON logs


def json_lines(text: str) -> list[dict]:
    lines = text.splitlines()
    assert lines, "nothing was logged"
    objects = []
    for line in lines:
        try:
            objects.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise AssertionError(f"a log line is not JSON ({error}): {line!r}") from None
    for obj in objects:
        assert isinstance(obj, dict) and {"time", "level", "label", "message"} <= obj.keys(), obj
    return objects


def test_json_logs_are_json_and_carry_task_and_request_ids(mock, start_server):
    server = start_server(mock, log_format="json", log_level="debug", upstream_api_key=CANARY, max_attempts=1)
    r = server.post("/api/tasks", json={"prompts": ["logged and done", "[[mock:status=400]] logged and refused"]},
                    headers={"X-Request-Id": "e2e-request-7"})
    assert r.status_code == 202 and r.headers["X-Request-Id"] == "e2e-request-7", (r.status_code, r.headers)
    done, refused = r.json()["task_ids"]
    summaries = server.wait([done, refused])
    assert (summaries[done]["status"], summaries[refused]["status"]) == ("completed", "error"), summaries
    generated = server.get("/api/tasks/no-such-task").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]+", generated), generated
    server.stop()

    stderr = server.proc.stderr_text()
    objects = json_lines(stderr)
    by_task = {obj["task_id"] for obj in objects if "task_id" in obj}
    assert {done, refused} <= by_task, f"task ids in the log: {by_task}"
    assert any(obj.get("task_id") == refused and obj["level"] == "info" and obj["message"] == "task failed"
               and obj.get("error_kind") == "client_error" for obj in objects), stderr[-3000:]
    assert any(obj.get("request_id") == "e2e-request-7" and obj["message"] == "tasks queued" for obj in objects), stderr[-3000:]
    assert CANARY not in stderr and CANARY not in server.proc.stdout_text()


def test_text_logs_stay_the_default(mock, start_server):
    server = start_server(mock, log_level="debug")
    [task_id] = server.submit(["logged as text"])
    server.wait_one(task_id)
    server.stop()
    lines = [line for line in server.proc.stderr_text().splitlines() if line.strip()]
    assert lines and not any(line.lstrip().startswith("{") for line in lines), lines[:5]
    assert any(f"task_id={task_id}" in line for line in lines), lines[-20:]


# Readiness


def test_ready_answers_503_naming_the_store_when_redis_is_down(mock, start_server, start_redis):
    redis = start_redis(appendonly=False)
    server = start_server(mock, redis=redis)
    assert server.get("/health/ready").json() == {"status": "ok"}
    redis.stop()

    r = server.get("/health/ready")
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["status"] == "unavailable" and body["store"] == "redis", body
    assert body["detail"].startswith("the task store does not answer: Redis is unreachable"), body
    assert server.get("/health/live").status_code == 200
    metrics = scrape(server)
    assert metrics.value("promptline_store_up") == 0

    redis.restart()
    wait_until(lambda: server.get("/health/ready").status_code == 200, 30, "ready again after Redis came back")
    assert scrape(server).value("promptline_store_up") == 1
