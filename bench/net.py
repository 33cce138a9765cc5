"""Network figures for the comparison runner (bench/compare.py): the HTTP
example (examples/http.c) on each backend under wrk, nginx as a reference
in the same run, the system calls (and reads) each server makes per
request, counted with perf's syscall tracepoints when perf can, and the
server's memory per idle keep-alive connection.
Python 3, standard library only.

    run(size, trees, say) -> (rows, notes)

rows use compare.COLUMNS. wrk, nginx and perf are optional: without them
the rows that need them are skipped and a note says so. Run on its own with

    python3 bench/net.py [--quick|--full] BUILD_TREE...

(trees configured from this repository that hold examples/http_stackful
and examples/http_stackless between them, such as bench/compare's
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
SIZES = {
    "quick": {"conns": [100], "seconds": 1, "idle": 2000, "runs": 1},
    "default": {"conns": [100, 1000], "seconds": 3, "idle": 10000,
                "runs": 3},
    "full": {"conns": [100, 1000], "seconds": 10, "idle": 10000, "runs": 5},
}
BODY = "hello\n"
NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
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


def cpu_seconds(pid):
    """user+sys CPU seconds of pid and its children still running."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in server_pids(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(rest[11]) + int(rest[12])) / tick
    return total


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


def start_example(exe, server_cpu):
    proc = subprocess.Popen(pin(server_cpu, [exe, "-p", "0"]),
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
    out = subprocess.run(
        pin(wrk_cpu, ["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds,
                      "--latency", "http://127.0.0.1:%d/" % port]),
        capture_output=True, text=True, timeout=seconds + 60).stdout
    cpu1 = cpu_seconds(pid)
    res = parse_wrk(out)
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


def syscall_point(pid, port, conns, seconds, wrk_cpu):
    """One wrk run with perf counting pid's syscalls (its children too, for
    nginx): returns (syscalls, reads) per request. A run of its own, since
    the tracepoints cost the server CPU time that the timed runs must not
    see. Connection setup is counted too, which is noise beside thousands of
    requests per connection."""
    with tempfile.NamedTemporaryFile("r", suffix=".perf") as tmp:
        perf = subprocess.Popen(
            ["perf", "stat", "-x,", "-o", tmp.name, "-e",
             ",".join([SYSCALL_ALL] + SYSCALL_READS), "-p",
             ",".join(str(p) for p in server_pids(pid))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # perf attaches before the load starts
        try:
            out = subprocess.run(
                pin(wrk_cpu, ["wrk", "-t1", "-c%d" % conns,
                              "-d%ds" % seconds, "--latency",
                              "http://127.0.0.1:%d/" % port]),
                capture_output=True, text=True, timeout=seconds + 60).stdout
        finally:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=15)
        counts = parse_perf(tmp.read())
    reqs = max(parse_wrk(out)["requests"], 1)
    if SYSCALL_ALL not in counts:
        raise RuntimeError("perf counted nothing")
    return (counts[SYSCALL_ALL] / reqs,
            sum(counts.get(e, 0) for e in SYSCALL_READS) / reqs)


def row(workload, backend, param, metric, values, unit):
    """A result row: the median of `values` (one or more runs) with their
    spread."""
    v = sorted(float(x) for x in values)
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return {"workload": workload, "backend": backend, "param": str(param),
            "metric": metric, "value": med, "unit": unit,
            "runs": n, "min": v[0], "max": v[-1]}


def http_rows(backend, results, conns):
    """Rows for one (server, connections) point from its runs."""
    def col(k):
        return [r[k] for r in results]
    return [row("http", backend, conns, "requests_per_s", col("rps"),
                "req/s"),
            row("http", backend, conns, "p50_ms", col("p50"), "ms"),
            row("http", backend, conns, "p99_ms", col("p99"), "ms"),
            row("http", backend, conns, "cpu_us_per_request", col("cpu_us"),
                "us")]


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


def http_points(s, exes, nginx, prefix, server_cpu, wrk_cpu, notes, say):
    """The http rows: every server (each backend's example, and nginx when
    it is installed) is started once, and each run measures them in turn,
    so that a shared host's drift falls on all of them alike rather than
    on whichever was measured last. Returns the rows."""
    servers = []
    rows = []
    perf_note = perf_usable()
    if perf_note is None:
        notes.append("http syscalls_per_request, reads_per_request: one "
                     "more wrk run per server and point (not timed) under "
                     "`perf stat -e %s,%s -p <server pids>`; all syscalls, "
                     "and the reads among them (read, recvfrom, readv), "
                     "over the requests wrk made"
                     % (SYSCALL_ALL, ",".join(SYSCALL_READS)))
    else:
        notes.append("http: no syscalls_per_request rows: " + perf_note)
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
            results = {name: [] for name, _, _ in servers}
            for i in range(s["runs"]):
                say("        http %d connections, run %d of %d: %s"
                    % (c, i + 1, s["runs"],
                       ", ".join(name for name, _, _ in servers)))
                for name, proc, port in servers:
                    res = wrk_point(proc.pid, port, c, s["seconds"], wrk_cpu)
                    settle(proc.pid)
                    if res["errors"] or res["non2xx"]:
                        notes.append("http %s %d: wrk saw %d socket errors, "
                                     "%d non-2xx" % (name, c, res["errors"],
                                                     res["non2xx"]))
                    results[name].append(res)
            for name, _, _ in servers:
                rows += http_rows(name, results[name], c)
            if perf_note is None:
                for name, proc, port in servers:
                    say("        http %d connections, syscalls: %s"
                        % (c, name))
                    calls, reads = syscall_point(proc.pid, port, c,
                                                 min(s["seconds"], 2),
                                                 wrk_cpu)
                    settle(proc.pid)
                    rows.append(row("http", name, c, "syscalls_per_request",
                                    [calls], "calls"))
                    rows.append(row("http", name, c, "reads_per_request",
                                    [reads], "calls"))
    finally:
        for _, proc, _ in servers:
            stop(proc)
    return rows


def start_nginx(prefix, port, server_cpu):
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    user = "user root;" if os.geteuid() == 0 else ""
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(user=user, prefix=prefix, port=port))
    proc = subprocess.Popen(pin(server_cpu, [exe, "-p", prefix, "-c", conf]),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc


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
    its build tree (each holds examples/http_<backend>). Returns (rows,
    notes)."""
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
            "server pinned to CPU %s and wrk to CPU %s, median of %d runs per "
            "point, every server measured in turn within each run; "
            "on 2 cores one wrk thread saturates near the server's speed, so "
            "requests_per_s mostly measures wrk and cpu_us_per_request "
            "(server user+sys CPU time over the run / requests, from "
            "/proc/<pid>/stat) is the figure that compares servers"
            % (s["seconds"], server_cpu, wrk_cpu, s["runs"]))
        if not nginx:
            notes.append("http: nginx is not installed; no baseline:nginx "
                         "rows")
        with tempfile.TemporaryDirectory(prefix="rt-nginx-") as prefix:
            rows += http_points(s, exes, nginx, prefix, server_cpu, wrk_cpu,
                                notes, say)
    for b in BACKENDS:
        say("        idle_conn %s, %d connections x %d"
            % (b, s["idle"], s["runs"]))
        vals = [idle_point(exes[b], s["idle"], say) for _ in range(s["runs"])]
        rows.append(row("idle_conn", b, s["idle"], "bytes_per_conn", vals,
                        "bytes"))
    notes.append("idle_conn: N keep-alive connections that send nothing, "
                 "from a separate client process; server RSS (statm) after "
                 "all are accepted and parked minus before, / N")
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
            if os.path.exists(os.path.join(t, "examples", "http_" + b)):
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
