"""Many prompts, one batch or several: every one answered once, with its own echo."""

from concurrent.futures import ThreadPoolExecutor

from conftest import echo


def check_all_completed(server, mock, ids, prompts):
    summaries = server.wait(ids, timeout=180)
    wrong = []
    for task_id, prompt in zip(ids, prompts):
        s = summaries[task_id]
        if s["status"] != "completed" or s["result"] != echo(prompt) or s["progress"] != "100" or s["error"] is not None:
            wrong.append((prompt, s))
    assert not wrong, f"{len(wrong)} tasks wrong, first ones: {wrong[:3]}"
    stats = mock.stats()
    assert stats["total_calls"] == len(prompts), stats
    assert stats["distinct_prompts"] == len(prompts), stats
    assert stats["by_status"] == {"200": len(prompts)}, stats


def test_thousand_prompts_in_one_batch(mock, start_server):
    server = start_server(mock, workers=8)
    prompts = [f"prompt number {i} of the big batch" for i in range(1000)]
    ids = server.submit(prompts)
    check_all_completed(server, mock, ids, prompts)
    # Spot-check that each prompt was called exactly once, by its own account.
    for prompt in prompts[::97]:
        assert mock.count(prompt) == 1
    stats = server.stats()
    assert stats["queue"]["completed"] == 1000, stats
    assert stats["queue"]["queued"] == 0 and stats["queue"]["processing"] == 0, stats


def test_many_batches_sequential_and_concurrent(mock, start_server):
    server = start_server(mock, workers=8)
    batches = [[f"batch {b} item {i}" for i in range(40)] for b in range(12)]
    ids: list[list[str]] = [None] * len(batches)
    # Half one after the other, half from eight clients at once.
    for b in range(6):
        ids[b] = server.submit(batches[b])
    with ThreadPoolExecutor(8) as pool:
        for b, got in zip(range(6, 12), pool.map(lambda b: server.submit(batches[b]), range(6, 12))):
            ids[b] = got
    all_ids = [i for batch in ids for i in batch]
    all_prompts = [p for batch in batches for p in batch]
    assert len(set(all_ids)) == len(all_ids)
    check_all_completed(server, mock, all_ids, all_prompts)


def test_prompt_objects_and_messages(mock, start_server):
    server = start_server(mock)
    prompts = [
        "plain string prompt",
        {"prompt": "object prompt", "max_tokens": 50},
        {"messages": [
            {"role": "system", "content": "you are a test"},
            {"role": "user", "content": "first user turn"},
            {"role": "assistant", "content": "an answer"},
            {"role": "user", "content": "last user turn"},
        ]},
    ]
    ids = server.submit(prompts)
    summaries = server.wait(ids)
    assert [summaries[i]["status"] for i in ids] == ["completed"] * 3, summaries
    assert summaries[ids[0]]["result"] == echo("plain string prompt")
    assert summaries[ids[1]]["result"] == echo("object prompt")
    assert summaries[ids[2]]["result"] == echo("last user turn")
    assert mock.count("last user turn") == 1
