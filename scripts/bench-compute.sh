#!/usr/bin/env bash
# Measures `convstats compute` on synthetic data against merely parsing the
# same NDJSON with serde_json into IgnoredAny (single thread).
#
#   scripts/bench-compute.sh [CONVERSATIONS]     (default 1000000)
#
# Prints, for both: seconds, records/s, MB/s, peak RSS; and the ratio.
# Needs: cargo, python3 (for timing and peak RSS of the child process).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
cargo build --release --quiet --bin convstats --example parse_baseline
mkdir -p target/bench
data=target/bench/gen-$n.ndjson
if [ ! -s "$data" ]; then
  echo "generating $n conversations into $data" >&2
  target/release/convstats gen --conversations "$n" --seed 1 > "$data.tmp"
  mv "$data.tmp" "$data"
fi
python3 - "$data" "$n" <<'PY'
import os, subprocess, sys, time
data, n = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(data)
lines = sum(1 for _ in open(data, 'rb'))

def run(cmd):
    """Runs cmd; returns wall seconds, CPU seconds and that child's peak RSS (KiB)."""
    t0 = time.monotonic()
    with open("target/bench/stderr.txt", "wb") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
    secs = time.monotonic() - t0
    if status != 0:
        sys.exit(f"{cmd[0]} failed: " + open("target/bench/stderr.txt").read())
    return secs, usage.ru_utime + usage.ru_stime, usage.ru_maxrss

def show(name, secs, cpu, rss_kib):
    print(f"{name:<34} {secs:7.2f} s  {lines/secs:11,.0f} records/s  {size/secs/1e6:7.1f} MB/s  "
          f"cpu {cpu:6.2f} s  peak RSS {rss_kib/1024:7.1f} MiB")

print(f"input: {data}: {lines:,} lines, {size/1e6:,.1f} MB, {os.cpu_count()} cores")
b = run(["target/release/examples/parse_baseline", data])
show("serde_json -> IgnoredAny (1 thread)", *b)
c = run(["target/release/convstats", "-q", "compute", data, "--out", "target/bench/out"])
show("convstats compute (all cores)", *c)
print(f"ratio compute/baseline speed: {b[0]/c[0]:.2f}")
PY
