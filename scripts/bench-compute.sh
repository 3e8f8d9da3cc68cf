#!/usr/bin/env bash
# Measures `convstats compute` on synthetic data against merely parsing the
# same NDJSON with serde_json into IgnoredAny, side by side in one run: the
# fair baseline (the file mapped, parsed on as many threads as there are
# cores, as compute uses) and the earlier one (one thread, buffered read).
#
#   scripts/bench-compute.sh [CONVERSATIONS] [RUNS]   (defaults 1000000, 3)
#
# Each program runs RUNS times, alternating; the median run of each is shown
# (seconds, records/s, MB/s, CPU seconds, peak RSS), then the ratio of the
# medians. Every run starts alike: `sync` flushes earlier writes; when this
# user may (root), the page cache is dropped so that memory is free rather
# than full of earlier outputs; then the input is read once so that it is
# cached for every program. `compute` writes into target/bench/out, left
# from the previous run (it replaces the files, as a user re-running
# would). Also shown, for reference: typed record parsing alone
# (`examples/parse_typed.rs`, one thread).
# BENCH_COMPARE=/path/to/another/convstats adds that binary's `compute`
# (e.g. a build of an earlier commit) into the same alternating runs.
# `compute` also runs under a memory budget that forces spilling to disk
# (BENCH_BUDGET, default 300MiB; outputs in target/bench/out-budget), so
# both costs show side by side.
# BENCH_KEEP_CACHE=1 keeps the page cache (memory then stays full of earlier
# outputs, and the kernel reclaims it while `compute` writes).
# Each row also shows the share of the cores' time the hypervisor gave to
# other guests while it ran ("steal", from /proc/stat): on a shared host the
# same binary's time varies with it, so the ratio is also given within each
# round (the baseline and compute runs next to each other).
# Needs: cargo, python3 (for timing and peak RSS of the child process).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${2:-3}
cargo build --release --quiet --bin convstats --example parse_baseline --example parse_typed
mkdir -p target/bench
data=target/bench/gen-$n.ndjson
if [ ! -s "$data" ]; then
  echo "generating $n conversations into $data" >&2
  target/release/convstats gen --conversations "$n" --seed 1 > "$data.tmp"
  mv "$data.tmp" "$data"
fi
python3 - "$data" "$runs" <<'PY'
import os, statistics, subprocess, sys, time
data, runs = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(data)
lines = sum(1 for _ in open(data, 'rb'))

def drop_caches():
    if os.environ.get("BENCH_KEEP_CACHE"):
        return False
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False

def steal_ticks():
    """CPU time the hypervisor gave to others (all CPUs, in USER_HZ ticks)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) if len(fields) > 8 else 0

def run(cmd):
    """Runs cmd; returns wall seconds, CPU seconds, that child's peak RSS
    (KiB) and the share of the cores' time stolen by the hypervisor."""
    subprocess.run(["sync"], check=True)
    drop_caches()
    with open(data, "rb") as f:
        while f.read(1 << 20):
            pass
    t0 = time.monotonic()
    s0 = steal_ticks()
    with open("target/bench/stderr.txt", "wb") as err:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
    secs = time.monotonic() - t0
    stolen = (steal_ticks() - s0) / os.sysconf("SC_CLK_TCK") / (secs * os.cpu_count())
    if status != 0:
        sys.exit(f"{cmd[0]} failed: " + open("target/bench/stderr.txt").read())
    return secs, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stolen

def show(name, secs, cpu, rss_kib, stolen):
    print(f"{name:<40} {secs:7.2f} s  {lines/secs:11,.0f} records/s  {size/secs/1e6:7.1f} MB/s  "
          f"cpu {cpu:6.2f} s  peak RSS {rss_kib/1024:7.1f} MiB  steal {stolen:4.0%}")

def median_run(results):
    return sorted(results)[len(results) // 2]

threads = os.cpu_count()
FAIR = f"serde_json -> IgnoredAny ({threads} thr, mmap)"
OLD = "serde_json -> IgnoredAny (1 thread)"
budget = os.environ.get("BENCH_BUDGET", "300MiB")
SPILL = f"convstats compute --memory-budget {budget}"
programs = {
    FAIR: ["target/release/examples/parse_baseline", data, "--threads", str(threads)],
    OLD: ["target/release/examples/parse_baseline", data, "--read"],
    "convstats compute (all cores)": ["target/release/convstats", "-q", "compute", data,
                                      "--out", "target/bench/out"],
    SPILL: ["target/release/convstats", "-q", "compute", data, "--out", "target/bench/out-budget",
            "--memory-budget", budget],
    "typed records only (1 thread)": ["target/release/examples/parse_typed", data],
}
if os.environ.get("BENCH_COMPARE"):
    programs["BENCH_COMPARE compute (all cores)"] = [os.environ["BENCH_COMPARE"], "-q", "compute",
                                                   data, "--out", "target/bench/out-compare"]
results = {name: [] for name in programs}
print(f"input: {data}: {lines:,} lines, {size/1e6:,.1f} MB, {os.cpu_count()} cores, "
      f"median of {runs} runs, page cache dropped before each: "
      f"{'yes' if drop_caches() else 'no'}")
for _ in range(runs):
    for name, cmd in programs.items():
        results[name].append(run(cmd))
for name in programs:
    walls = ", ".join(f"{r[0]:.2f}" for r in results[name])
    show(name, *median_run(results[name]))
    print(f"{'':<40} all runs: {walls} s")
fair = median_run(results[FAIR])[0]
base = median_run(results[OLD])[0]
comp = median_run(results["convstats compute (all cores)"])[0]
print(f"ratio compute/baseline speed: {fair/comp:.2f} against the fair baseline ({threads} threads, mapped); "
      f"{base/comp:.2f} against the earlier one (1 thread, buffered read)")
# Runs of one round are minutes apart at most, so a ratio taken within a
# round is less exposed to the host's changing speed than one of medians.
paired = sorted(f[0] / c[0] for f, c in zip(results[FAIR], results["convstats compute (all cores)"]))
print(f"ratio within each round (fair baseline / compute): "
      f"{', '.join(f'{r:.2f}' for r in paired)}; median {paired[len(paired) // 2]:.2f}")
spill = median_run(results[SPILL])[0]
print(f"ratio compute --memory-budget {budget} (spilling)/baseline speed: {fair/spill:.2f} against the fair "
      f"baseline; spilling costs {spill/comp:.2f}x the in-memory run's time")
if "BENCH_COMPARE compute (all cores)" in results:
    other = median_run(results["BENCH_COMPARE compute (all cores)"])[0]
    print(f"ratio BENCH_COMPARE/baseline speed: {base/other:.2f}; this compute / BENCH_COMPARE time: {comp/other:.2f}")
PY
