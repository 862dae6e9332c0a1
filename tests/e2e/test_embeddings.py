"""`POST /v1/embeddings` with the official `openai` SDK, relayed to `promptline mock-upstream`.

The mock's vectors are deterministic (docs/api.md): each is compared with what the mock itself
answers for the same text, asked directly. The SDK asks for `encoding_format="base64"` unless
told otherwise and decodes float32 little-endian; both encodings must give the same numbers.
Upstream calls are counted by the mock's ledger, keyed by the inputs joined by newlines.
"""

import base64
import math
import struct

import openai
import pytest
import requests

MODEL = "mock-embedding"


def as_float32(values) -> list[float]:
    """Each value rounded to the nearest float32, as the base64 encoding carries it."""
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]


def mock_vectors(mock, texts: list[str], **extra) -> list[list[float]]:
    """The mock's own answer, asked directly with `encoding_format: float` (not counted by the test's prompts)."""
    r = requests.post(mock.url + "/embeddings", json={"model": MODEL, "input": texts, "encoding_format": "float", **extra}, timeout=10)
    assert r.status_code == 200, r.text[:500]
    return [as_float32(item["embedding"]) for item in r.json()["data"]]


def ledger_key(texts: list[str]) -> str:
    return "\n".join(texts)


def cosine(a, b) -> float:
    return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_default_base64_and_float_give_the_mocks_vectors(mock, start_server):
    client = start_server(mock).openai()
    texts = ["embeddings e2e: the cat sat on the mat", "embeddings e2e: a dog slept by the door"]
    expected = mock_vectors(mock, texts)
    assert mock.count(ledger_key(texts)) == 1

    packed = client.embeddings.with_raw_response.create(model=MODEL, input=texts)
    assert packed.headers.get("x-promptline-cache") == "miss"
    answer = packed.parse()
    assert answer.object == "list" and answer.model == MODEL
    assert [item.index for item in answer.data] == [0, 1]
    assert [as_float32(item.embedding) for item in answer.data] == expected
    assert all(len(item.embedding) == 384 for item in answer.data)
    assert answer.usage.prompt_tokens == answer.usage.total_tokens == 16
    assert mock.count(ledger_key(texts)) == 2, "one upstream call for the SDK's base64 request"

    plain = client.embeddings.create(model=MODEL, input=texts, encoding_format="float")
    assert [as_float32(item.embedding) for item in plain.data] == expected
    assert mock.count(ledger_key(texts)) == 3, "float is another request: one more upstream call"


def test_base64_goes_upstream_and_back_as_float32_little_endian(mock, start_server):
    server = start_server(mock)
    text = "embeddings e2e: raw base64 on the wire"
    r = server.post("/v1/embeddings", json={"model": MODEL, "input": text, "encoding_format": "base64"})
    assert r.status_code == 200, r.text[:500]
    encoded = r.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    raw = base64.b64decode(encoded)
    assert len(raw) == 384 * 4
    assert list(struct.unpack("<384f", raw)) == mock_vectors(mock, [text])[0]


def test_a_repeated_request_is_a_cache_hit_with_no_upstream_call(mock, start_server):
    client = start_server(mock).openai()
    texts = ["embeddings e2e: cached once, answered twice"]
    first = client.embeddings.with_raw_response.create(model=MODEL, input=texts)
    second = client.embeddings.with_raw_response.create(model=MODEL, input=texts)
    assert [first.headers.get("x-promptline-cache"), second.headers.get("x-promptline-cache")] == ["miss", "hit"]
    assert [item.embedding for item in first.parse().data] == [item.embedding for item in second.parse().data]
    assert mock.count(ledger_key(texts)) == 1

    bypass = client.embeddings.with_raw_response.create(model=MODEL, input=texts, extra_body={"cache": False})
    assert bypass.headers.get("x-promptline-cache") == "bypass"
    assert mock.count(ledger_key(texts)) == 2


def test_dimensions_and_similarity(mock, start_server):
    client = start_server(mock).openai()
    small = client.embeddings.create(model=MODEL, input="embeddings e2e: sixteen dimensions", dimensions=16)
    vector = small.data[0].embedding
    assert len(vector) == 16
    assert abs(math.sqrt(sum(v * v for v in vector)) - 1) < 1e-5

    texts = ["how do I reset my password", "to reset your password open the settings page",
             "the invoice lists three shipping costs"]
    query, answer, unrelated = (item.embedding for item in client.embeddings.create(model=MODEL, input=texts).data)
    assert cosine(query, answer) > cosine(query, unrelated) + 0.1


def test_upstream_429_is_relayed_with_retry_after(mock, start_server):
    client = start_server(mock).openai()
    text = "[[mock:status=429,retry_after_ms=1500]] embeddings e2e: slow down"
    with pytest.raises(openai.RateLimitError) as info:
        client.embeddings.create(model=MODEL, input=text)
    error = info.value
    assert error.status_code == 429
    assert error.response.headers.get("retry-after") == "2"
    assert error.code == "rate_limit_exceeded"
    assert isinstance(error.body, dict) and error.body.get("message")
    assert mock.count(text) == 1


@pytest.mark.parametrize("bad_input", [[], "", ["fine", ""], [{"text": "x"}]], ids=["empty-list", "empty", "empty-item", "object"])
def test_bad_input_is_a_400_in_openais_shape_with_no_upstream_call(mock, start_server, bad_input):
    client = start_server(mock).openai()
    before = mock.stats()["total_calls"]
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model=MODEL, input=bad_input)
    error = info.value
    assert error.status_code == 400
    assert isinstance(error.body, dict) and "input" in error.body["message"], error.body
    assert error.type == "invalid_request_error"
    assert mock.stats()["total_calls"] == before


def test_tokens_the_mock_cannot_read_are_its_400_relayed(mock, start_server):
    client = start_server(mock).openai()
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model=MODEL, input=[[1, 2, 3]])
    assert info.value.status_code == 400
    assert "tokens" in info.value.body["message"], info.value.body
    assert info.value.type == "invalid_request_error"
