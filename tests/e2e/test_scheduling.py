"""The order tasks run in, and the upstream's Retry-After shared by every worker."""

import time

from conftest import echo


def test_retry_after_is_honoured_and_shared_by_all_workers(mock, start_server):
    server = start_server(mock, workers=4, max_attempts=5)
    a = "[[mock:status=429,retry_after_ms=2000,times=1]] prompt A is rate limited"
    b = "prompt B comes after the 429"
    [a_id] = server.submit([a])
    a_first = mock.wait_calls(a, 1, timeout=30)[0]
    time.sleep(0.3)  # let the 429 reach the server before B exists
    [b_id] = server.submit([b])
    summaries = server.wait([a_id, b_id], timeout=60)
    assert summaries[a_id]["status"] == "completed" and summaries[a_id]["result"] == echo(a), summaries
    assert summaries[b_id]["status"] == "completed" and summaries[b_id]["result"] == echo(b), summaries
    a_times, b_times = mock.times(a), mock.times(b)
    assert len(a_times) == 2 and len(b_times) == 1, (a_times, b_times)
    assert a_times[1] >= a_first + 1.9, f"A retried {a_times[1] - a_first:.3f} s after its 429 asked for 2 s"
    assert b_times[0] >= a_first + 1.9, (
        f"B was sent {b_times[0] - a_first:.3f} s after A's 429 asked every worker to wait 2 s"
    )


def test_higher_priority_runs_first_and_oldest_first_within_a_priority(mock, start_server):
    server = start_server(mock, workers=1)
    slow = "[[mock:latency_ms=3000]] the slow first task"
    [slow_id] = server.submit([slow])
    mock.wait_calls(slow, 1, timeout=30)
    # The only worker is busy: everything below waits in the queue.
    low = [f"low priority {i}" for i in range(3)]
    high = [f"high priority {i}" for i in range(3)]
    low_ids = server.submit(low, priority=1)
    high_ids = server.submit(high, priority=10)
    mixed = [{"prompt": "per-prompt top", "priority": 20}, {"prompt": "per-prompt bottom", "priority": -5}]
    mixed_ids = server.submit(mixed)
    ids = [slow_id, *low_ids, *high_ids, *mixed_ids]
    summaries = server.wait(ids, timeout=60)
    assert all(s["status"] == "completed" for s in summaries.values()), summaries
    expected = ["per-prompt top", *high, *low, "per-prompt bottom"]
    first_call = {p: mock.times(p)[0] for p in expected}
    actual = sorted(expected, key=lambda p: first_call[p])
    assert actual == expected, f"upstream call order {actual}, expected {expected}"


def test_workers_zero_takes_tasks_but_runs_none(mock, start_server):
    server = start_server(mock, workers=0)
    ids = server.submit([f"stays queued {i}" for i in range(5)])
    time.sleep(0.5)  # give a (wrongly) running worker the time to take one
    stats = server.stats()
    assert stats["workers"] == 0, stats
    assert stats["queue"]["queued"] == 5, stats
    summaries = server.statuses(ids)
    assert all(s["status"] == "queued" and s["progress"] == "0" for s in summaries.values()), summaries
    assert mock.stats()["total_calls"] == 0


def test_a_chat_calls_429_pauses_the_workers_and_a_workers_429_pauses_chat(mock, start_server):
    server = start_server(mock, workers=4, max_attempts=5)
    client = server.openai()
    # A chat call's 429 closes the gate: a task submitted right after waits it out.
    limited = "[[mock:status=429,retry_after_ms=2000,times=1]] chat is rate limited"
    r = server.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": limited}]})
    assert r.status_code == 429 and r.headers.get("retry-after") == "2", (r.status_code, r.headers)
    limited_at = mock.times(limited)[0]
    task = "a task after the chat's 429"
    [task_id] = server.submit([task])
    assert server.wait([task_id], timeout=30)[task_id]["status"] == "completed"
    assert mock.times(task)[0] >= limited_at + 1.9, f"the task went {mock.times(task)[0] - limited_at:.3f} s after a 2 s pause"
    # A worker's 429 closes it for chat calls too.
    worker_limited = "[[mock:status=429,retry_after_ms=2000,times=1]] a task is rate limited"
    [worker_id] = server.submit([worker_limited])
    worker_limited_at = mock.wait_calls(worker_limited, 1, timeout=30)[0]
    time.sleep(0.3)  # let the 429 reach the server
    chat = "a chat call after the task's 429"
    answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": chat}])
    assert answer.choices[0].message.content == echo(chat)
    assert mock.times(chat)[0] >= worker_limited_at + 1.9, (
        f"the chat call went {mock.times(chat)[0] - worker_limited_at:.3f} s after a 2 s pause"
    )
    assert server.wait([worker_id], timeout=30)[worker_id]["status"] == "completed"
