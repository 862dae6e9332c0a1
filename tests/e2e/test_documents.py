"""Documents: `POST /v1/files` with purpose `user_data` or `assistants`, listed and deleted as
OpenAI's Files API has them, with the official `openai` SDK (docs/api.md, Documents)."""

import openai
import pytest

from conftest import create_key


def minimal_pdf(text: str = "Hello from a PDF") -> bytes:
    """A one-page PDF with `text` in Helvetica, its cross-reference table computed."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


DOCUMENTS = [
    ("report.pdf", minimal_pdf(), "application/pdf"),
    ("notes.md", "# Notes\n\nA *markdown* document.\n".encode(), "text/markdown"),
    ("page.html", b"<html><body><p>An HTML page</p></body></html>", "text/html"),
    ("plain.txt", "plain text, caf\u00e9 \uc694\uc57d".encode(), "text/plain"),
]


@pytest.mark.parametrize("purpose", ["user_data", "assistants"])
def test_documents_upload_retrieve_and_download(mock, start_server, purpose):
    client = start_server(mock).openai()
    for name, data, content_type in DOCUMENTS:
        uploaded = client.files.create(file=(name, data, content_type), purpose=purpose)
        assert uploaded.object == "file"
        assert uploaded.id.startswith("file-")
        assert uploaded.filename == name
        assert uploaded.purpose == purpose
        assert uploaded.bytes == len(data)
        assert client.files.retrieve(uploaded.id).filename == name
        assert client.files.content(uploaded.id).content == data


def test_the_type_is_taken_from_the_extension_when_the_content_type_says_nothing(mock, start_server):
    client = start_server(mock).openai()
    uploaded = client.files.create(file=("report.pdf", minimal_pdf(), "application/octet-stream"), purpose="user_data")
    assert uploaded.filename == "report.pdf"


@pytest.mark.parametrize("name,data,content_type,says", [
    ("fake.pdf", b"this is not a PDF at all", "application/pdf", "claims to be a PDF but is not one"),
    ("binary.txt", b"\xff\xfe\x00bad", "text/plain", "must be UTF-8"),
    ("image.png", b"\x89PNG\r\n\x1a\n", "image/png", "unsupported document type"),
])
def test_a_document_that_is_not_what_it_claims_is_refused_naming_the_file(mock, start_server, name, data, content_type, says):
    server = start_server(mock)
    client = server.openai()
    with pytest.raises(openai.BadRequestError) as raised:
        client.files.create(file=(name, data, content_type), purpose="user_data")
    message = raised.value.body["message"]
    assert name in message and says in message, message
    assert client.files.list(purpose="user_data").data == [], "a refused file was stored"


def test_a_document_over_the_limit_is_413(mock, start_server):
    server = start_server(mock, document_max_size=2048)
    client = server.openai()
    with pytest.raises(openai.APIStatusError) as raised:
        client.files.create(file=("big.txt", b"x" * 4096, "text/plain"), purpose="user_data")
    assert raised.value.status_code == 413
    assert "document-max-size" in raised.value.body["message"]
    small = client.files.create(file=("small.txt", b"x" * 1024, "text/plain"), purpose="user_data")
    assert small.bytes == 1024


def test_files_are_listed_by_purpose_in_order_with_cursors(mock, start_server):
    client = start_server(mock).openai()
    ids = [client.files.create(file=(f"doc{i}.txt", f"document {i}".encode(), "text/plain"), purpose="user_data").id
           for i in range(5)]
    batch_file = client.files.create(file=("in.jsonl", b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}\n'), purpose="batch")
    newest_first = [f.id for f in client.files.list(purpose="user_data")]
    assert newest_first == list(reversed(ids))
    oldest_first = [f.id for f in client.files.list(purpose="user_data", order="asc")]
    assert oldest_first == ids
    everything = [f.id for f in client.files.list()]
    assert set(everything) == set(ids) | {batch_file.id}
    # Pages of two, followed by the SDK's cursor.
    first_page = client.files.list(purpose="user_data", limit=2, order="asc")
    assert [f.id for f in first_page.data] == ids[:2]
    assert first_page.has_more
    paged = [f.id for f in client.files.list(purpose="user_data", limit=2, order="asc")]
    assert paged == ids, "auto-paging over cursors lost or repeated files"


def test_bad_list_parameters_are_refused(mock, start_server):
    server = start_server(mock)
    for query, field in (("limit=0", "limit"), ("limit=10001", "limit"), ("order=sideways", "order"), ("purpose=nope", "purpose")):
        r = server.get(f"/v1/files?{query}")
        assert r.status_code == 400, (query, r.status_code, r.text)
        assert field in r.json()["error"]["message"], r.text


def test_a_deleted_file_is_gone(mock, start_server):
    client = start_server(mock).openai()
    uploaded = client.files.create(file=("gone.md", b"# soon gone", "text/markdown"), purpose="assistants")
    deleted = client.files.delete(uploaded.id)
    assert deleted.id == uploaded.id and deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        client.files.delete(uploaded.id)
    assert uploaded.id not in [f.id for f in client.files.list()]


def test_another_key_cannot_see_list_or_delete_a_keys_documents(mock, start_server, workdir):
    data = workdir / "data"
    store = ["--data-dir", str(data)]
    alice_key = create_key(workdir, "alice", store=store)
    bob_key = create_key(workdir, "bob", store=store)
    server = start_server(mock, data_dir=data)
    alice = server.with_key(alice_key).openai(api_key=alice_key)
    bob = server.with_key(bob_key).openai(api_key=bob_key)
    uploaded = alice.files.create(file=("secret.txt", b"alice's notes", "text/plain"), purpose="user_data")
    with pytest.raises(openai.NotFoundError):
        bob.files.retrieve(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        bob.files.delete(uploaded.id)
    assert [f.id for f in bob.files.list()] == []
    assert [f.id for f in alice.files.list()] == [uploaded.id]
    assert alice.files.retrieve(uploaded.id).filename == "secret.txt"
