"""Grounded answers (SPEC §9, issue 19): `POST /api/answers`, plain and streamed, and questions in
bulk as prompt objects of `POST /api/tasks` and lines of `promptline submit` carrying
`vector_store_ids`, end to end against `promptline mock-upstream`.

The collection is the eight topic files of test_vector_stores.py, each one chunk, each question's
answering file known. An answer must cite exactly the chunks a search for the question finds,
best first, numbered from 1; the mock echoes the last user message, so the answer is the
upstream's echo of the prompt the server built (servers here run with a large `--max-tokens`,
so that the echo is never cut), in which each cited chunk stands as `[n] filename` then its text.
"""

from __future__ import annotations

import json

import pytest

from conftest import create_key, parse_jsonl, run_promptline
from test_vector_store_ingestion import QUESTIONS, topic_collection

MODEL = "mock-model"
#: The servers' default max_tokens: large enough that the mock's echo of a prompt is never cut.
MAX_TOKENS = 4000


def ask(server, question: str, store_ids: list[str], **extra):
    return server.post("/api/answers", json={"question": question, "vector_store_ids": store_ids, "model": MODEL, **extra},
                       timeout=60)


def searched(client, store_id: str, question: str, limit: int) -> list[tuple[str, str, str]]:
    """(file_id, filename, text) of what a search for `question` finds, best first."""
    return [(x.file_id, x.filename, x.content[0].text)
            for x in client.vector_stores.search(store_id, query=question, max_num_results=limit)]


def assert_citations(citations, expected: list[tuple[str, str, str]], scores: list[float] | None = None):
    """`citations` are `expected` (file_id, filename, text), numbered 1.., with scores best first."""
    assert isinstance(citations, list), citations
    assert [c["index"] for c in citations] == list(range(1, len(citations) + 1)), citations
    assert [(c["file_id"], c["filename"], c["text"]) for c in citations] == expected, citations
    got = [c["score"] for c in citations]
    assert got == sorted(got, reverse=True), got
    if scores is not None:
        assert got == pytest.approx(scores, abs=1e-4), (got, scores)


def assert_prompt_holds(answer: str, question: str, citations: list[dict]):
    """The mock's echo of the prompt: every citation numbered, named and quoted, in order, and the question."""
    assert isinstance(answer, str) and answer.startswith("echo: "), answer
    at = 0
    for c in citations:
        source = f"[{c['index']}] {c['filename']}\n{c['text']}"
        found = answer.find(source, at)
        assert found >= 0, f"source {c['index']} is not in the prompt (in order) as [n] filename, then its text: {answer!r}"
        at = found + len(source)
    assert question in answer[at:], f"the question does not follow the sources: {answer!r}"


def sse_events(response) -> list[tuple[str, str]]:
    """(event name, data) of every server-sent event, `message` when unnamed; comments skipped."""
    events: list[tuple[str, str]] = []
    name, data = None, []
    for line in response.iter_lines(decode_unicode=True):
        if line == "":
            if name is not None or data:
                events.append((name or "message", "\n".join(data)))
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        else:
            raise AssertionError(f"unexpected line in the event stream: {line!r}")
    if name is not None or data:
        events.append((name or "message", "\n".join(data)))
    return events


def token_text(data: str) -> str:
    """The text a token event carries: a chat-completion chunk's delta, or a `token`/`content`/`text` field."""
    value = json.loads(data)
    if isinstance(value, str):
        return value
    if "choices" in value:
        return "".join((choice.get("delta") or {}).get("content") or "" for choice in value["choices"])
    for key in ("token", "content", "text", "delta"):
        if isinstance(value.get(key), str):
            return value[key]
    raise AssertionError(f"a token event without text: {data!r}")


@pytest.fixture
def collection(mock, start_server):
    server = start_server(mock, max_tokens=MAX_TOKENS)
    client = server.openai()
    store_id, ids = topic_collection(client)
    return server, client, store_id, ids


def test_an_answer_cites_the_chunks_retrieved(collection):
    server, client, store_id, ids = collection
    for question, filename, passage in QUESTIONS:
        r = ask(server, question, [store_id], max_num_results=3)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) >= {"answer", "citations", "usage"}, body
        hits = list(client.vector_stores.search(store_id, query=question, max_num_results=3))
        assert_citations(body["citations"], [(x.file_id, x.filename, x.content[0].text) for x in hits],
                         [x.score for x in hits])
        assert ids[filename] in [c["file_id"] for c in body["citations"]], (question, body["citations"])
        assert any(passage in c["text"] for c in body["citations"])
        # The upstream answered a prompt made of the numbered sources and the question.
        assert_prompt_holds(body["answer"], question, body["citations"])
        assert isinstance(body["usage"], dict) and body["usage"].get("total_tokens", 0) > 0, body["usage"]


def test_max_num_results_defaults_to_8_and_is_bounded(collection):
    server, client, store_id, ids = collection
    question = QUESTIONS[0][0]
    r = ask(server, question, [store_id])
    assert r.status_code == 200, r.text
    citations = r.json()["citations"]
    assert len(citations) == 8, citations  # eight one-chunk files: the default finds them all
    assert_citations(citations, searched(client, store_id, question, 8))
    for bad in (0, 51):
        r = ask(server, question, [store_id], max_num_results=bad)
        assert r.status_code in (400, 422) and "max_num_results" in r.text, (bad, r.status_code, r.text)


def test_an_answer_over_two_stores_cites_from_both(collection):
    server, client, store_id, ids = collection
    other = client.vector_stores.create(name="other")
    attached = client.vector_stores.files.upload_and_poll(
        vector_store_id=other.id, file=("kites.txt", b"Box kites fly steadily in strong wind on the beach.", "text/plain"),
        poll_interval_ms=50, max_wait_seconds=60)
    assert attached.status == "completed"
    r = ask(server, "Which kites fly steadily in strong wind?", [store_id, other.id], max_num_results=2)
    assert r.status_code == 200, r.text
    citations = r.json()["citations"]
    assert citations[0]["file_id"] == attached.id and citations[0]["filename"] == "kites.txt", citations


def test_the_streamed_answer_is_tokens_then_one_citations_event(collection):
    server, client, store_id, ids = collection
    question, filename, _ = QUESTIONS[3]
    plain = ask(server, question, [store_id], max_num_results=3).json()
    r = server.http.post(server.base + "/api/answers", stream=True, timeout=(10, 60), json={
        "question": question, "vector_store_ids": [store_id], "model": MODEL, "max_num_results": 3, "stream": True})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream"), r.headers
    events = sse_events(r)
    # A final `[DONE]` after the citations, in the chat stream's manner, is allowed; nothing else.
    if events and events[-1][1] == "[DONE]":
        events = events[:-1]
    assert events, "no events"
    names = [name for name, _ in events]
    assert names.count("citations") == 1, names
    assert names[-1] == "citations", f"the stream does not end with the citations event: {names[-5:]}"
    tokens = events[:-1]
    assert len(tokens) >= 2, events
    text = "".join(token_text(data) for _, data in tokens)
    assert text == plain["answer"], (text, plain["answer"])
    carried = json.loads(events[-1][1])
    citations = carried["citations"] if isinstance(carried, dict) else carried
    assert_citations(citations, [(c["file_id"], c["filename"], c["text"]) for c in plain["citations"]],
                     [c["score"] for c in plain["citations"]])
    assert ids[filename] in [c["file_id"] for c in citations]
    assert_prompt_holds(text, question, citations)


def test_bad_answer_requests_are_refused_before_any_upstream_call(collection, mock):
    server, client, store_id, ids = collection
    before = mock.stats()["total_calls"]
    for body, status, word in (
        ({"vector_store_ids": [store_id]}, (400, 422), "question"),
        ({"question": "", "vector_store_ids": [store_id]}, (400, 422), "question"),
        ({"question": "x"}, (400, 422), "vector_store_ids"),
        ({"question": "x", "vector_store_ids": []}, (400, 422), "vector_store_ids"),
        ({"question": "x", "vector_store_ids": ["vs_nope"]}, (404,), "vs_nope"),
    ):
        r = server.post("/api/answers", json=body)
        assert r.status_code in status and word in r.text, (body, r.status_code, r.text)
    assert mock.stats()["total_calls"] == before


def test_another_key_cannot_ask_over_a_keys_store(mock, start_server, workdir):
    data = workdir / "data"
    store_flags = ["--data-dir", str(data)]
    alice_key = create_key(workdir, "alice", store=store_flags)
    bob_key = create_key(workdir, "bob", store=store_flags)
    server = start_server(mock, data_dir=data, max_tokens=MAX_TOKENS)
    alice, bob = server.with_key(alice_key), server.with_key(bob_key)
    store_id, ids = topic_collection(alice.openai(api_key=alice_key))
    question = QUESTIONS[0][0]
    assert ask(alice, question, [store_id]).status_code == 200
    before = mock.stats()["total_calls"]
    r = ask(bob, question, [store_id])
    assert r.status_code == 404, r.text
    r = bob.submit_raw({"prompts": [{"prompt": question, "vector_store_ids": [store_id]}]})
    assert r.status_code in (404, 422) and store_id in r.text, (r.status_code, r.text)
    assert mock.stats()["total_calls"] == before


def test_500_questions_in_one_submission_all_complete_with_citations(collection):
    server, client, store_id, ids = collection
    prompts = []
    for i in range(500):
        question, filename, _ = QUESTIONS[i % len(QUESTIONS)]
        prompts.append({"prompt": f"{question} (asked {i})", "vector_store_ids": [store_id]})
    task_ids = server.submit(prompts)
    summaries = server.wait(task_ids, timeout=300)
    not_completed = {i: s["status"] for i, s in summaries.items() if s["status"] != "completed"}
    assert not_completed == {}, f"{len(not_completed)} tasks did not complete: {list(not_completed.items())[:5]}"
    file_ids = set(ids.values())
    problems = []
    for i, task_id in enumerate(task_ids):
        detail = server.detail(task_id)
        question, filename, _ = QUESTIONS[i % len(QUESTIONS)]
        citations = detail.get("citations")
        if not citations:
            problems.append((i, "no citations", detail))
            continue
        if [c["index"] for c in citations] != list(range(1, len(citations) + 1)):
            problems.append((i, "not numbered from 1", citations))
        if not {c["file_id"] for c in citations} <= file_ids:
            problems.append((i, "cites a file not in the store", citations))
        if ids[filename] not in [c["file_id"] for c in citations[:3]]:
            problems.append((i, f"{filename} not among the first three", [c["filename"] for c in citations]))
        try:
            assert_prompt_holds(detail.get("result"), prompts[i]["prompt"], citations)
        except AssertionError as error:
            problems.append((i, "the result is not the upstream's answer to the grounded prompt", str(error)[:300]))
        if len(problems) > 5:
            break
    assert problems == [], problems


def test_a_submit_line_may_carry_vector_store_ids(collection, workdir):
    server, client, store_id, ids = collection
    source = workdir / "questions.jsonl"
    lines = [{"prompt": q, "vector_store_ids": [store_id], "custom_id": f"q{i}"} for i, (q, _, _) in enumerate(QUESTIONS)]
    lines.append({"prompt": "A plain prompt with no store.", "custom_id": "plain"})
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = workdir / "answers.jsonl"
    done = run_promptline(["submit", str(source), "--server", server.base, "--wait", "--output", str(out)], workdir,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    results = parse_jsonl(out.read_text())
    assert [r["custom_id"] for r in results] == [line["custom_id"] for line in lines]
    assert all(r["status"] == "completed" for r in results), results
    for result, (question, filename, _) in zip(results, QUESTIONS):
        citations = server.detail(result["task_id"])["citations"]
        assert ids[filename] in [c["file_id"] for c in citations[:3]], (question, citations)
    plain = server.detail(results[-1]["task_id"])
    assert plain.get("citations") in (None, []), plain
    assert plain["result"] == "echo: A plain prompt with no store."


def test_answers_and_grounded_tasks_on_pgvector_with_two_instances_on_one_redis(
        mock, start_server, shared_redis, redis_prefix, postgres_url):
    """A collection ingested through one instance is answered from by the other, plainly and in bulk."""
    one = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, instance_id="one", vector_url=postgres_url,
                       max_tokens=MAX_TOKENS)
    two = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, instance_id="two", vector_url=postgres_url,
                       max_tokens=MAX_TOKENS)
    store_id, ids = topic_collection(one.openai())
    reader = two.openai()
    for question, filename, _ in QUESTIONS:
        r = ask(two, question, [store_id], max_num_results=3)
        assert r.status_code == 200, r.text
        body = r.json()
        assert_citations(body["citations"], searched(reader, store_id, question, 3))
        assert ids[filename] in [c["file_id"] for c in body["citations"]], (question, body["citations"])
        assert_prompt_holds(body["answer"], question, body["citations"])
    prompts = [{"prompt": f"{q} (asked {i})", "vector_store_ids": [store_id]}
               for i, (q, _, _) in enumerate(QUESTIONS * 5)]
    task_ids = one.submit(prompts)
    summaries = two.wait(task_ids, timeout=120)
    assert {s["status"] for s in summaries.values()} == {"completed"}, summaries
    for i, task_id in enumerate(task_ids):
        detail = (one if i % 2 else two).detail(task_id)
        filename = QUESTIONS[i % len(QUESTIONS)][1]
        assert ids[filename] in [c["file_id"] for c in detail["citations"][:3]], detail
        assert_prompt_holds(detail["result"], prompts[i]["prompt"], detail["citations"])
