"""API keys and limits: who may call, what each key sees, and how much it may ask.

Keys are made with `promptline keys create` in the store the server uses. Once one exists,
every /api and /v1 route needs `Authorization: Bearer KEY`; each task, file and batch belongs
to the key that made it and is unknown (404, `not_found`, absent from lists) to other keys.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import create_key, echo, run_promptline, to_jsonl, batch_line, wait_until


def store_flags(data_dir: Path) -> list[str]:
    return ["--data-dir", str(data_dir)]


def queued_total(server) -> int:
    """Every task the server holds (an admin key, or no keys), or the caller's own unfinished ones."""
    stats = server.stats()
    return sum(stats["queue"].values()) if "queue" in stats else stats["unfinished_tasks"]


def wait_for_fresh_minute(margin: float = 8.0):
    """Per-minute limits count in whole minutes: start a limit test early in one."""
    into = time.time() % 60
    if into > 60 - margin:
        time.sleep(60 - into + 0.2)


# Open server


def test_a_server_without_keys_is_open_and_says_so(mock, start_server):
    server = start_server(mock)
    [task] = server.submit(["open door"])
    assert server.wait_one(task)["result"] == echo("open door")
    # Any bearer, or none, is fine; the OpenAI SDK always sends one.
    assert server.with_key("pl_not_a_key").get("/api/tasks/" + task).status_code == 200
    assert "NO API KEYS EXIST" in server.proc.stderr_text()


# Authentication


def test_with_keys_every_api_and_v1_route_needs_a_valid_key(mock, start_server, workdir):
    data = workdir / "data"
    key = create_key(workdir, "alice", store=store_flags(data))
    server = start_server(mock, data_dir=data)
    assert "NO API KEYS EXIST" not in server.proc.stderr_text()
    routes = [
        ("GET", "/api/tasks?task_ids=x"), ("POST", "/api/tasks"), ("GET", "/api/tasks/x"), ("DELETE", "/api/tasks/x"),
        ("GET", "/api/stats"), ("GET", "/api/cluster"), ("GET", "/api/cache"), ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"), ("GET", "/v1/batches"), ("POST", "/v1/files"), ("GET", "/v1/files/x"),
    ]
    for who, authorization in (("no key", None), ("a wrong key", "Bearer pl_" + "0" * 48), ("a non-Bearer header", "Basic abc")):
        headers = {} if authorization is None else {"Authorization": authorization}
        for method, path in routes:
            r = server.request(method, path, headers=headers, json={"prompts": ["x"]} if method == "POST" else None)
            assert r.status_code == 401, f"{method} {path} with {who}: {r.status_code} {r.text}"
            assert r.headers.get("WWW-Authenticate") == "Bearer"
            text = r.text.lower()
            assert "api key" in text, r.text
            if path.startswith("/v1/"):
                assert r.json()["error"]["type"] == "authentication_error"
            else:
                assert "detail" in r.json()
    assert queued_total(server.with_key(key)) == 0, "a refused submission stored something"
    # Health stays open for probes.
    assert server.get("/health/live").status_code == 200
    assert server.get("/health/ready").status_code == 200
    # The right key works, on both families of routes.
    alice = server.with_key(key)
    [task] = alice.submit(["with a key"])
    assert alice.wait_one(task)["result"] == echo("with a key")
    assert alice.openai(api_key=key).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "sdk"}]).choices[0].message.content == echo("sdk")


def test_a_key_made_or_revoked_while_the_server_runs_takes_effect(mock, start_server, workdir):
    data = workdir / "data"
    first = create_key(workdir, "first", store=store_flags(data))
    server = start_server(mock, data_dir=data)
    second = create_key(workdir, "second", store=store_flags(data))
    wait_until(lambda: server.with_key(second).get("/api/stats").status_code == 200, 10, "the new key to work")
    listed = run_promptline(["keys", "list", *store_flags(data), "--env-file", str(workdir / "absent.env")], workdir)
    assert listed.returncode == 0 and "first" in listed.stdout and "second" in listed.stdout, listed.stdout
    revoked = run_promptline(["keys", "revoke", "second", *store_flags(data), "--env-file", str(workdir / "absent.env")], workdir)
    assert revoked.returncode == 0, revoked.stderr
    wait_until(lambda: server.with_key(second).get("/api/stats").status_code == 401, 10, "the revoked key to be refused")
    assert server.with_key(first).get("/api/stats").status_code == 200
    again = run_promptline(["keys", "revoke", "second", *store_flags(data), "--env-file", str(workdir / "absent.env")], workdir)
    assert again.returncode != 0 and "no key" in again.stderr


# Ownership


def test_another_key_cannot_see_or_touch_a_keys_tasks(mock, start_server, workdir):
    data = workdir / "data"
    alice_key = create_key(workdir, "alice", store=store_flags(data))
    bob_key = create_key(workdir, "bob", store=store_flags(data))
    server = start_server(mock, data_dir=data, workers=0)
    alice, bob = server.with_key(alice_key), server.with_key(bob_key)
    ids = alice.submit(["alice's secret plan", "alice's other plan"], idempotency_key="same-key")

    assert bob.get(f"/api/tasks/{ids[0]}").status_code == 404
    seen = bob.get("/api/tasks", params={"task_ids": ",".join(ids)}).json()
    assert seen == {i: {"status": "not_found"} for i in ids}
    assert bob.delete(f"/api/tasks/{ids[0]}").status_code == 404
    assert alice.detail(ids[0])["status"] == "queued", "bob's cancel changed alice's task"
    # Idempotency keys are per key: bob's same key is a new submission, not alice's ids.
    bobs = bob.submit(["bob's plan"], idempotency_key="same-key")
    assert not set(bobs) & set(ids)
    assert alice.delete(f"/api/tasks/{ids[0]}").status_code == 200


def test_another_key_cannot_see_a_keys_files_and_batches(mock, start_server, workdir):
    data = workdir / "data"
    alice_key = create_key(workdir, "alice", store=store_flags(data))
    bob_key = create_key(workdir, "bob", store=store_flags(data))
    server = start_server(mock, data_dir=data)
    alice = server.with_key(alice_key).openai(api_key=alice_key)
    bob_http = server.with_key(bob_key)
    bob = bob_http.openai(api_key=bob_key)
    import openai

    upload = alice.files.create(file=("in.jsonl", to_jsonl([batch_line("r1", "alice 1"), batch_line("r2", "alice 2")])),
                                purpose="batch")
    batch = alice.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        bob.files.retrieve(upload.id)
    with pytest.raises(openai.NotFoundError):
        bob.files.content(upload.id)
    with pytest.raises(openai.BadRequestError):
        bob.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.NotFoundError):
        bob.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        bob.batches.cancel(batch.id)
    assert [b.id for b in bob.batches.list()] == []
    assert batch.id in [b.id for b in alice.batches.list()]
    # The batch's tasks are alice's too.
    assert bob_http.get(f"/api/tasks/{batch.id}-0").status_code == 404
    wait_until(lambda: alice.batches.retrieve(batch.id).status == "completed", 60, "alice's batch to complete")
    finished = alice.batches.retrieve(batch.id)
    with pytest.raises(openai.NotFoundError):
        bob.files.content(finished.output_file_id)
    assert echo("alice 1") in alice.files.content(finished.output_file_id).text


# The canary: the raw key is nowhere but in the client's hands


@pytest.mark.parametrize("store", ["embedded", "redis"])
def test_the_raw_key_is_nowhere_after_creation(store, mock, start_server, workdir, shared_redis, redis_prefix):
    data = workdir / "data"
    flags = store_flags(data) if store == "embedded" else ["--redis-url", shared_redis.url, "--redis-prefix", redis_prefix]
    key = create_key(workdir, "canary", "--rpm", "1000", "--tpm", "1000000", "--max-in-flight", "100", store=flags)
    extra = {} if store == "embedded" else {"redis": shared_redis, "redis_prefix": redis_prefix}
    server = start_server(mock, data_dir=data, log_level="trace", **extra)
    client = server.with_key(key)
    bodies = []
    [task] = client.submit(["canary prompt"])
    client.wait_one(task)
    for path in (f"/api/tasks/{task}", f"/api/tasks?task_ids={task}", "/api/stats", "/api/cluster", "/api/cache",
                 "/v1/models", "/health/ready"):
        r = client.get(path)
        bodies.append(r.text + str(r.headers))
    chat = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "c"}]})
    bodies.append(chat.text + str(chat.headers))
    bad = server.with_key(key + "x").get("/api/stats")
    assert bad.status_code == 401
    bodies.append(bad.text + str(bad.headers))
    listed = run_promptline(["keys", "list", *flags, "--env-file", str(workdir / "absent.env")], workdir)
    assert "canary" in listed.stdout
    bodies.append(listed.stdout + listed.stderr)
    server.stop()

    assert key not in "\n".join(bodies), "the key came back in a response or `keys list`"
    logs = server.proc.stdout_text() + server.proc.stderr_text()
    key_id = next(word for word in listed.stdout.split() if word.startswith("key_"))
    assert key_id in logs, "trace logs should name the key by its id (else this check is hollow)"
    assert key not in logs, "the key is in the server's logs"
    assert key not in mock.proc.stdout_text() + mock.proc.stderr_text()
    secret_part = key.removeprefix("pl_")
    if store == "embedded":
        stored = b"".join(p.read_bytes() for p in data.rglob("*") if p.is_file())
        assert stored, "the data directory is empty (else this check is hollow)"
        assert secret_part.encode() not in stored, "the key is in the embedded store's files"
    else:
        keys = shared_redis.cli_lines("--scan", "--pattern", redis_prefix + "*")
        assert any("api-keys" in k for k in keys), keys
        dump = []
        for k in keys:
            kind = shared_redis.cli("TYPE", k)
            if kind == "hash":
                dump.append(shared_redis.cli("HGETALL", k))
            elif kind == "string":
                dump.append(shared_redis.cli("GET", k))
            elif kind == "zset":
                dump.append(shared_redis.cli("ZRANGE", k, "0", "-1"))
        assert "canary" in "\n".join(dump), "the key's record should be in Redis (else this check is hollow)"
        assert secret_part not in "\n".join(dump), "the key is in Redis"


# Per-key limits


def test_requests_per_minute(mock, start_server, workdir):
    data = workdir / "data"
    key = create_key(workdir, "rpm", "--rpm", "3", store=store_flags(data))
    server = start_server(mock, data_dir=data, workers=0)
    client = server.with_key(key)
    wait_for_fresh_minute()
    ids = []
    for n in range(3):
        r = client.submit_raw({"prompts": [f"rpm {n}"]})
        assert r.status_code == 202, r.text
        ids += r.json()["task_ids"]
    refused = client.submit_raw({"prompts": ["one too many"]})
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "3 per minute" in refused.json()["detail"] and "--rpm" in refused.json()["detail"]
    chat = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]})
    assert chat.status_code == 429 and chat.json()["error"]["type"] == "rate_limit_error"
    other = create_key(workdir, "other", "--admin", store=store_flags(data))
    wait_until(lambda: server.with_key(other).get("/api/stats").status_code == 200, 10, "another key to be unaffected")
    assert server.with_key(other).get("/api/stats").json()["queue"]["queued"] == 3, "the refused submission stored something"


def test_tokens_per_minute(mock, start_server, workdir):
    data = workdir / "data"
    key = create_key(workdir, "tpm", "--tpm", "500", store=store_flags(data))
    server = start_server(mock, data_dir=data, workers=0)
    client = server.with_key(key)
    wait_for_fresh_minute()
    # "abcd" is about 1 token, plus the 300 the answer may use.
    assert client.submit_raw({"prompts": ["abcd"], "max_tokens": 300}).status_code == 202
    refused = client.submit_raw({"prompts": ["abcd"], "max_tokens": 300})
    assert refused.status_code == 429, refused.text
    assert "500 per minute" in refused.json()["detail"] and "--tpm" in refused.json()["detail"]
    assert int(refused.headers["Retry-After"]) >= 1
    too_big = client.submit_raw({"prompts": ["abcd"], "max_tokens": 600})
    assert too_big.status_code == 413 and "--tpm" in too_big.json()["detail"], too_big.text
    # What is left of the minute still admits a small request.
    assert client.submit_raw({"prompts": ["abcd"], "max_tokens": 100}).status_code == 202
    assert client.stats()["unfinished_tasks"] == 2


def test_tasks_in_flight(mock, start_server, workdir):
    data = workdir / "data"
    key = create_key(workdir, "inflight", "--max-in-flight", "2", store=store_flags(data))
    server = start_server(mock, data_dir=data, workers=0)
    client = server.with_key(key)
    ids = client.submit(["one", "two"])
    refused = client.submit_raw({"prompts": ["three"]})
    assert refused.status_code == 429, refused.text
    assert "in-flight" in refused.json()["detail"] and "--max-in-flight" in refused.json()["detail"]
    assert "Retry-After" in refused.headers
    whole = client.submit_raw({"prompts": ["a", "b", "c"]})
    assert whole.status_code == 413 and "split it" in whole.json()["detail"]
    assert client.stats()["unfinished_tasks"] == 2
    # A finished task frees its place.
    assert client.delete(f"/api/tasks/{ids[0]}").status_code == 200
    assert client.submit_raw({"prompts": ["three"]}).status_code == 202


# Global limits


def test_global_limits_name_themselves_and_store_nothing(mock, start_server):
    server = start_server(mock, workers=0, max_prompts=5, max_prompt_length=20, max_tokens_limit=50, max_tokens=10,
                          max_body_size=4096)
    cases = [
        ({"prompts": ["p"] * 6}, 413, "--max-prompts"),
        ({"prompts": ["x" * 21]}, 413, "--max-prompt-length"),
        ({"prompts": [{"messages": [{"role": "system", "content": "x" * 15}, {"role": "user", "content": "y" * 6}]}]}, 413,
         "--max-prompt-length"),
        ({"prompts": ["ok"], "max_tokens": 51}, 422, "--max-tokens-limit"),
        ({"prompts": [{"prompt": "ok", "max_tokens": 51}]}, 422, "--max-tokens-limit"),
        ({"prompts": ["p" * 20] * 5, "metadata": {"pad": "z" * 4096}}, 413, "--max-body-size"),
    ]
    for body, status, named in cases:
        r = server.submit_raw(body)
        assert r.status_code == status, f"{named}: {r.status_code} {r.text}"
        assert named in r.json()["detail"], r.text
    chat = server.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 51})
    assert chat.status_code == 400 and "--max-tokens-limit" in chat.json()["error"]["message"], chat.text
    long_chat = server.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "z" * 21}]})
    assert long_chat.status_code == 413 and "--max-prompt-length" in long_chat.json()["error"]["message"]
    assert queued_total(server) == 0
    assert mock.stats()["total_calls"] == 0
    # At the limits, all is well.
    assert server.submit_raw({"prompts": ["x" * 20] * 5, "max_tokens": 50}).status_code == 202


def test_per_key_limits_hold_across_instances_on_one_redis(mock, start_server, workdir, shared_redis, redis_prefix):
    flags = ["--redis-url", shared_redis.url, "--redis-prefix", redis_prefix]
    key = create_key(workdir, "shared", "--rpm", "3", store=flags)
    a = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=0).with_key(key)
    b = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=0).with_key(key)
    wait_for_fresh_minute()
    assert a.submit_raw({"prompts": ["a1"]}).status_code == 202
    assert b.submit_raw({"prompts": ["b1"]}).status_code == 202
    assert a.submit_raw({"prompts": ["a2"]}).status_code == 202
    refused = b.submit_raw({"prompts": ["b2"]})
    assert refused.status_code == 429, "instance b did not count instance a's requests"
    assert "3 per minute" in refused.json()["detail"]


def test_another_key_gets_no_events_of_a_keys_tasks(mock, start_server, workdir):
    from test_events import EventStream

    data = workdir / "data"
    alice_key = create_key(workdir, "alice", store=store_flags(data))
    bob_key = create_key(workdir, "bob", store=store_flags(data))
    server = start_server(mock, data_dir=data)
    alice, bob = server.with_key(alice_key), server.with_key(bob_key)
    r = alice.submit_raw({"prompts": ["alice streams", "alice streams more"]})
    assert r.status_code == 202, r.text
    ids, batch_id = r.json()["task_ids"], r.json()["batch_id"]
    alice.wait(ids)
    events = EventStream(bob, {"task_ids": ",".join(ids)}).read_all()
    assert events == [("status", {"task_id": i, "status": "not_found"}) for i in ids] + [
        ("done", {"completed": 0, "error": 0, "cancelled": 0, "not_found": 2})], events
    by_batch = bob.get("/api/tasks/events", params={"batch_id": batch_id})
    assert by_batch.status_code == 404, by_batch.text
    assert server.get("/api/tasks/events", params={"batch_id": batch_id}).status_code == 401
    mine = EventStream(alice, {"batch_id": batch_id}).read_all()
    assert [e["result"] for name, e in mine if name == "status"] == [echo("alice streams"), echo("alice streams more")]


# Admin keys: the whole-server views need one; other keys see their own work.


def test_whole_server_views_need_an_admin_key(mock, start_server, workdir):
    data = workdir / "data"
    admin = create_key(workdir, "ops", "--admin", store=store_flags(data))
    plain = create_key(workdir, "app", store=store_flags(data))
    listed = run_promptline(["keys", "list", *store_flags(data), "--env-file", str(workdir / "absent.env")], workdir)
    rows = {line.split()[1]: line.split()[2] for line in listed.stdout.splitlines()[1:]}
    assert rows == {"ops": "admin", "app": "-"}, listed.stdout
    server = start_server(mock, data_dir=data, workers=0, metrics_key_required="true")
    app, ops = server.with_key(plain), server.with_key(admin)
    [task] = app.submit(["plain key's own task"])
    for path in ("/api/cluster", "/api/cache", "/metrics"):
        refused = app.get(path)
        assert refused.status_code == 403, f"{path} with a plain key: {refused.status_code} {refused.text}"
        assert "admin key" in refused.text and "--admin" in refused.text, refused.text
        assert ops.get(path).status_code == 200, f"{path} with an admin key"
    assert server.get("/metrics").status_code == 401, "--metrics-key-required: /metrics needs a key"
    # /api/stats: the server for the admin, the key's own work for the plain key.
    assert ops.get("/api/stats").json()["queue"]["queued"] == 1
    own = app.get("/api/stats").json()
    assert own == {"key": own["key"], "name": "app", "unfinished_tasks": 1}, own
    assert "queue" not in own and "workers" not in own
    fresh = create_key(workdir, "fresh", store=store_flags(data))
    wait_until(lambda: server.with_key(fresh).get("/api/stats").status_code == 200, 10, "the new key to work")
    assert server.with_key(fresh).get("/api/stats").json()["unfinished_tasks"] == 0, "another key's task counted as its own"


def test_metrics_stay_open_without_the_flag(mock, start_server, workdir):
    data = workdir / "data"
    create_key(workdir, "app", store=store_flags(data))
    server = start_server(mock, data_dir=data, workers=0)
    assert server.get("/metrics").status_code == 200
