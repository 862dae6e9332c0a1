"""The Redis store: many servers on one Redis, crashes, stalls, Redis outages, the cluster view.

Tests that only share Redis use `shared_redis` (scripts/test.sh's, or one per session) with a
key prefix of their own; tests that kill, restart or configure Redis start their own.
"""

import re
import signal
import time
from datetime import datetime

import pytest

from conftest import RedisServer, closed_port, echo, run_promptline, wait_until

HEARTBEATS = "cluster:heartbeats"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_completed(summaries: dict, ids: list[str], prompts: list[str]):
    wrong = [(p, summaries[i]) for i, p in zip(ids, prompts)
             if summaries[i]["status"] != "completed" or summaries[i]["result"] != echo(p)]
    assert not wrong, f"{len(wrong)} of {len(ids)} tasks not completed with their answer, e.g. {wrong[:3]}"


def members(redis, prefix: str = "", db: int | None = None) -> list[str]:
    """The instance ids in the heartbeat set."""
    return redis.cli_lines("ZRANGE", prefix + HEARTBEATS, "0", "-1", db=db)


def instance_ids(server) -> set[str]:
    return {i["id"] for i in server.cluster()["instances"]}


def refused_start(result, *, what: str = "redis"):
    """`serve` exited non-zero, never listened, and said why on a `promptline: ` line naming `what`."""
    assert result.returncode != 0, f"serve started (exit {result.returncode})\nstderr: {result.stderr[-3000:]}"
    assert "listening" not in result.stdout, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("promptline: ")]
    assert any(what in line.lower() for line in lines), (
        f"no `promptline: ` line on stderr names {what}:\n{result.stderr[-3000:]}"
    )


# The fixtures themselves


def test_redis_server_fixture_keeps_acknowledged_writes_across_kill9(redis_server: RedisServer, start_redis):
    r = redis_server
    assert r.cli("SET", "fixture-key", "kept") == "OK"
    assert r.cli("CONFIG", "GET", "appendfsync").split("\n") == ["appendfsync", "always"]
    port = r.port
    r.kill9()
    assert not r.ping()
    r.restart()
    assert r.port == port
    assert r.cli("GET", "fixture-key") == "kept"
    r.stop()
    assert not r.running
    r.restart()
    assert r.cli("GET", "fixture-key") == "kept"
    # Options, a password and a database number reach the server and the URL.
    other = start_redis("--maxmemory-policy", "allkeys-lru", appendonly=False, password="s3cret")
    assert other.url == f"redis://:s3cret@127.0.0.1:{other.port}"
    assert other.cli("CONFIG", "GET", "maxmemory-policy").split("\n") == ["maxmemory-policy", "allkeys-lru"]
    assert other.cli("CONFIG", "GET", "appendonly").split("\n") == ["appendonly", "no"]
    other.cli("SET", "in-db-3", "x", db=3)
    assert other.cli("DBSIZE") == "0" and other.cli("DBSIZE", db=3) == "1"


# Configuration


def test_serve_help_lists_the_redis_settings(tmp_path):
    r = run_promptline(["serve", "--help"], tmp_path)
    assert r.returncode == 0, r.stderr
    text = r.stdout + r.stderr
    for name in ("--redis-url", "--redis-prefix", "--instance-id", "--heartbeat-interval",
                 "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD",
                 "PROMPTLINE_REDIS_PREFIX", "PROMPTLINE_INSTANCE_ID", "PROMPTLINE_HEARTBEAT_INTERVAL"):
        assert re.search(re.escape(name) + r"\b", text), f"serve --help does not name {name}"


@pytest.mark.parametrize("how", ["flag", "REDIS_URL", "REDIS_HOST"])
def test_unreachable_redis_refuses_to_start(workdir, how):
    port = closed_port()
    args = ["serve", "--host", "127.0.0.1", "--port", "0", "--workers", "1",
            "--data-dir", str(workdir / "data"), "--env-file", str(workdir / "absent.env")]
    env = {}
    if how == "flag":
        args += ["--redis-url", f"redis://127.0.0.1:{port}"]
    elif how == "REDIS_URL":
        env = {"REDIS_URL": f"redis://127.0.0.1:{port}"}
    else:
        env = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port)}
    refused_start(run_promptline(args, workdir, timeout=60, env=env))


def test_url_with_password_and_database(mock, start_server, start_redis, workdir):
    redis = start_redis(password="s3cret")
    server = start_server(mock, redis=f"redis://:s3cret@127.0.0.1:{redis.port}/3", workers=2,
                          instance_id="with-password", heartbeat_interval=0.5)
    [task_id] = server.submit(["stored in database 3"])
    assert server.wait_one(task_id)["result"] == echo("stored in database 3")
    wait_until(lambda: "with-password" in members(redis, db=3), 15, "a heartbeat in database 3, no prefix")
    assert redis.cli("DBSIZE", db=0) == "0", "keys were written to database 0, not to the URL's database 3"
    # A wrong password is a start-up problem, not a server that answers 503 forever.
    wrong = run_promptline(
        ["serve", "--port", "0", "--redis-url", f"redis://:wrong@127.0.0.1:{redis.port}/3",
         "--data-dir", str(workdir / "d"), "--env-file", str(workdir / "absent.env")], workdir, timeout=60)
    refused_start(wrong)


def test_settings_from_the_environment_and_flags_winning(mock, start_server, start_redis):
    redis = start_redis(password="env-pass")
    env = {
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis.port), "REDIS_DB": "2", "REDIS_PASSWORD": "env-pass",
        "PROMPTLINE_REDIS_PREFIX": "from-env:", "PROMPTLINE_INSTANCE_ID": "env-instance",
        "PROMPTLINE_HEARTBEAT_INTERVAL": "0.5",
    }
    server = start_server(mock, env=env, workers=2)
    assert server.cluster()["store"] == "redis"
    wait_until(lambda: "env-instance" in members(redis, "from-env:", db=2), 15, "the heartbeat of env-instance")
    [task_id] = server.submit(["configured by the environment"])
    assert server.wait_one(task_id)["status"] == "completed"
    keys = redis.cli_lines("KEYS", "*", db=2)
    assert keys and all(k.startswith("from-env:") for k in keys), keys
    server.stop()
    # Flags win over the environment: REDIS_URL points nowhere, --redis-url and --instance-id do not.
    flagged = start_server(mock, env={"REDIS_URL": f"redis://127.0.0.1:{closed_port()}",
                                      "PROMPTLINE_INSTANCE_ID": "env-loses"},
                           redis=f"redis://:env-pass@127.0.0.1:{redis.port}/2", redis_prefix="from-env:",
                           instance_id="flag-wins", heartbeat_interval=0.5)
    assert flagged.detail(task_id)["result"] == echo("configured by the environment")
    wait_until(lambda: "flag-wins" in instance_ids(flagged), 15, "flag-wins in /api/cluster")
    assert "env-loses" not in members(redis, "from-env:", db=2)


def test_every_key_carries_the_prefix(mock, start_server, redis_server):
    server = start_server(mock, redis=redis_server, redis_prefix="pl-test:", workers=2, heartbeat_interval=0.5)
    ids = server.submit([f"prefixed {i}" for i in range(5)], idempotency_key="prefixed-batch")
    server.wait(ids)
    server.cluster()
    keys = redis_server.cli_lines("KEYS", "*")
    assert keys, "nothing was written to Redis"
    assert all(k.startswith("pl-test:") for k in keys), f"keys without the prefix: {[k for k in keys if not k.startswith('pl-test:')]}"
    assert "pl-test:" + HEARTBEATS in keys


# Tasks


def test_one_server_on_redis_completes_200_prompts(mock, start_server, shared_redis, redis_prefix):
    server = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=8)
    prompts = [f"redis basic {i}" for i in range(200)]
    ids = server.submit(prompts)
    summaries = server.wait(ids, timeout=60)
    assert_completed(summaries, ids, prompts)
    counts = {p: mock.count(p) for p in prompts}
    assert all(c == 1 for c in counts.values()), {p: c for p, c in counts.items() if c != 1}
    d = server.detail(ids[7])
    assert d["id"] == ids[7] and d["status"] == "completed" and d["result"] == echo(prompts[7])
    assert d["error"] is None and d["attempts"] == 1
    queued, started, finished = (parse_time(d[k]) for k in ("queued_at", "started_at", "finished_at"))
    assert queued <= started <= finished, d
    queue = server.cluster()["queue"]
    assert (queue["completed"], queue["queued"], queue["processing"]) == (200, 0, 0), queue
    missing = server.get("/api/tasks/no-such-task")
    assert missing.status_code == 404, missing.text


def test_idempotency_key_and_tasks_are_shared_by_servers_on_one_redis(mock, start_server, shared_redis, redis_prefix):
    a = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=0)
    b = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=0)
    body = {"prompts": ["shared idem one", "shared idem two"], "idempotency_key": "shared-order-1"}
    first = a.submit_raw(body)
    assert first.status_code == 202, first.text
    ids = first.json()["task_ids"]
    replay = b.submit_raw(body)
    assert replay.status_code == 200, replay.text
    assert replay.json()["task_ids"] == ids and replay.json().get("duplicate") is True, replay.text
    assert {s["status"] for s in b.statuses(ids).values()} == {"queued"}
    assert b.cluster()["queue"]["queued"] == 2
    # Another prefix is another queue: the key is free there, and the tasks are unknown.
    c = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix.rstrip(":") + "-other:", workers=2)
    assert c.statuses(ids)[ids[0]] == {"status": "not_found"}
    third = c.submit_raw(body)
    assert third.status_code == 202 and not set(third.json()["task_ids"]) & set(ids), third.text
    # A server with workers on the first prefix runs them.
    worker = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=2)
    assert_completed(a.wait(ids), ids, body["prompts"])
    assert worker.detail(ids[1])["result"] == echo("shared idem two")


def test_kill9_of_one_of_two_servers_loses_nothing(start_mock, start_server, shared_redis, redis_prefix):
    mock = start_mock("--latency-ms", "200")
    workers = 8
    a = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=workers, lease=2)
    b = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=workers, lease=2)
    prompts = [f"two servers {i}" for i in range(400)]
    ids: list[str] = []
    for n, start in enumerate(range(0, len(prompts), 50)):
        ids += (a if n % 2 == 0 else b).submit(prompts[start:start + 50])
    wait_until(lambda: mock.stats()["total_calls"] >= 100, 60, "100 upstream calls")
    a.kill9()
    killed_at = time.time()  # every call `a` made reached the mock before this
    summaries = b.wait(ids, timeout=90)
    assert_completed(summaries, ids, prompts)
    counts = {p: mock.count(p) for p in prompts}
    assert all(c in (1, 2) for c in counts.values()), {p: c for p, c in counts.items() if c not in (1, 2)}
    twice = [p for p, c in counts.items() if c == 2]
    assert len(twice) <= workers, f"{len(twice)} tasks were called twice, but `a` had only {workers} in flight"
    late = [(p, mock.times(p)) for p in twice if min(mock.times(p)) > killed_at]
    assert not late, f"tasks called twice that were not in flight at the kill: {late[:5]}"


def test_a_stopped_server_loses_its_lease_and_its_late_answer_changes_nothing(mock, start_server, shared_redis, redis_prefix):
    a = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=1, lease=1)
    prompt = "[[mock:latency_ms=3000,times=1]] stopped while holding the lease"
    [task_id] = a.submit([prompt])
    first_call = mock.wait_calls(prompt, 1, timeout=30)[0]
    a.proc.signal(signal.SIGSTOP)
    try:
        b = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=1, lease=1)
        summary = b.wait_one(task_id, timeout=45)
        assert summary["status"] == "completed" and summary["result"] == echo(prompt), summary
        assert mock.count(prompt) == 2
        before = b.detail(task_id)
        # Keep `a` stopped until the mock has answered its call, so that it wakes up holding a late answer.
        while time.time() < first_call + 3.5:
            time.sleep(0.1)
    finally:
        a.proc.signal(signal.SIGCONT)
    time.sleep(2)  # time for `a` to try to store its answer
    for reader in (a, b):
        after = reader.detail(task_id)
        changed = {k: (before[k], after[k]) for k in ("status", "result", "error", "attempts", "started_at", "finished_at")
                   if before[k] != after[k]}
        assert not changed, f"the late answer of the stopped server changed the task: {changed}"
    assert mock.count(prompt) == 2
    # `a` is still a working server.
    wait_until(lambda: a.get("/health/ready").status_code == 200, 15, "a ready again")
    assert b.stop() == 0
    [new_id] = a.submit(["after the stop"])
    assert a.wait_one(new_id, timeout=30)["result"] == echo("after the stop")


# Redis outages


def test_redis_outage_answers_503_and_recovers(start_mock, start_server, redis_server):
    mock = start_mock("--latency-ms", "500")
    server = start_server(mock, redis=redis_server, workers=4, lease=2)
    prompts = [f"outage {i}" for i in range(40)]
    ids = server.submit(prompts)
    wait_until(lambda: mock.stats()["total_calls"] >= 4, 30, "4 tasks in flight")
    redis_server.kill9()

    refused_prompts = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        prompt = f"during the outage {len(refused_prompts)}"
        refused_prompts.append(prompt)
        r = server.submit_raw({"prompts": [prompt]})
        assert r.status_code == 503, f"a submission during the outage answered {r.status_code}: {r.text[:500]}"
        retry_after = r.headers.get("Retry-After", "")
        assert retry_after.isdigit() and int(retry_after) >= 1, f"Retry-After: {retry_after!r}"
        assert isinstance(r.json().get("detail"), str) and r.json()["detail"], r.text
        time.sleep(0.2)
    for path, params in (("/api/tasks", {"task_ids": ",".join(ids[:5])}), (f"/api/tasks/{ids[0]}", None)):
        r = server.get(path, params=params)
        assert r.status_code == 503, f"GET {path} during the outage answered {r.status_code}: {r.text[:500]}"
        assert "redis" in r.json()["detail"].lower(), r.text
    assert server.get("/health/ready").status_code == 503
    assert server.proc.popen.poll() is None, "the server exited when Redis went away"

    redis_server.restart()  # same port and directory: the AOF comes back, the loaded scripts do not
    wait_until(lambda: server.get("/health/ready").status_code == 200, 30, "ready again after Redis came back")
    summaries = server.wait(ids, timeout=60)
    assert_completed(summaries, ids, prompts)
    accepted = wait_until(lambda: (r := server.submit_raw({"prompts": ["after the outage"]})).status_code == 202 and r,
                          30, "a submission accepted after the outage")
    [new_id] = accepted.json()["task_ids"]
    assert server.wait_one(new_id, timeout=30)["result"] == echo("after the outage")
    called = {p: mock.count(p) for p in refused_prompts if mock.count(p)}
    assert not called, f"submissions answered 503 were run anyway: {called}"


# The cluster view


def check_cluster_body(body: dict, store: str):
    assert body["store"] == store, body
    assert isinstance(body["instances"], list) and body["instances"], body
    for instance in body["instances"]:
        assert isinstance(instance["id"], str) and instance["id"], instance
        for key in ("workers_busy", "workers_total", "tasks_processed"):
            assert isinstance(instance[key], int) and instance[key] >= 0, (key, instance)
        assert instance["workers_busy"] <= instance["workers_total"], instance
        parse_time(instance["started_at"])
        parse_time(instance["last_seen"])
    for key in ("queued", "processing", "completed", "error", "cancelled"):
        assert isinstance(body["queue"][key], int) and body["queue"][key] >= 0, (key, body["queue"])


def test_cluster_lists_live_instances_and_sigterm_leaves(mock, start_server, shared_redis, redis_prefix):
    a = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=3,
                     instance_id="alpha", heartbeat_interval=0.5)
    b = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=5,
                     instance_id="beta", heartbeat_interval=0.5)
    for server in (a, b):
        wait_until(lambda: instance_ids(server) == {"alpha", "beta"}, 15, f"both instances in {server.proc.name}'s /api/cluster")
        body = server.cluster()
        check_cluster_body(body, "redis")
        totals = {i["id"]: i["workers_total"] for i in body["instances"]}
        assert totals == {"alpha": 3, "beta": 5}, totals
    assert sorted(members(shared_redis, redis_prefix)) == ["alpha", "beta"]
    scored = shared_redis.cli_lines("ZRANGE", redis_prefix + HEARTBEATS, "0", "-1", "WITHSCORES")
    now_ms = time.time() * 1000
    for score in scored[1::2]:
        assert abs(float(score) - now_ms) < 60_000, f"heartbeat score {score} is not unix milliseconds (now {now_ms:.0f})"

    prompts = [f"cluster figures {i}" for i in range(6)]
    ids = a.submit(prompts)
    assert_completed(b.wait(ids), ids, prompts)
    def processed():
        body = b.cluster()
        return sum(i["tasks_processed"] for i in body["instances"]) == 6 and body["queue"]["completed"] == 6
    wait_until(processed, 15, "6 tasks processed and completed in /api/cluster")

    assert b.stop(signal.SIGTERM, timeout=30) == 0
    assert members(shared_redis, redis_prefix) == ["alpha"], "a clean shutdown must leave the heartbeat set"
    wait_until(lambda: instance_ids(a) == {"alpha"}, 15, "beta gone from /api/cluster")


def test_cluster_prunes_an_instance_killed_without_goodbye(mock, start_server, shared_redis, redis_prefix):
    a = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=1,
                     instance_id="survivor", heartbeat_interval=0.5)
    b = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, workers=1,
                     instance_id="crashed", heartbeat_interval=0.5)
    wait_until(lambda: sorted(members(shared_redis, redis_prefix)) == ["crashed", "survivor"], 15, "both heartbeats")
    b.kill9()
    wait_until(lambda: members(shared_redis, redis_prefix) == ["survivor"], 15,
               "the killed instance pruned after 3 heartbeat intervals")
    wait_until(lambda: instance_ids(a) == {"survivor"}, 15, "the killed instance gone from /api/cluster")


def test_cluster_with_the_embedded_store_is_just_this_server(mock, start_server):
    server = start_server(mock, workers=3)
    [task_id] = server.submit(["embedded cluster"])
    server.wait_one(task_id)
    body = server.cluster()
    check_cluster_body(body, "embedded")
    [instance] = body["instances"]
    assert instance["workers_total"] == 3
    assert body["queue"]["completed"] == 1


# Start-up warnings about the Redis configuration


def test_start_up_warns_about_eviction_and_no_persistence(mock, start_server, start_redis):
    redis = start_redis("--maxmemory-policy", "allkeys-lru", appendonly=False)
    server = start_server(mock, redis=redis, workers=1)
    wait_until(lambda: "maxmemory-policy" in server.proc.stderr_text(), 10, "a warning about maxmemory-policy")
    wait_until(lambda: "persistence" in server.proc.stderr_text(), 10, "a warning about persistence")


@pytest.mark.parametrize("persistence", ["aof", "rdb"])
def test_no_warning_with_noeviction_and_persistence(mock, start_server, start_redis, persistence):
    if persistence == "aof":
        redis = start_redis()
    else:
        redis = start_redis("--save", "3600 1", appendonly=False)
    assert redis.cli("CONFIG", "GET", "maxmemory-policy").split("\n")[1] == "noeviction"
    server = start_server(mock, redis=redis, workers=1)
    [task_id] = server.submit(["no warnings please"])
    server.wait_one(task_id)
    lines = server.proc.stderr_text().splitlines()
    eviction = [line for line in lines if "maxmemory-policy" in line]
    persisting = [line for line in lines if "persistence" in line and "warn" in line.lower()]
    assert not eviction and not persisting, eviction + persisting
