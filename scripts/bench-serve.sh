#!/usr/bin/env bash
# Continuous ingestion (`convstats serve`) against the Elasticsearch double
# of the tests run as a process of its own (benches/serve_double.rs), with
# the load generator scripts/serve_load.py (Python 3 standard library):
#
#   a. sustained durable ingest: 4 keep-alive clients, bodies of 1000
#      records, 30 s as fast as possible; again with the store on tmpfs
#      (/dev/shm), to see what fsync costs;
#   b. ingest -> indexed lag at 10,000 records/s for 60 s (serve's
#      histogram, and an end-to-end marker a second polled in the double);
#   c. a 2,000-part conversation getting a new part every second for 60 s;
#   d. serve's RSS over DURATION seconds at 10,000 records/s.
#
#   scripts/bench-serve.sh [DURATION_SECONDS [SHAPE]]     (default 300)
#
# SHAPE (or the environment variable BENCH_SHAPE) is `conversations` (whole
# conversation lines, about 4.3 KiB a record) or `parts` (a conversation
# record with no parts, then one `conversation_part` record per part, a
# few hundred bytes a record) for every phase; without it, phase a runs
# with both shapes and the other phases with `parts`.
#
# Every phase has its own fresh double, serve and store. Records are the
# lines of `convstats gen --conversations 200000 --seed 7` (see SHAPE). Builds the
# release binary and the bench binary first (CARGO_TARGET_DIR is honoured).
# Prints the targets and whether each was met; exits non-zero only when a
# phase fails. Stops everything it started and removes its files on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-300}
shape=${2:-${BENCH_SHAPE:-}}
case "$shape" in ""|conversations|parts) ;; *) echo "SHAPE must be conversations or parts, not $shape" >&2; exit 2 ;; esac
echo "command: $0 $*"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/^Mem:/ {print $2}') GiB, kernel $(uname -r)"
echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (work tree modified)')"

target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
cargo build --release --bench serve_double --quiet
bin=$target/release/convstats
double=$(find "$target/release/deps" -maxdepth 1 -type f -executable -name 'serve_double-*' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
[[ -x "$double" ]] || { echo "the serve_double bench binary was not found under $target/release/deps" >&2; exit 1; }
echo "binaries: $bin, $double"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-serve.XXXXXX")
shm=
if [[ -d /dev/shm && -w /dev/shm ]]; then
  shm=$(mktemp -d /dev/shm/bench-serve.XXXXXX)
fi
loadgen=
cleanup() {
  if [[ -n "$loadgen" ]]; then kill "$loadgen" 2>/dev/null || true; wait "$loadgen" 2>/dev/null || true; fi
  if [[ -f "$work/pids" ]]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$work/pids"
  fi
  if [[ -n "${BENCH_KEEP_LOGS:-}" ]]; then
    mkdir -p "$BENCH_KEEP_LOGS" && cp "$work"/*.log "$BENCH_KEEP_LOGS"/ 2>/dev/null || true
  fi
  rm -rf "$work" ${shm:+"$shm"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "store directories: $work ($(df --output=fstype "$work" | tail -1 | tr -d ' ')), tmpfs: ${shm:-unavailable}"
"$bin" -q gen --conversations 200000 --seed 7 > "$work/lines.ndjson"

python3 scripts/serve_load.py --bin "$bin" --double-bin "$double" --lines "$work/lines.ndjson" \
  --work "$work" ${shm:+--shm "$shm/a-tmpfs"} --duration "$duration" ${shape:+--shape "$shape"} &
loadgen=$!
status=0
wait "$loadgen" || status=$?
loadgen=
exit "$status"
