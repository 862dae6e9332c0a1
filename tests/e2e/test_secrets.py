"""The upstream API key never shows: not in answers, task errors, logs or refusals."""

import json

from conftest import closed_port, run_promptline

CANARY = "sk-test-SECRET-canary"


def collect_api_text(server, ids) -> str:
    texts = []
    texts.append(server.get("/api/tasks", params={"task_ids": ",".join(ids + ["unknown-id"])}).text)
    for task_id in ids:
        texts.append(server.get(f"/api/tasks/{task_id}").text)
        texts.append(server.delete(f"/api/tasks/{task_id}").text)
    for path in ("/api/stats", "/health/live", "/health/ready", "/api/tasks/unknown-id", "/nowhere", "/v1/models"):
        texts.append(server.get(path).text)
    texts.append(server.post("/api/tasks", data=b"{broken").text)
    return "\n".join(texts)


def test_api_key_never_leaks_with_a_failing_upstream(mock, start_server):
    server = start_server(mock, upstream_api_key=CANARY, max_attempts=2, log_level="trace")
    prompts = ["[[mock:status=400]] refused upstream", "[[mock:status=401]] unauthorised upstream",
               "[[mock:status=500]] broken upstream", "a fine prompt"]
    ids = server.submit(prompts)
    summaries = server.wait(ids)
    assert [summaries[i]["status"] for i in ids] == ["error", "error", "error", "completed"], summaries
    text = collect_api_text(server, ids) + json.dumps(summaries)
    server.stop()
    assert CANARY not in text
    assert CANARY not in server.proc.stdout_text()
    assert CANARY not in server.proc.stderr_text()


def test_api_key_never_leaks_with_no_upstream(start_server):
    port = closed_port()
    server = start_server(f"http://127.0.0.1:{port}/v1", env={"OPENAI_API_KEY": CANARY},
                          max_attempts=2, log_level="trace")
    ids = server.submit(["nobody answers this"])
    summaries = server.wait(ids)
    assert summaries[ids[0]]["status"] == "error", summaries
    text = collect_api_text(server, ids) + json.dumps(summaries)
    server.stop()
    assert CANARY not in text
    assert CANARY not in server.proc.stdout_text()
    assert CANARY not in server.proc.stderr_text()


def test_api_key_not_echoed_when_start_up_is_refused(tmp_path):
    r = run_promptline(["serve", "--upstream-api-key", CANARY, "--upstream-url", "not a url", "--workers", "x",
                        "--data-dir", str(tmp_path / "d"), "--env-file", str(tmp_path / "none.env")], tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert CANARY not in r.stdout + r.stderr
