#!/usr/bin/env python3
"""tools/gdb/greenfut.py against tests/gdb/parked.c, on one backend: once
attached to the live process and once on a core file written by gcore.
Checks that every task is listed with its wait, that `green-thread N` + `bt`
walks the parked thread's own calls (three deep below its task function),
and that `future N` shows the resume line and the child chain.
Exit 0 pass, 1 fail, 77 skip (no gdb/gcore, or ptrace not allowed).
Usage: test_gdb.py PROGRAM BACKEND SCRIPT WORKDIR"""
import os
import re
import shutil
import subprocess
import sys

prog, backend, script, work = sys.argv[1:5]

# The wait each task of parked.c is parked in, by its function.
WAITS = {"parked_root": "sleep", "parked_reader": "read",
         "parked_receiver": "channel recv", "parked_locker": "mutex",
         "parked_joiner": "join", "parked_level1": "channel recv",
         "parked_sleeper": "sleep"}


def skip(why):
    print("SKIP: " + why, file=sys.stderr)
    sys.exit(77)


def fail(why, out=""):
    print(out, file=sys.stderr)
    print("FAIL: " + why, file=sys.stderr)
    sys.exit(1)


def gdb(args, cmds):
    argv = ["gdb", "-nx", "-batch", "-ex", "set pagination off",
            "-ex", "source " + script]
    for c in cmds:
        argv += ["-ex", c]
    r = subprocess.run(argv + args, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    return r.stdout


def line_of(out, fn):
    for line in out.splitlines():
        if re.search(r"\b%s\b" % fn, line):
            return line
    return None


def check(out, where):
    table = "info green-threads" if backend == "stackful" else "info futures"
    for fn, wait in WAITS.items():
        line = line_of(out, fn)
        if line is None or wait not in line or "parked" not in line:
            fail("%s (%s): %s is not listed as parked on %s"
                 % (table, where, fn, wait), out)
    if backend == "stackful":
        # The bt after `green-thread <id of parked_level1>`.
        bt = out[out.index("frames from #1 are its own"):]
        want = ["gt_park", "parked_level3", "parked_level2", "parked_level1"]
        at = 0
        for fn in want:
            m = re.search(r"#\d+ .* in %s \(" % fn, bt[at:])
            if not m:
                fail("%s: bt of parked_level1's green thread lacks %s"
                     % (where, fn), out)
            at += m.end()
        if "Backtrace stopped" in bt:
            fail("%s: the backtrace stopped early" % where, out)
    else:
        chain = ["#0 parked_level1 at parked.c:", "#1 parked_level2 at "
                 "parked.c:", "#2 parked_level3 at parked.c:"]
        for c in chain:
            if c not in out:
                fail("%s: future's await chain lacks %r" % (where, c), out)
        m = re.search(r"#2 parked_level3 at parked\.c:(\d+), awaiting "
                      r"channel recv", out)
        src = open(os.path.join(os.path.dirname(__file__), "parked.c")).read()
        deep = 1 + src[:src.index("/* gdb: the deep await */")].count("\n")
        if not m or int(m.group(1)) != deep:
            fail("%s: the resume line of parked_level3 is not %d"
                 % (where, deep), out)


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
    p = subprocess.Popen([prog], stdout=subprocess.PIPE, text=True)
    try:
        if p.stdout.readline().strip() != "ready":
            fail("the program did not get ready")
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
        core = os.path.join(work, "parked_%s.core" % backend)
        r = subprocess.run(["gcore", "-o", core, str(p.pid)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=60)
        core_file = "%s.%d" % (core, p.pid)
        if not os.path.exists(core_file):
            fail("gcore wrote no core file", r.stdout)
    finally:
        p.kill()
        p.wait()
    dead = gdb([prog, core_file], commands(tid))
    print(dead)
    check(dead, "core file")
    os.unlink(core_file)


main()
