#!/usr/bin/env bash
# How `convstats compute` scales with the input: records/s, CPU per record
# and peak RSS at each size (default 250k, 1M, 5M and 10M conversations).
#
#   scripts/bench-scaling.sh [SIZE]...
#
# Two runs per size:
# - budget: `convstats gen N | convstats compute - --memory-budget $BUDGET`
#   (default 1GiB). The input is piped from the generator, so no input file
#   is needed at any size (10M conversations are 44 GB of NDJSON); the
#   generator runs on the same cores, so the CPU seconds and peak RSS of
#   `compute` alone are what compare across sizes (`CPU µs/record`), the
#   wall time less so.
# - unbounded: `compute FILE --memory-budget 20GiB` (merged in memory), from
#   a generated file, when the file and the outputs fit the free disk
#   (checked with df first); the file is deleted afterwards.
# Outputs go to target/bench/scale-out, removed after each run. Before each
# run, `sync` flushes earlier writes and, when this user may (root), the page
# cache is dropped (as scripts/bench-compute.sh does), so that every run
# starts with free memory rather than a cache full of the previous outputs.
# Needs: cargo, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin convstats
mkdir -p target/bench
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then sizes=(250000 1000000 5000000 10000000); fi
python3 - "${BUDGET:-1GiB}" "${sizes[@]}" <<'PY'
import os, shutil, subprocess, sys, time
budget, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
BIN = "target/release/convstats"
OUT = "target/bench/scale-out"
# Per conversation of `gen` data, measured: 4,384 bytes of NDJSON, about
# 2,000 bytes of outputs.
JSON_PER_CONV, OUT_PER_CONV = 4400, 2100

def free():
    return shutil.disk_usage("target/bench").free

def clean():
    shutil.rmtree(OUT, ignore_errors=True)
    for e in os.listdir("target/bench"):
        if e.startswith(".scale-out"):
            shutil.rmtree(os.path.join("target/bench", e), ignore_errors=True)

def drop_caches():
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False

def settle(data=None):
    """Flushes writes, drops the page cache, and caches `data` if given."""
    subprocess.run(["sync"], check=True)
    drop_caches()
    if data:
        with open(data, "rb") as f:
            while f.read(1 << 24):
                pass

def run(cmd, stdin=None):
    """Runs compute; returns wall seconds, its CPU seconds (user, system)
    and its peak RSS (KiB)."""
    t0 = time.monotonic()
    with open("target/bench/scale-stderr.txt", "wb") as err:
        p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err)
        if stdin is not None:
            stdin.close()
        _, status, usage = os.wait4(p.pid, 0)
    secs = time.monotonic() - t0
    if status != 0:
        sys.exit(f"{' '.join(cmd)} failed: " + open("target/bench/scale-stderr.txt").read())
    return secs, (usage.ru_utime, usage.ru_stime), usage.ru_maxrss

rows = []
def show(n, mode, secs, cpu, rss):
    user, system = cpu
    total = user + system
    row = (f"| {n:,} | {mode} | {secs:.1f} | {n/secs:,.0f} | {user:.1f} + {system:.1f} | "
           f"{total/n*1e6:.1f} | {rss/1024:,.0f} |")
    rows.append(row)
    print(row, flush=True)

print(f"disk free: {free()/1e9:.1f} GB; budget runs: --memory-budget {budget}; "
      f"page cache dropped before each run: {'yes' if drop_caches() else 'no'}", flush=True)
print("| conversations | run | seconds | records/s | compute CPU s (user + system) | CPU µs/record | peak RSS MiB |")
print("|---|---|---|---|---|---|---|")
for n in sizes:
    clean()
    need = n * OUT_PER_CONV * 1.3
    if free() < need:
        print(f"| {n:,} | budget {budget} | skipped: needs {need/1e9:.0f} GB of disk, "
              f"{free()/1e9:.0f} GB free | | | | |", flush=True)
    else:
        settle()
        gen = subprocess.Popen([BIN, "gen", "--conversations", str(n), "--seed", "1"],
                               stdout=subprocess.PIPE)
        r = run([BIN, "-q", "compute", "-", "--out", OUT, "--memory-budget", budget],
                stdin=gen.stdout)
        if gen.wait() != 0:
            sys.exit("gen failed")
        show(n, f"gen \\| compute, budget {budget}", *r)
    clean()
    data = f"target/bench/scale-{n}.ndjson"
    need = n * (JSON_PER_CONV + OUT_PER_CONV) * 1.1
    if free() < need:
        print(f"| {n:,} | unbounded | not run: the input and outputs need {need/1e9:.0f} GB "
              f"of disk, {free()/1e9:.0f} GB free | | | | |", flush=True)
        continue
    with open(data + ".tmp", "wb") as f:
        subprocess.run([BIN, "gen", "--conversations", str(n), "--seed", "1"], stdout=f,
                       check=True)
    os.rename(data + ".tmp", data)
    settle(data)  # the input cached, as for every bench here
    r = run([BIN, "-q", "compute", data, "--out", OUT, "--memory-budget", "20GiB"])
    os.remove(data)
    show(n, "file, unbounded (in memory)", *r)
    clean()
print("\n".join(rows))
PY
