"""`promptline submit` and `promptline status` against a real server and mock upstream, and
against a scripted fake server for the answers a real one gives only under load (429, 503)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import batch_line, closed_port, echo, parse_jsonl, run_promptline

EMPTY_QUEUE = {"queued": 0, "processing": 0, "completed": 0, "error": 0, "cancelled": 0}


def mixed_lines(count: int) -> tuple[list[str], list[dict]]:
    """`count` input lines of every form, a few blank ones among them.

    Answers the file's lines and, for each non-blank one, what its result line must hold."""
    lines: list[str] = []
    expected: list[dict] = []
    for i in range(count):
        if i % 50 == 7:
            lines.append("   ")
        prompt = f"cli prompt {i} ünïcödé \"quoted\" / slash"
        form = i % 5
        custom_id = None
        if form == 0:
            value = prompt
        elif form == 1:
            value = {"prompt": prompt, "max_tokens": 20, "temperature": 0, "metadata": {"row": str(i)}}
        elif form == 2:
            custom_id = f"obj-{i}"
            value = {"prompt": prompt, "custom_id": custom_id}
        elif form == 3:
            value = {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": prompt}],
                     "model": "mock-model"}
        else:
            custom_id = f"req-{i}"
            value = batch_line(custom_id, prompt, system="you echo", max_completion_tokens=30, top_p=0.5)
        lines.append(json.dumps(value))
        expected.append({"line": len(lines), "custom_id": custom_id, "result": echo(prompt)})
    return lines, expected


def write_lines(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def submit(workdir, server_url: str, *args: str, timeout: float = 120, env: dict | None = None):
    return run_promptline(["submit", *args, "--server", server_url], workdir, timeout=timeout, env=env)


def test_submit_wait_output_answers_every_line_in_order(mock, start_server, workdir):
    server = start_server(mock)
    lines, expected = mixed_lines(300)
    source = write_lines(workdir / "prompts.jsonl", lines)
    out = workdir / "results.jsonl"
    done = submit(workdir, server.base, str(source), "--wait", "--output", str(out), "--chunk-size", "64")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    results = parse_jsonl(out.read_text("utf-8"))
    assert len(results) == len(expected)
    for got, want in zip(results, expected):
        assert got["line"] == want["line"], got
        assert got["status"] == "completed" and got["error"] is None, got
        assert got["result"] == want["result"], got
        if want["custom_id"] is None:
            assert "custom_id" not in got, got
        else:
            assert got["custom_id"] == want["custom_id"], got
    ids = [r["task_id"] for r in results]
    assert len(set(ids)) == len(ids)
    # Every prompt queued once: five requests of up to 64 prompts, none twice.
    assert server.stats()["queue"]["completed"] == len(expected)
    # A Batch API body field /api/tasks cannot carry is named, not silently dropped.
    assert "top_p" in done.stderr, done.stderr
    assert f"{len(expected)} of {len(expected)} tasks completed" in done.stderr, done.stderr


def test_wait_without_output_writes_results_to_stdout(mock, start_server, workdir):
    server = start_server(mock)
    source = write_lines(workdir / "p.jsonl", [json.dumps("to stdout one"), json.dumps({"prompt": "to stdout two"})])
    done = submit(workdir, server.base, str(source), "--wait")
    assert done.returncode == 0, done.stderr
    results = parse_jsonl(done.stdout)
    assert [r["result"] for r in results] == [echo("to stdout one"), echo("to stdout two")]
    assert [r["line"] for r in results] == [1, 2]


def test_submit_without_wait_prints_ids_the_server_knows_and_a_rerun_queues_nothing(mock, start_server, workdir):
    server = start_server(mock, workers=0)
    lines = [json.dumps(f"queued only {i}") for i in range(25)]
    source = write_lines(workdir / "p.jsonl", lines)
    first = submit(workdir, server.base, str(source), "--chunk-size", "10")
    assert first.returncode == 0, first.stderr
    ids = first.stdout.split()
    assert len(ids) == 25 and len(set(ids)) == 25
    assert all(s["status"] == "queued" for s in server.statuses(ids).values())
    # The same file again: every request carries the same idempotency key, so the same ids
    # come back and nothing new is queued.
    again = submit(workdir, server.base, str(source), "--chunk-size", "10")
    assert again.returncode == 0, again.stderr
    assert again.stdout.split() == ids
    assert "25 of them by an earlier run" in again.stderr, again.stderr
    assert server.stats()["queue"]["queued"] == 25
    # A new run key queues the file again.
    fresh = submit(workdir, server.base, str(source), "--chunk-size", "10", "--idempotency-key", "second run")
    assert fresh.returncode == 0, fresh.stderr
    assert set(fresh.stdout.split()).isdisjoint(ids)
    assert server.stats()["queue"]["queued"] == 50


@pytest.mark.parametrize("bad, words", [
    ('{"prompt": "unclosed"', ["not valid JSON"]),
    ('{"prompt": "x", "temprature": 0.5}', ['unknown field "temprature"']),
    ('{"messages": [{"role": "wizard", "content": "x"}]}', ["messages[0].role"]),
    ('{"custom_id": "r", "method": "POST", "url": "/v1/embeddings", "body": {}}', ["url"]),
])
def test_a_malformed_line_is_named_and_nothing_is_submitted(mock, start_server, workdir, bad, words):
    server = start_server(mock)
    lines = [json.dumps(f"good {i}") for i in range(60)]
    lines[36] = bad
    source = write_lines(workdir / "bad.jsonl", lines)
    done = submit(workdir, server.base, str(source), "--wait", "--chunk-size", "10")
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "bad.jsonl: line 37: " in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    assert done.stdout == ""
    assert server.stats()["queue"] == EMPTY_QUEUE


def test_a_chunk_the_server_refuses_names_the_line_and_keeps_the_earlier_chunks(mock, start_server, workdir):
    server = start_server(mock, workers=0)
    lines = [json.dumps(f"fine {i}") for i in range(30)]
    # Well formed, but more metadata entries than the server takes: only the server knows.
    lines[14] = json.dumps({"prompt": "too much metadata", "metadata": {f"k{n}": "v" for n in range(40)}})
    source = write_lines(workdir / "p.jsonl", lines)
    done = submit(workdir, server.base, str(source), "--chunk-size", "10")
    assert done.returncode == 2, done.stderr
    assert "chunk 2 of 3 (lines 11–20) was not queued: the server answered 422: prompts[4] (line 15).metadata" in done.stderr, done.stderr
    assert "The 10 prompts before it are queued" in done.stderr
    assert server.stats()["queue"]["queued"] == 10


def test_status_prints_the_task_readably_and_as_json(mock, start_server, workdir):
    server = start_server(mock)
    [task_id] = server.submit([{"prompt": "status please", "metadata": {"who": "cli"}}])
    server.wait_one(task_id)
    done = run_promptline(["status", task_id, "--server", server.base], workdir)
    assert done.returncode == 0, done.stderr
    assert f"task {task_id}" in done.stdout
    assert "completed" in done.stdout
    assert echo("status please") in done.stdout
    assert "who=cli" in done.stdout
    as_json = run_promptline(["status", task_id, "--json", "--server", server.base], workdir)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == server.detail(task_id)
    unknown = run_promptline(["status", task_id, "no-such-task", "--server", server.base], workdir)
    assert unknown.returncode == 1
    assert echo("status please") in unknown.stdout
    assert "no-such-task not found" in unknown.stderr


def test_failed_tasks_make_exit_status_1_and_say_why(start_server, workdir):
    server = start_server(f"http://127.0.0.1:{closed_port()}/v1", max_attempts=1)
    source = write_lines(workdir / "p.jsonl", [json.dumps("nobody answers")])
    done = submit(workdir, server.base, str(source), "--wait")
    assert done.returncode == 1, done.stderr
    [result] = parse_jsonl(done.stdout)
    assert result["status"] == "error" and result["result"] is None
    assert "connection refused" in result["error"], result


def test_an_unreachable_server_is_a_clear_error(workdir):
    source = write_lines(workdir / "p.jsonl", [json.dumps("hello?")])
    done = submit(workdir, f"http://127.0.0.1:{closed_port()}", str(source), "--retries", "1")
    assert done.returncode == 2
    assert "could not reach the server: connection refused" in done.stderr, done.stderr


# A scripted server: answers POST /api/tasks from a list of (status, headers, body), one per request.


class FakeServer:
    def __init__(self, answers: list[tuple[int, dict, dict]]):
        self.answers = list(answers)
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                fake.requests.append({"authorization": self.headers.get("authorization"), "body": body})
                status, headers, answer = fake.answers.pop(0)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server():
    started: list[FakeServer] = []

    def start(answers):
        server = FakeServer(answers)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def test_429_and_503_are_waited_out_and_the_chunk_sent_again_with_its_key(fake_server, workdir):
    queued = {"task_ids": ["t-1", "t-2"], "status": "queued"}
    fake = fake_server([
        (429, {"retry-after": "0"}, {"detail": "too many requests for this key"}),
        (503, {"retry-after": "0"}, {"detail": "the store is unreachable"}),
        (429, {}, {"detail": "still too many"}),
        (202, {}, queued),
    ])
    source = write_lines(workdir / "p.jsonl", [json.dumps("one"), json.dumps("two")])
    done = submit(workdir, fake.url, str(source), "--api-key", "sk-cli-secret-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["t-1", "t-2"]
    assert len(fake.requests) == 4
    keys = {r["body"]["idempotency_key"] for r in fake.requests}
    assert len(keys) == 1, keys
    assert all(r["body"]["prompts"] == ["one", "two"] for r in fake.requests)
    assert all(r["authorization"] == "Bearer sk-cli-secret-1" for r in fake.requests)
    assert "too many requests for this key" in done.stderr and "the store is unreachable" in done.stderr, done.stderr
    assert "sk-cli-secret-1" not in done.stderr + done.stdout


def test_a_refusal_shows_the_servers_detail_and_the_key_comes_from_the_environment(fake_server, workdir):
    fake = fake_server([(401, {}, {"detail": "invalid API key"})])
    source = write_lines(workdir / "p.jsonl", [json.dumps("one")])
    done = submit(workdir, fake.url, str(source), env={"PROMPTLINE_API_KEY": "sk-from-env-2"})
    assert done.returncode == 2
    assert "the server answered 401: invalid API key" in done.stderr, done.stderr
    assert fake.requests[0]["authorization"] == "Bearer sk-from-env-2"
    assert "sk-from-env-2" not in done.stderr


def test_submit_and_status_with_an_api_key(mock, start_server, workdir):
    from conftest import create_key

    data = workdir / "keyed"
    key = create_key(workdir, "cli", store=["--data-dir", str(data)])
    server = start_server(mock, data_dir=data)
    source = write_lines(workdir / "keyed.jsonl", ['"first"', '{"prompt": "second"}'])
    refused = submit(workdir, server.base, str(source))
    assert refused.returncode == 2 and "API key" in refused.stderr, refused.stderr
    assert server.with_key(key).stats()["unfinished_tasks"] == 0
    out = workdir / "keyed-results.jsonl"
    done = submit(workdir, server.base, str(source), "--wait", "--output", str(out), env={"PROMPTLINE_API_KEY": key})
    assert done.returncode == 0, done.stderr
    results = parse_jsonl(out.read_text("utf-8"))
    assert [r["result"] for r in results] == [echo("first"), echo("second")]
    assert key not in done.stdout + done.stderr
    shown = run_promptline(["status", results[0]["task_id"], "--server", server.base, "--api-key", key], workdir)
    assert shown.returncode == 0 and "completed" in shown.stdout, shown.stderr
    other = create_key(workdir, "other", store=["--data-dir", str(data)])
    hidden = run_promptline(["status", results[0]["task_id"], "--server", server.base, "--api-key", other], workdir)
    assert hidden.returncode == 1, hidden.stdout + hidden.stderr
