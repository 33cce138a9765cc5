#!/usr/bin/env python3
"""The comparison runner: builds the portable workloads once per backend
(two Ninja build trees, -DRT_BACKEND=stackful and =stackless), runs every
workload on each backend and every in-process baseline, and prints one
side-by-side table. Writes its CSV, a markdown table and PNG plots (when
gnuplot is available) under bench/results/, which git ignores; a run never
changes a tracked file. Python 3, standard library only.

    bench/compare                default size (about three minutes)
    bench/compare --quick        smoke size (under a minute), what CI runs
    bench/compare --full         more repetitions and the largest parameters
    bench/compare --update-docs  default size, then makes this run the
                                 reference: docs/results.csv, docs/results.md,
                                 docs/img/ and every figure the docs quote
    bench/compare --render-docs  run nothing; render the figures the docs
                                 quote from the committed docs/results.csv
"""
import argparse
import csv
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docfigs  # noqa: E402  (bench/docfigs.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["workload", "backend", "param", "metric", "value", "unit",
           "runs", "min", "max"]
BACKENDS = ["stackful", "stackless"]
WORKLOADS = ["handoff", "yield", "spawn", "park", "depth", "timers",
             "channel"]
# Workloads measured by bench/net.py (the examples/ servers under load).
NET_WORKLOADS = ["http", "echo", "idle_conn", "http_steal", "http_percore"]
# The multi-core workloads (bench/mc.h): each runs at one worker and at one
# worker per core, and its rows carry the count as param "workers=N".
MC_WORKLOADS = ["spawn_many", "yield_many", "ping_pong", "chained_spawn",
                "skynet", "worker_mem"]
# Their sizes (each program's --size) and repetitions per runner size.
MC_SIZES = {
    "quick": {"runs": 3, "spawn_many": 1000, "yield_many": 50,
              "ping_pong": 100, "chained_spawn": 100, "skynet": 10000,
              "worker_mem": 64},
    "default": {"runs": 5, "spawn_many": 10000, "yield_many": 200,
                "ping_pong": 1000, "chained_spawn": 1000,
                "skynet": 1000000, "skynet_runs": 3, "worker_mem": 64},
    "full": {"runs": 9, "spawn_many": 10000, "yield_many": 200,
             "ping_pong": 1000, "chained_spawn": 1000, "skynet": 1000000,
             "skynet_runs": 5, "worker_mem": 64},
}

# Parameters and repetitions per size. Each workload program documents its
# parameters; the runner only chooses them.
SIZES = {
    "quick": {
        "runs": 3,
        "handoff": [1000000], "yield": [2, 1000, 10000],
        "spawn": [100000], "park": [1000, 10000],
        "depth": [1, 4, 16, 64], "timers": [10000],
        "channel": [0, 1, 1024], "baseline_park": [1000],
    },
    "default": {
        "runs": 5,
        "handoff": [10000000], "yield": [2, 1000, 100000],
        "spawn": [1000000], "park": [1000, 10000, 100000],
        "depth": [1, 4, 16, 64], "timers": [100000],
        "channel": [0, 1, 1024], "baseline_park": [1000, 10000],
    },
    "full": {
        "runs": 9,
        "handoff": [10000000], "yield": [2, 1000, 100000],
        "spawn": [1000000], "park": [1000, 10000, 100000, 1000000],
        "depth": [1, 4, 16, 64], "timers": [100000, 1000000],
        "channel": [0, 1, 1024], "baseline_park": [1000, 10000],
    },
}

# Which baseline a backend figure is divided by, per (workload, metric);
# match_param: compare with the baseline at the same parameter only.
BASELINE_FOR = {
    ("handoff", "ns_per_handoff"): ("baseline:fcontext", False),
    ("park", "bytes_per_task"): ("baseline:pthread", True),
    ("http", "requests_per_s"): ("baseline:nginx", True),
    ("http", "cpu_us_per_request"): ("baseline:nginx", True),
    ("http", "p99_ms"): ("baseline:nginx", True),
    ("http", "p50_ms"): ("baseline:nginx", True),
    ("http", "syscalls_per_request"): ("baseline:nginx", True),
    ("http", "reads_per_request"): ("baseline:nginx", True),
}
# The HTTP example on every core: both designs against nginx with as many
# worker processes (bench/net.py).
for _w in ("http_steal", "http_percore"):
    for _m in ("requests_per_s", "cpu_us_per_request", "p99_ms", "p50_ms"):
        BASELINE_FOR[(_w, _m)] = ("baseline:nginx", True)

NOTES = {
    "handoff": "ping-pong over two notifications (rt_notify); its baselines, "
               "in `bench/bench_baseline.c`: raw jump_fcontext and "
               "swapcontext one-way switches, an OS-thread futex handoff, an "
               "indirect call of a poll function, (baseline:cas) one "
               "uncontended compare-and-swap, the least a multi-worker queue "
               "operation pays, and (baseline:sm) two C state machines "
               "passing a turn through an intrusive waiter on a run queue "
               "of their own, the floor under the waker protocol",
    "yield": "N tasks each yield 4e6/N times",
    "spawn": "spawn 32 empty tasks, join them, repeat; its floors, in "
             "`bench/bench_baseline.c`, batched the same way: "
             "(baseline:pool) raw fcontext tasks on a pool of stacks, and "
             "(baseline:sm) C state machines on a free list of frames",
    "park": "N tasks parked on a channel at once: RSS delta / N, and the "
            "kernel's page tables and kernel stacks delta / N "
            "(kernel_bytes_per_task); baseline: OS threads with 64 KiB "
            "stacks (`bench/bench_baseline.c`)",
    "depth": "a task suspended D nested frames deep: resume cost, and RSS "
             "per task of 10,000 parked at depth D",
    "timers": "N tasks sleep random 0-20 ms: process CPU time per timer, "
              "spawn and join included; baseline:fault (ns_per_fault, "
              "`bench/bench_baseline.c`): the first write to each of N "
              "never-touched pages 64 KiB apart, in a fresh child process, "
              "the page fault that a stack used for the first time costs "
              "at least",
    "channel": "one producer, one consumer, 2e6 messages; param = capacity",
    "http": "examples/http.c under wrk, GET / keep-alive; param = "
            "connections; baseline: nginx, 1 worker, same body; "
            "cpu_vs_nginx: the median over rounds of each round's CPU "
            "per request over nginx's; syscalls_per_request and "
            "reads_per_request from perf's syscall tracepoints (rows "
            "skipped, with a note, where perf cannot count them)",
    "echo": "examples/echo.c's server under its load client, 64-byte "
            "round trips; param = connections; per message: CPU, system "
            "calls and reads (perf's syscall tracepoints, skipped with a "
            "note where perf cannot count them); no baseline",
    "idle_conn": "N keep-alive connections that send nothing: server RSS "
                 "delta / N",
    "http_steal": "examples/http.c with `-w <cores>`: one scheduler whose "
                  "workers steal connections from one another, one "
                  "listening socket; param = connections; baseline: nginx "
                  "with one worker process per core",
    "http_percore": "examples/http.c with `-s <cores>`: thread-per-core, "
                    "one one-worker scheduler, reactor and SO_REUSEPORT "
                    "socket per thread; param = connections; baseline: "
                    "nginx with one worker process per core",
    "spawn_many": "the root spawns S (10,000) empty detached tasks, each "
                  "counts a shared counter down, the last notifies the "
                  "root; 20 rounds per sample; param = workers",
    "yield_many": "S tasks (200) each yield 1,000 times; param = workers",
    "ping_pong": "S pairs (1,000) at once, each one round trip over two "
                 "notifies, spawns included; 20 rounds per sample; param = "
                 "workers",
    "chained_spawn": "each task spawns the next, S (1,000) deep, the last "
                     "notifies the root; 100 chains per sample; param = "
                     "workers",
    "skynet": "a 10-ary tree of S leaf tasks (1,000,000) summed through "
              "join handles, every run in a fresh process; per task of the "
              "whole tree (1,111,111): time, and peak RSS growth "
              "(bytes_per_task); param = workers",
    "worker_mem": "RSS growth of a run (fresh process) whose 64 tasks have "
                  "yielded 100 times each, and (its figure at N workers - "
                  "at one) / (N - 1): bytes_per_worker, and the kernel's "
                  "page tables and kernel stacks (kernel_bytes_per_worker); "
                  "param = workers",
}


# Single-backend and design measurements, run in the default and full
# sizes: the figures the design pages quote. Each prints rows in the same
# CSV format, with a backend column of design:<variant>. (program, what it
# decides)
DESIGN = [
    ("bench_timer_heap", "the 4-ary timer heap (docs/architecture.md)"),
    ("bench_timer_heap_binary", "the same heap code built binary"),
    ("bench_sf_switch", "green-thread handoff vs a raw jump_fcontext "
                        "(docs/stackful.md)"),
    ("bench_sf_park", "bytes per parked green thread by stack mode "
                      "(docs/stackful.md)"),
    ("bench_sl_handoff", "native future handoff vs an indirect call "
                         "(docs/stackless.md)"),
    ("bench_sl_spawn", "native spawn + join (docs/stackless.md)"),
    ("bench_sl_parked", "bytes per parked native task (docs/stackless.md)"),
]


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_rows(text):
    """Parses benchmark output: CSV rows in COLUMNS order, '#' notes (a
    note that every run repeats is kept once) and blank lines. Returns
    (rows, notes); raises ValueError on a bad row."""
    rows, notes = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            note = line.lstrip("#").strip()
            if note not in notes:
                notes.append(note)
            continue
        fields = next(csv.reader([line]))
        if len(fields) != len(COLUMNS):
            raise ValueError("expected %d fields, got %d: %r"
                             % (len(COLUMNS), len(fields), line))
        row = dict(zip(COLUMNS, fields))
        if row["param"] and not (row["param"].isdigit() or
                                 is_workers_param(row["param"])):
            raise ValueError("param must be a plain integer or workers=N: "
                             "%r" % line)
        for k in ("value", "min", "max"):
            row[k] = float(row[k])
        row["runs"] = int(row["runs"])
        if not row["min"] <= row["value"] <= row["max"]:
            raise ValueError("median outside [min, max]: %r" % line)
        rows.append(row)
    return rows, notes


fmt = docfigs.fmt


def is_workers_param(p):
    """True for a multi-core row's param, "workers=N" (N a plain integer
    from 1)."""
    n = p[len("workers="):]
    return p.startswith("workers=") and n.isdigit() and int(n) >= 1


def param_key(p):
    """A param as a number, for sorting: N of "workers=N", -1 when
    empty."""
    if not p:
        return -1
    return int(p.split("=", 1)[1]) if is_workers_param(p) else int(p)


def scaling(by_key, w, backend, p, m, unit):
    """Time at one worker over time at N for a multi-core row at
    "workers=N" (N > 1) whose unit is a time, else None."""
    if not is_workers_param(p) or p == "workers=1" or unit != "ns":
        return None
    one = by_key.get((w, backend, "workers=1", m))
    at_n = by_key.get((w, backend, p, m))
    return ratio(one["value"] if one else None,
                 at_n["value"] if at_n else None)


def ratio(a, b):
    return a / b if a is not None and b else None


def build_table(rows):
    """One line per (workload, param, metric) measured on the backends, with
    its baseline and ratios, in workload order."""
    by_key = {}
    for r in rows:
        by_key[(r["workload"], r["backend"], r["param"], r["metric"])] = r
    keys = []
    for r in rows:
        k = (r["workload"], r["param"], r["metric"])
        if r["backend"] in BACKENDS and k not in keys:
            keys.append(k)
    order = {w: i for i, w in enumerate(WORKLOADS + MC_WORKLOADS +
                                        NET_WORKLOADS)}
    keys.sort(key=lambda k: (order.get(k[0], 99), k[2], param_key(k[1])))
    table = []
    for w, p, m in keys:
        sf = by_key.get((w, "stackful", p, m))
        sl = by_key.get((w, "stackless", p, m))
        base_name, base = None, None
        if (w, m) in BASELINE_FOR:
            base_name, match = BASELINE_FOR[(w, m)]
            cands = [r for r in rows if r["workload"] == w and
                     r["backend"] == base_name and r["metric"] == m and
                     (not match or r["param"] == p)]
            base = cands[0]["value"] if cands else None
        sfv = sf["value"] if sf else None
        slv = sl["value"] if sl else None
        unit = (sf or sl)["unit"]
        table.append({
            "workload": w, "param": p, "metric": m,
            "unit": unit,
            "stackful": sfv, "stackless": slv,
            "baseline": base_name.split(":", 1)[1] if base_name else None,
            "base": base,
            "sf_base": ratio(sfv, base), "sl_base": ratio(slv, base),
            "sl_sf": ratio(slv, sfv),
            "sf_scale": scaling(by_key, w, "stackful", p, m, unit),
            "sl_scale": scaling(by_key, w, "stackless", p, m, unit),
        })
    return table


def baseline_rows(rows):
    return [r for r in rows if r["backend"].startswith("baseline:")]


HEAD = ["workload", "param", "metric", "stackful", "stackless", "baseline",
        "sf/base", "sl/base", "sl/sf", "sf 1/N", "sl 1/N"]


def table_cells(t):
    base = "%s %s" % (fmt(t["base"]), t["baseline"]) if t["baseline"] else "-"
    return [t["workload"], t["param"] or "-", t["metric"], fmt(t["stackful"]),
            fmt(t["stackless"]), base,
            fmt(t["sf_base"]) + ("x" if t["sf_base"] else ""),
            fmt(t["sl_base"]) + ("x" if t["sl_base"] else ""),
            fmt(t["sl_sf"]) + ("x" if t["sl_sf"] else ""),
            fmt(t["sf_scale"]) + ("x" if t["sf_scale"] else ""),
            fmt(t["sl_scale"]) + ("x" if t["sl_scale"] else "")]


def format_table(table):
    """The table as aligned text for a terminal."""
    lines = [HEAD] + [table_cells(t) for t in table]
    widths = [max(len(l[i]) for l in lines) for i in range(len(HEAD))]
    out = []
    for n, l in enumerate(lines):
        out.append("  ".join(c.rjust(widths[i]) if i >= 3 else
                             c.ljust(widths[i]) for i, c in enumerate(l)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(table):
    out = ["| " + " | ".join(HEAD) + " |",
           "|" + "|".join(["---"] * 3 + ["---:"] * 8) + "|"]
    for t in table:
        out.append("| " + " | ".join(table_cells(t)) + " |")
    return "\n".join(out)


def write_csv(rows, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r["workload"], r["backend"], r["param"], r["metric"],
                        "%.6g" % r["value"], r["unit"], r["runs"],
                        "%.6g" % r["min"], "%.6g" % r["max"]])


def machine_info():
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        cc = subprocess.run(["cc", "--version"], capture_output=True,
                            text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        cc = "unknown"
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "compiler": cc}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build(backend, tree):
    """Configures and builds the workloads of one backend with Ninja."""
    run(["cmake", "-S", ROOT, "-B", tree, "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release", "-DRT_BACKEND=" + backend,
         "-DRT_BUILD_TESTS=OFF", "-DRT_BUILD_BENCH=ON"],
        stdout=subprocess.DEVNULL)
    targets = ["bench_" + w for w in WORKLOADS + MC_WORKLOADS] + [
        "bench_baseline",
                                                   "http_" + backend,
                                                   "echo_" + backend]
    if backend == BACKENDS[0]:
        targets += [d[0] for d in DESIGN]
    run(["cmake", "--build", tree, "--target"] + targets,
        stdout=subprocess.DEVNULL)


def jobs(size, trees):
    """The list of (label, argv) to run, workloads first, both backends."""
    s = SIZES[size]
    runs = ["--runs", str(s["runs"])]
    out = []
    for w in WORKLOADS:
        for b in BACKENDS:
            exe = os.path.join(trees[b], "bench", "bench_" + w)
            out.append(("%s on %s" % (w, b),
                        [exe] + runs + [str(p) for p in s[w]]))
    out += mc_jobs(size, trees)
    base = os.path.join(trees["stackful"], "bench", "bench_baseline")
    for name in ("fcontext", "ucontext", "pthread", "call", "cas", "sm",
                 "pool", "sm_spawn"):
        out.append(("baseline " + name, [base, name] + runs))
    out.append(("baseline park",
                [base, "park"] + runs + [str(p) for p in s["baseline_park"]]))
    # The fresh-page floor of the timers rows (every sleeping task there
    # has a stack of its own that was never used), at their sizes up to
    # 1e5: a million faults would take longer than the rest of the row.
    out.append(("baseline fault",
                [base, "fault"] + runs +
                [str(p) for p in s["timers"] if p <= 100000]))
    # How fast each CPU runs the same code (a virtual machine's need not
    # be equal): what bounds the multi-core rows' scaling.
    out.append(("baseline cpus", [base, "cpus"] + runs))
    return out


# Plots that a block further down adds: {file: plot()'s series tuple}.
EXTRA_PLOTS = {}
def mc_workers():
    """The worker counts the multi-core workloads run at: 1 and one per
    core (just 1 on a one-core machine)."""
    cores = os.cpu_count() or 1
    return [1, cores] if cores > 1 else [1]


def mc_jobs(size, trees):
    """(label, argv) of every multi-core workload on both backends."""
    s = MC_SIZES[size]
    out = []
    for w in MC_WORKLOADS:
        runs = ["--runs", str(s.get(w + "_runs", s["runs"]))]
        for b in BACKENDS:
            exe = os.path.join(trees[b], "bench", "bench_" + w)
            out.append(("%s on %s" % (w, b),
                        [exe] + runs + ["--size", str(s[w])] +
                        [str(n) for n in mc_workers()]))
    return out


def plot_workers(rows, outdir, gp, tmp):
    """workers.png: ns per operation against the worker count, one line per
    multi-core workload and backend. Returns the file, or None without
    multi-core rows."""
    plots = []
    for wi, w in enumerate(MC_WORKLOADS):
        for bi, b in enumerate(BACKENDS):
            pts = sorted((param_key(r["param"]), r["value"], r["min"],
                          r["max"]) for r in rows
                         if r["workload"] == w and r["backend"] == b and
                         r["unit"] == "ns" and is_workers_param(r["param"]))
            if not pts:
                continue
            data = os.path.join(tmp, "workers-%s-%s.dat" % (w, b))
            with open(data, "w") as f:
                for p in pts:
                    f.write("%d %g %g %g\n" % p)
            # A colour per workload; stackful solid, stackless dashed.
            plots.append("'%s' using 1:2:3:4 with yerrorlines linecolor %d "
                         "dashtype %d title '%s %s'"
                         % (data, wi + 1, bi + 1, w, b))
    if not plots:
        return None
    path = os.path.join(outdir, "workers.png")
    script = "\n".join([
        "set terminal png size 800,480 noenhanced",
        "set output '%s'" % path,
        "set logscale y", "set xtics 1", "set offsets 0.25, 0.25, 0, 0",
        "set xlabel 'workers'", "set ylabel 'ns per operation'",
        "set key outside right", "set grid",
        "plot " + ", ".join(plots), ""])
    subprocess.run([gp], input=script, text=True, check=True)
    return path


def plot(rows, outdir):
    """PNG plots with gnuplot; returns the files written, or None when
    gnuplot is not installed."""
    gp = shutil.which("gnuplot")
    if not gp:
        return None
    os.makedirs(outdir, exist_ok=True)
    files = []
    series = {
        "park.png": ("park", "bytes_per_task", "tasks parked (N)",
                     "bytes per parked task", True,
                     ["stackful", "stackless", "baseline:pthread",
                      "stackful-copy"]),
        "depth.png": ("depth", "ns_per_resume", "await depth D",
                      "ns per resume", True,
                      ["stackful", "stackless", "stackful-copy"]),
        "yield.png": ("yield", "ns_per_yield", "tasks (N)", "ns per yield",
                      False, ["stackful", "stackless"]),
    }
    series.update(EXTRA_PLOTS)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (w, m, xl, yl, logy, backends) in series.items():
            plots = []
            for b in backends:
                pts = sorted((int(r["param"]), r["value"], r["min"], r["max"])
                             for r in rows if r["workload"] == w and
                             r["metric"] == m and r["backend"] == b and
                             r["param"])
                if not pts:
                    continue
                data = os.path.join(tmp, "%s-%s.dat" % (w, b.replace(":", "_")))
                with open(data, "w") as f:
                    for p in pts:
                        f.write("%d %g %g %g\n" % p)
                plots.append("'%s' using 1:2:3:4 with yerrorlines title '%s'"
                             % (data, b))
            if not plots:
                continue
            path = os.path.join(outdir, name)
            script = "\n".join([
                "set terminal png size 800,480",
                "set output '%s'" % path,
                "set logscale x", "set logscale y" if logy else "",
                "set xlabel '%s'" % xl, "set ylabel '%s'" % yl,
                "set key top left", "set grid",
                "plot " + ", ".join(plots), ""])
            subprocess.run([gp], input=script, text=True, check=True)
            files.append(path)
        mc = plot_workers(rows, outdir, gp, tmp)
        if mc:
            files.append(mc)
    return files


def build_plain(tree):
    """The stackful switch bench once more, built to enter jump_fcontext
    with a plain call (-DRT_STACKFUL_PLAIN_CALL=ON), for the comparison
    docs/stackful.md makes."""
    run(["cmake", "-S", ROOT, "-B", tree, "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release", "-DRT_STACKFUL_PLAIN_CALL=ON",
         "-DRT_BUILD_TESTS=OFF", "-DRT_BUILD_BENCH=ON"],
        stdout=subprocess.DEVNULL)
    run(["cmake", "--build", tree, "--target", "bench_sf_switch"],
        stdout=subprocess.DEVNULL)


def run_rows(label, cmd):
    """Runs one benchmark program; returns its (rows, notes) or raises
    RuntimeError naming the program when it fails or prints no row."""
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        say(res.stderr)
        raise RuntimeError("%s failed (exit %d)" % (label, res.returncode))
    rows, notes = parse_rows(res.stdout)
    if not rows:
        raise RuntimeError("%s printed no result" % label)
    return rows, notes


def run_design(tree, plain_tree):
    """Runs the DESIGN programs, then the plain-call build of the switch
    bench; returns (rows, notes)."""
    rows, notes = [], []
    for prog, _ in DESIGN:
        say("[design] %s" % prog)
        r, n = run_rows(prog, [os.path.join(tree, "bench", prog)])
        rows += r
        notes += n
    say("[design] bench_sf_switch, -DRT_STACKFUL_PLAIN_CALL=ON")
    build_plain(plain_tree)
    r, n = run_rows("bench_sf_switch (plain call)",
                    [os.path.join(plain_tree, "bench", "bench_sf_switch")])
    return rows + r, notes + n


def design_table(rows):
    """The design measurements as one markdown table, in program order."""
    out = ["| workload | variant | param | metric | median | min | max |",
           "|---|---|---:|---|---:|---:|---:|"]
    for r in rows:
        if r["backend"].startswith("design:"):
            out.append("| %s | %s | %s | %s | %s | %s | %s |"
                       % (r["workload"], r["backend"].split(":", 1)[1],
                          r["param"] or "-", r["metric"], fmt(r["value"]),
                          fmt(r["min"]), fmt(r["max"])))
    return "\n".join(out)


def baseline_table(rows):
    out = ["| baseline | param | metric | median | min | max |",
           "|---|---:|---|---:|---:|---:|"]
    for r in baseline_rows(rows):
        out.append("| %s | %s | %s | %s | %s | %s |"
                   % (r["backend"].split(":", 1)[1], r["param"] or "-",
                      r["metric"], fmt(r["value"]), fmt(r["min"]),
                      fmt(r["max"])))
    return "\n".join(out)


def generated_tables(rows):
    """The tables of a results page that follow from its CSV alone; the
    docs test checks that docs/results.md holds each of them verbatim."""
    tables = [markdown_table(build_table(rows)), baseline_table(rows)]
    if any(r["backend"].startswith("design:") for r in rows):
        tables.append(design_table(rows))
    return tables


def write_results_md(path, rows, notes, info, command, plots_done,
                     seconds):
    main_table, base_table = generated_tables(rows)[:2]
    out = ["# Results", "",
           "Written by `bench/compare`; do not edit by hand. Reproduce with:",
           "", "```sh", command, "```", "",
           "Machine: %s, %s cores, Linux %s, %s. Run took %.0f s on %s."
           % (info["cpu"], info["cores"], info["kernel"], info["compiler"],
              seconds, time.strftime("%Y-%m-%d")),
           "",
           "Each figure is the median of the runs (the CSV beside this page "
           "has runs, min and max). Ratios: `sf/base` and `sl/base` divide a "
           "backend's median by the baseline measured in the same run; "
           "`sl/sf` is stackless over stackful (below 1: stackless is "
           "cheaper). `sf 1/N` and `sl 1/N`, on the rows of a multi-core "
           "workload at `workers=N`: its time at one worker over its time "
           "at N (above 1: N workers are faster).", "",
           main_table, "",
           "Baselines measured in the same run:", "",
           base_table]
    out += ["", "What each workload does:", ""]
    for w in WORKLOADS + MC_WORKLOADS:
        out.append("- `%s`: %s (`bench/bench_%s.c`)." % (w, NOTES[w], w))
    for w in NET_WORKLOADS:
        out.append("- `%s`: %s (`bench/net.py`)." % (w, NOTES[w]))
    if notes:
        out += ["", "Notes printed by the workloads:", ""]
        out += ["- " + n for n in notes]
    if any(r["backend"].startswith("design:") for r in rows):
        out += ["", "## Single-backend and design measurements", "",
                "Programs built in `build/compare-stackful/bench/` "
                "(the plain-call switch in `build/compare-plain/bench/`):",
                ""]
        out += ["- `%s`: %s." % d for d in DESIGN]
        out += ["- `bench_sf_switch` built with "
                "`-DRT_STACKFUL_PLAIN_CALL=ON`: the same switch entered by a "
                "plain call (variant `plain_call`).", "",
                design_table(rows)]
    if plots_done:
        out += [""]
        for p in plots_done:
            rel = os.path.relpath(p, os.path.dirname(path))
            out.append("![%s](%s)" % (os.path.basename(p), rel))
    elif plots_done is None:
        out += ["", "(No plots: gnuplot was not available.)"]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def render_docs(csv_path):
    """Renders every referenced figure of docs/*.md from the CSV at
    csv_path. Returns ({path: new text} for the pages that change,
    [problem]) without writing anything."""
    rows = docfigs.load(csv_path)
    docs = os.path.join(ROOT, "docs")
    changed, problems = {}, []
    for name in sorted(os.listdir(docs)):
        if not name.endswith(".md") or name == "results.md":
            continue
        path = os.path.join(docs, name)
        with open(path) as f:
            text = f.read()
        new, errs = docfigs.render(text, rows)
        problems += ["docs/%s:%d: %s" % (name, ln, m) for ln, m in errs]
        if new != text:
            changed[path] = new
    return changed, problems


def write_docs(csv_path):
    """Renders the docs' figures from csv_path and writes the pages that
    change, or none when a page names a row the CSV lacks. Returns 0 or 1
    (an exit status)."""
    changed, problems = render_docs(csv_path)
    for p in problems:
        say(p)
    if problems:
        say("bench/compare: the docs quote rows that %s does not have; no "
            "page was changed" % os.path.relpath(csv_path, ROOT))
        return 1
    for path, text in changed.items():
        with open(path, "w") as f:
            f.write(text)
    say("bench/compare: figures rendered from %s: %d page%s changed"
        % (os.path.relpath(csv_path, ROOT), len(changed),
           "" if len(changed) == 1 else "s"))
    return 0

# ---- Labs (labs/, docs/labs.md) -------------------------------------------
# Each lab is a portable program built once per backend
# (labs/lab_<name>_<backend>) that prints rows in the format above, with the
# backend's own name in the backend column. They run after the workloads,
# on both backends, at every size; their rows go to a table of their own on
# the results page rather than into the comparison table. This block only
# extends the functions defined above (build, jobs, build_table,
# generated_tables, write_results_md): the rest of the runner is unchanged.
LABS = ["coop", "cpu", "blocking", "locals", "recursion", "memory", "tls",
        "cancel"]
# The parameters per size (each lab documents its own); runs as the size's.
LAB_PARAMS = {
    "quick": {"coop": [100000], "cpu": [100], "memory": [2000],
              "recursion": [1, 64]},
    "default": {"coop": [200000], "cpu": [300], "memory": [8000],
                "recursion": [1, 256]},
    "full": {"coop": [200000], "cpu": [300], "memory": [8000],
             "recursion": [1, 256]},
}
# The cooperative budget's before and after (lab 1 in docs/labs.md): these
# workloads run with --coop-off (bench/coop_flag.h), so that each of their
# repetitions runs again with the budget off, right after the one with it
# on. Those rows carry the metric with the suffix _coop_off and sit in the
# comparison table next to the rows with the budget on.
COOP_OFF = ["handoff", "channel"]


def is_lab(row):
    return row["workload"].startswith("lab_")


def lab_jobs(size, trees):
    """(label, argv) of every lab on both backends."""
    runs = ["--runs", str(SIZES[size]["runs"])]
    out = []
    for lab in LABS:
        for b in BACKENDS:
            exe = os.path.join(trees[b], "labs", "lab_%s_%s" % (lab, b))
            out.append(("lab %s on %s" % (lab, b), [exe] + runs +
                        [str(p) for p in LAB_PARAMS[size].get(lab, [])]))
    return out


def lab_table(rows):
    """The labs' rows as one markdown table, both backends side by side."""
    out = ["| lab | param | metric | stackful | stackless | unit |",
           "|---|---:|---|---:|---:|---|"]
    seen = {}
    for r in rows:
        if is_lab(r):
            k = (r["workload"], r["param"], r["metric"])
            seen.setdefault(k, {"unit": r["unit"]})[r["backend"]] = r["value"]
    def cell(x, unit):  # counts are whole numbers, as the docs write them
        if x is not None and unit == "count":
            return "{:,.0f}".format(x)
        return fmt(x)

    for (w, p, m), v in seen.items():
        out.append("| %s | %s | %s | %s | %s | %s |"
                   % (w, p or "-", m, cell(v.get("stackful"), v["unit"]),
                      cell(v.get("stackless"), v["unit"]), v["unit"]))
    return "\n".join(out)


_build_workloads = build
_jobs_workloads = jobs
_table_workloads = build_table
_tables_workloads = generated_tables
_page_workloads = write_results_md


def build(backend, tree):  # noqa: F811  (extends the build above)
    _build_workloads(backend, tree)
    run(["cmake", "--build", tree, "--target"] +
        ["lab_%s_%s" % (lab, backend) for lab in LABS],
        stdout=subprocess.DEVNULL)


def jobs(size, trees):  # noqa: F811
    out = []
    for label, cmd in _jobs_workloads(size, trees):
        if label.split(" on ")[0] in COOP_OFF:
            cmd = cmd[:1] + ["--coop-off"] + cmd[1:]
        out.append((label, cmd))
    return out + lab_jobs(size, trees)


def build_table(rows):  # noqa: F811
    return _table_workloads([r for r in rows if not is_lab(r)])


def generated_tables(rows):  # noqa: F811
    tables = _tables_workloads(rows)
    if any(is_lab(r) for r in rows):
        tables.append(lab_table(rows))
    return tables


def write_results_md(path, rows, *args):  # noqa: F811
    _page_workloads(path, rows, *args)
    if any(is_lab(r) for r in rows):
        with open(path, "a") as f:
            f.write("\n## Labs\n\nThe programs of `labs/`, each run on "
                    "both backends (what each shows: docs/labs.md):\n\n" +
                    lab_table(rows) + "\n")
# ---- end of the labs' block -----------------------------------------------


# ---- Copy stacks (docs/stackful.md) ---------------------------------------
# The third stack mode of the stackful backend: `park` and `depth` again on
# the stackful build with RT_STACK_MODE=copy (rows with backend
# stackful-copy), and copy_resume (bench/bench_sf_copy_resume.c: a resume
# against the bytes it copies, beside a guarded-stack resume and a raw
# jump_fcontext). They run at every size, after the workloads; their rows
# go to a table of their own. This block only extends the functions above.
COPY_BACKEND = "stackful-copy"
COPY_PARAMS = {
    "quick": {"park": [1000, 10000], "depth": [1, 16],
              "copy_resume": [8, 128, 512, 2048, 8192]},
    "default": {"park": [1000, 10000, 100000], "depth": [1, 4, 16, 64],
                "copy_resume": [8, 128, 512, 2048, 8192]},
    "full": {"park": [1000, 10000, 100000, 1000000],
             "depth": [1, 4, 16, 64],
             "copy_resume": [8, 128, 512, 2048, 8192]},
}
EXTRA_PLOTS["copy_resume.png"] = (
    "copy_resume", "ns_per_resume", "bytes of locals live at the switch (B)",
    "ns per resume", True, [COPY_BACKEND, "stackful", "baseline:fcontext"])


def copy_jobs(size, trees):
    """(label, argv) of the copy-stack rows, all on the stackful tree."""
    runs = ["--runs", str(SIZES[size]["runs"])]
    bench = os.path.join(trees["stackful"], "bench")
    ps = COPY_PARAMS[size]
    out = [("%s on %s" % (w, COPY_BACKEND),
            ["env", "RT_STACK_MODE=copy", os.path.join(bench, "bench_" + w)]
            + runs + [str(p) for p in ps[w]]) for w in ("park", "depth")]
    out.append(("copy_resume", [os.path.join(bench, "bench_sf_copy_resume")]
                + runs + [str(p) for p in ps["copy_resume"]]))
    return out


def copy_table(rows):
    """The copy-stack rows beside the stackful backend's own-stack rows of
    the same workload, parameter and metric (and copy_resume's baseline)."""
    out = ["| workload | param | metric | stackful (own stack) | "
           "stackful-copy | copy/own | raw fcontext |",
           "|---|---:|---|---:|---:|---:|---:|"]
    by = {(r["workload"], r["backend"], r["param"], r["metric"]): r["value"]
          for r in rows}
    for r in rows:
        if r["backend"] != COPY_BACKEND:
            continue
        k = (r["workload"], r["param"], r["metric"])
        own = by.get((k[0], "stackful", k[1], k[2]))
        raw = by.get((k[0], "baseline:fcontext", k[1], k[2]))
        rel = ratio(r["value"], own)
        out.append("| %s | %s | %s | %s | %s | %s | %s |"
                   % (k[0], k[1] or "-", k[2], fmt(own), fmt(r["value"]),
                      fmt(rel) + ("x" if rel else ""), fmt(raw)))
    return "\n".join(out)


def has_copy(rows):
    return any(r["backend"] == COPY_BACKEND for r in rows)


_build_before_copy = build
_jobs_before_copy = jobs
_table_before_copy = build_table
_tables_before_copy = generated_tables
_page_before_copy = write_results_md


def build(backend, tree):  # noqa: F811  (extends the builds above)
    _build_before_copy(backend, tree)
    if backend == "stackful":
        run(["cmake", "--build", tree, "--target", "bench_sf_copy_resume"],
            stdout=subprocess.DEVNULL)


def jobs(size, trees):  # noqa: F811
    return _jobs_before_copy(size, trees) + copy_jobs(size, trees)


def build_table(rows):  # noqa: F811  (copy_resume has its own table)
    return _table_before_copy([r for r in rows
                               if r["workload"] != "copy_resume"])


def generated_tables(rows):  # noqa: F811
    tables = _tables_before_copy(rows)
    if has_copy(rows):
        tables.append(copy_table(rows))
    return tables


def write_results_md(path, rows, *args):  # noqa: F811
    _page_before_copy(path, rows, *args)
    if has_copy(rows):
        with open(path, "a") as f:
            f.write("\n## Copy stacks\n\nThe stackful backend with every "
                    "task on its worker's shared run stack (RT_STACK_MODE="
                    "copy), beside its own-stack rows; `copy_resume` is "
                    "`bench/bench_sf_copy_resume.c` (docs/stackful.md):\n\n"
                    + copy_table(rows) + "\n")
# ---- end of the copy stacks' block ----------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true",
                   help="smoke size, under a minute")
    g.add_argument("--full", action="store_true",
                   help="largest parameters and more repetitions")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                    help="where the build trees go (default: build/)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"),
                    help="where the CSV, table and plots go (default: "
                         "bench/results/, ignored by git)")
    ap.add_argument("--update-docs", action="store_true",
                    help="make this run the committed reference: rewrite "
                         "docs/results.csv, docs/results.md, docs/img/ and "
                         "the figures docs/ quotes (default or full size)")
    ap.add_argument("--render-docs", action="store_true",
                    help="run nothing: render the figures docs/ quotes from "
                         "the committed docs/results.csv (after adding a "
                         "reference to a page)")
    args = ap.parse_args(argv)
    if args.render_docs:
        return write_docs(os.path.join(ROOT, "docs", "results.csv"))
    size = "quick" if args.quick else "full" if args.full else "default"
    if args.update_docs and size == "quick":
        ap.error("--update-docs needs the default or full size: the docs "
                 "quote figures that the quick size does not measure")
    start = time.time()
    trees = {b: os.path.join(args.build_dir, "compare-" + b)
             for b in BACKENDS}
    for i, b in enumerate(BACKENDS):
        say("[build %d/2] %s (-DRT_BACKEND=%s) in %s"
            % (i + 1, b, b, trees[b]))
        build(b, trees[b])
    rows, notes = [], []
    todo = jobs(size, trees)
    try:
        for i, (label, cmd) in enumerate(todo):
            say("[%d/%d] %s: %s"
                % (i + 1, len(todo), label,
                   " ".join(os.path.basename(c) if j == 0 else c
                            for j, c in enumerate(cmd))))
            t0 = time.time()
            r, n = run_rows(label, cmd)
            rows += r
            notes += n
            say("        %.1f s" % (time.time() - t0))
        if size != "quick":
            r, n = run_design(trees[BACKENDS[0]],
                              os.path.join(args.build_dir, "compare-plain"))
            rows += r
            notes += n
    except RuntimeError as e:
        say("bench/compare: %s" % e)
        return 1
    import net  # bench/net.py: the HTTP and echo examples, idle connections
    say("[net] http, echo and idle_conn (bench/net.py)")
    t0 = time.time()
    r, n = net.run(size, trees, say)
    rows += r
    notes += n
    say("        %.1f s" % (time.time() - t0))
    notes = list(dict.fromkeys(notes))  # a note that runs repeat, once
    # Figures as the CSV keeps them (six significant digits), so that the
    # tables and the docs render the same from memory and from the file.
    for r in rows:
        for k in ("value", "min", "max"):
            r[k] = float("%.6g" % r[k])
    print(format_table(build_table(rows)))
    print()
    for r in baseline_rows(rows):
        print("baseline %-9s %-10s %-15s %s" % (r["backend"].split(":")[1],
                                                r["param"], r["metric"],
                                                fmt(r["value"])))
    for n in notes:
        print("note: " + n)
    command = "bench/compare" + {"quick": " --quick", "full": " --full",
                                 "default": ""}[size]
    outs = [args.out]
    if args.update_docs:
        outs.append(os.path.join(ROOT, "docs"))
    for out in outs:
        os.makedirs(out, exist_ok=True)
        csv_path = os.path.join(out, "results.csv")
        write_csv(rows, csv_path)
        plots_done = plot(rows, os.path.join(out, "img"))
        write_results_md(os.path.join(out, "results.md"), rows, notes,
                         machine_info(),
                         command + (" --update-docs" if out != args.out
                                    else ""),
                         plots_done, time.time() - start)
    if plots_done is None:
        say("bench/compare: gnuplot not found; no plots")
    if args.update_docs and write_docs(os.path.join(ROOT, "docs",
                                                    "results.csv")) != 0:
        return 1
    say("done in %.0f s" % (time.time() - start))
    print("bench/compare: results in %s/ (results.csv, results.md%s)"
          % (os.path.relpath(args.out, os.getcwd()),
             ", img/" if plots_done else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
