"""End-to-end fixtures: real `promptline` processes over loopback.

Every test gets its own mock upstream and server(s), each a subprocess bound to port 0,
with its own data directory; they are killed at teardown whatever happens. The binary is
`.build/debug/promptline`, or `$PROMPTLINE_BIN`.

Redis: `redis_server` / `start_redis` start a private `redis-server` per test (AOF on, so it
can be killed and restarted); `shared_redis` is the Redis of `$PROMPTLINE_TEST_REDIS_URL`
(scripts/test.sh starts one), or one started for the session, and tests sharing it keep
apart by `redis_prefix`. `redis-server` missing is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PROMPTLINE_BIN") or str(REPO / ".build" / "debug" / "promptline")

#: How long a process may take to print its listening line.
START_TIMEOUT = float(os.environ.get("PROMPTLINE_E2E_START_TIMEOUT", "30"))
#: Task states that no longer change.
FINISHED = {"completed", "error", "cancelled"}
#: Fast retries, so that fault tests take well under a second per retry.
FAST_RETRY = {"retry-base-delay": "0.05", "retry-max-delay": "0.2"}
#: Environment variables the server and the client read; removed from the children's
#: environment so the machine running the tests cannot change what they see.
SERVER_ENV = (
    "OPENAI_API_KEY OPENAI_BASE_URL PROMPTLINE_MODEL PROMPTLINE_MAX_TOKENS PROMPTLINE_TEMPERATURE "
    "NUM_WORKERS PROMPTLINE_HOST PROMPTLINE_PORT PROMPTLINE_DATA_DIR REDIS_URL REDIS_HOST REDIS_PORT "
    "REDIS_DB REDIS_PASSWORD PROMPTLINE_UPSTREAM_TIMEOUT PROMPTLINE_UPSTREAM_STREAMING "
    "PROMPTLINE_MAX_ATTEMPTS PROMPTLINE_RETRY_BASE_DELAY PROMPTLINE_RETRY_MAX_DELAY PROMPTLINE_LEASE "
    "PROMPTLINE_STATUS_TTL PROMPTLINE_RESULT_TTL PROMPTLINE_SHUTDOWN_GRACE PROMPTLINE_MAX_BODY_SIZE "
    "PROMPTLINE_LOG_LEVEL LOG_LEVEL PROMPTLINE_REDIS_PREFIX PROMPTLINE_INSTANCE_ID PROMPTLINE_HEARTBEAT_INTERVAL "
    "PROMPTLINE_CACHE_TTL PROMPTLINE_MAX_PROMPTS PROMPTLINE_MAX_PROMPT_LENGTH PROMPTLINE_MAX_TOKENS_LIMIT PROMPTLINE_LOG_FORMAT "
    "PROMPTLINE_WEBHOOK_SECRET PROMPTLINE_WEBHOOK_TIMEOUT PROMPTLINE_WEBHOOK_MAX_ATTEMPTS PROMPTLINE_WEBHOOK_RETRY_DELAY "
    # and the command-line client's
    "PROMPTLINE_SERVER PROMPTLINE_API_KEY"
).split()


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
    env.update(extra or {})
    return env


def echo(prompt: str) -> str:
    """The mock's answer to `prompt`."""
    return "echo: " + prompt


# The Batch API (`/v1/files`, `/v1/batches`)

#: Batch states that no longer change.
BATCH_FINISHED = {"completed", "failed", "expired", "cancelled"}


def batch_line(custom_id: str, prompt: str, model: str = "mock-model", system: str | None = None, **body) -> dict:
    """One request line of a batch input file: a chat completion whose last user message is `prompt`."""
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages.append({"role": "user", "content": prompt})
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": messages, **body}}


def to_jsonl(lines: list) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def parse_jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def wait_batch(client, batch_id: str, timeout: float = 60, interval: float = 0.1):
    """Polls `GET /v1/batches/{id}` with the SDK until the batch is finished; answers it."""
    last = []

    def finished():
        batch = client.batches.retrieve(batch_id)
        last[:] = [batch]
        return batch if batch.status in BATCH_FINISHED else None

    try:
        return wait_until(finished, timeout, f"batch {batch_id} to finish", interval=interval)
    except AssertionError as error:
        raise AssertionError(f"{error}; last seen: {last[0] if last else None}") from None


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    """Polls `predicate` until it answers something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Proc:
    """One `promptline` subprocess: stdout read by a thread, stderr sent to a file."""

    def __init__(self, args: list[str], name: str, ready: str, workdir: Path, env: dict[str, str] | None = None):
        self.args = args
        self.name = name
        self.stdout_lines: list[str] = []
        self.stderr_path = workdir / f"{name}.stderr"
        self._ready = re.compile(ready)
        self._match: re.Match | None = None
        self._event = threading.Event()
        self._stderr = open(self.stderr_path, "wb")
        self.popen = subprocess.Popen(
            [BIN, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=workdir,
            env=clean_env(env),
            start_new_session=True,  # a Ctrl-C on pytest does not reach it; teardown kills it
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stdout_lines.append(line)
            if self._match is None:
                match = self._ready.search(line)
                if match:
                    self._match = match
                    self._event.set()
        self._event.set()  # stdout closed: the process is gone

    def wait_ready(self, timeout: float = START_TIMEOUT) -> re.Match:
        self._event.wait(timeout)
        if self._match is None:
            code = self.popen.poll()
            self.kill()
            raise AssertionError(
                f"{self.name} did not print its listening line within {timeout} s "
                f"(exit status {code})\nargs: {self.args}\nstdout: {self.stdout_text()}\nstderr: {self.stderr_text()[-4000:]}"
            )
        return self._match

    def stdout_text(self) -> str:
        return "\n".join(self.stdout_lines)

    def stderr_text(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text("utf-8", "replace")

    def signal(self, sig: int):
        self.popen.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running {timeout} s later\nstderr: {self.stderr_text()[-4000:]}")
        self._reader.join(5)
        return code

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._reader.join(5)
        self._stderr.close()


class Mock:
    """A running `promptline mock-upstream`."""

    def __init__(self, proc: Proc, port: int):
        self.proc = proc
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.url = self.base + "/v1"
        self.http = requests.Session()

    def _get(self, path: str, **kw) -> requests.Response:
        try:
            r = self.http.get(self.base + path, timeout=10, **kw)
        except requests.RequestException as error:
            raise AssertionError(
                f"GET {path} on the mock failed: {error!r}; process exit status: {self.proc.popen.poll()}\n"
                f"stderr tail: {self.proc.stderr_text()[-3000:]}"
            ) from error
        r.raise_for_status()
        return r

    def calls(self, prompt: str) -> dict:
        return self._get("/mock/calls", params={"prompt": prompt}).json()

    def count(self, prompt: str) -> int:
        return self.calls(prompt)["calls"]

    def times(self, prompt: str) -> list[float]:
        return self.calls(prompt)["times"]

    def stats(self) -> dict:
        return self._get("/mock/stats").json()

    def wait_calls(self, prompt: str, at_least: int = 1, timeout: float = 30) -> list[float]:
        """Waits until the mock has seen `prompt` at least `at_least` times; answers the call times."""
        def seen():
            entry = self.calls(prompt)
            return entry["times"] if entry["calls"] >= at_least else None
        return wait_until(seen, timeout, f"{at_least} upstream call(s) for {prompt!r}", interval=0.02)


class Server:
    """A running `promptline serve`, and a small client for its API."""

    def __init__(self, proc: Proc, port: int, data_dir: Path):
        self.proc = proc
        self.port = port
        self.data_dir = data_dir
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()

    # Raw access

    def request(self, method: str, path: str, **kw) -> requests.Response:
        try:
            return self.http.request(method, self.base + path, timeout=kw.pop("timeout", 30), **kw)
        except requests.RequestException as error:
            raise AssertionError(
                f"{method} {path} on {self.proc.name} failed: {error!r}; process exit status: {self.proc.popen.poll()}\n"
                f"stderr tail: {self.proc.stderr_text()[-3000:]}"
            ) from error

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.request("POST", path, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)

    # The task API

    def submit_raw(self, body: dict) -> requests.Response:
        return self.post("/api/tasks", json=body)

    def submit(self, prompts: list, **options) -> list[str]:
        """Submits a batch, expects `202`, answers the task ids (one per prompt)."""
        r = self.submit_raw({"prompts": prompts, **options})
        assert r.status_code == 202, f"submit answered {r.status_code}: {r.text[:500]}"
        body = r.json()
        assert body["status"] == "queued"
        ids = body["task_ids"]
        assert len(ids) == len(prompts) and len(set(ids)) == len(ids)
        return ids

    def statuses(self, ids: list[str], chunk: int = 200) -> dict[str, dict]:
        answer: dict[str, dict] = {}
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            r = self.get("/api/tasks", params={"task_ids": ",".join(part)})
            assert r.status_code == 200, f"GET /api/tasks answered {r.status_code}: {r.text[:500]}"
            answer.update(r.json())
        return answer

    def wait(self, ids: list[str], timeout: float = 60) -> dict[str, dict]:
        """Polls until every task is finished (completed, error or cancelled); answers their summaries."""
        deadline = time.monotonic() + timeout
        while True:
            summaries = self.statuses(ids)
            pending = {i: s["status"] for i, s in summaries.items() if s["status"] not in FINISHED}
            if not pending:
                return summaries
            if time.monotonic() > deadline:
                counts: dict[str, int] = {}
                for status in pending.values():
                    counts[status] = counts.get(status, 0) + 1
                raise AssertionError(
                    f"{len(pending)} of {len(ids)} tasks unfinished after {timeout} s: {counts}\n"
                    f"stderr tail: {self.proc.stderr_text()[-3000:]}"
                )
            time.sleep(0.1)

    def wait_one(self, task_id: str, timeout: float = 60) -> dict:
        return self.wait([task_id], timeout)[task_id]

    def detail(self, task_id: str) -> dict:
        r = self.get(f"/api/tasks/{task_id}")
        assert r.status_code == 200, f"GET /api/tasks/{task_id} answered {r.status_code}: {r.text[:500]}"
        return r.json()

    def stats(self) -> dict:
        r = self.get("/api/stats")
        assert r.status_code == 200, r.text
        return r.json()

    def cluster(self) -> dict:
        r = self.get("/api/cluster")
        assert r.status_code == 200, f"GET /api/cluster answered {r.status_code}: {r.text[:500]}"
        return r.json()

    # The process

    def kill9(self):
        self.proc.signal(signal.SIGKILL)
        self.proc.wait_exit(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.proc.signal(sig)
        return self.proc.wait_exit(timeout)

    # API keys

    def with_key(self, key: str | None) -> "Server":
        """The same server, seen by a client that sends `Authorization: Bearer key`."""
        other = Server(self.proc, self.port, self.data_dir)
        if key is not None:
            other.http.headers["Authorization"] = f"Bearer {key}"
        return other

    # The OpenAI-compatible surface

    def openai(self, **kw):
        """The official `openai` SDK's client for this server's `/v1` (no retries, short timeout)."""
        import openai  # only the tests of the /v1 surface need the SDK

        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 30)
        return openai.OpenAI(api_key=kw.pop("api_key", "sk-e2e-test"), base_url=self.base + "/v1", **kw)

    def cache_stats(self) -> dict:
        r = self.get("/api/cache")
        assert r.status_code == 200, f"GET /api/cache answered {r.status_code}: {r.text[:500]}"
        return r.json()


@pytest.fixture
def workdir(tmp_path) -> Path:
    return tmp_path


@pytest.fixture
def procs():
    """Every process a test started; all killed at teardown."""
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.kill()


@pytest.fixture
def start_mock(procs, workdir):
    """`start_mock("--latency-ms", "300")` starts a mock upstream and answers a `Mock`."""
    def start(*flags: str) -> Mock:
        proc = Proc(
            ["mock-upstream", "--host", "127.0.0.1", "--port", "0", *flags],
            name=f"mock{len(procs)}",
            ready=r"^mock-upstream listening on http://[^\s]+:(\d+)/v1$",
            workdir=workdir,
        )
        procs.append(proc)
        return Mock(proc, int(proc.wait_ready().group(1)))
    return start


@pytest.fixture
def mock(start_mock) -> Mock:
    return start_mock()


@pytest.fixture
def start_server(procs, workdir):
    """Starts `promptline serve`; call again with the same `data_dir` to restart on it.

    `upstream` is a `Mock` or a base URL (None: no flag); keyword arguments are flags
    (`max_attempts=3` is `--max-attempts 3`; a value of None leaves the flag out). Fast retry
    delays, 4 workers and a fresh data directory are the defaults. `redis` (a `RedisServer`,
    `shared_redis` or a URL) adds `--redis-url`; with it, pass `redis_prefix=...`,
    `instance_id=...`, `heartbeat_interval=...` like any other flag. The data directory flag
    is still given (the Redis store ignores it).
    """
    counter = [0]

    def start(upstream, data_dir: Path | None = None, workers: int | None = 4, env: dict | None = None,
              redis: "RedisEndpoint | str | None" = None, **flags) -> Server:
        counter[0] += 1
        if data_dir is None:
            data_dir = workdir / f"data{counter[0]}"
        url = upstream.url if isinstance(upstream, Mock) else upstream
        settings = {
            "host": "127.0.0.1",
            "port": "0",
            "upstream-url": url,
            "workers": workers,
            "data-dir": str(data_dir),
            "env-file": str(workdir / "absent.env"),
            **FAST_RETRY,
        }
        if redis is not None:
            settings["redis-url"] = redis.url if isinstance(redis, RedisEndpoint) else redis
        settings.update({k.replace("_", "-"): v for k, v in flags.items()})
        settings = {k: str(v) for k, v in settings.items() if v is not None}
        args = ["serve"]
        for key, value in settings.items():
            args += [f"--{key}", value]
        proc = Proc(
            args,
            name=f"server{counter[0]}",
            ready=r"^promptline listening on http://[^\s]+:(\d+)$",
            workdir=workdir,
            env=env,
        )
        procs.append(proc)
        return Server(proc, int(proc.wait_ready().group(1)), data_dir)

    return start


def create_key(workdir: Path, name: str, *flags: str, store: list[str]) -> str:
    """Makes an API key with `promptline keys create`; answers the key (its last line).

    `store` holds the store flags, e.g. `["--data-dir", str(path)]`."""
    done = run_promptline(["keys", "create", "--name", name, *flags, *store, "--env-file", str(workdir / "absent.env")], workdir)
    assert done.returncode == 0, f"keys create failed ({done.returncode}): {done.stderr}"
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("pl_"), done.stdout
    return key


# Redis

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
#: How long a redis-server may take to answer PING after it was started.
REDIS_START_TIMEOUT = 20.0


def require_redis():
    """Fails (never skips) the test when the Redis programs are missing."""
    missing = [name for name, path in (("redis-server", REDIS_SERVER), ("redis-cli", REDIS_CLI)) if path is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found on PATH: the Redis store tests need them "
            "(Debian package `redis-server`; ./scripts/test.sh installs it)",
            pytrace=False,
        )


class RedisEndpoint:
    """Where a Redis listens, and `redis-cli` against it."""

    def __init__(self, host: str, port: int, password: str | None = None, db: int = 0):
        self.host = host
        self.port = port
        self.password = password
        self.db = db

    @classmethod
    def from_url(cls, url: str) -> "RedisEndpoint":
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "redis" or not parts.port:
            raise ValueError(f"not a redis://host:port URL: {url!r}")
        db = int(parts.path.strip("/") or 0)
        password = urllib.parse.unquote(parts.password) if parts.password else None
        return cls(parts.hostname or "127.0.0.1", parts.port, password, db)

    @property
    def url(self) -> str:
        auth = f":{urllib.parse.quote(self.password, safe='')}@" if self.password else ""
        db = f"/{self.db}" if self.db else ""
        return f"redis://{auth}{self.host}:{self.port}{db}"

    def cli_args(self, db: int | None = None) -> list[str]:
        args = [REDIS_CLI or "redis-cli", "-h", self.host, "-p", str(self.port)]
        if self.password:
            args += ["-a", self.password, "--no-auth-warning"]
        args += ["-n", str(self.db if db is None else db)]
        return args

    def cli(self, *args: str, db: int | None = None, timeout: float = 10, check: bool = True) -> str:
        """Runs `redis-cli ARGS` against this Redis; answers its standard output without the last newline.

        Replies come as redis-cli prints them when not on a terminal: one element per line, no
        quotes, and an error reply as `ERR ...` (redis-cli still exits 0 for those)."""
        done = subprocess.run(
            [*self.cli_args(db), *map(str, args)], stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"redis-cli {' '.join(map(str, args))} on port {self.port} exited {done.returncode}: "
                f"{done.stderr.strip() or done.stdout.strip()}"
            )
        return done.stdout.removesuffix("\n")

    def cli_lines(self, *args: str, **kw) -> list[str]:
        out = self.cli(*args, **kw)
        return out.split("\n") if out else []

    def ping(self) -> bool:
        try:
            return self.cli("ping", timeout=5, check=False) == "PONG"
        except subprocess.TimeoutExpired:
            return False


class RedisServer(RedisEndpoint):
    """A private `redis-server` on a free loopback port, in its own directory.

    Append-only file on, fsync'ed on every write, no RDB snapshots, unless `appendonly=False`;
    `extra` are more `redis-server` arguments (`"--maxmemory-policy", "allkeys-lru"`).
    `restart()` starts it again on the same port and directory, so it reloads its AOF.
    """

    def __init__(self, directory: Path, *extra: str, appendonly: bool = True, password: str | None = None):
        require_redis()
        super().__init__("127.0.0.1", 0, password)
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.extra = list(extra)
        self.appendonly = appendonly
        self.log_path = self.dir / "redis.log"
        self.popen: subprocess.Popen | None = None
        self.starts = 0
        for attempt in range(5):  # a free port can be taken between choosing it and binding it
            self.port = closed_port()
            try:
                self.start()
                return
            except AssertionError:
                if attempt == 4:
                    raise

    def args(self) -> list[str]:
        args = [
            REDIS_SERVER or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--protected-mode", "no",
            "--dir", str(self.dir), "--logfile", str(self.log_path), "--daemonize", "no", "--save", "",
        ]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        return args + self.extra

    def start(self):
        """Starts the process (it must not be running) and waits until it answers PING."""
        assert not self.running, "redis-server already running"
        self.starts += 1
        self.popen = subprocess.Popen(
            self.args(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=self.dir, start_new_session=True,
        )
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while not self.ping():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                code = self.popen.poll()
                self.kill9()
                raise AssertionError(
                    f"redis-server on port {self.port} did not answer PING (exit status {code})\n"
                    f"log tail: {self.log_tail()}"
                )
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")[-chars:]
        except FileNotFoundError:
            return "(no log)"

    def kill9(self):
        """SIGKILL: no shutdown, no final write; what the AOF holds is what survives."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
        if self.popen is not None:
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self):
        """A clean shutdown (SHUTDOWN, which writes the AOF out), then waits for the exit."""
        if not self.running:
            return
        try:
            self.cli("shutdown", timeout=10, check=False)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.kill9()

    def restart(self):
        """Starts it again on the same port and directory (after `kill9()` or `stop()`)."""
        if self.running:
            self.stop()
        self.start()


@pytest.fixture
def start_redis(workdir):
    """`start_redis("--maxmemory-policy", "allkeys-lru", appendonly=False)` answers a `RedisServer`."""
    started: list[RedisServer] = []

    def start(*extra: str, appendonly: bool = True, password: str | None = None) -> RedisServer:
        server = RedisServer(workdir / f"redis{len(started)}", *extra, appendonly=appendonly, password=password)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill9()


@pytest.fixture
def redis_server(start_redis) -> RedisServer:
    """A private Redis for this test: AOF with fsync always, free to kill -9 and restart."""
    return start_redis()


@pytest.fixture(scope="session")
def shared_redis(tmp_path_factory):
    """The Redis of `$PROMPTLINE_TEST_REDIS_URL`, or one started for the whole session.

    Tests must not kill it, flush it, or change its configuration; they keep apart by prefix."""
    require_redis()
    url = os.environ.get("PROMPTLINE_TEST_REDIS_URL")
    if url:
        endpoint = RedisEndpoint.from_url(url)
        if not endpoint.ping():
            pytest.fail(f"PROMPTLINE_TEST_REDIS_URL={url} does not answer PING", pytrace=False)
        yield endpoint
        return
    server = RedisServer(tmp_path_factory.mktemp("shared-redis"), appendonly=False)
    yield server
    server.kill9()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of its own for this test (`--redis-prefix`)."""
    return f"e2e-{uuid.uuid4().hex[:12]}:"


def run_promptline(args: list[str], workdir: Path, timeout: float = 30, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs `promptline ARGS` to its end."""
    return subprocess.run(
        [BIN, *args], cwd=workdir, env=clean_env(env), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout,
    )


def pytest_report_header(config):
    return f"promptline binary: {BIN}"


def pytest_sessionstart(session):
    if not os.access(BIN, os.X_OK):
        pytest.exit(f"no promptline binary at {BIN}: run `swift build` first, or set PROMPTLINE_BIN", returncode=4)


# Knowledge (issue 19): the shared vector index

POSTGRES_URL_ENV = "PROMPTLINE_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL-with-pgvector URL of `$PROMPTLINE_TEST_POSTGRES_URL` (scripts/test.sh starts
    one), given to servers as `--vector-url`; the test is skipped, saying why, when it is unset."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is unset: the pgvector tests need a PostgreSQL with pgvector "
                    "(./scripts/test.sh starts one)")
    return url
