#!/usr/bin/env python3
"""tools/gdb/greenfut.py against tests/gdb/parked.c, on one backend: once
attached to the live process (the script loaded with `source`) and once on
a core file written by gcore (the script found by gdb's auto-load, from the
program's .debug_gdb_scripts section, with only the program's directory
added to the auto-load safe path). Checks that every task is listed with
its wait and the object, fd or time left of it, that `green-thread N` +
`bt` walks the parked thread's own calls (three deep below its task
function), and that `future N` shows the resume point as file:line and the
child chain. With WORKERS 2 the program runs on two workers and one more
task blocks its worker in read(2): that task must be listed running on
the worker the program named, and `info rt` must list both workers, the
blocked one running it.
Exit 0 pass, 1 fail, 77 skip (no gdb/gcore, or ptrace not allowed).
Usage: test_gdb.py PROGRAM BACKEND SCRIPT WORKDIR [WORKERS]"""
import os
import re
import shutil
import subprocess
import sys

prog, backend, script, work = sys.argv[1:5]
workers = int(sys.argv[5]) if len(sys.argv) > 5 else 1
KIND = "green thread" if backend == "stackful" else "task"

# What parked.c says on its "ready" line: name=value pairs.
READY = {}


def waits():
    """The wait each task of tests/parked_tasks.h is parked in, by its
    function, with the object, fd or time left the listing must name."""
    return {"parked_root": "sleep, ", "parked_reader": "read (fd %s)"
            % READY["fd"], "parked_receiver": "channel recv " +
            READY["empty"], "parked_locker": "mutex " + READY["held"],
            "parked_joiner": "join of %s " % KIND,
            "parked_level1": "channel recv " +
            READY["deep"], "parked_sleeper": "sleep, "}


def skip(why):
    print("SKIP: " + why, file=sys.stderr)
    sys.exit(77)


def fail(why, out=""):
    print(out, file=sys.stderr)
    print("FAIL: " + why, file=sys.stderr)
    sys.exit(1)


def gdb(args, cmds, auto=False):
    """gdb -batch running cmds; the script by `source`, or with auto true
    by auto-load alone (the program's directory made safe, nothing
    sourced)."""
    argv = ["gdb", "-nx", "-batch", "-ex", "set pagination off"]
    if auto:
        argv += ["-iex", "add-auto-load-safe-path " +
                 os.path.dirname(os.path.abspath(prog))]
    else:  # the section is not asked for: only `source` loads it
        argv += ["-iex", "set auto-load python-scripts off",
                 "-ex", "source " + script]
    for c in cmds:
        argv += ["-ex", c]
    r = subprocess.run(argv + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    return r.stdout


def line_of(out, fn):
    """The row of the task whose function is fn (an info green-threads row
    is id, name, function; an info futures row id, function), or the first
    line that names fn."""
    for line in out.splitlines():
        if re.match(r"\s+\d+\s+(\S+\s+)?%s\s" % fn, line):
            return line
    for line in out.splitlines():
        if re.search(r"\b%s\b" % fn, line):
            return line
    return None


def check(out, where):
    table = "info green-threads" if backend == "stackful" else "info futures"
    for fn, wait in waits().items():
        line = line_of(out, fn)
        if line is None or wait not in line or "parked" not in line:
            fail("%s (%s): %s is not listed as parked on %s"
                 % (table, where, fn, wait), out)
    if backend == "stackful":
        # The bt after `green-thread <id of parked_level1>`.
        bt = out[out.index("frames from #1 are its own"):]
        want = ["gt__park", "parked_level3", "parked_level2", "parked_level1"]
        at = 0
        for fn in want:
            # An inlined frame has no "0x... in" before its function.
            m = re.search(r"#\d+ +(0x[0-9a-f]+ in )?%s \(" % fn, bt[at:])
            if not m:
                fail("%s: bt of parked_level1's green thread lacks %s"
                     % (where, fn), out)
            at += m.end()
        if "Backtrace stopped" in bt:
            fail("%s: the backtrace stopped early" % where, out)
    else:
        chain = ["#0 parked_level1 at parked_tasks.h:", "#1 parked_level2 at "
                 "parked_tasks.h:", "#2 parked_level3 at parked_tasks.h:"]
        for c in chain:
            if c not in out:
                fail("%s: future's await chain lacks %r" % (where, c), out)
        want = "#2 parked_level3 at parked_tasks.h:%s, awaiting channel " \
            "recv %s" % (READY["deep_line"], READY["deep"])
        if want not in out:
            fail("%s: the await chain lacks %r" % (where, want), out)
    if "Python Exception" in out or "Error occurred in Python" in out:
        fail("%s: a command of the extension failed" % where, out)
    # A join names the task joined.
    if "(parked_sleeper)" not in line_of(out, "parked_joiner"):
        fail("%s: the joiner's wait does not name parked_sleeper" % where,
             out)
    # info rt: the scheduler and each of its workers.
    if (backend == "stackful" or workers > 1) and not re.search(
            r"worker 0 on (thread \d+|no thread now): ", out):
        fail("%s: info rt lists no worker 0" % where, out)
    if workers > 1:
        check_workers(out, where)
    # A sleep names its time left (live) or its deadline (core file).
    line = line_of(out, "parked_sleeper")
    left = " s left" if where == "live" else ", deadline "
    if left not in line:
        fail("%s: the sleeper's wait lacks %r: %s" % (where, left, line), out)


def check_workers(out, where):
    """Two workers: the blocker runs on the one the program named, and
    info rt's line of that worker names it; the other worker is listed."""
    k = int(READY["blocker_worker"])
    line = line_of(out, "parked_blocker")
    want = "running on worker %d" % k
    if line is None or want not in line:
        fail("%s: the blocker is not listed %s: %s" % (where, want, line),
             out)
    bid = int(line.split()[0])
    m = re.search(r"worker %d on thread \d+: running %s %d\b"
                  % (k, KIND, bid), out)
    if not m:
        fail("%s: info rt's worker %d does not run %s %d"
             % (where, k, KIND, bid), out)
    if not re.search(r"worker %d on (thread \d+|no thread now): " % (1 - k),
                     out):
        fail("%s: info rt lists no worker %d" % (where, 1 - k), out)
    if not re.search(r"%d worker\(s\)" % workers, out):
        fail("%s: info rt does not count %d workers" % (where, workers),
             out)


def commands(out_ids):
    if backend == "stackful":
        return ["info green-threads", "green-thread %d" % out_ids, "bt",
                "green-thread", "info rt"]
    return ["info futures", "future %d" % out_ids, "info rt"]


def main():
    if not shutil.which("gdb"):
        skip("gdb is not installed (apt-get install gdb)")
    if not shutil.which("gcore"):
        skip("gcore is not installed (it comes with gdb)")
    env = dict(os.environ, RT_WORKERS=str(workers))
    p = subprocess.Popen([prog], stdout=subprocess.PIPE, text=True, env=env)
    try:
        ready = p.stdout.readline().split()
        if not ready or ready[0] != "ready":
            fail("the program did not get ready")
        READY.update(kv.split("=", 1) for kv in ready[1:])
        probe = gdb(["-p", str(p.pid)], ["info threads"])
        if "ptrace" in probe and "LWP" not in probe:
            skip("ptrace is not allowed here: " + probe.strip()[-200:])
        listing = gdb(["-p", str(p.pid)], [
            "info green-threads" if backend == "stackful" else
            "info futures"])
        line = line_of(listing, "parked_level1")
        if line is None:
            fail("parked_level1 is not listed", listing)
        tid = int(line.split()[0])
        live = gdb(["-p", str(p.pid)], commands(tid))
        print(live)
        check(live, "live")
        core = os.path.join(work, "parked_%s_%d.core" % (backend, workers))
        r = subprocess.run(["gcore", "-o", core, str(p.pid)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60)
        core_file = "%s.%d" % (core, p.pid)
        if not os.path.exists(core_file):
            fail("gcore wrote no core file", r.stdout)
    finally:
        p.kill()
        p.wait()
    dead = gdb([prog, core_file], ["info auto-load python-scripts"] +
               commands(tid), auto=True)
    print(dead)
    if not re.search(r"Yes\s+gdb\.inlined-script\.greenfut", dead):
        fail("core file: gdb did not auto-load the extension", dead)
    check(dead, "core file")
    os.unlink(core_file)


main()
