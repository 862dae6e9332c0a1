"""The task API: cancel, idempotency, detail, not_found, and input that must be refused."""

import json
from datetime import datetime

import pytest

from conftest import echo

EMPTY_QUEUE = {"queued": 0, "processing": 0, "completed": 0, "error": 0, "cancelled": 0}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_health(mock, start_server):
    server = start_server(mock)
    for path in ("/health/live", "/health/ready"):
        r = server.get(path)
        assert r.status_code == 200, (path, r.text)


def test_cancel_a_queued_task_and_it_is_never_called(mock, start_server):
    intake = start_server(mock, workers=0)
    doomed, kept = "cancel me before I run", "keep me"
    doomed_id, kept_id = intake.submit([doomed, kept])
    r = intake.delete(f"/api/tasks/{doomed_id}")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": doomed_id, "status": "cancelled"}
    assert intake.statuses([doomed_id])[doomed_id]["status"] == "cancelled"
    # Cancelled is finished: a second cancel is a conflict.
    again = intake.delete(f"/api/tasks/{doomed_id}")
    assert again.status_code == 409, again.text
    assert "detail" in again.json()
    intake.stop()
    # Workers on the same store run what is left, and only that.
    worker = start_server(mock, data_dir=intake.data_dir, workers=2)
    summaries = worker.wait([doomed_id, kept_id])
    assert summaries[kept_id]["status"] == "completed" and summaries[kept_id]["result"] == echo(kept)
    assert summaries[doomed_id]["status"] == "cancelled", summaries
    assert summaries[doomed_id]["result"] is None
    assert mock.count(doomed) == 0
    assert mock.count(kept) == 1
    assert worker.stats()["queue"]["cancelled"] == 1


def test_cancel_a_finished_task_is_a_conflict_and_unknown_is_404(mock, start_server):
    server = start_server(mock)
    [task_id] = server.submit(["finish me"])
    assert server.wait_one(task_id)["status"] == "completed"
    r = server.delete(f"/api/tasks/{task_id}")
    assert r.status_code == 409, r.text
    assert "detail" in r.json()
    assert server.wait_one(task_id)["status"] == "completed"
    r = server.delete("/api/tasks/no-such-task")
    assert r.status_code == 404, r.text
    assert "detail" in r.json()


def test_idempotency_key(mock, start_server):
    server = start_server(mock, workers=0)
    body = {"prompts": ["idem one", "idem two"], "idempotency_key": "order-42"}
    first = server.submit_raw(body)
    assert first.status_code == 202, first.text
    ids = first.json()["task_ids"]
    second = server.submit_raw(body)
    assert second.status_code == 200, second.text
    assert second.json()["task_ids"] == ids
    assert second.json().get("duplicate") is True
    # Same key, different prompts: still the first batch, nothing new queued.
    third = server.submit_raw({"prompts": ["something else"], "idempotency_key": "order-42"})
    assert third.status_code == 200 and third.json()["task_ids"] == ids, third.text
    assert server.stats()["queue"]["queued"] == 2
    other = server.submit_raw({"prompts": ["idem one"], "idempotency_key": "order-43"})
    assert other.status_code == 202 and other.json()["task_ids"][0] not in ids
    assert server.stats()["queue"]["queued"] == 3


def test_detail_route(mock, start_server):
    server = start_server(mock, model="default-model")
    prompts = [
        {"prompt": "detail with options", "model": "own-model", "max_tokens": 30, "temperature": 0.2,
         "metadata": {"row": "7"}},
        "detail with defaults",
    ]
    own_id, default_id = server.submit(prompts, metadata={"job": "nightly"}, priority=3)
    server.wait([own_id, default_id])
    d = server.detail(own_id)
    assert d["id"] == own_id
    assert d["status"] == "completed" and d["result"] == echo("detail with options") and d["error"] is None
    assert d["progress"] == "100"
    assert d["attempts"] == 1
    assert d["model"] == "own-model"
    assert d["metadata"] == {"job": "nightly", "row": "7"}
    assert isinstance(d["usage"], dict) and any(isinstance(v, int) and v > 0 for v in d["usage"].values()), d["usage"]
    queued, started, finished = (parse_time(d[k]) for k in ("queued_at", "started_at", "finished_at"))
    assert queued <= started <= finished, d
    d2 = server.detail(default_id)
    assert d2["model"] == "default-model"
    assert d2["metadata"] == {"job": "nightly"}
    assert mock.count("detail with defaults") == 1


def test_not_found(mock, start_server):
    server = start_server(mock, workers=0)
    [real] = server.submit(["a real task"])
    r = server.get("/api/tasks", params={"task_ids": f"{real},missing-1,missing-2"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["missing-1"] == {"status": "not_found"}
    assert body["missing-2"] == {"status": "not_found"}
    assert body[real]["status"] == "queued"
    r = server.get("/api/tasks/missing-1")
    assert r.status_code == 404 and "detail" in r.json(), r.text


# (body, status, words the detail must contain)
BAD_BODIES = [
    (b'{"prompts": ["unclosed"', 400, ["json"]),
    (b"not json at all", 400, ["json"]),
    (b"", 400, []),
    (b"{}", 400, ["prompts"]),
    (b'{"prompts": []}', 400, ["prompts"]),
    (b'{"prompts": null}', 400, ["prompts"]),
    (b'{"prompts": "one string"}', 422, ["prompts"]),
    (b'{"prompts": ["ok", {"prompt": 5}]}', 422, ["prompts[1].prompt"]),
    (b'{"prompts": ["ok", {"nothing": "here"}]}', 422, ["prompts[1]"]),
    (b'{"prompts": ["ok", {"prompt": "x", "messages": [{"role": "user", "content": "y"}]}]}', 422, ["prompts[1]"]),
    (b'{"prompts": ["ok", {"messages": [{"role": "wizard", "content": "y"}]}]}', 422, ["prompts[1].messages[0].role"]),
    (b'{"prompts": ["ok", 7]}', 422, ["prompts[1]"]),
    (b'{"prompts": ["ok"], "max_tokens": "many"}', 422, ["max_tokens"]),
    (b'{"prompts": ["ok"], "max_tokens": 0}', 422, ["max_tokens"]),
    (b'{"prompts": ["ok"], "temperature": 9}', 422, ["temperature"]),
    (b'{"prompts": ["ok"], "priority": "high"}', 422, ["priority"]),
    (b'{"prompts": ["ok"], "metadata": {"a": 1}}', 422, ["metadata"]),
    (b'{"prompts": ["ok", "ok", {"prompt": "x", "temperature": -1}]}', 422, ["prompts[2].temperature"]),
    (b'[1, 2, 3]', None, []),
]


@pytest.mark.parametrize("body,status,words", BAD_BODIES, ids=[b[0][:40].decode() or "empty" for b in BAD_BODIES])
def test_bad_input_is_refused_and_stores_nothing(mock, start_server, body, status, words):
    server = start_server(mock, workers=0)
    r = server.post("/api/tasks", data=body, headers={"content-type": "application/json"})
    if status is None:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
    else:
        assert r.status_code == status, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail
    for word in words:
        assert word.lower() in detail.lower(), f"detail should name {word!r}: {detail!r}"
    assert server.stats()["queue"] == EMPTY_QUEUE


def test_oversized_body_is_413_and_stores_nothing(mock, start_server):
    server = start_server(mock, workers=0, max_body_size=4096)
    small = server.submit_raw({"prompts": ["x" * 1000]})
    assert small.status_code == 202, small.text
    big = json.dumps({"prompts": [f"prompt {i} " + "x" * 100 for i in range(100)]})
    r = server.post("/api/tasks", data=big, headers={"content-type": "application/json"})
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert "detail" in r.json() and r.json()["detail"]
    assert server.stats()["queue"]["queued"] == 1
