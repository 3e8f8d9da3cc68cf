#!/usr/bin/env python3
"""Load generator and measurements of `convstats serve` for
scripts/bench-serve.sh (Python 3 standard library only).

Starts, per phase, a fresh Elasticsearch double (benches/serve_double.rs)
and a fresh `convstats serve` on a fresh store, and measures:

  a. sustained durable ingest: 4 keep-alive clients posting bodies of 1000
     records as fast as they can for 30 s; the same against a store on
     tmpfs (/dev/shm), where fsync is nearly free;
  b. ingest -> indexed lag at 10,000 records/s for 60 s: serve's
     convstats_indexed_lag_seconds histogram (bucket resolution) and an
     end-to-end sample (one marker conversation a second, polled in the
     double until both documents are there);
  c. a 2,000-part conversation getting one new part a second for 60 s: the
     end-to-end lag of each new part (legacy count_conversation_parts);
  d. serve's VmRSS every 5 s over DURATION seconds at 10,000 records/s.

Records come in one of two shapes (--shape):

  conversations  the whole `convstats gen` conversation lines (about
                 4.3 KiB a record);
  parts          each generated conversation as one conversation record
                 holding no parts (conversation_parts.conversation_parts
                 = []) followed by one `conversation_part` record per part
                 (with conversation_id and workspace_id), as most of a
                 real stream is (a few hundred bytes a record).

Without --shape, phase a runs with both shapes and the other phases with
`parts`; with it, every phase uses that shape. The records are used again
and again: on every pass over them after the first, each conversation id
(and each part's conversation_id and id) gets a pass prefix
(`<pass>-<id>`), so every posted record is new (the store keeps every
accepted line, so posting the same conversations again would make each
conversation's recomputation grow with the run, which is not the load
being measured).

Every child process is stopped when this program ends (also on SIGTERM);
their pids are appended to WORK/pids for the shell's trap as well.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

CLK_TCK = os.sysconf("SC_CLK_TCK")
CONV_PREFIX = b'{"type":"conversation","id":"'
PART_PREFIX = b'{"type":"conversation_part","id":"'
PART_CONV_PREFIX = b'"conversation_id":"'
RECORDS_PER_BODY = 1000

children = []
failures = []


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- processes


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except OSError:
        return float("nan")


def proc_status(pid, key):
    """A kB figure of /proc/PID/status (VmRSS, VmHWM), in MiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def system_busy():
    """Busy CPU seconds of the whole machine (every process, /proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def self_cpu():
    t = os.times()
    return t.user + t.system


class Instance:
    """One double and one serve on a fresh store in `store_dir`."""

    def __init__(self, args, name, store_dir, extra=()):
        self.name = name
        self.args = args
        os.makedirs(store_dir, exist_ok=True)
        self.dir = store_dir
        env = dict(os.environ)
        env["BENCH_DOUBLE_FORGET_SECS"] = "10"
        env["BENCH_DOUBLE_KEEP_PREFIX"] = "bench:"
        self.double = subprocess.Popen(
            [args.double_bin],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(os.path.join(args.work, f"{name}-double.log"), "wb"),
            env=env,
        )
        record_pid(args, self.double.pid)
        children.append(self.double)
        line = self.double.stdout.readline().decode().strip()
        if not line.startswith("url="):
            raise RuntimeError(f"the double printed {line!r}, not url=...")
        self.es_url = line[4:]
        self.es = urllib.parse.urlsplit(self.es_url)
        self.port = free_port()
        self.url = f"127.0.0.1:{self.port}"
        self.serve_log = os.path.join(args.work, f"{name}-serve.log")
        self.cmd = [
            args.bin, "serve",
            "--store", os.path.join(store_dir, "state.db"),
            "--listen", self.url,
            "--es-url", self.es_url,
            "--dead-letter-file", os.path.join(store_dir, "dead.ndjson"),
            *extra,
        ]
        self.serve = subprocess.Popen(
            self.cmd,
            cwd=store_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.serve_log, "wb"),
        )
        record_pid(args, self.serve.pid)
        children.append(self.serve)
        deadline = time.time() + 60
        while True:
            if self.serve.poll() is not None:
                raise RuntimeError(f"serve exited with {self.serve.returncode}; see {self.serve_log}")
            try:
                status, _ = self.get("/readyz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"serve was not ready within 60 s; see {self.serve_log}")
            time.sleep(0.1)

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def es_conn(self):
        return http.client.HTTPConnection(self.es.hostname, self.es.port, timeout=30)

    def get(self, path):
        c = self.conn()
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def metrics(self):
        status, body = self.get("/metrics")
        if status != 200:
            raise RuntimeError(f"GET /metrics answered {status}")
        return body.decode()

    def cpu(self):
        return {"serve": proc_cpu(self.serve.pid), "double": proc_cpu(self.double.pid), "loadgen": self_cpu(),
                "machine": system_busy()}

    def stop(self):
        """serve first (SIGTERM, its graceful stop), then the double; the
        serve log's WARN/ERROR lines, the start-up warning about the unset
        webhook secret left out."""
        for p in (self.serve, self.double):
            if p is self.double:
                try:
                    self.double.stdin.close()
                except OSError:
                    pass
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.serve_exit = self.serve.returncode
        problems = [l for l in log_problems(self.serve_log) if "no webhook secret is set" not in l]
        if self.serve_exit not in (0, None):
            problems.append(f"serve exited with status {self.serve_exit} after SIGTERM")
        return problems


def record_pid(args, pid):
    with open(os.path.join(args.work, "pids"), "a") as f:
        f.write(f"{pid}\n")


def stop_children():
    for p in children:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass


def log_problems(path):
    """WARN/ERROR lines of a serve log (ANSI colours removed)."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                clean = re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip()
                if re.search(r"\b(WARN|ERROR)\b", clean):
                    out.append(clean)
    except OSError:
        pass
    return out


# ---------------------------------------------------------------- metrics


def metric_value(text, name, labels=""):
    for line in text.splitlines():
        if line.startswith(name + labels + " ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def histogram(text, name):
    """[(le, cumulative count)], sum, count."""
    buckets = []
    for line in text.splitlines():
        m = re.match(name + r'_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets.append((le, float(m.group(2))))
    buckets.sort()
    return buckets, metric_value(text, name + "_sum"), metric_value(text, name + "_count")


def histogram_quantile(buckets, q):
    """Linear interpolation inside the bucket holding the q-quantile (as
    Prometheus' histogram_quantile does); a figure of bucket resolution."""
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le  # above the last finite bound: a lower bound
            if count == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count)
        prev_le, prev_count = le, count
    return buckets[-1][0]


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    i = min(len(v) - 1, max(0, int(round(q * (len(v) - 1)))))
    return v[i]


def ms(x):
    return "n/a" if x is None else f"{x * 1000:,.0f} ms"


def s(x):
    return "n/a" if x is None else f"{x:,.3f} s"


# ---------------------------------------------------------------- load


class Bodies:
    """Bodies of RECORDS_PER_BODY lines, endlessly: pass 0 as generated,
    pass k with every conversation id prefixed `k-`."""

    def __init__(self, bodies):
        self.bodies = bodies
        self.i = 0
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            i = self.i
            self.i += 1
        n = len(self.bodies)
        body = self.bodies[i % n]
        rnd = i // n
        if rnd:
            pre = b"%d-" % rnd
            body = body.replace(CONV_PREFIX, CONV_PREFIX + pre)
            if PART_CONV_PREFIX in body:
                body = body.replace(PART_PREFIX, PART_PREFIX + pre).replace(PART_CONV_PREFIX, PART_CONV_PREFIX + pre)
        return body


def split_parts(lines):
    """The `parts` shape: per conversation line, the conversation with no
    parts, then one conversation_part record per part."""
    out = []
    compact = dict(separators=(",", ":"), ensure_ascii=False)
    for line in lines:
        c = json.loads(line)
        cid, ws = c["id"], c.get("workspace_id")
        parts = c["conversation_parts"]["conversation_parts"]
        c["conversation_parts"]["conversation_parts"] = []
        conv = json.dumps(c, **compact).encode()
        assert conv.startswith(CONV_PREFIX) and PART_CONV_PREFIX not in conv
        out.append(conv + b"\n")
        for part in parts:
            rec = {"type": "conversation_part", "id": part["id"], "conversation_id": cid, "workspace_id": ws}
            rec.update((k, v) for k, v in part.items() if k not in rec)
            out.append(json.dumps(rec, **compact).encode() + b"\n")
    return out


def load_bodies(path, shape="conversations"):
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    if shape == "parts":
        lines = split_parts(lines)
    bodies = [b"".join(lines[i:i + RECORDS_PER_BODY]) for i in range(0, len(lines), RECORDS_PER_BODY)]
    bodies = [b for b in bodies if b.count(b"\n") == RECORDS_PER_BODY]
    nbytes = sum(len(l) for l in lines)
    return bodies, len(lines), nbytes


class Poster:
    """Counts of one phase's POST /v1/records."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []
        self.accepted = 0
        self.statuses = {}
        self.errors = []

    def post(self, conn_holder, inst, body):
        t0 = time.perf_counter()
        try:
            c = conn_holder[0]
            if c is None:
                c = conn_holder[0] = inst.conn()
            c.request("POST", "/v1/records", body=body, headers={"Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            data = r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            if conn_holder[0] is not None:
                conn_holder[0].close()
            conn_holder[0] = None
            with self.lock:
                self.statuses["error"] = self.statuses.get("error", 0) + 1
                if len(self.errors) < 5:
                    self.errors.append(repr(e))
            return None, time.perf_counter() - t0
        dt = time.perf_counter() - t0
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 202:
                self.latencies.append(dt)
                try:
                    self.accepted += int(json.loads(data)["accepted"])
                except (ValueError, KeyError):
                    self.errors.append(f"202 body {data[:200]!r}")
            elif len(self.errors) < 5:
                self.errors.append(f"{status} {data[:200]!r}")
        return status, dt


def flat_out(inst, bodies, seconds, clients=4, top_at=None):
    """Phase a: `clients` threads posting as fast as they can."""
    p = Poster()
    stop_at = time.perf_counter() + seconds
    top = {}

    def worker():
        holder = [None]
        while time.perf_counter() < stop_at:
            status, _ = p.post(holder, inst, bodies.next())
            if status in (429, 503) or status is None:
                time.sleep(0.1)
        if holder[0] is not None:
            holder[0].close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    cpu0 = inst.cpu()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    if top_at is not None:
        time.sleep(top_at)
        top["snapshot"] = top_snapshot(inst)
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu1 = inst.cpu()
    return p, wall, cpu_cores(cpu0, cpu1, wall), top.get("snapshot")


def cpu_cores(c0, c1, wall):
    """Cores used by each process; `other` is every other process of the
    machine (builds, other services), from /proc/stat."""
    out = {k: (c1[k] - c0[k]) / wall for k in c0}
    machine = out.pop("machine")
    out["other"] = max(0.0, machine - sum(out.values()))
    return out


def top_snapshot(inst):
    pids = f"{inst.serve.pid},{inst.double.pid},{os.getpid()}"
    try:
        out = subprocess.run(["top", "-b", "-n1", "-p", pids], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = {str(inst.serve.pid): "serve", str(inst.double.pid): "double", str(os.getpid()): "loadgen"}
    rows = []
    header = None
    for line in out.splitlines():
        cols = line.split()
        if cols and cols[0] == "PID":
            header = cols
        elif header and cols and cols[0] in names:
            rows.append(f"{names[cols[0]]} %CPU {cols[header.index('%CPU')]}")
    return ", ".join(rows)


def steady(inst, bodies, seconds, rate_bodies, on_tick=None, clients=4):
    """Bodies posted at `rate_bodies` a second, spread evenly (slot i at
    t0 + i / rate), by `clients` threads (late slots go at once)."""
    p = Poster()
    t0 = time.perf_counter() + 0.2
    total = int(seconds * rate_bodies)
    slot = [0]
    slot_lock = threading.Lock()
    late = [0.0]

    def worker():
        holder = [None]
        while True:
            with slot_lock:
                i = slot[0]
                slot[0] += 1
            if i >= total:
                break
            at = t0 + i / rate_bodies
            now = time.perf_counter()
            if at > now:
                time.sleep(at - now)
            else:
                with slot_lock:
                    late[0] = max(late[0], now - at)
            p.post(holder, inst, bodies.next())
        if holder[0] is not None:
            holder[0].close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    if on_tick is not None:
        on_tick(t0, seconds)
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return p, wall, late[0]


# ---------------------------------------------------------------- markers


def es_get(conn_holder, inst, path):
    for _ in range(2):
        try:
            c = conn_holder[0]
            if c is None:
                c = conn_holder[0] = inst.es_conn()
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        except (OSError, http.client.HTTPException):
            if conn_holder[0] is not None:
                conn_holder[0].close()
            conn_holder[0] = None
    return None, b""


def marker_line(n, now):
    return json.dumps({
        "type": "conversation", "id": f"m-{n}", "workspace_id": "bench",
        "created_at": now, "updated_at": now, "state": "open",
        "source": {"type": "conversation", "id": f"src-m-{n}", "delivered_as": "customer_initiated",
                   "body": "<p>marker</p>", "author": {"type": "user", "id": "u-bench"}},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [], "total_count": 0},
    }).encode() + b"\n"


def run_markers(inst, t0, seconds, results, timeout=120.0):
    """One marker a second; each is polled (10 ms) in the double until both
    of its documents are there."""
    threads = []

    def one(n):
        holder = [None]
        phold = [None]
        body = marker_line(n, int(time.time()))
        start = time.perf_counter()
        p = Poster()
        status, _ = p.post(phold, inst, body)
        if status != 202:
            results.append(("failed", n, f"POST answered {status} {p.errors}"))
            return
        found = set()
        while time.perf_counter() - start < timeout:
            for alias in ("convstats-legacy", "convstats-new"):
                if alias in found:
                    continue
                st, _ = es_get(holder, inst, f"/{alias}/_doc/bench:m-{n}")
                if st == 200:
                    found.add(alias)
            if len(found) == 2:
                results.append(("ok", n, time.perf_counter() - start))
                break
            time.sleep(0.01)
        else:
            results.append(("missing", n, f"not in the double after {timeout:.0f} s"))
        for h in (holder, phold):
            if h[0] is not None:
                h[0].close()

    n = 0
    while True:
        at = t0 + 0.5 + n
        if at > t0 + seconds:
            break
        now = time.perf_counter()
        if at > now:
            time.sleep(at - now)
        th = threading.Thread(target=one, args=(n,))
        th.start()
        threads.append(th)
        n += 1
    return threads


# ---------------------------------------------------------------- phases


def wait_drained(inst, limit):
    """Seconds until the backlog is 0 (None when not within `limit`)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        text = inst.metrics()
        if metric_value(text, "convstats_backlog_conversations") == 0:
            return time.perf_counter() - t0
        time.sleep(0.25)
    return None


def phase_a(args, shapes, results):
    out = {}
    for shape in args.a_shapes:
        for where, store in (("disk", os.path.join(args.work, f"a-disk-{shape}")),
                             ("tmpfs", args.shm and os.path.join(args.shm, shape))):
            label = f"{where}, {shape}"
            phase_a_one(args, shapes[shape][0], label, store, where == "disk", out)
    results["a"] = out


def phase_a_one(args, bodies_list, label, store, with_top, out):
    if True:
        if store is None:
            out[label] = None
            return
        inst = Instance(args, "a-" + label.replace(", ", "-"), store, ["--backlog-limit", "1000000000"])
        try:
            bodies = Bodies(bodies_list)
            p, wall, cores, top = flat_out(inst, bodies, args.ingest_seconds, top_at=args.ingest_seconds / 2 if with_top else None)
            text = inst.metrics()
            backlog = metric_value(text, "convstats_backlog_conversations")
            written = metric_value(text, "convstats_indexed_lag_seconds_count")
            served = metric_value(text, "convstats_records_accepted_total", '{source="records"}')
            store_bytes = metric_value(text, "convstats_store_bytes")
        finally:
            problems = inst.stop()
        if p.statuses.get(202, 0) == 0:
            failures.append(f"phase a ({label}): no request answered 202 ({p.statuses}, {p.errors})")
        out[label] = dict(p=p, wall=wall, cores=cores, top=top, backlog=backlog, written=written,
                          served=served, store_bytes=store_bytes, problems=problems, cmd=inst.cmd)
        if store and store.startswith("/dev/shm/"):
            subprocess.run(["rm", "-rf", store])  # tmpfs is memory


def phase_b(args, bodies_list, results, rate, key):
    inst = Instance(args, key, os.path.join(args.work, key))
    markers = []
    threads = []
    try:
        bodies = Bodies(bodies_list)
        cpu0 = inst.cpu()

        def ticks(t0, seconds):
            threads.extend(run_markers(inst, t0, seconds, markers))

        p, wall, late = steady(inst, bodies, args.lag_seconds, rate / RECORDS_PER_BODY, on_tick=ticks)
        cpu1 = inst.cpu()
        end_backlog = metric_value(inst.metrics(), "convstats_backlog_conversations")
        drained = wait_drained(inst, 60)
        for t in threads:
            t.join()
        text = inst.metrics()
        buckets, hsum, hcount = histogram(text, "convstats_indexed_lag_seconds")
        bbuckets, bsum, bcount = histogram(text, "convstats_bulk_request_seconds")
        written = metric_value(text, "convstats_documents_written_total", '{outcome="indexed"}')
    finally:
        problems = inst.stop()
    ok = [m[2] for m in markers if m[0] == "ok"]
    bad = [m for m in markers if m[0] != "ok"]
    if p.statuses.get(202, 0) == 0 or not ok:
        failures.append(f"phase {key}: no accepted request or no marker seen ({p.statuses}, {bad[:3]})")
    results[key] = dict(rate=rate, p=p, wall=wall, late=late, cores=cpu_cores(cpu0, cpu1, wall), end_backlog=end_backlog,
                        drained=drained, h_p50=histogram_quantile(buckets, 0.5), h_p99=histogram_quantile(buckets, 0.99),
                        h_count=hcount, h_mean=(hsum / hcount if hcount else None), buckets=buckets,
                        bulk_mean=(bsum / bcount if bcount else None), bulk_count=bcount,
                        bulk_p99=histogram_quantile(bbuckets, 0.99),
                        written=written, markers_ok=ok, markers_bad=bad, problems=problems)


def big_conversation(parts, t0):
    plist = []
    for i in range(1, parts + 1):
        user = i % 2 == 1
        plist.append({
            "type": "conversation_part", "id": str(i), "part_type": "comment",
            "body": f"<p>part {i}</p>", "created_at": t0 + i * 30, "updated_at": t0 + i * 30,
            "author": {"type": "user" if user else "admin", "id": "u-big" if user else "a-big"},
        })
    last = t0 + parts * 30
    return json.dumps({
        "type": "conversation", "id": "big-1", "workspace_id": "bench",
        "created_at": t0, "updated_at": last, "state": "open", "admin_assignee_id": "a-big",
        "source": {"type": "conversation", "id": "src-big-1", "delivered_as": "customer_initiated",
                   "body": "<p>hello</p>", "author": {"type": "user", "id": "u-big"}},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": plist, "total_count": parts},
    }).encode() + b"\n", last


def phase_c(args, results):
    inst = Instance(args, "c", os.path.join(args.work, "c"))
    lags = []
    bad = []
    try:
        t0 = 1_767_000_000
        line, last = big_conversation(args.big_parts, t0)
        holder = [None]
        eshold = [None]
        p = Poster()
        start = time.perf_counter()
        status, _ = p.post(holder, inst, line)
        if status != 202:
            raise RuntimeError(f"posting the {args.big_parts}-part conversation answered {status}: {p.errors}")

        def count_parts():
            st, body = es_get(eshold, inst, "/convstats-legacy/_doc/bench:big-1")
            if st != 200:
                return None
            return json.loads(body)["_source"].get("count_conversation_parts")

        while count_parts() != args.big_parts:
            if time.perf_counter() - start > 60:
                raise RuntimeError(f"the {args.big_parts}-part conversation did not appear within 60 s")
            time.sleep(0.01)
        first = time.perf_counter() - start
        base = time.perf_counter() + 0.5
        for k in range(1, args.big_seconds + 1):
            at = base + (k - 1)
            now = time.perf_counter()
            if at > now:
                time.sleep(at - now)
            pid = args.big_parts + k
            ts = last + k * 30
            rec = json.dumps({
                "type": "conversation_part", "conversation_id": "big-1", "workspace_id": "bench",
                "id": str(pid), "part_type": "comment", "body": f"<p>part {pid}</p>",
                "created_at": ts, "updated_at": ts,
                "author": {"type": "user" if k % 2 else "admin", "id": "u-big" if k % 2 else "a-big"},
            }).encode() + b"\n"
            sent = time.perf_counter()
            status, _ = p.post(holder, inst, rec)
            if status != 202:
                bad.append((k, f"POST answered {status}"))
                continue
            while True:
                n = count_parts()
                if n is not None and n >= pid:
                    lags.append((k, time.perf_counter() - sent))
                    break
                if time.perf_counter() - sent > 30:
                    bad.append((k, "not visible after 30 s"))
                    break
                time.sleep(0.005)
        cores_note = None
        store_bytes = metric_value(inst.metrics(), "convstats_store_bytes")
    finally:
        problems = inst.stop()
    if not lags:
        failures.append(f"phase c: no new part seen ({bad[:3]})")
    half = args.big_seconds / 2
    results["c"] = dict(first=first, lags=lags, bad=bad, problems=problems, size=len(line),
                        first_half=[l for k, l in lags if k <= half], second_half=[l for k, l in lags if k > half],
                        store_bytes=store_bytes, cores=cores_note)


def phase_d(args, bodies_list, results):
    inst = Instance(args, "d", os.path.join(args.work, "d"))
    samples = []
    try:
        bodies = Bodies(bodies_list)
        cpu0 = inst.cpu()

        def sampler(t0, seconds):
            def run():
                k = 0
                while True:
                    at = t0 + k * 5
                    if at > t0 + seconds + 0.01:
                        break
                    now = time.perf_counter()
                    if at > now:
                        time.sleep(at - now)
                    try:
                        backlog = metric_value(inst.metrics(), "convstats_backlog_conversations")
                    except (OSError, RuntimeError, http.client.HTTPException):
                        backlog = float("nan")
                    samples.append((time.perf_counter() - t0, proc_status(inst.serve.pid, "VmRSS"),
                                    proc_status(inst.double.pid, "VmRSS"), backlog))
                    k += 1
            th = threading.Thread(target=run)
            th.start()
            sampler.thread = th

        p, wall, late = steady(inst, bodies, args.duration, args.rate / RECORDS_PER_BODY, on_tick=sampler)
        sampler.thread.join()
        cpu1 = inst.cpu()
        hwm = proc_status(inst.serve.pid, "VmHWM")
        text = inst.metrics()
        store_bytes = metric_value(text, "convstats_store_bytes")
        buckets, _, _ = histogram(text, "convstats_indexed_lag_seconds")
    finally:
        problems = inst.stop()
    if p.statuses.get(202, 0) == 0 or not samples:
        failures.append(f"phase d: nothing accepted or no sample ({p.statuses})")
    first = [r for t, r, _, _ in samples if t <= 60]
    lastm = [r for t, r, _, _ in samples if t >= args.duration - 60]
    results["d"] = dict(p=p, wall=wall, late=late, cores=cpu_cores(cpu0, cpu1, wall), samples=samples,
                        first_max=max(first) if first else None, last_max=max(lastm) if lastm else None,
                        hwm=hwm, store_bytes=store_bytes, problems=problems,
                        h_p50=histogram_quantile(buckets, 0.5), h_p99=histogram_quantile(buckets, 0.99))


# ---------------------------------------------------------------- report


def statuses(p):
    return ", ".join(f"{k}: {v}" for k, v in sorted(p.statuses.items(), key=lambda kv: str(kv[0])))


def cores_str(c):
    return ", ".join(f"{k} {v:.2f}" for k, v in c.items())


def report(args, results):
    rows = []
    notes = []
    targets = []
    a = results.get("a", {})
    for label in a:
        r = a.get(label)
        if r is None:
            if label in a:
                rows.append((f"a. ingest, store on {label}", "not run (/dev/shm unavailable)"))
            continue
        p = r["p"]
        rate = p.accepted / r["wall"]
        r["rate"] = rate
        rows.append((f"a. ingest, store on {label}: records/s (accepted in 202s)", f"{rate:,.0f}"))
        rows.append((f"a. ingest, store on {label}: requests/s", f"{p.statuses.get(202, 0) / r['wall']:,.1f}"))
        rows.append((f"a. ingest, store on {label}: request latency p50 / p99",
                     f"{ms(pct(p.latencies, 0.5))} / {ms(pct(p.latencies, 0.99))}"))
        rows.append((f"a. ingest, store on {label}: answers", statuses(p)))
        rows.append((f"a. ingest, store on {label}: CPU (cores)", cores_str(r["cores"])))
        rows.append((f"a. ingest, store on {label}: conversations indexed meanwhile / backlog at end",
                     f"{r['written']:,.0f} / {r['backlog']:,.0f}"))
        rows.append((f"a. ingest, store on {label}: store size at end", f"{r['store_bytes'] / 2**20:,.0f} MiB"))
        if r["top"]:
            notes.append(f"a ({label}) top -b -n1 at mid-phase: {r['top']}")
        if p.errors:
            notes.append(f"a ({label}) first non-202 answers: {p.errors[:3]}")
    for shape in args.a_shapes:
        dk, tk = a.get(f"disk, {shape}"), a.get(f"tmpfs, {shape}")
        if dk and tk:
            rows.append((f"a. ingest, {shape}: tmpfs / disk (what fsync costs)", f"{tk['rate'] / dk['rate']:.2f}x"))
        if dk:
            targets.append((f"ingest >= 50,000 records/s (store on disk, {shape})", f"{dk['rate']:,.0f}", dk["rate"] >= 50_000))
    for key in ("b", "l"):
      b = results.get(key)
      if b:
          tag = f"{key}. at {b['rate']:,} records/s:"
          p = b["p"]
          ok = b["markers_ok"]
          rows.append((f"{tag} load posted: records/s (accepted) / answers",
                       f"{p.accepted / b['wall']:,.0f} / {statuses(p)}"))
          rows.append((f"{tag} load request latency p50 / p99; worst lateness of a slot",
                       f"{ms(pct(p.latencies, 0.5))} / {ms(pct(p.latencies, 0.99))}; {ms(b['late'])}"))
          rows.append((f"{tag} indexed lag (histogram, bucket resolution) p50 / p99",
                       f"{s(b['h_p50'])} / {s(b['h_p99'])} (mean {s(b['h_mean'])}, {b['h_count']:,.0f} conversations)"))
          rows.append((f"{tag} end-to-end marker lag (POST -> both docs in the double) p50 / p99 / max",
                       f"{ms(pct(ok, 0.5))} / {ms(pct(ok, 0.99))} / {ms(max(ok) if ok else None)} ({len(ok)} markers, {len(b['markers_bad'])} failed)"))
          rows.append((f"{tag} backlog when the load stopped; time to drain",
                       f"{b['end_backlog']:,.0f}; {s(b['drained']) if b['drained'] is not None else 'not within 60 s'}"))
          rows.append((f"{tag} bulk requests: count, mean, p99 (bucket)",
                       f"{b['bulk_count']:,.0f}, {s(b['bulk_mean'])}, {s(b['bulk_p99'])}"))
          rows.append((f"{tag} CPU during the load (cores)", cores_str(b["cores"])))
          e2e99 = pct(ok, 0.99)
          worst = max(x for x in (b["h_p99"], e2e99) if x is not None) if (b["h_p99"] or e2e99) else None
          targets.append((f"lag p99 <= 1 s at {b['rate']:,} records/s (histogram; end-to-end)" + (" [extra rate, not the brief's target]" if key == "l" else ""),
                          f"{s(b['h_p99'])}; {ms(e2e99)}", worst is not None and worst <= 1.0 and not b["markers_bad"]))
          if b["markers_bad"]:
              notes.append(f"{key} markers not seen: {b['markers_bad'][:5]}")
          if p.errors:
              notes.append(f"{key} first non-202 answers: {p.errors[:3]}")
    c = results.get("c")
    if c:
        lags = [l for _, l in c["lags"]]
        rows.append((f"c. {args.big_parts}-part conversation ({c['size'] / 1024:,.0f} KiB line): first indexed after", ms(c["first"])))
        rows.append(("c. new part -> legacy doc updated: p50 / p99 / max",
                     f"{ms(pct(lags, 0.5))} / {ms(pct(lags, 0.99))} / {ms(max(lags) if lags else None)} ({len(lags)} parts, {len(c['bad'])} failed)"))
        f, l = c["first_half"], c["second_half"]
        rows.append(("c. p50 first 30 s / last 30 s",
                     f"{ms(pct(f, 0.5))} / {ms(pct(l, 0.5))} (p99 {ms(pct(f, 0.99))} / {ms(pct(l, 0.99))})"))
        flat = bool(f and l) and pct(l, 0.5) <= max(1.2 * pct(f, 0.5), pct(f, 0.5) + 0.02)
        targets.append(("lag flat on a growing 2,000-part conversation (last-30 s p50 within 20% or 20 ms of first-30 s)",
                        f"{ms(pct(f, 0.5))} -> {ms(pct(l, 0.5))}", flat and not c["bad"]))
        if c["bad"]:
            notes.append(f"c parts not seen: {c['bad'][:5]}")
    d = results.get("d")
    if d:
        p = d["p"]
        rows.append((f"d. {args.duration} s at {args.rate:,} records/s: records/s accepted / answers",
                     f"{p.accepted / d['wall']:,.0f} / {statuses(p)}"))
        rows.append(("d. serve VmRSS max, first minute / last minute; VmHWM",
                     f"{d['first_max']:,.0f} / {d['last_max']:,.0f} / {d['hwm']:,.0f} MiB"))
        rows.append(("d. indexed lag over the run (histogram) p50 / p99", f"{s(d['h_p50'])} / {s(d['h_p99'])}"))
        rows.append(("d. backlog at the last sample; store size at end",
                     f"{d['samples'][-1][3]:,.0f}; {d['store_bytes'] / 2**20:,.0f} MiB"))
        rows.append(("d. CPU (cores)", cores_str(d["cores"])))
        flat = d["first_max"] and d["last_max"] <= 1.2 * d["first_max"]
        targets.append(("RSS flat (last-minute max within 20% of first-minute max)",
                        f"{d['first_max']:,.0f} -> {d['last_max']:,.0f} MiB", bool(flat)))
        notes.append("d samples (t s, serve RSS MiB, double RSS MiB, backlog): " + "; ".join(
            f"{t:.0f} {r:.0f} {dr:.0f} {bl:.0f}" for t, r, dr, bl in d["samples"]))
    for key in ("a", "b", "l", "c", "d"):
        r = results.get(key)
        if not r:
            continue
        parts = r.values() if key == "a" else [r]
        for part in parts:
            if part and part.get("problems"):
                notes.append(f"serve log WARN/ERROR lines in phase {key} ({len(part['problems'])}): " +
                             " | ".join(x[-300:] for x in part["problems"][:5]))

    width = max(len(k) for k, _ in rows) if rows else 10
    log("")
    log("| measurement | value |")
    log("|---|---|")
    for k, v in rows:
        log(f"| {k} | {v} |")
    log("")
    log("| target | measured | met |")
    log("|---|---|---|")
    for k, v, met in targets:
        log(f"| {k} | {v} | {'yes' if met else 'NO'} |")
    log("")
    for n in notes:
        log("- " + n)
    _ = width


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--double-bin", required=True)
    ap.add_argument("--lines", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--shm", default=None, help="store directory on tmpfs for phase a's second run")
    ap.add_argument("--duration", type=int, default=300)
    ap.add_argument("--rate", type=int, default=10_000)
    ap.add_argument("--ingest-seconds", type=float, default=30)
    ap.add_argument("--lag-seconds", type=int, default=60)
    ap.add_argument("--big-parts", type=int, default=2000)
    ap.add_argument("--big-seconds", type=int, default=60)
    ap.add_argument("--low-rate", type=int, default=2_000, help="phase l: phase b at this rate")
    ap.add_argument("--phases", default="ablcd")
    ap.add_argument("--shape", choices=("conversations", "parts"), default=None,
                    help="record shape of every phase (default: phase a both, the others parts)")
    args = ap.parse_args()

    def on_term(signum, frame):
        stop_children()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    results = {}
    try:
        args.a_shapes = [args.shape] if args.shape else ["conversations", "parts"]
        main_shape = args.shape or "parts"
        needed = set(args.a_shapes) if "a" in args.phases else set()
        if set(args.phases) & set("bld"):
            needed.add(main_shape)
        shapes = {}
        for shape in ("conversations", "parts"):
            if shape not in needed:
                continue
            t = time.perf_counter()
            shapes[shape] = load_bodies(args.lines, shape)
            b, nlines, nbytes = shapes[shape]
            log(f"input, shape {shape}: {nlines:,} records, {len(b)} bodies of {RECORDS_PER_BODY} records "
                f"({sum(map(len, b)) / len(b) / 2**20:.2f} MiB a body on average, "
                f"{nbytes / nlines if nlines else 0:,.0f} bytes a record on average; prepared in {time.perf_counter() - t:.0f} s)")
        bodies = shapes.get(main_shape, (None,))[0]
        log(f"shapes: phase a {', '.join(args.a_shapes)}; phases b, l, d {main_shape}")
        phases = {"a": lambda: phase_a(args, shapes, results), "b": lambda: phase_b(args, bodies, results, args.rate, "b"),
                  "l": lambda: phase_b(args, bodies, results, args.low_rate, "l"),
                  "c": lambda: phase_c(args, results), "d": lambda: phase_d(args, bodies, results)}
        for key in args.phases:
            log(f"phase {key}: started {time.strftime('%H:%M:%S')}")
            t = time.perf_counter()
            try:
                phases[key]()
            except Exception as e:  # a phase that fails is reported, the others still run
                failures.append(f"phase {key}: {type(e).__name__}: {e}")
            log(f"phase {key}: done in {time.perf_counter() - t:.0f} s")
        report(args, results)
    finally:
        stop_children()
    if failures:
        for f in failures:
            log("FAILED: " + f)
        sys.exit(1)


if __name__ == "__main__":
    main()
