"""The exact-match response cache (docs/api.md): the same model, messages and parameters within
the cache lifetime are answered without an upstream call; identical requests in flight together
make one upstream call; `"cache": false` opts out. Upstream calls are counted by the mock's
ledger, the server's own figures read from `GET /api/cache`.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import batch_line, create_key, echo, parse_jsonl, to_jsonl, wait_batch, wait_until

MODEL = "mock-model"


def body(prompt: str, **extra) -> dict:
    return {"model": MODEL, "messages": [{"role": "user", "content": prompt}], **extra}


def chat(server, prompt: str, **extra) -> requests.Response:
    r = server.post("/v1/chat/completions", json=body(prompt, **extra))
    assert r.status_code == 200, f"{r.status_code}: {r.text[:500]}"
    return r


def content(r: requests.Response) -> str:
    return r.json()["choices"][0]["message"]["content"]


def cache_header(r: requests.Response) -> str | None:
    return r.headers.get("x-promptline-cache")


# /v1/chat/completions


def test_three_identical_requests_make_one_upstream_call(mock, start_server):
    server = start_server(mock)
    prompt = "cache: three times the same question"
    answers = [chat(server, prompt) for _ in range(3)]
    assert [content(r) for r in answers] == [echo(prompt)] * 3
    assert [cache_header(r) for r in answers] == ["miss", "hit", "hit"]
    assert mock.count(prompt) == 1
    stats = server.cache_stats()
    assert stats["enabled"] is True
    assert stats["ttl_seconds"] == 3600
    assert (stats["hits"], stats["misses"]) == (2, 1), stats
    assert stats["entries"] == 1, stats


def test_different_parameters_are_different_entries(mock, start_server):
    server = start_server(mock)
    prompt = "cache: same words, other parameters"
    variants = [{}, {"max_tokens": 50}, {"temperature": 0.1}, {"model": "gpt-3.5-turbo"},
                {"messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": prompt}]}]
    for variant in variants:
        assert cache_header(chat(server, prompt, **variant)) == "miss", variant
    assert mock.count(prompt) == len(variants)
    for variant in variants:
        r = chat(server, prompt, **variant)
        assert cache_header(r) == "hit", variant
        assert content(r) == echo(prompt)
    assert mock.count(prompt) == len(variants)
    assert server.cache_stats()["misses"] == len(variants)


def test_twenty_identical_concurrent_requests_make_one_upstream_call(mock, start_server):
    server = start_server(mock)
    prompt = "[[mock:latency_ms=500]] cache: twenty callers at once"

    def call(_):
        with requests.Session() as session:
            return session.post(server.base + "/v1/chat/completions", json=body(prompt), timeout=30)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(call, range(20)))
    assert [r.status_code for r in answers] == [200] * 20, [r.text[:200] for r in answers if r.status_code != 200]
    assert [content(r) for r in answers] == [echo(prompt)] * 20
    headers = [cache_header(r) for r in answers]
    assert set(headers) <= {"hit", "miss", "coalesced"}, headers
    assert headers.count("miss") == 1, headers
    assert mock.count(prompt) == 1
    stats = server.cache_stats()
    assert stats["misses"] == 1, stats


def test_opt_out_makes_an_upstream_call_every_time(mock, start_server):
    server = start_server(mock)
    prompt = "cache: I want a fresh answer every time"
    assert cache_header(chat(server, prompt)) == "miss"
    for _ in range(3):
        r = chat(server, prompt, cache=False)
        assert cache_header(r) == "bypass"
        assert content(r) == echo(prompt)
    assert mock.count(prompt) == 4
    # The SDK's way of saying it.
    client = server.openai()
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}], extra_body={"cache": False})
        assert raw.headers.get("x-promptline-cache") == "bypass"
        assert raw.parse().choices[0].message.content == echo(prompt)
    assert mock.count(prompt) == 6
    # The entry stored by the first request still answers those that do not opt out.
    assert cache_header(chat(server, prompt)) == "hit"
    assert mock.count(prompt) == 6
    stats = server.cache_stats()
    assert (stats["hits"], stats["misses"], stats["bypassed"]) == (1, 1, 5), stats


def test_streamed_requests_bypass_the_cache(mock, start_server):
    server = start_server(mock)
    prompt = "cache: streams always go upstream"
    client = server.openai()
    for _ in range(2):
        chunks = list(client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}], stream=True))
        assert "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices) == echo(prompt)
    assert mock.count(prompt) == 2


def test_upstream_errors_are_not_cached(mock, start_server):
    server = start_server(mock)
    prompt = "[[mock:status=400,times=1]] cache: the first answer is an error"
    r = server.post("/v1/chat/completions", json=body(prompt))
    assert r.status_code == 400, r.text
    assert cache_header(chat(server, prompt)) == "miss"
    assert cache_header(chat(server, prompt)) == "hit"
    assert mock.count(prompt) == 2


def test_ttl_zero_disables_the_cache(mock, start_server):
    server = start_server(mock, cache_ttl=0)
    prompt = "cache: disabled, so every request goes upstream"
    for _ in range(3):
        assert content(chat(server, prompt)) == echo(prompt)
    assert mock.count(prompt) == 3
    stats = server.cache_stats()
    assert stats["enabled"] is False, stats
    assert stats["hits"] == 0, stats


def test_entries_expire_after_the_ttl(mock, start_server):
    server = start_server(mock, cache_ttl=1)
    prompt = "cache: an answer that goes stale"
    assert cache_header(chat(server, prompt)) == "miss"
    assert cache_header(chat(server, prompt)) == "hit"
    time.sleep(1.5)
    assert cache_header(chat(server, prompt)) == "miss"
    assert mock.count(prompt) == 2


def test_ttl_comes_from_the_environment(mock, start_server):
    server = start_server(mock, env={"PROMPTLINE_CACHE_TTL": "120"})
    assert server.cache_stats()["ttl_seconds"] == 120


# /api/tasks


def test_tasks_api_answers_repeats_from_the_cache(mock, start_server):
    server = start_server(mock)
    prompt = "cache via tasks: asked three times"
    for _ in range(3):
        [task_id] = server.submit([prompt])
        summary = server.wait_one(task_id, timeout=30)
        assert summary["status"] == "completed" and summary["result"] == echo(prompt), summary
    assert mock.count(prompt) == 1


def test_identical_prompts_in_one_batch_make_one_upstream_call(mock, start_server):
    server = start_server(mock, workers=8)
    prompt = "[[mock:latency_ms=300]] cache via tasks: the same prompt twenty times in one batch"
    ids = server.submit([prompt] * 20)
    summaries = server.wait(ids, timeout=30)
    assert all(s["status"] == "completed" and s["result"] == echo(prompt) for s in summaries.values()), summaries
    assert mock.count(prompt) == 1


def test_tasks_api_opt_out_request_level_and_per_prompt(mock, start_server):
    server = start_server(mock)
    prompt = "cache via tasks: opted out"
    [first] = server.submit([prompt])
    assert server.wait_one(first, timeout=30)["status"] == "completed"
    assert mock.count(prompt) == 1
    ids = server.submit([prompt, prompt], cache=False)
    ids += server.submit([{"prompt": prompt, "cache": False}])
    summaries = server.wait(ids, timeout=30)
    assert all(s["status"] == "completed" and s["result"] == echo(prompt) for s in summaries.values()), summaries
    assert mock.count(prompt) == 4
    # Without the opt-out, the stored answer serves it.
    [last] = server.submit([prompt])
    assert server.wait_one(last, timeout=30)["result"] == echo(prompt)
    assert mock.count(prompt) == 4


# The Batch API


def test_batch_lines_share_the_cache(mock, start_server):
    server = start_server(mock, workers=8)
    client = server.openai()
    prompt = "cache via batch: ten lines, one question"
    parameters = {"max_tokens": 100, "temperature": 0.7}
    lines = [batch_line(f"same-{i}", prompt, **parameters) for i in range(10)]
    uploaded = client.files.create(file=("same.jsonl", to_jsonl(lines)), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait_batch(client, batch.id, timeout=60)
    assert done.status == "completed" and done.request_counts.completed == 10, done
    output = parse_jsonl(client.files.content(done.output_file_id).text)
    assert sorted(line["custom_id"] for line in output) == sorted(f"same-{i}" for i in range(10))
    assert all(line["response"]["body"]["choices"][0]["message"]["content"] == echo(prompt) for line in output)
    assert mock.count(prompt) == 1
    # The same request (model, messages, parameters) on /v1/chat/completions is answered from the same cache.
    r = chat(server, prompt, **parameters)
    assert cache_header(r) == "hit"
    assert mock.count(prompt) == 1


# Scope: each API key has its own entries unless --cache-scope global.


def keyed_server(mock, start_server, workdir, **flags):
    data = workdir / f"keyed-{len(flags)}"
    alice = create_key(workdir, "alice", store=["--data-dir", str(data)])
    bob = create_key(workdir, "bob", store=["--data-dir", str(data)])
    server = start_server(mock, data_dir=data, **flags)
    return server.with_key(alice), server.with_key(bob)


def test_a_key_never_hits_what_another_key_cached(mock, start_server, workdir):
    alice, bob = keyed_server(mock, start_server, workdir)
    prompt = "cache scope: only alice asked this"
    assert cache_header(chat(alice, prompt)) == "miss"
    assert cache_header(chat(alice, prompt)) == "hit", "the same key hits its own entry"
    answer = chat(bob, prompt)
    assert cache_header(answer) == "miss", "bob must not learn that alice asked"
    assert content(answer) == echo(prompt)
    assert mock.count(prompt) == 2, "one upstream call per key"
    # Tasks are scoped too: alice's second task is her first one's entry; bob's is a call of its own.
    def run_task(who):
        r = who.post("/api/tasks", json={"prompts": [{"prompt": prompt, "model": MODEL}]})
        assert r.status_code == 202, r.text
        task_id = r.json()["task_ids"][0]
        wait_until(lambda: who.get(f"/api/tasks/{task_id}").json()["status"] == "completed", 30, "the task to finish")

    run_task(alice)
    run_task(alice)
    assert mock.count(prompt) == 3, "alice's repeated task is answered from her entry"
    run_task(bob)
    assert mock.count(prompt) == 4, "bob's task must not be answered from alice's entry"


def test_global_scope_shares_entries_between_keys(mock, start_server, workdir):
    alice, bob = keyed_server(mock, start_server, workdir, cache_scope="global")
    prompt = "cache scope: shared on purpose"
    assert cache_header(chat(alice, prompt)) == "miss"
    assert cache_header(chat(bob, prompt)) == "hit"
    assert mock.count(prompt) == 1
