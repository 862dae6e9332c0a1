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

# System packages: SQLite for the embedded store, Python for the end-to-end suite.
missing=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt_install "${missing[@]}"
fi

# Python packages of the end-to-end suite.
if ! python3 -c 'import pytest, requests' >/dev/null 2>&1; then
    echo "==> installing pytest and requests"
    python3 -m pip install --quiet pytest requests \
        || python3 -m pip install --quiet --break-system-packages pytest requests \
        || apt_install python3-pytest python3-requests
fi

echo "==> swift build"
swift build
echo "==> swift test"
swift test
echo "==> end-to-end tests"
PROMPTLINE_BIN="${PROMPTLINE_BIN:-$(swift build --show-bin-path)/promptline}" \
    python3 -m pytest -q -p no:cacheprovider --durations=10 tests/e2e "$@"
