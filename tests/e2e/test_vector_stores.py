"""OpenAI's Vector Stores API (`/v1/vector_stores…`) with the official `openai` SDK, against a real
`promptline serve` and `promptline mock-upstream` (SPEC §9, issue 19).

Ingestion embeds chunks through the mock's `/v1/embeddings`, whose vectors bring texts that share
words close together, so a search finds what it should. Every SDK call here is what the SDK sends
(with `OpenAI-Beta: assistants=v2`); raw requests check the wire shapes the SDK parses loosely.
The SDK's polling helpers are given a short interval and, where they have no deadline of their
own (`file_batches`), run `within` one.
"""

from __future__ import annotations

import contextlib
import signal

import openai
import pytest

from conftest import wait_until

#: Poll interval of the SDK's helpers, and how long any one ingestion may take.
POLL_MS = 50
INGEST_TIMEOUT = 60
BETA = {"OpenAI-Beta": "assistants=v2"}


@contextlib.contextmanager
def within(seconds: float, what: str):
    """Fails the test when the block takes longer than `seconds` (SIGALRM; main thread only)."""
    def expired(signum, frame):
        raise AssertionError(f"timed out after {seconds} s: {what}")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def text_file(name: str, text: str) -> tuple[str, bytes, str]:
    return (name, text.encode(), "text/markdown" if name.endswith(".md") else "text/plain")


def wait_file(client, vector_store_id: str, file_id: str, timeout: float = INGEST_TIMEOUT):
    """The SDK's own poll of a vector store file, until it is no longer `in_progress`."""
    return client.vector_stores.files.poll(file_id, vector_store_id=vector_store_id, poll_interval_ms=POLL_MS,
                                           max_wait_seconds=timeout)


def wait_store(client, vector_store_id: str, timeout: float = INGEST_TIMEOUT):
    """Polls the vector store until none of its files is in progress; answers it."""
    last = []

    def settled():
        store = client.vector_stores.retrieve(vector_store_id)
        last[:] = [store]
        return store if store.file_counts.in_progress == 0 else None

    try:
        return wait_until(settled, timeout, f"vector store {vector_store_id} to finish its files", interval=0.1)
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen: {last[0] if last else None}") from None


def search_ids(client, vector_store_id: str, query="handbook page", **kw) -> set[str]:
    return {r.file_id for r in client.vector_stores.search(vector_store_id, query=query, max_num_results=50, **kw)}


def assert_openai_error(response, status: int, *words: str) -> dict:
    """`response` is `status` with a body in OpenAI's error shape whose message holds `words`."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"message", "type", "param", "code"} <= set(error), error
    assert isinstance(error["message"], str) and error["message"], error
    for word in words:
        assert word in error["message"], error
    return error


def counts(store) -> dict:
    c = store.file_counts
    return {"in_progress": c.in_progress, "completed": c.completed, "failed": c.failed, "cancelled": c.cancelled,
            "total": c.total}


# A handbook of five pages, each one chunk under `auto`, all sharing the words "handbook page"
# so that a search for them finds every page and the filters alone decide which are answered.
HANDBOOK = {
    "invoices.txt": ("Handbook page on invoices. Invoices are due thirty days after the billing date; a late invoice "
                     "incurs a penalty fee of two percent per month.",
                     {"topic": "billing", "year": 2024, "public": True}),
    "refunds.txt": ("Handbook page on refunds. Refunds are credited to the original payment card within five "
                    "business days of the request.",
                    {"topic": "billing", "year": 2021, "public": False}),
    "onboarding.txt": ("Handbook page on onboarding. New colleagues receive a laptop, a badge and a mentor during "
                       "their first week.",
                       {"topic": "people", "year": 2023, "public": True}),
    "holidays.txt": ("Handbook page on holidays. Every employee has twenty five days of paid leave and may carry "
                     "five days over into the next year.",
                     {"topic": "people", "year": 2020, "public": True}),
    "security.txt": ("Handbook page on security. Passwords are rotated every ninety days and laptops use full disk "
                     "encryption.",
                     {"topic": "it", "year": 2022, "public": False}),
}

#: Each filter and the pages it lets through.
FILTERS = [
    ({"type": "eq", "key": "topic", "value": "billing"}, {"invoices.txt", "refunds.txt"}),
    ({"type": "ne", "key": "topic", "value": "billing"}, {"onboarding.txt", "holidays.txt", "security.txt"}),
    ({"type": "gt", "key": "year", "value": 2022}, {"invoices.txt", "onboarding.txt"}),
    ({"type": "gte", "key": "year", "value": 2022}, {"invoices.txt", "onboarding.txt", "security.txt"}),
    ({"type": "lt", "key": "year", "value": 2021}, {"holidays.txt"}),
    ({"type": "lte", "key": "year", "value": 2021}, {"holidays.txt", "refunds.txt"}),
    ({"type": "in", "key": "topic", "value": ["people", "it"]}, {"onboarding.txt", "holidays.txt", "security.txt"}),
    ({"type": "nin", "key": "topic", "value": ["people", "it"]}, {"invoices.txt", "refunds.txt"}),
    ({"type": "eq", "key": "public", "value": True}, {"invoices.txt", "onboarding.txt", "holidays.txt"}),
    ({"type": "and", "filters": [{"type": "eq", "key": "topic", "value": "billing"},
                                 {"type": "gte", "key": "year", "value": 2022}]}, {"invoices.txt"}),
    ({"type": "or", "filters": [{"type": "eq", "key": "topic", "value": "it"},
                                {"type": "lt", "key": "year", "value": 2021}]}, {"security.txt", "holidays.txt"}),
    ({"type": "and", "filters": [
        {"type": "or", "filters": [{"type": "eq", "key": "topic", "value": "people"},
                                   {"type": "eq", "key": "topic", "value": "it"}]},
        {"type": "eq", "key": "public", "value": False}]}, {"security.txt"}),
]


def sdk_end_to_end(writer, reader):
    """The whole SDK surface: `writer` creates and ingests, `reader` (the same server, or another
    instance sharing the stores) lists and searches; both update and delete."""
    w = writer.openai()
    r = reader.openai()

    # Create: an empty store is completed at once, with what was asked echoed back.
    store = w.vector_stores.create(name="handbook", metadata={"team": "docs"},
                                   expires_after={"anchor": "last_active_at", "days": 7})
    assert store.object == "vector_store" and store.id.startswith("vs_"), store
    assert store.name == "handbook" and store.metadata == {"team": "docs"}
    assert store.status == "completed"
    assert counts(store) == {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
    assert store.usage_bytes == 0
    assert store.expires_after.anchor == "last_active_at" and store.expires_after.days == 7
    assert isinstance(store.expires_at, int) and store.expires_at >= store.created_at + 7 * 86400 - 5, store
    assert r.vector_stores.retrieve(store.id).name == "handbook"

    # One file uploaded and attached with attributes, polled by the SDK to completion.
    names = list(HANDBOOK)
    first_name = names[0]
    text, attributes = HANDBOOK[first_name]
    attached = w.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=text_file(first_name, text), attributes=attributes,
        poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    assert attached.object == "vector_store.file"
    assert attached.status == "completed", attached
    assert attached.last_error is None
    assert attached.vector_store_id == store.id
    assert attached.attributes == attributes
    assert attached.usage_bytes > 0
    # `auto` is 800 tokens with 400 overlap, and OpenAI reports it as the static strategy it is.
    assert attached.chunking_strategy.type == "static", attached.chunking_strategy
    assert attached.chunking_strategy.static.max_chunk_size_tokens == 800
    assert attached.chunking_strategy.static.chunk_overlap_tokens == 400
    file_ids = {first_name: attached.id}

    # Two files uploaded and attached as one batch by the SDK's helper.
    batch_names = names[1:3]
    with within(INGEST_TIMEOUT, "file_batches.upload_and_poll"):
        batch = w.vector_stores.file_batches.upload_and_poll(
            store.id, files=[text_file(n, HANDBOOK[n][0]) for n in batch_names], poll_interval_ms=POLL_MS)
    assert batch.object == "vector_store.files_batch" and batch.vector_store_id == store.id
    assert batch.status == "completed", batch
    assert (batch.file_counts.completed, batch.file_counts.total, batch.file_counts.failed) == (2, 2, 0)
    listed = list(w.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id))
    by_name = {w.files.retrieve(f.id).filename: f for f in listed}
    assert set(by_name) == set(batch_names)
    assert all(f.status == "completed" for f in listed)
    # Their attributes set afterwards.
    for name in batch_names:
        updated = w.vector_stores.files.update(by_name[name].id, vector_store_id=store.id, attributes=HANDBOOK[name][1])
        assert updated.attributes == HANDBOOK[name][1]
        file_ids[name] = by_name[name].id

    # Two files already uploaded, attached as a batch with attributes of their own (`files`).
    rest = names[3:]
    uploaded = {n: w.files.create(file=text_file(n, HANDBOOK[n][0]), purpose="assistants").id for n in rest}
    with within(INGEST_TIMEOUT, "file_batches.create_and_poll"):
        batch2 = w.vector_stores.file_batches.create_and_poll(
            store.id, files=[{"file_id": uploaded[n], "attributes": HANDBOOK[n][1]} for n in rest],
            poll_interval_ms=POLL_MS)
    assert batch2.status == "completed" and batch2.file_counts.completed == 2, batch2
    assert w.vector_stores.file_batches.retrieve(batch2.id, vector_store_id=store.id).status == "completed"
    file_ids.update(uploaded)
    name_of = {v: k for k, v in file_ids.items()}

    # Listed, from the other side.
    store = r.vector_stores.retrieve(store.id)
    assert store.status == "completed"
    assert counts(store) == {"in_progress": 0, "completed": 5, "failed": 0, "cancelled": 0, "total": 5}
    assert store.usage_bytes > 0
    assert store.usage_bytes == sum(f.usage_bytes for f in r.vector_stores.files.list(store.id)), \
        "the store's usage_bytes is not the sum of its files'"
    assert store.id in [s.id for s in r.vector_stores.list()]
    assert {f.id for f in r.vector_stores.files.list(store.id)} == set(file_ids.values())
    assert {f.id for f in r.vector_stores.files.list(store.id, filter="completed")} == set(file_ids.values())
    assert list(r.vector_stores.files.list(store.id, filter="failed")) == []
    assert list(r.vector_stores.files.list(store.id, filter="in_progress")) == []
    paged = [f.id for f in r.vector_stores.files.list(store.id, limit=2, order="asc")]
    assert sorted(paged) == sorted(file_ids.values()) and len(paged) == 5, "cursor paging lost or repeated files"
    one = r.vector_stores.files.retrieve(file_ids["holidays.txt"], vector_store_id=store.id)
    assert one.status == "completed" and one.attributes == HANDBOOK["holidays.txt"][1]

    # Search: every page shares the query's words, so without filters every page is found.
    page = r.vector_stores.search(store.id, query="handbook page", max_num_results=50)
    results = list(page)
    assert {x.file_id for x in results} == set(file_ids.values())
    scores = [x.score for x in results]
    assert scores == sorted(scores, reverse=True), scores
    for x in results:
        assert x.filename == name_of[x.file_id]
        assert x.attributes == HANDBOOK[x.filename][1]
        assert [c.type for c in x.content] == ["text"] and HANDBOOK[x.filename][0] in " ".join(c.text for c in x.content)
    # ...and the filters, comparison and compound, decide which.
    for search_filter, expected in FILTERS:
        got = {name_of[i] for i in search_ids(r, store.id, filters=search_filter)}
        assert got == expected, f"filter {search_filter}: {sorted(got)} instead of {sorted(expected)}"
    # The best page for a question, a list of queries, max_num_results, the score threshold, rewrite_query.
    top = list(r.vector_stores.search(store.id, query="late invoice penalty fee", max_num_results=1))
    assert [x.filename for x in top] == ["invoices.txt"]
    several = list(r.vector_stores.search(store.id, query=["refunds payment card", "paid leave days"], max_num_results=2,
                                          rewrite_query=True))
    assert {x.filename for x in several} == {"refunds.txt", "holidays.txt"}, [(x.filename, x.score) for x in several]
    threshold = sorted(scores)[2]
    above = list(r.vector_stores.search(store.id, query="handbook page", max_num_results=50,
                                        ranking_options={"score_threshold": threshold}))
    assert [x.score for x in above] == [s for s in scores if s >= threshold], (threshold, scores)
    assert list(r.vector_stores.search(store.id, query="handbook page", ranking_options={"score_threshold": 0.999})) == []

    # The parsed text of a file.
    content = list(r.vector_stores.files.content(file_ids["security.txt"], vector_store_id=store.id))
    assert content and all(c.type == "text" for c in content), content
    assert HANDBOOK["security.txt"][0] in "".join(c.text for c in content)

    # Attributes updated on one instance are filtered on by the other.
    w.vector_stores.files.update(file_ids["security.txt"], vector_store_id=store.id,
                                 attributes={"topic": "billing", "year": 2019, "public": True})
    assert {name_of[i] for i in search_ids(r, store.id, filters={"type": "eq", "key": "topic", "value": "billing"})} \
        == {"invoices.txt", "refunds.txt", "security.txt"}

    # Update the store.
    renamed = r.vector_stores.update(store.id, name="handbook v2", metadata={"team": "ops"})
    assert renamed.name == "handbook v2" and renamed.metadata == {"team": "ops"}
    assert w.vector_stores.retrieve(store.id).name == "handbook v2"

    # Delete a file: it is detached (no longer listed or found), and the file itself stays.
    deleted = w.vector_stores.files.delete(file_ids["refunds.txt"], vector_store_id=store.id)
    assert deleted.object == "vector_store.file.deleted" and deleted.deleted is True
    assert deleted.id == file_ids["refunds.txt"]
    assert file_ids["refunds.txt"] not in {f.id for f in r.vector_stores.files.list(store.id)}
    assert file_ids["refunds.txt"] not in search_ids(r, store.id)
    with pytest.raises(openai.NotFoundError):
        r.vector_stores.files.retrieve(file_ids["refunds.txt"], vector_store_id=store.id)
    assert r.files.retrieve(file_ids["refunds.txt"]).filename == "refunds.txt"
    assert counts(r.vector_stores.retrieve(store.id))["total"] == 4

    # Delete the store.
    gone = r.vector_stores.delete(store.id)
    assert gone.object == "vector_store.deleted" and gone.deleted is True and gone.id == store.id
    for client in (w, r):
        with pytest.raises(openai.NotFoundError):
            client.vector_stores.retrieve(store.id)
        with pytest.raises(openai.NotFoundError):
            client.vector_stores.search(store.id, query="handbook page")
        with pytest.raises(openai.NotFoundError):
            client.vector_stores.files.list(store.id)
        assert store.id not in [s.id for s in client.vector_stores.list()]
    # The files themselves are still there.
    assert w.files.retrieve(file_ids["invoices.txt"]).filename == "invoices.txt"


def test_the_sdk_end_to_end_on_the_embedded_index(mock, start_server):
    server = start_server(mock)
    sdk_end_to_end(server, server)


def test_the_sdk_end_to_end_on_pgvector_with_two_instances_on_one_redis(
        mock, start_server, shared_redis, redis_prefix, postgres_url):
    one = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, instance_id="one", vector_url=postgres_url)
    two = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, instance_id="two", vector_url=postgres_url)
    sdk_end_to_end(one, two)
    # And the other way round: an instance reads what the other wrote, whichever wrote it.
    sdk_end_to_end(two, one)


def test_the_wire_shapes_the_sdk_parses(mock, start_server):
    """Raw JSON, since the SDK's models accept missing fields: the objects as OpenAI has them."""
    server = start_server(mock)
    client = server.openai()
    file_id = client.files.create(file=text_file("wire.txt", "Handbook page about wires."), purpose="assistants").id
    r = server.post("/v1/vector_stores", headers=BETA, json={"name": "wire", "file_ids": [file_id]})
    assert r.status_code == 200, r.text
    store = r.json()
    # The fields the SDK's VectorStore requires, and those OpenAI always sends.
    assert {"id", "object", "created_at", "name", "usage_bytes", "file_counts", "status", "last_active_at",
            "metadata"} <= set(store), store
    assert set(store["file_counts"]) == {"in_progress", "completed", "failed", "cancelled", "total"}
    assert store["file_counts"]["total"] == 1
    wait_file(client, store["id"], file_id)
    r = server.get(f"/v1/vector_stores/{store['id']}/files/{file_id}", headers=BETA)
    assert r.status_code == 200, r.text
    assert {"id", "object", "usage_bytes", "created_at", "vector_store_id", "status", "last_error",
            "chunking_strategy", "attributes"} <= set(r.json()), r.json()
    r = server.get("/v1/vector_stores", headers=BETA, params={"limit": 1})
    assert r.status_code == 200, r.text
    listing = r.json()
    assert listing["object"] == "list" and listing["has_more"] is False
    assert listing["first_id"] == listing["last_id"] == store["id"], listing
    r = server.post(f"/v1/vector_stores/{store['id']}/search", headers=BETA, json={"query": "wires"})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["object"] == "vector_store.search_results.page", page
    assert page["search_query"] in ("wires", ["wires"]), page
    assert page["has_more"] is False and "next_page" in page, page
    [hit] = page["data"]
    assert set(hit) >= {"file_id", "filename", "score", "attributes", "content"}, hit
    assert hit["content"][0]["type"] == "text"
    r = server.get(f"/v1/vector_stores/{store['id']}/files/{file_id}/content", headers=BETA)
    assert r.status_code == 200, r.text
    content = r.json()
    assert isinstance(content.get("object"), str) and "data" in content, content
    assert [(c["type"], c["text"]) for c in content["data"]] == [("text", "Handbook page about wires.")], content


def test_vector_stores_are_listed_in_order_with_cursors(mock, start_server):
    client = start_server(mock).openai()
    ids = [client.vector_stores.create(name=f"store {i}").id for i in range(5)]
    assert [s.id for s in client.vector_stores.list()] == list(reversed(ids))
    first = client.vector_stores.list(limit=2, order="asc")
    assert [s.id for s in first.data] == ids[:2] and first.has_more is True
    assert [s.id for s in client.vector_stores.list(limit=2, order="asc")] == ids, "auto-paging lost or repeated stores"
    assert [s.id for s in client.vector_stores.list(limit=2, order="desc", after=ids[3])] == list(reversed(ids[:3]))
    assert [s.id for s in client.vector_stores.list(limit=100, order="asc", before=ids[2])] == ids[:2]


def test_a_store_created_with_file_ids_and_a_static_strategy_chunks_as_asked(mock, start_server):
    client = start_server(mock).openai()
    long_text = "\n\n".join(f"Handbook page paragraph {i}. " + " ".join(f"page-{i}-{j}" for j in range(60))
                            for i in range(12))
    short = client.files.create(file=text_file("short.txt", "Handbook page, short."), purpose="assistants").id
    long = client.files.create(file=text_file("long.txt", long_text), purpose="assistants").id
    strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}}
    store = client.vector_stores.create(name="static", file_ids=[short, long], chunking_strategy=strategy)
    assert store.file_counts.total == 2
    store = wait_store(client, store.id)
    assert counts(store) == {"in_progress": 0, "completed": 2, "failed": 0, "cancelled": 0, "total": 2}
    for file_id in (short, long):
        f = client.vector_stores.files.retrieve(file_id, vector_store_id=store.id)
        assert f.chunking_strategy.type == "static"
        assert (f.chunking_strategy.static.max_chunk_size_tokens, f.chunking_strategy.static.chunk_overlap_tokens) == (100, 50)
    # The long file is many chunks of at most 100 tokens: far more than one result for it.
    hits = [x for x in client.vector_stores.search(store.id, query="handbook page paragraph", max_num_results=50)
            if x.file_id == long]
    assert len(hits) >= 10, len(hits)
    assert len({x.content[0].text for x in hits}) == len(hits), "the same chunk was answered twice"
    # Per-file strategy on attach, different from the store's.
    other = client.files.create(file=text_file("other.txt", long_text), purpose="assistants").id
    attached = client.vector_stores.files.create_and_poll(
        other, vector_store_id=store.id, poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT,
        chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 4096, "chunk_overlap_tokens": 0}})
    assert attached.status == "completed"
    assert attached.chunking_strategy.static.max_chunk_size_tokens == 4096
    one_chunk = [x for x in client.vector_stores.search(store.id, query="handbook page paragraph", max_num_results=50)
                 if x.file_id == other]
    assert len(one_chunk) == 1, len(one_chunk)


@pytest.mark.parametrize("strategy,param", [
    ({"type": "static", "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}}, "max_chunk_size_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0}}, "max_chunk_size_tokens"),
    ({"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 101}}, "chunk_overlap_tokens"),
    ({"type": "sideways"}, "chunking_strategy"),
], ids=["too-small", "too-large", "overlap-over-half", "unknown-type"])
def test_a_bad_chunking_strategy_is_a_400_naming_it(mock, start_server, strategy, param):
    server = start_server(mock)
    client = server.openai()
    file_id = client.files.create(file=text_file("a.txt", "Handbook page."), purpose="assistants").id
    with pytest.raises(openai.BadRequestError) as raised:
        client.vector_stores.create(name="bad", file_ids=[file_id], chunking_strategy=strategy)
    assert raised.value.type == "invalid_request_error"
    assert param in raised.value.body["message"], raised.value.body
    assert list(client.vector_stores.list()) == [], "a refused store was made"
    store = client.vector_stores.create(name="good")
    with pytest.raises(openai.BadRequestError) as raised:
        client.vector_stores.files.create(store.id, file_id=file_id, chunking_strategy=strategy)
    assert param in raised.value.body["message"], raised.value.body
    assert list(client.vector_stores.files.list(store.id)) == []
    assert mock.stats()["total_calls"] == 0


def test_errors_are_in_openais_shape_and_unknown_ids_are_404(mock, start_server):
    server = start_server(mock)
    client = server.openai()
    for method, path in (("GET", "/v1/vector_stores/vs_nope"), ("POST", "/v1/vector_stores/vs_nope"),
                         ("DELETE", "/v1/vector_stores/vs_nope"), ("GET", "/v1/vector_stores/vs_nope/files"),
                         ("POST", "/v1/vector_stores/vs_nope/search"),
                         ("GET", "/v1/vector_stores/vs_nope/file_batches/vsfb_nope")):
        r = server.request(method, path, headers=BETA, json={"query": "x"} if method == "POST" else None)
        assert_openai_error(r, 404)
    store = client.vector_stores.create(name="errors")
    # An unknown file cannot be attached; an unknown batch or file of the store is 404.
    assert_openai_error(server.post(f"/v1/vector_stores/{store.id}/files", headers=BETA, json={"file_id": "file-nope"}),
                        404, "file-nope")
    assert_openai_error(server.get(f"/v1/vector_stores/{store.id}/files/file-nope", headers=BETA), 404)
    assert_openai_error(server.post(f"/v1/vector_stores/{store.id}/file_batches/vsfb_nope/cancel", headers=BETA), 404)
    # Bad search parameters are 400 and name what is wrong.
    for body, word in (({}, "query"), ({"query": "x", "max_num_results": 0}, "max_num_results"),
                       ({"query": "x", "max_num_results": 51}, "max_num_results"),
                       ({"query": "x", "filters": {"type": "like", "key": "a", "value": "b"}}, "filters"),
                       ({"query": "x", "ranking_options": {"score_threshold": 2}}, "score_threshold")):
        r = server.post(f"/v1/vector_stores/{store.id}/search", headers=BETA, json=body)
        error = assert_openai_error(r, 400, word)
        assert error["type"] == "invalid_request_error"
    assert_openai_error(server.get("/v1/vector_stores", headers=BETA, params={"limit": 0}), 400, "limit")
    assert_openai_error(server.get(f"/v1/vector_stores/{store.id}/files", headers=BETA, params={"filter": "done"}),
                        400, "filter")
    with pytest.raises(openai.BadRequestError):
        client.vector_stores.file_batches.create(store.id, file_ids=[])
    assert mock.stats()["total_calls"] == 0
