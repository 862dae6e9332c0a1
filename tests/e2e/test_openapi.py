"""`/openapi.json` and `/docs`, and a schema-driven fuzz run against a live server.

The fuzz run is schemathesis (`st run`) on every operation of the served document, bounded
by a fixed seed and a number of examples per operation, against a server whose upstream is
the mock. It checks that no answer is a 5xx and that every answer has a documented status,
content type and body schema. The mock runs with no faults, so the relayed routes
(`/v1/chat/completions`, `/v1/models`) get 4xx for bodies it refuses and never a 5xx of its
own: any 5xx is Promptline's, and no operation is left out of the check for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest
import requests

from conftest import batch_line, clean_env, parse_jsonl, to_jsonl, wait_until

#: Test cases per operation and phase, and the seed: the same run every time.
FUZZ_EXAMPLES = 25
FUZZ_SEED = 20240611
#: A bound on the whole run, so that the test stops by itself whatever the server does.
FUZZ_DEADLINE = 900
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"



def test_the_document_is_a_valid_openapi_3_1_document(mock, start_server):
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate

    server = start_server(mock)
    r = server.get("/openapi.json")
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "application/json"
    document = r.json()
    assert document["openapi"].startswith("3.1.")
    validate(document, cls=OpenAPIV31SpecValidator)
    # The document's every route, including the task API's core, is there.
    for path in ("/api/tasks", "/api/tasks/{id}", "/v1/chat/completions", "/v1/batches/{id}/cancel", "/health/ready"):
        assert path in document["paths"], path


class _Links(HTMLParser):
    """The URLs a page loads or links to (`src`, `href`)."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append((tag, value))


def test_the_docs_page_needs_no_other_site(mock, start_server):
    server = start_server(mock)
    r = server.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    links = _Links()
    links.feed(page)
    outside = [(tag, url) for tag, url in links.urls if url.startswith(("http:", "https:", "//"))]
    assert not outside, f"the page loads or links outside the server: {outside}"
    assert "http://" not in page and "https://" not in page
    assert 'fetch("/openapi.json")' in page
    # What the page fetches is there, and open.
    assert server.get("/openapi.json").status_code == 200


class Conformance:
    """Checks real answers against the document: a documented status, a documented content
    type, and a JSON body that fits the schema (formats included)."""

    def __init__(self, document: dict):
        from openapi_schema_validator import OAS31Validator

        self.document = document
        self.validator_class = OAS31Validator

    def _resolve(self, value: dict) -> dict:
        while "$ref" in value:
            node = self.document
            for key in value["$ref"].removeprefix("#/").split("/"):
                node = node[key]
            value = node
        return value

    def validate(self, instance, schema: dict):
        root = {**schema, "components": self.document["components"]}
        self.validator_class(root, format_checker=self.validator_class.FORMAT_CHECKER).validate(instance)

    def schema(self, name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    def __call__(self, r: requests.Response, path: str, method: str, status: int | None = None) -> requests.Response:
        if status is not None:
            assert r.status_code == status, f"{method.upper()} {path}: {r.status_code} {r.text[:300]}"
        responses = self.document["paths"][path][method]["responses"]
        code = str(r.status_code)
        documented = responses.get(code) or responses.get(code[0] + "XX") or responses.get("default")
        assert documented, f"{method.upper()} {path} answered {code}, which is not documented: {r.text[:300]}"
        documented = self._resolve(documented)
        content_type = r.headers.get("content-type", "").split(";")[0].strip()
        content = documented.get("content", {})
        assert content_type in content, f"{method.upper()} {path} {code}: content type {content_type!r} not in {list(content)}"
        if content_type == "application/json":
            self.validate(r.json(), content[content_type]["schema"])
        return r


def test_real_answers_match_the_document(mock, start_server):
    """The answers the fuzzer seldom reaches (real tasks, files and batches, in every state) fit their schemas."""
    server = start_server(mock)
    check = Conformance(server.get("/openapi.json").json())

    # The task API.
    body = {"prompts": ["conformance one", {"messages": [{"role": "user", "content": "conformance two"}], "max_tokens": 5}],
            "metadata": {"k": "v"}, "idempotency_key": "conformance-key"}
    ids = check(server.post("/api/tasks", json=body), "/api/tasks", "post", 202).json()["task_ids"]
    assert check(server.post("/api/tasks", json=body), "/api/tasks", "post", 200).json()["duplicate"] is True
    failing = server.submit(["[[mock:status=400]] conformance failing"])
    slow = server.submit(["[[mock:latency_ms=60000]] conformance slow"])
    server.wait(ids + failing)
    check(server.get("/api/tasks", params={"task_ids": ",".join(ids + failing + slow + ["unknown"])}), "/api/tasks", "get", 200)
    for task_id in ids + failing + slow:
        check(server.get(f"/api/tasks/{task_id}"), "/api/tasks/{id}", "get", 200)
    check(server.delete(f"/api/tasks/{slow[0]}"), "/api/tasks/{id}", "delete", 200)
    check(server.delete(f"/api/tasks/{ids[0]}"), "/api/tasks/{id}", "delete", 409)
    check(server.delete("/api/tasks/unknown"), "/api/tasks/{id}", "delete", 404)
    check(server.get("/api/tasks/unknown"), "/api/tasks/{id}", "get", 404)
    check(server.get("/api/tasks"), "/api/tasks", "get", 400)
    check(server.post("/api/tasks", json={"prompts": []}), "/api/tasks", "post", 400)
    check(server.post("/api/tasks", json={"prompts": [1]}), "/api/tasks", "post", 422)
    for path in ("/api/stats", "/api/cluster", "/api/cache", "/health/live", "/health/ready"):
        check(server.get(path), path, "get", 200)

    # The chat API, plain and streamed.
    chat = {"model": "mock-model", "messages": [{"role": "user", "content": "conformance chat"}]}
    check(server.post("/v1/chat/completions", json=chat), "/v1/chat/completions", "post", 200)
    check(server.post("/v1/chat/completions", json={"messages": []}), "/v1/chat/completions", "post", 400)
    check(server.post("/v1/chat/completions", json={**chat, "messages": [{"role": "user", "content": "[[mock:status=404]] x"}]}),
          "/v1/chat/completions", "post", 404)
    streamed = check(server.post("/v1/chat/completions", json={**chat, "stream": True}), "/v1/chat/completions", "post", 200)
    data = [line.removeprefix("data: ") for line in streamed.text.splitlines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]" and len(data) > 2
    for chunk in data[:-1]:
        check.validate(json.loads(chunk), check.schema("ChatCompletionChunk"))
    check(server.get("/v1/models"), "/v1/models", "get", 200)

    # The Batch API: a file, a batch with a failing line, its output and error files.
    lines = [batch_line("ok", "conformance batch ok"), batch_line("bad", "[[mock:status=400]] conformance batch bad")]
    upload = {"purpose": (None, "batch"), "file": ("input.jsonl", to_jsonl(lines))}
    file_id = check(server.post("/v1/files", files=upload), "/v1/files", "post", 200).json()["id"]
    check(server.post("/v1/files", data=b"x", headers={"content-type": "text/plain"}), "/v1/files", "post", 415)
    check(server.post("/v1/files", files={"purpose": (None, "batch"), "file": ("x.jsonl", b"{")}), "/v1/files", "post", 400)
    check(server.get(f"/v1/files/{file_id}"), "/v1/files/{id}", "get", 200)
    check(server.get(f"/v1/files/{file_id}/content"), "/v1/files/{id}/content", "get", 200)
    check(server.get("/v1/files/file-unknown"), "/v1/files/{id}", "get", 404)
    check(server.get("/v1/files/file-unknown/content"), "/v1/files/{id}/content", "get", 404)
    create = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"k": "v"}}
    batch_id = check(server.post("/v1/batches", json=create), "/v1/batches", "post", 200).json()["id"]
    check(server.post("/v1/batches", json={**create, "completion_window": "1h"}), "/v1/batches", "post", 400)
    check(server.post("/v1/batches", json={"endpoint": 1}), "/v1/batches", "post", 422)

    def finished():
        batch = server.get(f"/v1/batches/{batch_id}").json()
        return batch if batch["status"] == "completed" else None

    batch = wait_until(finished, 60, f"batch {batch_id} to complete")
    check(server.get(f"/v1/batches/{batch_id}"), "/v1/batches/{id}", "get", 200)
    for file in (batch["output_file_id"], batch["error_file_id"]):
        check(server.get(f"/v1/files/{file}"), "/v1/files/{id}", "get", 200)
        results = parse_jsonl(check(server.get(f"/v1/files/{file}/content"), "/v1/files/{id}/content", "get", 200).text)
        assert len(results) == 1
        check.validate(results[0], check.schema("BatchResultLine"))
    check(server.get("/v1/batches", params={"limit": 1}), "/v1/batches", "get", 200)
    check(server.get("/v1/batches", params={"limit": 0}), "/v1/batches", "get", 400)
    check(server.post(f"/v1/batches/{batch_id}/cancel"), "/v1/batches/{id}/cancel", "post", 409)
    check(server.post("/v1/batches/batch_unknown/cancel"), "/v1/batches/{id}/cancel", "post", 404)
    check(server.get("/v1/batches/batch_unknown"), "/v1/batches/{id}", "get", 404)
    slow_file = check(server.post("/v1/files", files={"purpose": (None, "batch"), "file": (
        "slow.jsonl", to_jsonl([batch_line("slow", "[[mock:latency_ms=60000]] conformance batch slow")]))}), "/v1/files", "post", 200)
    slow_batch = check(server.post("/v1/batches", json={**create, "input_file_id": slow_file.json()["id"]}), "/v1/batches", "post", 200)
    check(server.post(f"/v1/batches/{slow_batch.json()['id']}/cancel"), "/v1/batches/{id}/cancel", "post", 200)

    # The docs themselves.
    check(server.get("/openapi.json"), "/openapi.json", "get", 200)
    check(server.get("/docs"), "/docs", "get", 200)


def _fuzz_command(server, workdir) -> list[str]:
    # From a file with --url: loaded from its URL, schemathesis would leave /openapi.json itself out.
    document = workdir / "openapi.json"
    document.write_bytes(server.get("/openapi.json").content)
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", str(document), "--url", server.base,
        "--checks", CHECKS,
        "--max-examples", str(FUZZ_EXAMPLES),
        "--seed", str(FUZZ_SEED),
        "--workers", "1",
        "--request-timeout", "20",
        "--suppress-health-check", "all",
        "--report", "json", "--report-json-path", str(workdir / "schemathesis.json"),
        "--no-color",
    ]
    return command


def test_fuzzing_every_operation_finds_no_server_error_and_no_undocumented_answer(mock, start_server, workdir):
    server = start_server(mock)
    command = _fuzz_command(server, workdir)
    print("$ st " + " ".join(command[3:]))
    try:
        done = subprocess.run(
            command, cwd=workdir, env=clean_env(), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=FUZZ_DEADLINE,
        )
    except subprocess.TimeoutExpired as error:
        partial = error.stdout.decode("utf-8", "replace") if isinstance(error.stdout, bytes) else (error.stdout or "")
        pytest.fail(f"schemathesis still running after {FUZZ_DEADLINE} s\n{partial[-6000:]}")
    output = done.stdout + done.stderr
    print(output[-3000:])
    report_path = workdir / "schemathesis.json"
    assert report_path.exists(), f"schemathesis wrote no report (exit {done.returncode})\n{output[-6000:]}"
    report = json.loads(report_path.read_text())
    print(json.dumps({key: report[key] for key in ("operations", "test_cases", "failures", "errors")}, indent=1))
    assert report["complete"], f"the run did not finish: {report['stop_reason']}\n{output[-6000:]}"
    assert done.returncode == 0 and not report["failures"] and not report["errors"], (
        f"schemathesis found problems (exit {done.returncode}): {report['failures']} {report['errors']}\n{output[-8000:]}"
    )
    operations = report["operations"]
    assert operations["tested"] == operations["selected"] == operations["total"], operations
    assert report["test_cases"]["generated"] >= operations["tested"], report["test_cases"]
    # The server is still well after the run.
    assert server.get("/health/ready").status_code == 200
