#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer for a bounded time: scripts/fuzz.sh [seconds-per-target] [target...]
# Targets: resp, sse, json, multipart (default all, one after another; default 60 s each).
# Builds them (release, -sanitize=fuzzer,address) into .build-fuzz, runs each from its seed
# corpus in Fuzz/corpus/<target> and prints per target: seconds, executions, findings. A
# finding (crash, failed check, timeout, out of memory) is written to
# .build-fuzz/findings/<target>/ and stops that target; the script exits 1 if there was one.
# The corpus libFuzzer grows is kept in .build-fuzz/corpus/<target> for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(resp sse json multipart)
sanitizers="${FUZZ_SANITIZERS:-fuzzer,address}"
scratch=.build-fuzz

product() {
    case "$1" in
        resp) echo FuzzRESP ;;
        sse) echo FuzzSSE ;;
        json) echo FuzzJSON ;;
        multipart) echo FuzzMultipart ;;
        *) echo "fuzz.sh: unknown target $1 (resp, sse, json, multipart)" >&2; exit 2 ;;
    esac
}

for target in "${targets[@]}"; do
    name="$(product "$target")"
    echo "==> building $name (-sanitize=$sanitizers)"
    # lld: gold fails to link libFuzzer beside SwiftPM's renamed entry point.
    swift build -c release --scratch-path "$scratch" --product "$name" \
        -Xswiftc "-sanitize=$sanitizers" -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
done
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"

fuzzer_pid=""
trap '[ -z "$fuzzer_pid" ] || kill "$fuzzer_pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

summary=()
found=0
for target in "${targets[@]}"; do
    name="$(product "$target")"
    corpus="$scratch/corpus/$target"
    findings="$scratch/findings/$target"
    log="$scratch/fuzz-$target.log"
    mkdir -p "$corpus" "$findings"
    before="$(find "$findings" -type f | wc -l)"
    echo "==> fuzzing $target for $seconds s (log: $log)"
    started="$(date +%s)"
    # -timeout: an input that takes over 10 s is a hang; -rss_limit_mb: memory is bounded.
    # Leak detection is off: the Swift runtime's caches read as leaks.
    # `timeout` is a backstop should libFuzzer itself not stop.
    timeout --kill-after=10 "$((seconds + 120))" "$bin/$name" "$corpus" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -max_len=4096 -detect_leaks=0 -artifact_prefix="$findings/" >"$log" 2>&1 &
    fuzzer_pid=$!
    status=0
    wait "$fuzzer_pid" || status=$?
    fuzzer_pid=""
    elapsed=$(( $(date +%s) - started ))
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    new=$(( $(find "$findings" -type f | wc -l) - before ))
    line="$target: $elapsed s, ${executions:-?} executions, $new findings"
    if [ "$new" -gt 0 ] || [ "$status" -ne 0 ]; then
        found=1
        line="$line (exit $status; see $log and $findings/)"
    fi
    summary+=("$line")
done

echo "==> fuzzing results"
printf '%s\n' "${summary[@]}"
exit "$found"
