"""Each upstream fault ends as docs/api.md says (retried or not, and the error it leaves),
checked against the mock's own call counts."""

import time

import pytest

from conftest import closed_port, echo


def run_one(server, prompt, timeout=60):
    [task_id] = server.submit([prompt])
    summary = server.wait_one(task_id, timeout)
    return task_id, summary


def assert_completed(summary, prompt):
    assert summary["status"] == "completed", summary
    assert summary["result"] == echo(prompt), summary
    assert summary["error"] is None, summary


def assert_error(summary, *fragments):
    assert summary["status"] == "error", summary
    assert summary["result"] is None, f"an errored task must not carry a (partial) result: {summary}"
    for fragment in fragments:
        assert fragment.lower() in summary["error"].lower(), f"error should mention {fragment!r}: {summary['error']!r}"


def test_500_twice_then_ok_completes_after_three_calls(mock, start_server):
    server = start_server(mock, max_attempts=5)
    prompt = "[[mock:status=500,times=2]] flaky twice"
    task_id, summary = run_one(server, prompt)
    assert_completed(summary, prompt)
    assert mock.count(prompt) == 3
    assert server.detail(task_id)["attempts"] == 3


def test_500_always_errors_after_max_attempts(mock, start_server):
    server = start_server(mock, max_attempts=3)
    prompt = "[[mock:status=500]] always broken"
    task_id, summary = run_one(server, prompt)
    assert_error(summary, "500")
    assert mock.count(prompt) == 3
    assert server.detail(task_id)["attempts"] == 3


def test_400_is_not_retried(mock, start_server):
    server = start_server(mock, max_attempts=5)
    prompt = "[[mock:status=400]] a bad request"
    _, summary = run_one(server, prompt)
    assert_error(summary, "400")
    assert mock.count(prompt) == 1


def test_insufficient_quota_is_not_retried(mock, start_server):
    server = start_server(mock, max_attempts=5)
    prompt = "[[mock:status=429,type=insufficient_quota]] no money left"
    _, summary = run_one(server, prompt)
    assert_error(summary, "429", "quota")
    assert mock.count(prompt) == 1


def test_429_once_then_completes(mock, start_server):
    server = start_server(mock, max_attempts=5)
    prompt = "[[mock:status=429,retry_after_ms=300,times=1]] rate limited once"
    _, summary = run_one(server, prompt)
    assert_completed(summary, prompt)
    assert mock.count(prompt) == 2


def test_429_always_errors_as_rate_limited(mock, start_server):
    server = start_server(mock, max_attempts=3)
    prompt = "[[mock:status=429,retry_after_ms=100]] rate limited forever"
    _, summary = run_one(server, prompt)
    assert_error(summary, "429")
    assert "rate limit" in summary["error"].lower(), summary
    assert mock.count(prompt) == 3


def test_retryable_statuses_are_retried_and_others_are_not(mock, start_server):
    server = start_server(mock, max_attempts=4)
    retried = [f"[[mock:status={s},times=1]] transient {s}" for s in (408, 409, 500, 502, 503, 504)]
    final = [f"[[mock:status={s}]] permanent {s}" for s in (401, 403, 404, 422)]
    normal = [f"an ordinary prompt {i}" for i in range(5)]
    prompts = retried + final + normal
    ids = server.submit(prompts)
    summaries = server.wait(ids)
    problems = []
    for task_id, prompt in zip(ids, prompts):
        s, calls = summaries[task_id], mock.count(prompt)
        if prompt in final:
            status = prompt.split("=")[1].split("]")[0]
            if s["status"] != "error" or calls != 1 or status not in (s["error"] or ""):
                problems.append((prompt, calls, s))
        else:
            want_calls = 2 if prompt in retried else 1
            if s["status"] != "completed" or s["result"] != echo(prompt) or calls != want_calls:
                problems.append((prompt, calls, s))
    assert not problems, problems


def test_connection_reset_once_then_completes(mock, start_server):
    server = start_server(mock, max_attempts=5)
    prompt = "[[mock:reset,times=1]] the line drops once"
    _, summary = run_one(server, prompt)
    assert_completed(summary, prompt)
    assert mock.count(prompt) == 2


@pytest.mark.parametrize("streaming", ["true", "false"])
def test_cut_once_completes_with_the_full_answer(mock, start_server, streaming):
    server = start_server(mock, max_attempts=5, upstream_streaming=streaming)
    prompt = "[[mock:cut,times=1]] a long answer with many words in it so a cut shows"
    _, summary = run_one(server, prompt)
    assert_completed(summary, prompt)
    assert mock.count(prompt) == 2


def test_cut_always_errors_naming_the_stream_and_keeps_no_partial(mock, start_server):
    server = start_server(mock, max_attempts=3, upstream_streaming="true")
    prompt = "[[mock:cut]] a long answer with many words in it that never ends"
    task_id, summary = run_one(server, prompt)
    assert_error(summary, "stream")
    assert mock.count(prompt) == 3
    assert server.detail(task_id)["result"] is None


def test_cut_always_without_streaming_errors_and_keeps_no_partial(mock, start_server):
    server = start_server(mock, max_attempts=2, upstream_streaming="false")
    prompt = "[[mock:cut]] a plain answer cut in half every time"
    _, summary = run_one(server, prompt)
    assert_error(summary)
    assert mock.count(prompt) == 2


@pytest.mark.parametrize("streaming", ["true", "false"])
def test_stall_always_times_out(mock, start_server, streaming):
    server = start_server(mock, max_attempts=2, upstream_timeout=1, upstream_streaming=streaming)
    prompt = "[[mock:stall_ms=3000]] an upstream that hangs"
    _, summary = run_one(server, prompt, timeout=30)
    assert_error(summary, "timed out")
    assert mock.count(prompt) == 2


def test_stall_once_is_retried_and_completes(mock, start_server):
    server = start_server(mock, max_attempts=3, upstream_timeout=1)
    prompt = "[[mock:stall_ms=3000,times=1]] an upstream that hangs once"
    _, summary = run_one(server, prompt, timeout=30)
    assert_completed(summary, prompt)
    assert mock.count(prompt) == 2


def test_progress_follows_the_stream(mock, start_server):
    # 22 tokens 150 ms apart, against max_tokens 40: progress must pass through values between.
    server = start_server(mock, upstream_timeout=10, upstream_streaming="true")
    words = " ".join(f"w{i}" for i in range(20))
    prompt = "[[mock:token_delay_ms=150]] " + words
    [task_id] = server.submit([prompt], max_tokens=40)
    seen = []
    while True:
        s = server.statuses([task_id])[task_id]
        seen.append(int(s["progress"]))
        if s["status"] in ("completed", "error"):
            break
        assert len(seen) < 2000, f"task never finished: {s}"
        time.sleep(0.03)
    assert_completed(s, prompt)
    assert seen == sorted(seen), f"progress went backwards: {seen}"
    assert any(0 < p < 100 for p in seen), f"no progress between 0 and 100 was seen while streaming: {sorted(set(seen))}"
    assert seen[-1] == 100
    assert mock.count(prompt) == 1


def test_connection_refused_names_the_host_after_max_attempts(start_server):
    port = closed_port()
    server = start_server(f"http://127.0.0.1:{port}/v1", max_attempts=3)
    task_id, summary = run_one(server, "nobody is listening")
    assert_error(summary, f"127.0.0.1:{port}")
    assert server.detail(task_id)["attempts"] == 3
