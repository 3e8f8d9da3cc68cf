#!/usr/bin/env bash
# Start-up with many office-hours schedules (issue: 20 000 workspaces, each
# with its own schedule, must start in under 2 s).
#
#   scripts/bench-oh-startup.sh [WORKSPACES] [HOLIDAYS] [ZONES] [RUNS]
#                               (defaults 20000, 10, 8, 3)
#
# Writes a convstats.toml of WORKSPACES workspaces, each with its own distinct
# schedule (benches/support/many_schedules.rs: opening hours and holidays
# differ per workspace, zones rotate through the first ZONES of a list), then
#  1. times `config::parse` in process (examples/oh_startup.rs: best of
#     three, and TOML parsing alone for comparison);
#  2. runs `convstats compute` on an empty input with that configuration
#     RUNS times (start-up is then all it does) and `convstats check-config`
#     once (which also prints every schedule), and shows wall seconds.
# Needs: cargo, bash, date with %N.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
holidays=${2:-10}
zones=${3:-8}
runs=${4:-3}
cargo build --release --quiet --bin convstats --example oh_startup
target_dir=${CARGO_TARGET_DIR:-target}
bin=$target_dir/release/convstats
mkdir -p target/bench
cfg=target/bench/oh-startup-$n-$holidays-$zones.toml
empty=target/bench/empty.ndjson
: > "$empty"

"$target_dir/release/examples/oh_startup" "$n" "$holidays" "$zones" --write "$cfg"

seconds() { # command... -> wall seconds of one run, output discarded
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

all=()
for _ in $(seq "$runs"); do
  all+=("$(seconds "$bin" --config "$cfg" compute "$empty" --out target/bench/oh-startup-out)")
done
sorted=$(printf '%s\n' "${all[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${all[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "convstats compute (empty input), $n schedules: median $median s of $runs runs ($sorted)"
echo "convstats check-config, $n schedules (prints them all): $(seconds "$bin" --config "$cfg" check-config) s"
