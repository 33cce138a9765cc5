"""Network figures for the comparison runner (bench/compare.py): the HTTP
example (examples/http.c) on each backend under wrk, nginx as a reference
in the same run, the echo example (examples/echo.c) on each backend under
its own load client, the system calls (and reads) each server makes per
request or echoed message, counted with perf's syscall tracepoints when
perf can, the server's memory per idle keep-alive connection, and the HTTP
example on every core in both designs (-w: one scheduler's workers steal
from one another; -s: thread-per-core, one scheduler and one SO_REUSEPORT
socket per thread) against nginx with as many worker processes.
Python 3, standard library only.

    run(size, trees, say) -> (rows, notes)

rows use compare.COLUMNS. wrk, nginx and perf are optional: without them
the rows that need them are skipped and a note says so. Run on its own with

    python3 bench/net.py [--quick|--full] BUILD_TREE...

(trees configured from this repository that hold examples/http_<backend>
and examples/echo_<backend> for both backends between them, such as bench/compare's
build/compare-stackful and build/compare-stackless) to print the rows as
CSV.
"""
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BACKENDS = ["stackful", "stackless"]
# conns: wrk's connection counts; runs: rounds, each measuring every
# server once (on a shared host many short rounds give a steadier median
# than a few long ones); echo: (connections, round trips each) for the
# echo client, echo_runs its rounds; syscall_runs: rounds of the untimed
# runs under perf (how many requests share an epoll wait moves with the
# host's load, so one run can be off); idle_runs: idle_conn repetitions.
# mc_conns, mc_runs, mc_seconds: the multi-core HTTP points (MC_MODES on
# every core and nginx with as many workers), their rounds and run length.
SIZES = {
    "quick": {"conns": [100], "seconds": 1, "idle": 2000, "runs": 3,
              "idle_runs": 1, "echo": [(100, 1000)], "echo_runs": 3,
              "syscall_runs": 1, "mc_conns": [100], "mc_runs": 1,
              "mc_seconds": 1},
    "default": {"conns": [100, 1000], "seconds": 2, "idle": 10000,
                "runs": 7, "idle_runs": 3, "echo": [(100, 2000), (1000, 200)],
                "echo_runs": 5, "syscall_runs": 3, "mc_conns": [100, 1000],
                "mc_runs": 5, "mc_seconds": 2},
    "full": {"conns": [100, 1000], "seconds": 5, "idle": 10000, "runs": 9,
             "idle_runs": 5, "echo": [(100, 10000), (1000, 1000)],
             "echo_runs": 7, "syscall_runs": 3, "mc_conns": [100, 1000],
             "mc_runs": 7, "mc_seconds": 5},
}
# The HTTP example's two designs on every core: workload name, option.
MC_MODES = [("http_steal", "-w"), ("http_percore", "-s")]
ECHO_BYTES = 64
BODY = "hello\n"
NGINX_CONF = """daemon off;
master_process on;
worker_processes {workers};
{user}
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
worker_rlimit_nofile 30000;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type text/plain;
            return 200 "hello\\n";
        }}
    }}
}}
"""


def raise_nofile():
    """Soft RLIMIT_NOFILE up to the hard limit; returns the new soft one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def server_pids(pid):
    """pid and its children still running (nginx's master and worker)."""
    pids = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return pids


def process_cpu(p):
    """CPU seconds (user+sys, all threads) of process p: its CPU-time
    clock, to the nanosecond, where the kernel lets us read another
    process's (clock id MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)), else
    /proc/<pid>/stat in clock ticks (10 ms apiece). None when p is gone."""
    try:
        return time.clock_gettime(((~p) << 3) | 2)
    except (OSError, OverflowError):
        pass
    try:
        with open("/proc/%d/stat" % p) as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """user+sys CPU seconds of pid and its children still running."""
    return sum(c for c in (process_cpu(p) for p in server_pids(pid))
               if c is not None)


def rss_bytes(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_port(port, proc, limit=10.0):
    end = time.time() + limit
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


def pin(cpu, argv):
    """argv pinned to one CPU with taskset when there are two or more."""
    if cpu is None or not shutil.which("taskset"):
        return argv
    return ["taskset", "-c", str(cpu)] + argv


def start_example(exe, server_cpu, args=("-p", "0")):
    """Starts an example server (argv exe + args) and waits until its
    port, from its first line, accepts connections. Returns (proc,
    port)."""
    proc = subprocess.Popen(pin(server_cpu, [exe] + list(args)),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    line = proc.stdout.readline()
    m = re.search(r"port=(\d+)", line)
    if not m:
        proc.kill()
        raise RuntimeError("%s printed %r" % (exe, line))
    port = int(m.group(1))
    wait_port(port, proc)
    return proc, port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if not m:
        raise ValueError("bad latency %r" % text)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" \
        else v


def parse_wrk(out):
    """requests, requests/s, p50 ms, p99 ms and error counts from wrk
    --latency output."""
    res = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    res["requests"] = int(m.group(1))
    res["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s(?:\.0+)?%%\s+(\S+)" % pct, out, re.M)
        res["p" + pct] = to_ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    res["errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    return res


def wrk_point(pid, port, conns, seconds, wrk_cpu):
    """One wrk run against pid's server; returns parse_wrk's dict plus the
    server's CPU microseconds per request."""
    cpu0 = cpu_seconds(pid)
    res = run_wrk(port, conns, seconds, wrk_cpu)
    cpu1 = cpu_seconds(pid)
    res["cpu_us"] = (cpu1 - cpu0) * 1e6 / max(res["requests"], 1)
    return res


# perf's syscall tracepoints (they work where hardware counters do not):
# every syscall, and the ones that read a socket (read(2) for our servers,
# recv, i.e. recvfrom, and readv for nginx).
SYSCALL_ALL = "raw_syscalls:sys_enter"
SYSCALL_READS = ["syscalls:sys_enter_read", "syscalls:sys_enter_recvfrom",
                 "syscalls:sys_enter_readv"]


def perf_usable():
    """None when `perf stat` can count syscall tracepoints here, else why
    not. Installs linux-perf through apt first when it is missing and we
    are root."""
    if not shutil.which("perf") and os.geteuid() == 0 and \
            shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq",
                        "--no-install-recommends", "linux-perf"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if not shutil.which("perf"):
        return "perf is not installed (linux-perf)"
    probe = subprocess.run(
        ["perf", "stat", "-x,", "-e", ",".join([SYSCALL_ALL] + SYSCALL_READS),
         "true"], capture_output=True, text=True)
    if probe.returncode != 0 or "<not supported>" in probe.stderr:
        return "perf cannot count syscall tracepoints here (%s)" % (
            probe.stderr.strip().splitlines() or ["?"])[-1]
    return None


def parse_perf(out):
    """{event: count} from `perf stat -x,` output; an event perf could not
    count is absent."""
    counts = {}
    for line in out.splitlines():
        f = line.split(",")
        if len(f) >= 3 and f[0].strip().isdigit():
            counts[f[2].strip()] = int(f[0])
    return counts


def count_syscalls(pid, load):
    """Runs load() (which returns how many requests or messages it made)
    with perf counting pid's syscalls (its children too, for nginx):
    returns (syscalls, reads) per request. A run of its own, since the
    tracepoints cost the server CPU time that the timed runs must not see.
    Connection setup is counted too, which is noise beside thousands of
    requests per connection."""
    with tempfile.NamedTemporaryFile("r", suffix=".perf") as tmp:
        perf = subprocess.Popen(
            ["perf", "stat", "-x,", "-o", tmp.name, "-e",
             ",".join([SYSCALL_ALL] + SYSCALL_READS), "-p",
             ",".join(str(p) for p in server_pids(pid))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # perf attaches before the load starts
        try:
            reqs = max(load(), 1)
        finally:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=15)
        counts = parse_perf(tmp.read())
    if SYSCALL_ALL not in counts:
        raise RuntimeError("perf counted nothing")
    return (counts[SYSCALL_ALL] / reqs,
            sum(counts.get(e, 0) for e in SYSCALL_READS) / reqs)


def run_wrk(port, conns, seconds, wrk_cpu):
    """One `wrk -t1` run; returns parse_wrk's dict."""
    out = subprocess.run(
        pin(wrk_cpu, ["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds,
                      "--latency", "http://127.0.0.1:%d/" % port]),
        capture_output=True, text=True, timeout=seconds + 60).stdout
    return parse_wrk(out)


def syscall_point(pid, port, conns, seconds, wrk_cpu):
    """count_syscalls over one wrk run: (syscalls, reads) per request."""
    return count_syscalls(
        pid, lambda: run_wrk(port, conns, seconds, wrk_cpu)["requests"])


def row(workload, backend, param, metric, values, unit):
    """A result row: the median of `values` (one or more runs) with their
    spread."""
    v = sorted(float(x) for x in values)
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"workload": workload, "backend": backend, "param": str(param),
            "metric": metric, "value": med, "unit": unit,
            "runs": n, "min": v[0], "max": v[-1]}


def http_rows(backend, results, conns, workload="http"):
    """Rows for one (server, connections) point from its runs."""
    def col(k):
        return [r[k] for r in results]
    return [row(workload, backend, conns, "requests_per_s", col("rps"),
                "req/s"),
            row(workload, backend, conns, "p50_ms", col("p50"), "ms"),
            row(workload, backend, conns, "p99_ms", col("p99"), "ms"),
            row(workload, backend, conns, "cpu_us_per_request",
                col("cpu_us"), "us")]


def settle(pid, limit=2.0):
    """Waits (at most `limit` s) until pid's server has finished with the
    connections of the last run: its CPU time stops growing for 50 ms."""
    end = time.time() + limit
    last = cpu_seconds(pid)
    while time.time() < end:
        time.sleep(0.05)
        now = cpu_seconds(pid)
        if now == last:
            return
        last = now


def rotated(servers, i):
    """servers in the order of round i: each round starts one later, so
    that no server is always measured first (after the others' load) or
    last."""
    k = i % len(servers)
    return servers[k:] + servers[:k]


def rounds(servers, runs, one, label, say):
    """Measures every server once per round, `runs` rounds, in rotated
    order; one(name, proc, port) measures one. Returns {name: [results in
    round order]}, each list as long as `runs`."""
    results = {name: [] for name, _, _ in servers}
    for i in range(runs):
        order = rotated(servers, i)
        say("        %s, round %d of %d: %s" % (label, i + 1, runs,
                                                 ", ".join(n for n, _, _ in
                                                           order)))
        for name, proc, port in order:
            results[name].append(one(name, proc, port))
            settle(proc.pid)
    return results


def paired_ratio_row(workload, backend, param, metric, mine, base, key):
    """A backend's figure over the baseline's in the same round, for each
    round: the median of these ratios is steadier than the ratio of the
    two medians, since a round's drift on a shared host falls on both."""
    ratios = [a[key] / b[key] for a, b in zip(mine, base) if b[key]]
    return row(workload, backend, param, metric, ratios, "x") \
        if ratios else None


def perf_note_for(workload, unit, notes):
    """perf_usable, with the note saying what was counted or why not."""
    perf_note = perf_usable()
    if perf_note is None:
        notes.append("%s syscalls_per_%s, reads_per_%s: more load runs "
                     "per server and point (not timed; rounds like the timed "
                     "ones, the median) under `perf stat -e "
                     "%s,%s -p <server pids>`; all syscalls, and the reads "
                     "among them (read, recvfrom, readv), over the %ss the "
                     "load made" % (workload, unit, unit, SYSCALL_ALL,
                                    ",".join(SYSCALL_READS), unit))
    else:
        notes.append("%s: no syscalls_per_%s or reads_per_%s rows: %s"
                     % (workload, unit, unit, perf_note))
    return perf_note


def http_points(s, exes, nginx, prefix, server_cpu, wrk_cpu, notes, say):
    """The http rows: every server (each backend's example, and nginx when
    it is installed) is started once, warmed up, and each round measures
    them all in turn (rotated), so that a shared host's drift falls on all
    of them alike rather than on whichever was measured last. Returns the
    rows."""
    servers = []
    rows = []
    perf_note = perf_note_for("http", "request", notes)
    try:
        for b in BACKENDS:
            proc, port = start_example(exes[b], server_cpu)
            servers.append((b, proc, port))
        if nginx:
            port = free_port()
            try:
                servers.append(("baseline:nginx",
                                start_nginx(prefix, port, server_cpu), port))
                notes.append("http baseline:nginx: 1 worker (plus its idle "
                             "master), `return 200 \"hello\\n\"`, access "
                             "log off, keepalive_requests 1000000; CPU time "
                             "is master + worker")
            except (OSError, RuntimeError) as e:
                notes.append("http: nginx did not start (%s); no "
                             "baseline:nginx rows" % e)
        for c in s["conns"]:
            for name, proc, port in servers:  # warm-up, not measured
                run_wrk(port, c, 1, wrk_cpu)
                settle(proc.pid)

            def one(name, proc, port):
                res = wrk_point(proc.pid, port, c, s["seconds"], wrk_cpu)
                if res["errors"] or res["non2xx"]:
                    notes.append("http %s %d: wrk saw %d socket errors, "
                                 "%d non-2xx" % (name, c, res["errors"],
                                                 res["non2xx"]))
                return res
            results = rounds(servers, s["runs"], one,
                             "http %d connections" % c, say)
            for name, _, _ in servers:
                rows += http_rows(name, results[name], c)
            if "baseline:nginx" in results:
                for b in BACKENDS:
                    r = paired_ratio_row("http", b, c, "cpu_vs_nginx",
                                         results[b],
                                         results["baseline:nginx"], "cpu_us")
                    if r:
                        rows.append(r)
            if perf_note is None:
                counted = rounds(
                    servers, s["syscall_runs"],
                    lambda name, proc, port: syscall_point(
                        proc.pid, port, c, min(s["seconds"], 2), wrk_cpu),
                    "http %d connections, syscalls" % c, say)
                for name, _, _ in servers:
                    rows.append(row("http", name, c, "syscalls_per_request",
                                    [x[0] for x in counted[name]], "calls"))
                    rows.append(row("http", name, c, "reads_per_request",
                                    [x[1] for x in counted[name]], "calls"))
    finally:
        for _, proc, _ in servers:
            stop(proc)
    return rows


def parse_echo(out):
    """round trips, round trips/s and p50/p99 in ms from the echo client's
    result line."""
    m = re.search(r"round_trips=(\d+) .*round_trips_per_s=([\d.]+) "
                  r"p50_us=([\d.]+) p99_us=([\d.]+)", out)
    if not m:
        raise RuntimeError("the echo client printed %r" % out[-300:])
    return {"requests": int(m.group(1)), "rps": float(m.group(2)),
            "p50": float(m.group(3)) / 1000, "p99": float(m.group(4)) / 1000}


def run_echo_client(client, port, conns, trips, client_cpu):
    """One run of the echo load client: conns connections, `trips` round
    trips of ECHO_BYTES each. Returns parse_echo's dict."""
    res = subprocess.run(
        pin(client_cpu, [client, "client", str(port), str(conns), str(trips),
                         str(ECHO_BYTES)]),
        capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        raise RuntimeError("echo client exited %d: %s"
                           % (res.returncode, res.stderr.strip()[-300:]))
    return parse_echo(res.stdout)


def echo_rows(backend, results, conns):
    def col(k):
        return [r[k] for r in results]
    return [row("echo", backend, conns, "round_trips_per_s", col("rps"),
                "trips/s"),
            row("echo", backend, conns, "p99_ms", col("p99"), "ms"),
            row("echo", backend, conns, "cpu_us_per_message", col("cpu_us"),
                "us")]


def echo_points(s, trees, server_cpu, client_cpu, notes, say):
    """The echo rows: both backends' echo servers, started once, measured
    in rotated rounds like the http servers, all loaded by the same client
    program (the stackful build's echo client, so that the load does not
    change with the server). A message is one round trip: ECHO_BYTES
    written, read back. Returns the rows."""
    client = os.path.join(trees[BACKENDS[0]], "examples",
                          "echo_" + BACKENDS[0])
    perf_note = perf_note_for("echo", "message", notes)
    notes.append("echo: examples/echo.c's server on each backend, loaded by "
                 "`echo_%s client PORT C M %d` (C connections, M round trips "
                 "of %d bytes each; param = C), server pinned to CPU %s and "
                 "the client to CPU %s, median of %d rounds, the order "
                 "rotated; cpu_us_per_message is the server's CPU time over "
                 "the run / round trips" % (BACKENDS[0], ECHO_BYTES,
                                            ECHO_BYTES, server_cpu,
                                            client_cpu, s["echo_runs"]))
    servers, rows = [], []
    try:
        for b in BACKENDS:
            exe = os.path.join(trees[b], "examples", "echo_" + b)
            proc, port = start_example(exe, server_cpu, ("server", "0"))
            servers.append((b, proc, port))
        for conns, trips in s["echo"]:
            for name, proc, port in servers:  # warm-up, not measured
                run_echo_client(client, port, conns, max(trips // 10, 10),
                                client_cpu)
                settle(proc.pid)

            def one(name, proc, port):
                cpu0 = cpu_seconds(proc.pid)
                res = run_echo_client(client, port, conns, trips, client_cpu)
                res["cpu_us"] = (cpu_seconds(proc.pid) - cpu0) * 1e6 / \
                    max(res["requests"], 1)
                return res
            results = rounds(servers, s["echo_runs"], one,
                             "echo %d connections" % conns, say)
            for name, _, _ in servers:
                rows += echo_rows(name, results[name], conns)
            if perf_note is None:
                counted = rounds(
                    servers, s["syscall_runs"],
                    lambda name, proc, port: count_syscalls(
                        proc.pid, lambda: run_echo_client(
                            client, port, conns, trips,
                            client_cpu)["requests"]),
                    "echo %d connections, syscalls" % conns, say)
                for name, _, _ in servers:
                    rows.append(row("echo", name, conns,
                                    "syscalls_per_message",
                                    [x[0] for x in counted[name]], "calls"))
                    rows.append(row("echo", name, conns, "reads_per_message",
                                    [x[1] for x in counted[name]], "calls"))
    finally:
        for _, proc, _ in servers:
            stop(proc)
    return rows


def start_nginx(prefix, port, server_cpu, workers=1):
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    user = "user root;" if os.geteuid() == 0 else ""
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(user=user, prefix=prefix, port=port,
                                  workers=workers))
    proc = subprocess.Popen(pin(server_cpu, [exe, "-p", prefix, "-c", conf]),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc


def mc_servers(cores):
    """(name, workload, argv tail) of every multi-core HTTP server: each
    backend in each design of MC_MODES, on `cores` cores."""
    return [("%s %s" % (b, opt), w, ["-p", "0", opt, str(cores)], b)
            for w, opt in MC_MODES for b in BACKENDS]


def mc_http_rows(results, conns, cores):
    """The rows of one multi-core point from {server name: [results]}:
    each design's rows under its workload, and nginx's under each of them
    (one measurement, so that each design's table line has its baseline),
    with each backend's CPU per request over nginx's, round by round."""
    rows = []
    for name, w, _, b in mc_servers(cores):
        rows += http_rows(b, results[name], conns, w)
        if "nginx" in results:
            r = paired_ratio_row(w, b, conns, "cpu_vs_nginx", results[name],
                                 results["nginx"], "cpu_us")
            if r:
                rows.append(r)
    if "nginx" in results:
        for w, _ in MC_MODES:
            rows += http_rows("baseline:nginx", results["nginx"], conns, w)
    return rows


def mc_http_points(s, exes, nginx, prefix, wrk, notes, say):
    """The HTTP example on every core, both designs and both backends, and
    nginx with one worker process per core: started once each, then
    measured in rotated rounds as http_points does, none of them pinned
    (they use every core, which wrk shares). Returns the rows; none on a
    machine of one core."""
    cores = os.cpu_count() or 1
    if cores < 2:
        notes.append("http_steal, http_percore: skipped, one core")
        return []
    if not wrk:
        return []
    servers, rows = [], []
    try:
        for name, _, args, b in mc_servers(cores):
            proc, port = start_example(exes[b], None, args)
            servers.append((name, proc, port))
        if nginx:
            port = free_port()
            try:
                servers.append(("nginx", start_nginx(prefix, port, None,
                                                     cores), port))
            except (OSError, RuntimeError) as e:
                notes.append("http_steal, http_percore: nginx did not "
                             "start (%s); no baseline:nginx rows" % e)
        for c in s["mc_conns"]:
            for name, proc, port in servers:  # warm-up, not measured
                run_wrk(port, c, 1, None)
                settle(proc.pid)

            def one(name, proc, port):
                res = wrk_point(proc.pid, port, c, s["mc_seconds"], None)
                if res["errors"] or res["non2xx"]:
                    notes.append("%s %d: wrk saw %d socket errors, %d "
                                 "non-2xx" % (name, c, res["errors"],
                                              res["non2xx"]))
                return res
            results = rounds(servers, s["mc_runs"], one,
                             "http on %d cores, %d connections" % (cores, c),
                             say)
            rows += mc_http_rows(results, c, cores)
    finally:
        for _, proc, _ in servers:
            stop(proc)
    notes.append(
        "http_steal and http_percore: examples/http.c on all %d cores, "
        "`-w %d` (http_steal: one scheduler of %d workers that steal "
        "connections from one another, one listening socket) and `-s %d` "
        "(http_percore: %d threads, each its own one-worker scheduler, "
        "reactor and SO_REUSEPORT socket on one port); baseline:nginx with "
        "worker_processes %d (the same runs under both workloads); GET / "
        "under `wrk -t1 -cN -d%ds --latency`, one unmeasured 1 s warm-up "
        "each, the median of %d rounds, every server once per round in "
        "rotated order; nothing pinned: wrk shares the cores with the "
        "server, so requests_per_s measures the machine more than the "
        "server, and cpu_us_per_request (all the server's threads or "
        "processes) is the figure that compares servers"
        % (cores, cores, cores, cores, cores, cores, s["mc_seconds"],
           s["mc_runs"]))
    return rows


def idle_client(port, n):
    """The idle-connection client (a separate process): opens n keep-alive
    connections that send nothing, says "ready", and holds them until its
    stdin closes."""
    raise_nofile()
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        socks.append(s)
    print("ready", flush=True)
    sys.stdin.read()


def idle_point(exe, n, say):
    """RSS growth of the server per parked idle connection, in bytes."""
    proc, port = start_example(exe, None)
    try:
        time.sleep(0.2)  # let the server settle before the baseline
        base_fds, base_rss = fd_count(proc.pid), rss_bytes(proc.pid)
        client = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "idle-client",
             str(port), str(n)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        try:
            if client.stdout.readline().strip() != "ready":
                raise RuntimeError("idle client failed")
            end = time.time() + 60
            while fd_count(proc.pid) < base_fds + n:
                if time.time() > end:
                    raise RuntimeError("server accepted only %d of %d"
                                       % (fd_count(proc.pid) - base_fds, n))
                time.sleep(0.05)
            time.sleep(0.2)  # the last tasks park after their accept
            rss = rss_bytes(proc.pid)
        finally:
            client.stdin.close()
            client.wait()
        return (rss - base_rss) / n
    finally:
        stop(proc)


def run(size, trees, say):
    """Runs the network workloads for compare.py. trees maps a backend to
    its build tree (each holds examples/http_<backend> and
    examples/echo_<backend>). Returns (rows, notes)."""
    s = SIZES[size]
    rows, notes = [], []
    raise_nofile()
    ncpu = os.cpu_count() or 1
    server_cpu, wrk_cpu = (0, 1) if ncpu >= 2 else (None, None)
    exes = {b: os.path.join(trees[b], "examples", "http_" + b)
            for b in BACKENDS}
    wrk = shutil.which("wrk")
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not wrk:
        notes.append("http: wrk is not installed; the http rows are skipped "
                     "(bench/compare installs it when run as root)")
    else:
        notes.append(
            "http: GET / (6-byte body) under `wrk -t1 -cN -d%ds --latency`, "
            "server pinned to CPU %s and wrk to CPU %s, one unmeasured 1 s "
            "warm-up per server and point, then the median of %d rounds "
            "per point, every server measured once in each round, the "
            "order rotated from round to round; cpu_vs_nginx is the median "
            "over the rounds of a backend's CPU per request over nginx's "
            "in the same round; "
            "on 2 cores one wrk thread saturates near the server's speed, so "
            "requests_per_s mostly measures wrk and cpu_us_per_request "
            "(server user+sys CPU time over the run / requests, from the "
            "server process's CPU-time clock) is the figure that compares "
            "servers"
            % (s["seconds"], server_cpu, wrk_cpu, s["runs"]))
        if not nginx:
            notes.append("http: nginx is not installed; no baseline:nginx "
                         "rows")
        load0 = os.getloadavg()[0]
        with tempfile.TemporaryDirectory(prefix="rt-nginx-") as prefix:
            rows += http_points(s, exes, nginx, prefix, server_cpu, wrk_cpu,
                                notes, say)
        with tempfile.TemporaryDirectory(prefix="rt-nginx-") as prefix:
            rows += mc_http_points(s, exes, nginx, prefix, wrk, notes, say)
        notes.append("http: the host's 1-minute load average was %.2f "
                     "before the http rounds and %.2f after (an average over "
                     "the last minute, so the runner's own work counts in it: "
                     "a server and wrk make about 2); other load on a shared "
                     "host widens the spread of every CPU figure"
                     % (load0, os.getloadavg()[0]))
    rows += echo_points(s, trees, server_cpu, wrk_cpu, notes, say)
    for b in BACKENDS:
        say("        idle_conn %s, %d connections x %d"
            % (b, s["idle"], s["idle_runs"]))
        vals = [idle_point(exes[b], s["idle"], say)
                for _ in range(s["idle_runs"])]
        rows.append(row("idle_conn", b, s["idle"], "bytes_per_conn", vals,
                        "bytes"))
    notes.append("idle_conn: N keep-alive connections that send nothing, "
                 "from a separate client process; server RSS (statm) after "
                 "all are accepted and parked minus before, / N, median of "
                 "%d" % s["idle_runs"])
    return rows, notes


def main(argv):
    if len(argv) == 4 and argv[1] == "idle-client":
        idle_client(int(argv[2]), int(argv[3]))
        return 0
    size = "default"
    args = [a for a in argv[1:] if not a.startswith("--")]
    if "--quick" in argv:
        size = "quick"
    elif "--full" in argv:
        size = "full"
    trees = {}
    for b in BACKENDS:
        for t in args:
            if os.path.exists(os.path.join(t, "examples", "http_" + b)) and \
                    os.path.exists(os.path.join(t, "examples", "echo_" + b)):
                trees[b] = os.path.abspath(t)
                break
    if not args or len(trees) != len(BACKENDS):
        print(__doc__, file=sys.stderr)
        return 2
    rows, notes = run(size, trees,
                      lambda m: print(m, file=sys.stderr, flush=True))
    for r in rows:
        print("%s,%s,%s,%s,%.6g,%s,%d,%.6g,%.6g"
              % (r["workload"], r["backend"], r["param"], r["metric"],
                 r["value"], r["unit"], r["runs"], r["min"], r["max"]))
    for n in notes:
        print("# " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
