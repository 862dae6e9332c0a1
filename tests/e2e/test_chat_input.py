"""/v1/chat/completions refuses bad input in OpenAI's error shape, changes nothing upstream,
and names an upstream it cannot reach."""

import openai
import pytest

from conftest import closed_port


def assert_openai_error(r, status: int, fragment: str):
    assert r.status_code == status, f"{r.status_code}: {r.text[:300]}"
    error = r.json()["error"]
    assert fragment in error["message"], error
    assert isinstance(error["type"], str) and error["type"]


@pytest.mark.parametrize("body, status, fragment", [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "must be a JSON object"),
    (b'{"model": "m"}', 400, "messages"),
    (b'{"model": "m", "messages": []}', 400, "messages"),
    (b'{"model": "", "messages": [{"role": "user", "content": "x"}]}', 400, "model"),
    (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}', 400, "stream"),
    (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "cache": "no"}', 400, "cache"),
])
def test_bad_bodies_are_refused_before_any_upstream_call(mock, start_server, body, status, fragment):
    server = start_server(mock)
    r = server.post("/v1/chat/completions", data=body, headers={"content-type": "application/json"})
    assert_openai_error(r, status, fragment)
    assert mock.stats()["total_calls"] == 0, mock.stats()


def test_an_oversized_body_is_413(mock, start_server):
    server = start_server(mock, max_body_size=4096)
    big = "x" * 8192
    r = server.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": big}]})
    assert_openai_error(r, 413, "larger than")
    assert mock.stats()["total_calls"] == 0


def test_an_unreachable_upstream_is_a_502_naming_it(start_server):
    port = closed_port()
    server = start_server(f"http://127.0.0.1:{port}/v1", workers=0)
    r = server.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert_openai_error(r, 502, f"127.0.0.1:{port}")
    client = server.openai()
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])


def test_the_default_model_fills_a_missing_one(mock, start_server):
    server = start_server(mock, model="the-default-model")
    r = server.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "which model?"}]})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "the-default-model"
