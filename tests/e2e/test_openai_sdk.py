"""The official `openai` Python SDK, unchanged, against Promptline's /v1 surface (docs/api.md).

The upstream is the mock, which answers `echo: <last user message>`; faults are asked for in the
prompt (`[[mock:status=429]]`), and the mock's call ledger tells how many upstream calls were made.
Clients are built with `max_retries=0`, so an error the server relays is the error the SDK raises.
"""

import time

import openai
import pytest

from conftest import batch_line, echo, parse_jsonl, to_jsonl, wait_batch, wait_until

MODEL = "mock-model"


def user(prompt: str) -> list[dict]:
    return [{"role": "user", "content": prompt}]


def first_tokens(text: str, n: int) -> str:
    """The first `n` tokens of the mock's answer (a token: whitespace, then non-whitespace)."""
    words = text.split(" ")
    return " ".join(words[:n])


# Chat completions


def test_plain_chat_completion(mock, start_server):
    client = start_server(mock).openai()
    prompt = "sdk plain: what is the capital of France?"
    completion = client.chat.completions.create(model=MODEL, messages=user(prompt))
    assert completion.object == "chat.completion"
    assert completion.id
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == echo(prompt)
    assert choice.finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    assert mock.count(prompt) == 1


def test_chat_parameters_reach_the_upstream(mock, start_server):
    """The body is relayed: a system message does not change the answer, max_tokens truncates it."""
    client = start_server(mock).openai()
    prompt = "sdk params: one two three four five six"
    completion = client.chat.completions.create(
        model=MODEL, max_tokens=3, temperature=0.2,
        messages=[{"role": "system", "content": "be brief"}, *user(prompt)],
    )
    assert completion.choices[0].message.content == first_tokens(echo(prompt), 3)
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage.completion_tokens == 3
    assert mock.count(prompt) == 1


def test_streamed_chat_completion_arrives_in_chunks_with_the_exact_text(mock, start_server):
    client = start_server(mock).openai()
    prompt = "sdk stream: a sentence of several words to be streamed token by token"
    stream = client.chat.completions.create(model=MODEL, messages=user(prompt), stream=True)
    pieces, finish_reasons, ids = [], [], set()
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        ids.add(chunk.id)
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason:
                finish_reasons.append(choice.finish_reason)
    assert len(pieces) > 1, f"the answer came in {len(pieces)} chunk(s): {pieces}"
    assert "".join(pieces) == echo(prompt)
    assert finish_reasons == ["stop"]
    assert len(ids) == 1, f"every chunk of one completion carries the same id: {ids}"
    assert mock.count(prompt) == 1


def test_streamed_chat_completion_with_usage(mock, start_server):
    client = start_server(mock).openai()
    prompt = "sdk stream usage: count my tokens please"
    stream = client.chat.completions.create(
        model=MODEL, messages=user(prompt), stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices)
    assert text == echo(prompt)
    assert chunks[-1].usage is not None, "include_usage asks for a last chunk with the usage"
    assert chunks[-1].usage.completion_tokens == len(echo(prompt).split(" "))


ERRORS = [
    (400, openai.BadRequestError),
    (429, openai.RateLimitError),
    (500, openai.InternalServerError),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("status,exception", ERRORS, ids=[str(s) for s, _ in ERRORS])
def test_upstream_error_raises_the_sdks_matching_exception(mock, start_server, status, exception, stream):
    client = start_server(mock, max_attempts=2).openai()
    prompt = f"[[mock:status={status},retry_after_ms=20]] sdk error {status} stream={stream}"
    with pytest.raises(exception) as info:
        answer = client.chat.completions.create(model=MODEL, messages=user(prompt), stream=stream)
        if stream:
            for _ in answer:
                pass
    error = info.value
    assert error.status_code == status
    assert isinstance(error.body, dict) and isinstance(error.body.get("message"), str) and error.body["message"], \
        f"the error body should be OpenAI's {{'error': {{'message', 'type', 'code'}}}}: {error.body!r}"
    assert isinstance(error.type, str) and error.type, f"no error type in {error.body!r}"
    assert mock.count(prompt) >= 1


def test_insufficient_quota_keeps_its_code(mock, start_server):
    """SDK users tell a spent quota from a rate limit by the error's code; the relay keeps it."""
    client = start_server(mock).openai()
    prompt = "[[mock:status=429,type=insufficient_quota]] sdk no money left"
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model=MODEL, messages=user(prompt))
    assert info.value.code == "insufficient_quota", info.value.body
    assert mock.count(prompt) == 1, "insufficient_quota is not retried"


def test_models_list_relays_the_upstreams_list(mock, start_server):
    client = start_server(mock).openai()
    models = list(client.models.list())
    assert sorted(m.id for m in models) == ["gpt-3.5-turbo", "mock-model"]
    assert all(m.object == "model" for m in models)


# The Batch API


def test_full_batch_of_300_upload_create_poll_download(mock, start_server):
    server = start_server(mock, workers=8)
    client = server.openai()
    lines, expected, prompts = [], {}, {}
    for i in range(300):
        custom_id = f"request-{i:04d}"
        prompt = f"batch line {i} says hello to number {i * 7}"
        kind = i % 5
        if kind == 1:
            line, answer = batch_line(custom_id, prompt, max_tokens=2), first_tokens(echo(prompt), 2)
        elif kind == 2:
            line, answer = batch_line(custom_id, prompt, max_completion_tokens=3), first_tokens(echo(prompt), 3)
        elif kind == 3:
            line, answer = batch_line(custom_id, prompt, system="you are terse"), echo(prompt)
        elif kind == 4:
            line, answer = batch_line(custom_id, prompt, temperature=0.3, max_tokens=500), echo(prompt)
        else:
            line, answer = batch_line(custom_id, prompt), echo(prompt)
        lines.append(line)
        expected[custom_id] = answer
        prompts[custom_id] = prompt
    data = to_jsonl(lines)

    uploaded = client.files.create(file=("requests.jsonl", data), purpose="batch")
    assert uploaded.object == "file"
    assert uploaded.purpose == "batch"
    assert uploaded.bytes == len(data)
    assert uploaded.filename == "requests.jsonl"
    fetched = client.files.retrieve(uploaded.id)
    assert (fetched.id, fetched.bytes, fetched.purpose) == (uploaded.id, len(data), "batch")
    assert client.files.content(uploaded.id).read() == data

    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h",
        metadata={"job": "sdk-e2e"},
    )
    assert batch.object == "batch"
    assert batch.input_file_id == uploaded.id
    assert batch.endpoint == "/v1/chat/completions"
    assert batch.status in {"validating", "in_progress", "finalizing", "completed"}
    assert batch.metadata == {"job": "sdk-e2e"}

    done = wait_batch(client, batch.id, timeout=120)
    assert done.status == "completed", done
    counts = done.request_counts
    assert (counts.total, counts.completed, counts.failed) == (300, 300, 0), counts
    assert done.completed_at is not None and done.completed_at >= done.created_at
    assert done.output_file_id

    output_file = client.files.retrieve(done.output_file_id)
    assert output_file.purpose == "batch_output"
    # Stored once the batch has ended (moments after it reads completed), with an expiry;
    # until then it is built from the tasks, without one.
    deadline = time.monotonic() + 10
    while output_file.expires_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
        output_file = client.files.retrieve(done.output_file_id)
    assert output_file.expires_at is not None and output_file.expires_at > done.completed_at, output_file
    raw = client.files.content(done.output_file_id)
    assert output_file.bytes == len(raw.content)
    output = parse_jsonl(raw.text)
    assert len(output) == 300
    seen, wrong = set(), []
    for line in output:
        custom_id = line["custom_id"]
        assert custom_id not in seen, f"custom_id {custom_id} answered twice"
        seen.add(custom_id)
        response = line["response"]
        assert line["id"] and line["error"] is None and response["status_code"] == 200, line
        assert "request_id" in response, line
        body = response["body"]
        assert body["object"] == "chat.completion", line
        if body["choices"][0]["message"]["content"] != expected.get(custom_id):
            wrong.append((custom_id, expected.get(custom_id), body["choices"][0]["message"]["content"]))
    assert seen == set(expected)
    assert not wrong, f"{len(wrong)} custom_ids answered wrong, e.g. (custom_id, expected, got): {wrong[:3]}"
    if done.error_file_id:
        assert client.files.content(done.error_file_id).text.strip() == ""
    twice = {p: n for p in prompts.values() if (n := mock.count(p)) != 1}
    assert not twice, f"prompts not sent upstream exactly once: {dict(list(twice.items())[:5])}"


def test_batch_with_failing_requests_lists_them_in_the_error_file(mock, start_server):
    client = start_server(mock, max_attempts=2).openai()
    good = {f"good-{i}": f"batch good line {i}" for i in range(6)}
    bad = {f"bad-{i}": f"[[mock:status=400]] batch bad line {i}" for i in range(2)}
    lines = [batch_line(c, p) for c, p in {**good, **bad}.items()]
    uploaded = client.files.create(file=("mixed.jsonl", to_jsonl(lines)), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait_batch(client, batch.id, timeout=60)
    assert done.status == "completed", done
    counts = done.request_counts
    assert (counts.total, counts.completed, counts.failed) == (8, 6, 2), counts

    output = parse_jsonl(client.files.content(done.output_file_id).text)
    assert sorted(line["custom_id"] for line in output) == sorted(good)
    for line in output:
        assert line["response"]["body"]["choices"][0]["message"]["content"] == echo(good[line["custom_id"]]), line

    assert done.error_file_id, "failed requests go to an error file"
    errors = parse_jsonl(client.files.content(done.error_file_id).text)
    assert sorted(line["custom_id"] for line in errors) == sorted(bad)
    for line in errors:
        assert line["id"] and line["response"] is None, line
        assert isinstance(line["error"], dict) and line["error"].get("message"), line
        assert "code" in line["error"], line


@pytest.mark.parametrize("bad_line", [
    "{this is not json",
    '{"method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": []}}',
    '{"custom_id": "x3", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "mock-model"}}',
    '{"custom_id": "x3", "method": "POST", "url": "/v1/chat/completions", "body": "not an object"}',
    '[1, 2, 3]',
], ids=["not-json", "no-custom_id", "no-messages", "body-not-object", "not-an-object"])
def test_upload_names_the_first_bad_line(mock, start_server, bad_line):
    client = start_server(mock).openai()
    good = [to_jsonl([batch_line(f"ok-{i}", f"fine line {i}")]).decode().strip() for i in range(4)]
    data = "\n".join([good[0], good[1], bad_line, good[2], "{also bad", good[3]]) + "\n"
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=("bad.jsonl", data.encode()), purpose="batch")
    message = info.value.body.get("message", "") if isinstance(info.value.body, dict) else str(info.value)
    assert "line 3" in message.lower(), f"the error should name line 3, the first bad one: {message!r}"
    assert "line 5" not in message.lower(), message


def test_unknown_file_and_batch_are_not_found(mock, start_server):
    client = start_server(mock).openai()
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve("file-doesnotexist")
    with pytest.raises(openai.NotFoundError):
        client.files.content("file-doesnotexist")
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_doesnotexist")
    with pytest.raises(openai.NotFoundError):
        client.batches.cancel("batch_doesnotexist")


def test_batch_on_a_missing_input_file_is_refused(mock, start_server):
    client = start_server(mock).openai()
    with pytest.raises((openai.BadRequestError, openai.NotFoundError)):
        client.batches.create(input_file_id="file-doesnotexist", endpoint="/v1/chat/completions",
                              completion_window="24h")


def test_batches_list_pages_newest_first(mock, start_server):
    client = start_server(mock).openai()
    created = []
    for i in range(3):
        uploaded = client.files.create(file=(f"b{i}.jsonl", to_jsonl([batch_line("only", f"list test {i}")])),
                                       purpose="batch")
        created.append(client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                             completion_window="24h").id)
    first = client.batches.list(limit=2)
    assert [b.id for b in first.data] == [created[2], created[1]]
    assert first.has_more is True
    second = client.batches.list(limit=2, after=created[1])
    assert [b.id for b in second.data] == [created[0]]
    assert second.has_more is False
    assert [b.id for b in client.batches.list(limit=1)] == created[::-1], "auto-pagination walks every page"


def test_cancel_a_running_batch(mock, start_server):
    server = start_server(mock, workers=2)
    client = server.openai()
    prompts = {f"slow-{i:02d}": f"[[mock:latency_ms=300]] slow batch line {i}" for i in range(20)}
    uploaded = client.files.create(file=("slow.jsonl", to_jsonl([batch_line(c, p) for c, p in prompts.items()])),
                                   purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    wait_until(lambda: mock.stats()["total_calls"] >= 2, 30, "the batch to start")
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.id == batch.id
    assert cancelling.status in {"cancelling", "cancelled"}, cancelling
    done = wait_batch(client, batch.id, timeout=30)
    assert done.status == "cancelled", done
    assert done.cancelled_at is not None
    counts = done.request_counts
    assert counts.total == 20
    assert counts.completed < 20, f"a batch cancelled at its start should not complete every request: {counts}"
    calls = mock.stats()["total_calls"]
    assert calls < 20, f"cancelled requests were still sent upstream: {calls} calls"
    if counts.completed:
        output = parse_jsonl(client.files.content(done.output_file_id).text)
        assert len(output) == counts.completed
        for line in output:
            assert line["response"]["body"]["choices"][0]["message"]["content"] == echo(prompts[line["custom_id"]])
