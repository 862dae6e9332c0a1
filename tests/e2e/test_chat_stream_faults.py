"""A streamed /v1/chat/completions whose upstream stalls or is cut off ends with an OpenAI-style
error event, never with `[DONE]`: the SDK raises `openai.APIError` while iterating, instead of
handing over a silently truncated answer.

The mock streams the first token and then stalls (`stall_ms`), or closes the connection after two
tokens (`cut`); the server's `--upstream-timeout` is the longest gap it waits between two tokens.
"""

import json

import openai
import pytest

from conftest import echo

MODEL = "mock-model"
STALL_PROMPT = "[[mock:stall_ms=4000]] a stream that stalls after its first token and many more words"
CUT_PROMPT = "[[mock:cut]] a long answer with many words in it so that the cut shows"


def user(prompt: str) -> list[dict]:
    return [{"role": "user", "content": prompt}]


def raw_stream(server, prompt: str) -> tuple[list[str], dict]:
    """Posts a streamed request; answers the `data:` payloads in order, and the response headers."""
    r = server.post("/v1/chat/completions", json={"model": MODEL, "messages": user(prompt), "stream": True},
                    stream=True, timeout=15)
    assert r.status_code == 200, f"{r.status_code}: {r.text[:500]}"
    assert r.headers.get("content-type", "").startswith("text/event-stream"), r.headers
    payloads = []
    try:
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                payloads.append(line[len("data:"):].strip())
    finally:
        r.close()
    return payloads, dict(r.headers)


def check_error_stream(payloads: list[str], prompt: str, code: str):
    assert payloads, "the stream carried no event at all"
    assert "[DONE]" not in payloads, f"a failed stream must not end with [DONE]: {payloads[-3:]}"
    last = json.loads(payloads[-1])
    assert "error" in last, f"the last event should be an error event: {payloads[-1]}"
    error = last["error"]
    assert error.get("code") == code, error
    assert error.get("type") == "upstream_error", error
    assert isinstance(error.get("message"), str) and error["message"], error
    text = ""
    for payload in payloads[:-1]:
        chunk = json.loads(payload)
        assert "error" not in chunk, f"only the last event is an error: {payloads}"
        assert chunk["object"] == "chat.completion.chunk", chunk
        for choice in chunk["choices"]:
            assert choice.get("finish_reason") is None, f"a cut-off answer must not claim to have finished: {chunk}"
            text += choice["delta"].get("content") or ""
    assert text, "the tokens sent before the fault are relayed"
    assert echo(prompt).startswith(text) and text != echo(prompt), f"relayed text {text!r} is not a strict prefix"


def sdk_stream_error(server, prompt: str) -> tuple[openai.APIError, str]:
    client = server.openai()
    stream = client.chat.completions.create(model=MODEL, messages=user(prompt), stream=True)
    text = ""
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            for choice in chunk.choices:
                text += choice.delta.content or ""
    return info.value, text


def test_stalled_stream_ends_with_upstream_timeout_event(mock, start_server):
    server = start_server(mock, upstream_timeout=0.5)
    payloads, _ = raw_stream(server, STALL_PROMPT)
    check_error_stream(payloads, STALL_PROMPT, "upstream_timeout")
    assert mock.count(STALL_PROMPT) == 1, "a stream already relayed in part is not sent upstream again"


def test_stalled_stream_raises_api_error_in_the_sdk(mock, start_server):
    server = start_server(mock, upstream_timeout=0.5)
    error, text = sdk_stream_error(server, STALL_PROMPT)
    assert not isinstance(error, openai.APIStatusError), "the error comes as an event inside a 200 stream"
    assert not isinstance(error, openai.APIConnectionError), f"the stream broke instead of ending with an error event: {error!r}"
    assert error.code == "upstream_timeout", error.body
    assert text and echo(STALL_PROMPT).startswith(text)
    # The server is not left stuck: the next stream is whole.
    prompt = "after the stall, a normal stream"
    client = server.openai()
    chunks = list(client.chat.completions.create(model=MODEL, messages=user(prompt), stream=True))
    assert "".join(c.delta.content or "" for chunk in chunks for c in chunk.choices) == echo(prompt)


def test_cut_stream_ends_with_stream_incomplete_event(mock, start_server):
    server = start_server(mock)
    payloads, _ = raw_stream(server, CUT_PROMPT)
    check_error_stream(payloads, CUT_PROMPT, "stream_incomplete")
    assert mock.count(CUT_PROMPT) == 1, "a stream already relayed in part is not sent upstream again"


def test_cut_stream_raises_api_error_in_the_sdk(mock, start_server):
    server = start_server(mock)
    error, text = sdk_stream_error(server, CUT_PROMPT)
    assert not isinstance(error, openai.APIStatusError), "the error comes as an event inside a 200 stream"
    assert not isinstance(error, openai.APIConnectionError), f"the stream broke instead of ending with an error event: {error!r}"
    assert error.code == "stream_incomplete", error.body
    assert text and echo(CUT_PROMPT).startswith(text) and text != echo(CUT_PROMPT)
