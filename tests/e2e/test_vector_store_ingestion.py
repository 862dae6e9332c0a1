"""Ingestion and what holds around it, against a real `promptline serve` and `promptline
mock-upstream` (SPEC §9, issue 19): files attached again, refused by the upstream, unreadable
or cancelled; retrieval that means something; kill -9 in the middle of an ingestion; another
key's view; and Redis without a shared index. The SDK surface itself is in
test_vector_stores.py, whose helpers these use.
"""

from __future__ import annotations

import subprocess

import openai
import pytest

from conftest import create_key, wait_until
from test_documents import minimal_pdf
from test_vector_stores import within, text_file, wait_file, search_ids, assert_openai_error, counts, POLL_MS, INGEST_TIMEOUT, BETA


def test_re_attaching_a_file_replaces_its_chunks(mock, start_server):
    client = start_server(mock).openai()
    text = "\n\n".join(f"Handbook page paragraph {i}. " + " ".join(f"page-{i}-{j}" for j in range(60)) for i in range(8))
    file_id = client.files.create(file=text_file("again.txt", text), purpose="assistants").id
    store = client.vector_stores.create(name="again")
    small = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}
    first = client.vector_stores.files.create_and_poll(file_id, vector_store_id=store.id, chunking_strategy=small,
                                                       poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    assert first.status == "completed"

    def hits():
        return [x for x in client.vector_stores.search(store.id, query="handbook page paragraph", max_num_results=50)]

    assert len(hits()) > 1
    big = {"type": "static", "static": {"max_chunk_size_tokens": 4096, "chunk_overlap_tokens": 0}}
    again = client.vector_stores.files.create_and_poll(file_id, vector_store_id=store.id, chunking_strategy=big,
                                                       poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    assert again.status == "completed" and again.chunking_strategy.static.max_chunk_size_tokens == 4096
    assert len(hits()) == 1, "the chunks of the first attachment are still searchable"
    store = client.vector_stores.retrieve(store.id)
    assert counts(store) == {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1}
    assert store.usage_bytes == again.usage_bytes


def test_an_embedding_call_the_upstream_refuses_fails_the_file_with_server_error(mock, start_server):
    client = start_server(mock, max_attempts=2).openai()
    store = client.vector_stores.create(name="refused")
    good = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=text_file("good.txt", "Handbook page that embeds fine."),
        poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    bad = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=text_file("refused.txt", "Handbook page the upstream refuses [[mock:status=400]]."),
        poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    assert good.status == "completed"
    assert bad.status == "failed", bad
    assert bad.last_error is not None and bad.last_error.code == "server_error", bad.last_error
    assert counts(client.vector_stores.retrieve(store.id)) == \
        {"in_progress": 0, "completed": 1, "failed": 1, "cancelled": 0, "total": 2}
    assert search_ids(client, store.id) == {good.id}


def encrypted_pdf(workdir) -> bytes:
    plain, locked = workdir / "plain.pdf", workdir / "locked.pdf"
    plain.write_bytes(minimal_pdf("A secret handbook page"))
    done = subprocess.run(["qpdf", "--encrypt", "user-password", "owner-password", "256", "--", str(plain), str(locked)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"qpdf failed: {done.stderr}"
    return locked.read_bytes()


@pytest.mark.parametrize("kind", ["truncated", "garbage", "encrypted"])
def test_a_file_that_cannot_be_read_ends_failed_with_last_error(mock, start_server, workdir, kind):
    client = start_server(mock).openai()
    data = {"truncated": lambda: minimal_pdf()[:120],
            "garbage": lambda: b"%PDF-1.7\n" + bytes(range(256)) * 8,
            "encrypted": lambda: encrypted_pdf(workdir)}[kind]()
    store = client.vector_stores.create(name="unreadable")
    good = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=text_file("fine.txt", "Handbook page that reads fine."),
        poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    assert good.status == "completed"
    bad = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=("broken.pdf", data, "application/pdf"),
        poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    assert bad.status == "failed", bad
    assert bad.last_error is not None and bad.last_error.code in ("invalid_file", "unsupported_file"), bad.last_error
    assert bad.last_error.message
    store = client.vector_stores.retrieve(store.id)
    assert counts(store) == {"in_progress": 0, "completed": 1, "failed": 1, "cancelled": 0, "total": 2}
    assert store.status == "completed"
    assert [f.id for f in client.vector_stores.files.list(store.id, filter="failed")] == [bad.id]
    assert [f.id for f in client.vector_stores.files.list(store.id, filter="completed")] == [good.id]
    assert search_ids(client, store.id, query="handbook page secret") == {good.id}


def test_a_file_batch_can_be_cancelled(start_mock, start_server):
    mock = start_mock("--latency-ms", "500")
    client = start_server(mock, workers=1).openai()
    store = client.vector_stores.create(name="cancelled")
    ids = [client.files.create(file=text_file(f"slow{i}.txt", f"Handbook page number {i}."), purpose="assistants").id
           for i in range(6)]
    batch = client.vector_stores.file_batches.create(store.id, file_ids=ids)
    assert batch.status == "in_progress" and batch.file_counts.total == 6
    cancelling = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    assert cancelling.status in ("cancelling", "cancelled"), cancelling
    with within(INGEST_TIMEOUT, "the cancelled batch to settle"):
        batch = client.vector_stores.file_batches.poll(batch.id, vector_store_id=store.id, poll_interval_ms=POLL_MS)
    assert batch.status == "cancelled", batch
    assert batch.file_counts.cancelled >= 1 and batch.file_counts.in_progress == 0, batch.file_counts
    assert batch.file_counts.cancelled + batch.file_counts.completed == 6
    cancelled = {f.id for f in client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id,
                                                                           filter="cancelled")}
    assert len(cancelled) == batch.file_counts.cancelled
    assert not (search_ids(client, store.id) & cancelled), "a cancelled file is searchable"
    assert counts(client.vector_stores.retrieve(store.id))["cancelled"] == batch.file_counts.cancelled


# Retrieval means something: eight short documents on distinct topics, one chunk each, and a
# question for each whose answer is in one known document.

TOPICS = {
    "lighthouse.txt": "The old lighthouse on Gull Point has a keeper named Tomas Berg. He climbs the spiral stairs "
                      "every evening to light the lamp, and his grey cat Biscuit follows him up the tower. The lamp "
                      "can be seen twenty miles out at sea, and ships steer by its beam through the rocky channel.",
    "sourdough.txt": "Baking sourdough bread starts with a starter of flour and water fed daily. The dough is mixed, "
                     "folded and left to rise overnight in a cool kitchen. Bake the loaf at 250 degrees in a covered "
                     "cast iron pot for the first twenty minutes so the crust blisters and the crumb stays open.",
    "volcano.txt": "Mount Kelud is a volcano on the island of Java. Its crater lake was drained through tunnels to "
                   "reduce the danger of lahars, the mudflows of ash and water that rush down its slopes after an "
                   "eruption. Its 2014 eruption threw ash as far as the city of Yogyakarta.",
    "chess.txt": "In chess the knight moves in an L shape: two squares in one direction and one square sideways. It "
                 "is the only piece that can jump over other pieces. Castling moves the king two squares toward a "
                 "rook, which then crosses over to stand beside the king.",
    "honeybees.txt": "Honeybees tell each other where flowers are with the waggle dance. A forager returning to the "
                     "hive dances on the comb; the angle of the waggle run shows the direction of the nectar relative "
                     "to the sun, and its length shows the distance to the flowers.",
    "invoices.txt": "Invoices are due thirty days after the billing date. A late invoice incurs a penalty fee of two "
                    "percent per month, and the accounts team sends a reminder email seven days before the due date. "
                    "Refunds are credited to the original payment card within five business days.",
    "marathon.txt": "A marathon is 42.195 kilometres long. Runners train for months, building their weekly mileage "
                    "slowly and tapering in the final three weeks. During the race they drink water and eat energy "
                    "gels to avoid hitting the wall around kilometre thirty.",
    "telescope.txt": "A reflecting telescope gathers starlight with a curved primary mirror instead of a lens. Isaac "
                     "Newton built the first practical reflector in 1668. Larger mirrors collect more light, which is "
                     "why observatories on mountain tops use mirrors several metres wide to see faint galaxies.",
}

#: (question, the file that answers it, words of the answering passage).
QUESTIONS = [
    ("Which cat follows keeper Tomas Berg up the lighthouse tower?", "lighthouse.txt", "cat Biscuit"),
    ("At what temperature and in what pot should a sourdough loaf be baked?", "sourdough.txt", "cast iron pot"),
    ("Why was the crater lake of the volcano Kelud drained through tunnels?", "volcano.txt", "danger of lahars"),
    ("How does the knight move in chess?", "chess.txt", "L shape"),
    ("How do honeybees show the direction of flowers with the waggle dance?", "honeybees.txt", "waggle run"),
    ("What penalty fee does a late invoice incur?", "invoices.txt", "two percent per month"),
    ("How long is a marathon in kilometres?", "marathon.txt", "42.195 kilometres"),
    ("When did Isaac Newton build a reflecting telescope?", "telescope.txt", "reflector in 1668"),
]


def topic_collection(client, name: str = "topics") -> tuple[str, dict[str, str]]:
    """A vector store of the eight topic files, ingested; answers its id and {filename: file_id}."""
    store = client.vector_stores.create(name=name)
    with within(INGEST_TIMEOUT, "the topic collection's ingestion"):
        batch = client.vector_stores.file_batches.upload_and_poll(
            store.id, files=[text_file(n, t) for n, t in TOPICS.items()], poll_interval_ms=POLL_MS)
    assert batch.status == "completed" and batch.file_counts.completed == len(TOPICS), batch
    ids = {client.files.retrieve(f.id).filename: f.id
           for f in client.vector_stores.files.list(store.id, limit=100)}
    assert set(ids) == set(TOPICS)
    return store.id, ids


def assert_top_3(client):
    store_id, ids = topic_collection(client)
    misses = []
    for question, filename, passage in QUESTIONS:
        top = list(client.vector_stores.search(store_id, query=question, max_num_results=3))
        if not any(x.file_id == ids[filename] and passage in x.content[0].text for x in top):
            misses.append((question, filename, [(x.filename, round(x.score, 3)) for x in top]))
    assert misses == [], f"answering chunk not in the top 3: {misses}"


def test_each_questions_answering_chunk_is_in_the_top_3(mock, start_server):
    assert_top_3(start_server(mock).openai())


def test_each_questions_answering_chunk_is_in_the_top_3_on_pgvector(mock, start_server, shared_redis, redis_prefix,
                                                                     postgres_url):
    assert_top_3(start_server(mock, redis=shared_redis, redis_prefix=redis_prefix, vector_url=postgres_url).openai())


# Durability: kill -9 mid-ingestion.

DURABLE_TEXT = "\n\n".join(f"Durable paragraph {i} of the handbook. " + " ".join(f"durable-{i}-{j}" for j in range(40))
                            for i in range(16))
DURABLE_CHUNKING = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}}


def start_ingestion_and_kill(mock, server) -> tuple[str, str]:
    """Attaches a file of many chunks and kills the server (-9) once a few of its embedding
    calls are made, while the file is still in progress; answers the store and file ids."""
    client = server.openai()
    file_id = client.files.create(file=text_file("durable.txt", DURABLE_TEXT), purpose="assistants").id
    store = client.vector_stores.create(name="durable", file_ids=[file_id], chunking_strategy=DURABLE_CHUNKING)
    wait_until(lambda: mock.stats()["total_calls"] >= 3, 30, "three embedding calls")
    raw = client.vector_stores.files.with_raw_response.retrieve(file_id, vector_store_id=store.id)
    assert raw.parse().status == "in_progress", "ingestion finished before the kill: the test proves nothing"
    poll_after = raw.headers.get("openai-poll-after-ms")
    assert poll_after is not None and int(poll_after) > 0, dict(raw.headers)
    server.kill9()
    return store.id, file_id


def assert_indexed_once(client, store_id: str, file_id: str):
    """The file finishes without being attached again, and holds exactly the chunks a clean
    ingestion of the same file into another store holds, none twice."""
    finished = wait_file(client, store_id, file_id)
    assert finished.status == "completed", finished
    store = client.vector_stores.retrieve(store_id)
    assert counts(store) == {"in_progress": 0, "completed": 1, "failed": 0, "cancelled": 0, "total": 1}
    reference = client.vector_stores.create(name="reference", file_ids=[file_id], chunking_strategy=DURABLE_CHUNKING)
    assert wait_file(client, reference.id, file_id).status == "completed"
    assert client.vector_stores.retrieve(reference.id).usage_bytes == store.usage_bytes

    def chunks(of):
        hits = client.vector_stores.search(of, query="durable paragraph of the handbook", max_num_results=50)
        return sorted(x.content[0].text for x in hits)

    survived, clean = chunks(store_id), chunks(reference.id)
    assert len(clean) > 4, f"the file should be several chunks, not {len(clean)}"
    assert len(set(survived)) == len(survived), "a chunk is indexed twice"
    assert survived == clean, "the chunks after the kill are not those of a clean ingestion"


def test_kill_9_mid_ingestion_and_a_restart_finish_with_every_chunk_indexed_once(start_mock, start_server, workdir):
    """One worker and a slow mock: the file's embedding calls run one after another, so a kill
    after the first few leaves it half-embedded. The restart on the same data directory must
    finish it without being asked again."""
    mock = start_mock("--latency-ms", "400")
    data = workdir / "data"
    server = start_server(mock, data_dir=data, workers=1, embedding_batch=2)
    store_id, file_id = start_ingestion_and_kill(mock, server)
    restarted = start_server(mock, data_dir=data, workers=1, embedding_batch=2, lease=1)
    assert_indexed_once(restarted.openai(), store_id, file_id)


def test_kill_9_of_an_instance_mid_ingestion_on_pgvector_and_the_other_finishes(
        start_mock, start_server, shared_redis, redis_prefix, postgres_url):
    """Two instances on one Redis and one PostgreSQL: the one that was ingesting is killed; the
    other takes its tasks over once their leases end, and the file is indexed once."""
    mock = start_mock("--latency-ms", "400")
    shared = dict(redis=shared_redis, redis_prefix=redis_prefix, vector_url=postgres_url, workers=1, embedding_batch=2,
                  lease=1)
    doomed = start_server(mock, instance_id="doomed", **shared)
    survivor = start_server(mock, instance_id="survivor", **shared)
    store_id, file_id = start_ingestion_and_kill(mock, doomed)
    assert_indexed_once(survivor.openai(), store_id, file_id)


# Access: another key sees none of it.

def test_another_key_sees_none_of_a_keys_vector_stores(mock, start_server, workdir):
    data = workdir / "data"
    store_flags = ["--data-dir", str(data)]
    alice_key = create_key(workdir, "alice", store=store_flags)
    bob_key = create_key(workdir, "bob", store=store_flags)
    server = start_server(mock, data_dir=data)
    alice = server.with_key(alice_key).openai(api_key=alice_key)
    bob = server.with_key(bob_key).openai(api_key=bob_key)
    store = alice.vector_stores.create(name="alice's")
    attached = alice.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=text_file("secret.txt", "Handbook page: alice's secret plans."),
        poll_interval_ms=POLL_MS, max_wait_seconds=INGEST_TIMEOUT)
    assert attached.status == "completed"
    batch = alice.vector_stores.file_batches.create_and_poll(store.id, file_ids=[attached.id], poll_interval_ms=POLL_MS)

    calls = (
        lambda: bob.vector_stores.retrieve(store.id),
        lambda: bob.vector_stores.update(store.id, name="bob's now"),
        lambda: bob.vector_stores.files.list(store.id),
        lambda: bob.vector_stores.files.retrieve(attached.id, vector_store_id=store.id),
        lambda: bob.vector_stores.files.content(attached.id, vector_store_id=store.id),
        lambda: bob.vector_stores.files.update(attached.id, vector_store_id=store.id, attributes={"a": "b"}),
        lambda: bob.vector_stores.files.delete(attached.id, vector_store_id=store.id),
        lambda: bob.vector_stores.files.create(store.id, file_id=attached.id),
        lambda: bob.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id),
        lambda: bob.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id),
        lambda: bob.vector_stores.search(store.id, query="secret plans"),
        lambda: bob.vector_stores.delete(store.id),
    )
    for i, call in enumerate(calls):
        try:
            call()
        except openai.NotFoundError:
            continue
        except Exception as error:
            raise AssertionError(f"call {i} of Bob's: {error!r} instead of 404") from error
        raise AssertionError(f"call {i} of Bob's succeeded on Alice's store")
    assert [s.id for s in bob.vector_stores.list()] == []
    # Bob cannot attach Alice's file to a store of his own either.
    own = bob.vector_stores.create(name="bob's")
    with pytest.raises(openai.NotFoundError):
        bob.vector_stores.files.create(own.id, file_id=attached.id)
    assert list(bob.vector_stores.files.list(own.id)) == []
    # Nothing Bob did changed Alice's store.
    mine = alice.vector_stores.retrieve(store.id)
    assert mine.name == "alice's" and mine.file_counts.completed == 1
    assert [s.id for s in alice.vector_stores.list()] == [store.id]
    assert search_ids(alice, store.id, query="secret plans") == {attached.id}
    assert alice.vector_stores.files.retrieve(attached.id, vector_store_id=store.id).attributes in (None, {})


# Redis without a shared vector index.

def test_on_redis_without_vector_url_knowledge_routes_answer_503(mock, start_server, shared_redis, redis_prefix):
    server = start_server(mock, redis=shared_redis, redis_prefix=redis_prefix)
    client = server.openai()
    file_id = client.files.create(file=text_file("r.txt", "Handbook page on Redis."), purpose="assistants").id
    for method, path, body in (("POST", "/v1/vector_stores", {"name": "x"}), ("GET", "/v1/vector_stores", None),
                               ("GET", "/v1/vector_stores/vs_any", None),
                               ("POST", "/v1/vector_stores/vs_any/files", {"file_id": file_id}),
                               ("POST", "/v1/vector_stores/vs_any/search", {"query": "x"})):
        r = server.request(method, path, headers=BETA, json=body)
        error = assert_openai_error(r, 503, "vector-url")
        assert "shar" in error["message"] and "instance" in error["message"], error
    with pytest.raises(openai.APIStatusError) as raised:
        client.vector_stores.create(name="refused")
    assert raised.value.status_code == 503
    r = server.post("/api/answers", json={"question": "anything?", "vector_store_ids": ["vs_any"]})
    assert r.status_code == 503, r.text
    assert "vector-url" in r.text and "shar" in r.text, r.text
    r = server.submit_raw({"prompts": [{"prompt": "anything?", "vector_store_ids": ["vs_any"]}]})
    assert r.status_code == 503, r.text
    assert mock.stats()["total_calls"] == 0
    # Everything else still works on that instance.
    [task] = server.submit(["still fine"])
    assert server.wait_one(task)["status"] == "completed"
