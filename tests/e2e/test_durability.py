"""A 202 means stored: kill -9, SIGTERM and restarts on the same data directory lose nothing."""

import signal
import threading

import pytest
import requests

from conftest import echo, wait_until


def check_completed_once(server, mock, ids, prompts, timeout=120):
    summaries = server.wait(ids, timeout=timeout)
    wrong = [(p, summaries[i]) for i, p in zip(ids, prompts)
             if summaries[i]["status"] != "completed" or summaries[i]["result"] != echo(p)]
    assert not wrong, f"{len(wrong)} tasks wrong after restart, e.g. {wrong[:3]}"
    counts = {p: mock.count(p) for p in prompts}
    not_once = {p: c for p, c in counts.items() if c != 1}
    assert not not_once, f"prompts not called exactly once: {dict(list(not_once.items())[:10])}"


def test_kill9_right_after_202_loses_nothing(mock, start_server):
    intake = start_server(mock, workers=0)
    batches = [[f"durable batch {b} prompt {i}" for i in range(100)] for b in range(5)]
    ids = [intake.submit(batch) for batch in batches]
    intake.kill9()  # no chance to flush anything after the last 202
    worker = start_server(mock, data_dir=intake.data_dir, workers=8)
    check_completed_once(worker, mock, [i for b in ids for i in b], [p for b in batches for p in b])


def test_kill9_during_concurrent_submissions_keeps_every_acknowledged_batch_whole(mock, start_server):
    intake = start_server(mock, workers=0)
    acked: list[tuple[list[str], list[str]]] = []  # (prompts, ids)
    attempted: list[list[str]] = []
    stop = threading.Event()

    def client(n):
        session = requests.Session()
        b = 0
        while not stop.is_set():
            prompts = [f"client {n} batch {b} prompt {i}" for i in range(50)]
            b += 1
            attempted.append(prompts)
            try:
                r = session.post(intake.base + "/api/tasks", json={"prompts": prompts}, timeout=10)
            except requests.RequestException:
                return
            if r.status_code != 202:
                return
            acked.append((prompts, r.json()["task_ids"]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: len(acked) >= 20, 60, "20 acknowledged batches")
    intake.kill9()
    stop.set()
    for t in threads:
        t.join(30)
    worker = start_server(mock, data_dir=intake.data_dir, workers=8)
    ack_prompts = [p for prompts, _ in acked for p in prompts]
    ack_ids = [i for _, ids in acked for i in ids]
    check_completed_once(worker, mock, ack_ids, ack_prompts)
    # A batch whose 202 never came is stored whole or not at all.
    acked_set = {tuple(prompts) for prompts, _ in acked}
    unacked = [prompts for prompts in attempted if tuple(prompts) not in acked_set]
    wait_until(lambda: worker.stats()["queue"]["queued"] == 0 and worker.stats()["queue"]["processing"] == 0,
               60, "the queue to drain")
    for prompts in unacked:
        counts = {mock.count(p) for p in prompts}
        assert counts in ({0}, {1}), f"an unacknowledged batch was half stored or run twice: counts {counts}"


def test_kill9_with_tasks_in_flight_loses_none(start_mock, start_server):
    mock = start_mock("--latency-ms", "300")
    workers = 8
    first = start_server(mock, workers=workers, lease=2)
    prompts = [f"in flight {i}" for i in range(120)]
    ids = first.submit(prompts)
    wait_until(lambda: mock.stats()["total_calls"] >= 30, 60, "30 upstream calls")
    first.kill9()
    second = start_server(mock, data_dir=first.data_dir, workers=workers, lease=2)
    summaries = second.wait(ids, timeout=120)
    wrong = [(p, summaries[i]) for i, p in zip(ids, prompts)
             if summaries[i]["status"] != "completed" or summaries[i]["result"] != echo(p)]
    assert not wrong, f"{len(wrong)} tasks wrong after restart, e.g. {wrong[:3]}"
    counts = {p: mock.count(p) for p in prompts}
    assert all(c in (1, 2) for c in counts.values()), {p: c for p, c in counts.items() if c not in (1, 2)}
    twice = [p for p, c in counts.items() if c == 2]
    assert len(twice) <= workers, f"{len(twice)} tasks were called twice, but only {workers} could be in flight at the kill"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_shutdown_finishes_in_flight_and_hands_back_the_rest(start_mock, start_server, sig):
    mock = start_mock("--latency-ms", "1000")
    server = start_server(mock, workers=4, shutdown_grace=15)
    prompts = [f"drain me {i}" for i in range(16)]
    ids = server.submit(prompts)
    wait_until(lambda: mock.stats()["total_calls"] >= 4, 30, "4 tasks in flight")
    code = server.stop(sig, timeout=30)
    assert code == 0, f"exit status {code}\nstderr: {server.proc.stderr_text()[-3000:]}"
    counts = {p: mock.count(p) for p in prompts}
    assert all(c in (0, 1) for c in counts.values()), counts

    reader = start_server(mock, data_dir=server.data_dir, workers=0)
    summaries = reader.statuses(ids)
    problems = []
    for task_id, prompt in zip(ids, prompts):
        s = summaries[task_id]
        if counts[prompt] == 1 and not (s["status"] == "completed" and s["result"] == echo(prompt)):
            problems.append(("started before shutdown, not completed", prompt, s))
        if counts[prompt] == 0 and s["status"] != "queued":
            problems.append(("never started, not queued", prompt, s))
    assert not problems, problems
    assert 4 <= sum(counts.values()) < len(prompts), counts
    reader.stop()

    worker = start_server(mock, data_dir=server.data_dir, workers=4)
    check_completed_once(worker, mock, ids, prompts, timeout=60)


def test_tasks_still_running_when_the_grace_ends_are_handed_back(start_mock, start_server):
    mock = start_mock("--latency-ms", "4000")
    server = start_server(mock, workers=2, shutdown_grace=1)
    prompts = [f"too slow to drain {i}" for i in range(4)]
    ids = server.submit(prompts)
    wait_until(lambda: mock.stats()["total_calls"] >= 2, 30, "2 tasks in flight")
    code = server.stop(signal.SIGTERM, timeout=20)
    assert code == 0, f"exit status {code}\nstderr: {server.proc.stderr_text()[-3000:]}"
    reader = start_server(mock, data_dir=server.data_dir, workers=0)
    summaries = reader.statuses(ids)
    assert all(s["status"] == "queued" for s in summaries.values()), (
        f"after a shutdown whose grace ran out, unfinished tasks must be queued again: {summaries}"
    )
    reader.stop()
    worker = start_server(mock, data_dir=server.data_dir, workers=4)
    summaries = worker.wait(ids, timeout=60)
    assert all(summaries[i]["status"] == "completed" and summaries[i]["result"] == echo(p)
               for i, p in zip(ids, prompts)), summaries
