"""Summaries of documents and texts (docs/summaries.md), end to end against mock-upstream.

The mock answers `echo: <last user message>` cut to `max_tokens` words, so with a small
`max_tokens` every partial summary is known in advance ("echo: Summarise part 2 of 3 of the"),
and the exact prompt of every combining call can be rebuilt and looked up in the mock's ledger.
"""

import signal
import time

import pytest

from conftest import create_key, wait_until
from test_events import receiver  # noqa: F401  (a fixture)
from test_documents import minimal_pdf

MAX_TOKENS = 8


def paragraphs(word: str, count: int, words: int = 120) -> str:
    """`count` paragraphs of about `words` words each (a paragraph: ~`words` * 1.5 tokens)."""
    return "\n\n".join(f"{word.capitalize()} paragraph {i}. " + " ".join(f"{word}{i}x{j}" for j in range(words)) + "."
                       for i in range(count))


def upload(client, name: str, data: bytes, content_type: str) -> str:
    return client.files.create(file=(name, data, content_type), purpose="user_data").id


def wait_summary(server, summary_id: str, timeout: float = 90) -> dict:
    def finished():
        view = server.get(f"/api/summaries/{summary_id}").json()
        return view if view["status"] in ("completed", "error", "cancelled") else None
    return wait_until(finished, timeout, f"summary {summary_id} to finish", interval=0.1)


def partial(part: int, of: int) -> str:
    """What the mock answers a chunk's call with, cut to MAX_TOKENS words."""
    return " ".join(f"echo: Summarise part {part} of {of} of the".split(" ")[:MAX_TOKENS])


def combine_prompt(partials: list[str], document: str) -> str:
    numbered = "\n\n".join(f"[{i + 1}] {p}" for i, p in enumerate(partials))
    return f'Combine these partial summaries of the document "{document}" into one summary:\n\n{numbered}'


def test_documents_and_texts_are_summarised_map_then_reduce(start_mock, start_server):
    mock = start_mock("--latency-ms", "150")
    server = start_server(mock, workers=8)
    client = server.openai()
    pdf = upload(client, "report.pdf", minimal_pdf("Quarterly report"), "application/pdf")
    markdown = upload(client, "notes.md", paragraphs("note", 6).encode(), "text/markdown")
    html = upload(client, "page.html", b"<html><head><style>p{}</style></head><body><p>An HTML page about birds.</p></body></html>",
                  "text/html")
    texts = ["A short text about cats.", paragraphs("dog", 4)]
    r = server.post("/api/summaries", json={
        "file_ids": [pdf, markdown, html], "texts": texts, "instructions": "Be brief.",
        "chunk_tokens": 250, "max_tokens": MAX_TOKENS, "max_parallel": 3,
    })
    assert r.status_code == 202, r.text
    summary_id = r.json()["summary_id"]
    view = wait_summary(server, summary_id)
    assert view["status"] == "completed", view
    assert view["progress"] == "100"
    names = ["report.pdf", "notes.md", "page.html", "texts[0]", "texts[1]"]
    documents = view["documents"]
    assert [d.get("filename") or f"texts[{d['index']}]" for d in documents] == names
    assert all(d["status"] == "completed" for d in documents), documents
    chunks = [d["chunks"] for d in documents]
    assert chunks[0] == chunks[2] == chunks[3] == 1 and chunks[1] > 1 and chunks[4] > 1, chunks
    assert view["chunks"] == {"total": sum(chunks), "completed": sum(chunks), "failed": 0, "skipped": 0}

    # The map: a one-chunk text reached the upstream as it was written.
    assert mock.count('Summarise part 1 of 1 of the document "texts[0]":\n\nA short text about cats.') == 1
    # The reduce: each multi-chunk document's combining call got the outputs of its chunks' calls.
    for index in (1, 4):
        prompt = combine_prompt([partial(i + 1, chunks[index]) for i in range(chunks[index])], names[index])
        assert mock.count(prompt) == 1, f"no combining call for {names[index]} with its chunks' summaries"
    # A one-chunk document's summary is its chunk's, with no second call.
    assert documents[3]["summary"] == partial(1, 1)
    # The last call combined the documents' summaries, each as the step below left it.
    listed = "\n\n".join(f"[{name}] {d['summary']}" for name, d in zip(names, documents))
    assert mock.count(f"Combine these summaries of several documents into one summary:\n\n{listed}") == 1
    # Every call: one per chunk, one per multi-chunk document, the last one; none twice.
    stats = mock.stats()
    assert stats["total_calls"] == sum(chunks) + 2 + 1, stats
    assert stats["distinct_prompts"] == stats["total_calls"]
    # max_parallel held: never more than 3 of this summary's calls at the upstream at once.
    in_flight = stats["max_in_flight_by_user"][f"summary:{summary_id}"]
    assert 2 <= in_flight <= 3, stats
    assert view["usage"]["total_tokens"] > 0
    assert view["summary"].startswith("echo: Combine these summaries")


def test_a_long_document_collapses_level_by_level(mock, start_server):
    server = start_server(mock)
    text = paragraphs("leaf", 24, words=60)
    r = server.post("/api/summaries", json={"texts": [text], "chunk_tokens": 150, "max_tokens": 40})
    view = wait_summary(server, r.json()["summary_id"])
    assert view["status"] == "completed", view
    # 24 chunks' summaries of 40 words do not fit one call of 150 tokens: collapse calls
    # combine groups of them, and their outputs are combined in turn.
    chunks = view["documents"][0]["chunks"]
    assert chunks >= 12
    assert mock.stats()["total_calls"] > chunks + 1
    assert view["summary"].startswith("echo: Combine these partial summaries")


@pytest.mark.parametrize("policy", ["skip", "fail"])
def test_a_failing_chunk_is_skipped_or_fails_the_summary(mock, start_server, policy):
    server = start_server(mock)
    good = paragraphs("fine", 2)
    bad = "A chunk the upstream refuses [[mock:status=400]] for good. " + " ".join(f"bad{j}" for j in range(100))
    r = server.post("/api/summaries", json={
        "texts": ["Another document entirely.", good + "\n\n" + bad], "chunk_tokens": 250, "max_tokens": MAX_TOKENS,
        "on_chunk_error": policy,
    })
    view = wait_summary(server, r.json()["summary_id"])
    if policy == "skip":
        assert view["status"] == "completed", view
        assert view["chunks"]["skipped"] == 1 and view["chunks"]["failed"] == 0, view["chunks"]
        assert view["documents"][1]["status"] == "completed"
    else:
        assert view["status"] == "error", view
        assert "upstream status 400" in view["error"], view["error"]
        assert view["chunks"]["failed"] >= 1


def test_a_document_that_cannot_be_read_is_named(mock, start_server):
    server = start_server(mock)
    client = server.openai()
    broken = upload(client, "broken.pdf", minimal_pdf()[:120], "application/pdf")
    r = server.post("/api/summaries", json={"file_ids": [broken], "texts": ["Readable text."], "on_chunk_error": "skip"})
    view = wait_summary(server, r.json()["summary_id"])
    assert view["documents"][0]["status"] == "error"
    assert "broken.pdf" in view["documents"][0]["error"], view["documents"][0]
    assert view["status"] == "completed", view
    assert "Readable text." in view["summary"], view["summary"]


def test_bad_summary_requests_are_refused(mock, start_server):
    server = start_server(mock)
    for body, status, says in (
        ({}, 400, "file_ids or texts"),
        ({"texts": ["x"], "chunk_tokens": 5}, 422, "chunk_tokens"),
        ({"texts": ["x"], "max_parallel": 0}, 422, "max_parallel"),
        ({"texts": ["x"], "on_chunk_error": "ignore"}, 422, "on_chunk_error"),
        ({"file_ids": ["file-nope"]}, 422, "file-nope"),
        ({"texts": [""]}, 422, "texts[0]"),
    ):
        r = server.post("/api/summaries", json=body)
        assert r.status_code == status, (body, r.status_code, r.text)
        assert says in r.json()["detail"], r.text
    assert mock.stats()["total_calls"] == 0


def test_cancel_stops_the_summary(start_mock, start_server):
    mock = start_mock("--latency-ms", "400")
    server = start_server(mock, workers=2)
    r = server.post("/api/summaries", json={"texts": [paragraphs("slow", 12)], "chunk_tokens": 200, "max_tokens": MAX_TOKENS,
                                           "max_parallel": 1})
    summary_id = r.json()["summary_id"]
    wait_until(lambda: mock.stats()["total_calls"] >= 1, 30, "the first chunk's call")
    cancelled = server.delete(f"/api/summaries/{summary_id}")
    assert cancelled.status_code == 200, cancelled.text
    view = wait_summary(server, summary_id)
    assert view["status"] == "cancelled"
    calls = mock.stats()["total_calls"]
    time.sleep(1.0)
    assert mock.stats()["total_calls"] == calls, "calls went on after the cancel"
    assert view["documents"][0]["chunks"] > calls
    assert server.delete(f"/api/summaries/{summary_id}").status_code == 409


def test_a_summary_survives_kill_9_and_no_chunk_is_summarised_twice_beyond_those_in_flight(start_mock, start_server, workdir):
    mock = start_mock("--latency-ms", "300")
    data = workdir / "data"
    server = start_server(mock, data_dir=data, workers=2)
    r = server.post("/api/summaries", json={"texts": [paragraphs("durable", 10)], "chunk_tokens": 200,
                                           "max_tokens": MAX_TOKENS, "max_parallel": 2})
    summary_id = r.json()["summary_id"]
    wait_until(lambda: mock.stats()["total_calls"] >= 3, 30, "three chunk calls")
    server.kill9()
    restarted = start_server(mock, data_dir=data, workers=2, lease=1)
    view = wait_summary(restarted, summary_id)
    assert view["status"] == "completed", view
    stats = mock.stats()
    repeated = stats["total_calls"] - stats["distinct_prompts"]
    assert repeated <= 2, f"{repeated} calls were made again; at most the 2 in flight at the kill may be"


def test_another_key_cannot_see_or_cancel_a_summary(mock, start_server, workdir):
    data = workdir / "data"
    store = ["--data-dir", str(data)]
    alice_key = create_key(workdir, "alice", store=store)
    bob_key = create_key(workdir, "bob", store=store)
    server = start_server(mock, data_dir=data)
    alice, bob = server.with_key(alice_key), server.with_key(bob_key)
    file_id = upload(alice.openai(api_key=alice_key), "mine.md", b"# Alice's notes", "text/markdown")
    r = alice.post("/api/summaries", json={"file_ids": [file_id]})
    assert r.status_code == 202, r.text
    summary_id = r.json()["summary_id"]
    assert bob.get(f"/api/summaries/{summary_id}").status_code == 404
    assert bob.delete(f"/api/summaries/{summary_id}").status_code == 404
    # Bob cannot summarise Alice's file either.
    assert bob.post("/api/summaries", json={"file_ids": [file_id]}).status_code == 422
    assert wait_summary(alice, summary_id)["status"] == "completed"


def test_the_same_idempotency_key_answers_the_same_summary(mock, start_server):
    server = start_server(mock)
    body = {"texts": ["Once only."], "idempotency_key": "sum-once"}
    first = server.post("/api/summaries", json=body)
    second = server.post("/api/summaries", json=body)
    assert first.status_code == 202 and second.status_code == 200, (first.text, second.text)
    assert second.json()["summary_id"] == first.json()["summary_id"] and second.json()["duplicate"] is True
    wait_summary(server, first.json()["summary_id"])
    assert mock.stats()["total_calls"] == 1


def test_a_summary_streams_its_progress_as_events(start_mock, start_server):
    from test_events import EventStream

    mock = start_mock("--latency-ms", "100")
    server = start_server(mock)
    r = server.post("/api/summaries", json={"texts": ["First text.", paragraphs("evt", 3)], "chunk_tokens": 200,
                                           "max_tokens": MAX_TOKENS})
    summary_id = r.json()["summary_id"]
    events = EventStream(server, {"summary_id": summary_id}).read_all()
    assert events[-1][0] == "done", events[-3:]
    assert events[-1][1] == {"completed": 3, "error": 0, "cancelled": 0, "not_found": 0}
    last = {}
    for name, data in events:
        if name == "status":
            last[data["task_id"]] = data
    root = f"summary:{summary_id}"
    assert set(last) == {root, f"{root}:0", f"{root}:1"}
    assert last[root]["status"] == "completed"
    assert last[root]["result"] == server.get(f"/api/summaries/{summary_id}").json()["summary"]
    assert server.get("/api/tasks/events", params={"summary_id": "sum_nope"}).status_code == 404


def test_the_command_line_summarises_two_files_and_writes_the_summary(mock, start_server, workdir):
    import json

    from conftest import run_promptline

    server = start_server(mock)
    (workdir / "notes.md").write_text(paragraphs("cli", 3))
    (workdir / "page.html").write_text("<html><body><p>Birds fly south in winter.</p></body></html>")
    output = workdir / "summary.json"
    r = run_promptline(["summarize", "notes.md", "page.html", "--server", server.base, "--instructions", "One line.",
                        "--chunk-tokens", "200", "--wait", "--output", str(output)], workdir, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stderr)
    summary = json.loads(output.read_text())
    assert summary["status"] == "completed"
    assert [d["filename"] for d in summary["documents"]] == ["notes.md", "page.html"]
    assert summary["documents"][1]["summary"] == 'echo: Summarise part 1 of 1 of the document "page.html":\n\nBirds fly south in winter.'
    assert "completed" in r.stderr
    # Without --wait: the id, and the summary goes on on the server.
    r = run_promptline(["summarize", "page.html", "--server", server.base], workdir)
    assert r.returncode == 0, r.stderr
    summary_id = r.stdout.strip()
    assert wait_summary(server, summary_id)["status"] == "completed"
    # A file that does not exist: nothing is sent.
    calls = mock.stats()["total_calls"]
    r = run_promptline(["summarize", "missing.pdf", "--server", server.base, "--wait"], workdir)
    assert r.returncode == 2 and "missing.pdf" in r.stderr, (r.returncode, r.stderr)
    assert mock.stats()["total_calls"] == calls


def test_two_instances_on_one_redis_share_a_summary(start_mock, start_server, shared_redis, redis_prefix):
    mock = start_mock("--latency-ms", "50")
    first = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, instance_id="one", workers=2)
    second = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, instance_id="two", workers=2)
    client = first.openai()
    file_id = upload(client, "shared.md", paragraphs("shared", 8).encode(), "text/markdown")
    r = first.post("/api/summaries", json={"file_ids": [file_id], "texts": ["A second document."], "chunk_tokens": 200,
                                          "max_tokens": MAX_TOKENS, "max_parallel": 4})
    assert r.status_code == 202, r.text
    summary_id = r.json()["summary_id"]
    view = wait_summary(second, summary_id)
    assert view["status"] == "completed", view
    assert view["chunks"]["completed"] == view["chunks"]["total"] == view["documents"][0]["chunks"] + 1
    stats = mock.stats()
    assert stats["total_calls"] == stats["distinct_prompts"], "a call was made twice"
    assert stats["max_in_flight_by_user"][f"summary:{summary_id}"] <= 4
    assert wait_summary(first, summary_id) == view


def test_a_finished_summary_gets_one_signed_post(mock, start_server, receiver):
    from test_events import FAST_WEBHOOKS, verify

    hook = receiver()
    server = start_server(mock, **FAST_WEBHOOKS)
    r = server.post("/api/summaries", json={"texts": ["Hooked text.", "Another."], "webhook_url": hook.url})
    assert r.status_code == 202, r.text
    summary_id = r.json()["summary_id"]
    assert wait_summary(server, summary_id)["status"] == "completed"
    wait_until(lambda: hook.count() >= 1, 30, "the webhook POST")
    assert server.stop() == 0
    assert hook.count() == 1
    body = verify(hook.posts[0])
    assert body["tasks"] == [{"task_id": f"summary:{summary_id}", "status": "completed"}]
    assert body["counts"]["completed"] == 1


def test_webhook_url_on_a_summary_needs_a_secret(mock, start_server):
    server = start_server(mock)
    r = server.post("/api/summaries", json={"texts": ["x"], "webhook_url": "http://127.0.0.1:9/hook"})
    assert r.status_code == 422 and "webhook" in r.json()["detail"], r.text
    assert mock.stats()["total_calls"] == 0


def test_a_document_named_without_an_extension_keeps_the_format_found_on_upload(mock, start_server):
    server = start_server(mock)
    client = server.openai()
    uploaded = client.files.create(file=("quarterly-report", minimal_pdf("Figures of the quarter"), "application/pdf"),
                                   purpose="user_data")
    assert server.get(f"/v1/files/{uploaded.id}").json()["format"] == "pdf"
    r = server.post("/api/summaries", json={"file_ids": [uploaded.id]})
    view = wait_summary(server, r.json()["summary_id"])
    assert view["status"] == "completed", view
    assert "Figures of the quarter" in view["summary"]
