"""A Batch API batch survives a kill -9 of the server: after a restart on the same store it
completes, every custom_id answered once and right: a 202's durability holds for batches too."""

import pytest

from conftest import batch_line, echo, parse_jsonl, to_jsonl, wait_batch, wait_until

LINES = 60
LATENCY_MS = 150


def slow_batch(tag: str) -> dict[str, str]:
    """custom_id → prompt; every prompt is answered after LATENCY_MS, so the batch takes a while."""
    return {f"{tag}-{i:03d}": f"[[mock:latency_ms={LATENCY_MS}]] durable {tag} line {i}" for i in range(LINES)}


def check_batch_output(client, mock, done, prompts: dict[str, str]):
    assert done.status == "completed", done
    counts = done.request_counts
    assert (counts.total, counts.completed, counts.failed) == (LINES, LINES, 0), counts
    output = parse_jsonl(client.files.content(done.output_file_id).text)
    custom_ids = [line["custom_id"] for line in output]
    assert len(custom_ids) == len(set(custom_ids)), "a custom_id answered twice in the output file"
    assert set(custom_ids) == set(prompts)
    wrong = [(line["custom_id"], line) for line in output
             if line["error"] is not None
             or line["response"]["body"]["choices"][0]["message"]["content"] != echo(prompts[line["custom_id"]])]
    assert not wrong, f"{len(wrong)} lines wrong, e.g. {wrong[:2]}"
    never = [p for p in prompts.values() if mock.count(p) == 0]
    assert not never, f"{len(never)} prompts never reached the upstream"


@pytest.fixture(params=["embedded", "redis"])
def store(request):
    """Server keyword arguments for the store under test: the embedded one, or a private Redis."""
    if request.param == "embedded":
        return {}
    redis_server = request.getfixturevalue("redis_server")
    return {"redis": redis_server, "redis_prefix": request.getfixturevalue("redis_prefix")}


def test_batch_killed_mid_run_completes_after_restart(mock, start_server, store):
    first = start_server(mock, workers=4, lease=2, **store)
    client = first.openai()
    prompts = slow_batch("kill9")
    uploaded = client.files.create(file=("durable.jsonl", to_jsonl([batch_line(c, p) for c, p in prompts.items()])),
                                   purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    wait_until(lambda: mock.stats()["total_calls"] >= 8, 30, "8 upstream calls of the batch")
    running = client.batches.retrieve(batch.id)
    assert running.status == "in_progress", f"the batch should be mid-run when the server is killed: {running}"
    first.kill9()

    second = start_server(mock, data_dir=first.data_dir, workers=4, lease=2, **store)
    client = second.openai()
    done = wait_batch(client, batch.id, timeout=90)
    check_batch_output(client, mock, done, prompts)
    assert client.files.retrieve(uploaded.id).bytes > 0


def test_batch_created_just_before_kill9_still_runs(mock, start_server, store):
    first = start_server(mock, workers=0, **store)
    client = first.openai()
    prompts = {f"early-{i:03d}": f"early durable line {i}" for i in range(LINES)}
    data = to_jsonl([batch_line(c, p) for c, p in prompts.items()])
    uploaded = client.files.create(file=("early.jsonl", data), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    first.kill9()  # no chance to do anything after the answer to create

    second = start_server(mock, data_dir=first.data_dir, workers=4, **store)
    client = second.openai()
    assert client.files.content(uploaded.id).read() == data
    done = wait_batch(client, batch.id, timeout=60)
    assert done.status == "completed", done
    assert done.request_counts.completed == LINES
    output = parse_jsonl(client.files.content(done.output_file_id).text)
    assert sorted(line["custom_id"] for line in output) == sorted(prompts)
    assert all(line["response"]["body"]["choices"][0]["message"]["content"] == echo(prompts[line["custom_id"]])
               for line in output)
    twice = [p for p in prompts.values() if mock.count(p) != 1]
    assert not twice, f"{len(twice)} prompts not sent upstream exactly once"
