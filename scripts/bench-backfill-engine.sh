#!/usr/bin/env bash
# Backfill of N `gen` conversations (default 1M) into a real OpenSearch
# node started here (scripts/opensearch, cluster "bench" on port 19230):
# documents/s, and how busy each side was, from the CPU time each process
# used during the backfill (convstats from its rusage, the engine's JVM from
# /proc/PID/stat), as cores out of the machine's.
#
#   scripts/bench-backfill-engine.sh [N] [HEAP]     (HEAP default 2g)
#
# BENCH_BUDGET=300MiB runs the backfill with that --memory-budget (spilling
# into the work directory) and then checks that the engine holds the same
# documents as an unbounded `compute` writes: both counts, and the CSV
# exported from the engine's legacy documents (`convstats export csv`)
# against compute's CSV, byte for byte once both are sorted.
#
# Builds the release binary first. Removes its input and stops the node at
# the end.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
heap=${2:-2g}
cargo build --release --quiet
bin=target/release/convstats
work=$(mktemp -d)
cleanup() {
  scripts/opensearch stop --name bench || true
  rm -rf "$work"
}
trap cleanup EXIT
url=$(scripts/opensearch start --name bench --port 19230 --heap "$heap")
pid=$(scripts/opensearch pids --name bench)
"$bin" gen --conversations "$n" --seed 7 > "$work/in.ndjson"
ticks=$(getconf CLK_TCK)
engine_cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
export CONVSTATS_ES_URL=$url CONVSTATS_ALIAS_PREFIX=convstats-bench
"$bin" -q setup
before=$(engine_cpu)
start=$(date +%s.%N)
budget=()
if [ -n "${BENCH_BUDGET:-}" ]; then budget=(--memory-budget "$BENCH_BUDGET" --spill-dir "$work"); fi
/usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" -q backfill "$work/in.ndjson" --delete-old "${budget[@]}"
end=$(date +%s.%N)
after=$(engine_cpu)
read -r _ user sys rss < "$work/time"
docs=$(curl -fsS "$url/convstats-bench-new,convstats-bench-legacy/_count" | sed 's/.*"count":\([0-9]*\).*/\1/')
python3 - "$n" "$docs" "$start" "$end" "$user" "$sys" "$rss" "$before" "$after" "$ticks" "$(nproc)" <<'EOF'
import sys
n, docs = int(sys.argv[1]), int(sys.argv[2])
start, end, user, sys_, rss = map(float, sys.argv[3:8])
before, after, ticks, cores = float(sys.argv[8]), float(sys.argv[9]), float(sys.argv[10]), int(sys.argv[11])
wall = end - start
ours = user + sys_
engine = (after - before) / ticks
print(f"conversations: {n}, documents in the engine: {docs} (both families)")
print(f"backfill wall time: {wall:.1f} s, {docs / wall:,.0f} documents/s")
print(f"convstats CPU: {ours:.1f} s = {ours / wall:.2f} of {cores} cores busy; peak RSS {rss / 1024:.0f} MiB")
print(f"engine CPU:    {engine:.1f} s = {engine / wall:.2f} of {cores} cores busy")
EOF
if [ -n "${BENCH_BUDGET:-}" ]; then
  "$bin" -q compute "$work/in.ndjson" --out "$work/out"
  "$bin" -q export csv --from 1970-01-01 --to 2200-01-01 --out "$work/engine.csv"
  want=$(( $(wc -l < "$work/out/conversations-new.ndjson") * 2 ))
  [ "$docs" = "$want" ] || { echo "the engine holds $docs documents, compute wrote $want" >&2; exit 1; }
  LC_ALL=C sort -S 1G "$work/out/conversations.csv" > "$work/want.sorted"
  LC_ALL=C sort -S 1G "$work/engine.csv" > "$work/got.sorted"
  if cmp -s "$work/want.sorted" "$work/got.sorted"; then
    echo "with --memory-budget $BENCH_BUDGET: the engine holds $docs documents, and its CSV export equals compute's ($(wc -l < "$work/want.sorted") lines, sorted)"
  else
    echo "with --memory-budget $BENCH_BUDGET: the engine's CSV export differs from compute's" >&2
    exit 1
  fi
fi
