# greenfut's gdb extension: lists the parked tasks of both backends and lets
# plain `bt` walk a parked green thread's own stack, live or on a core file.
#
# Invariant: nothing here writes to the inferior (no register or memory
# writes, no calls into it), so every command works the same on a core file.
# A parked green thread is found through its saved fcontext only: the layout
# of what jump_fcontext pushed is read from its own code at first use.
#
# Load it with `source tools/gdb/greenfut.py` (or from the installed share
# directory); docs/debugging.md shows the commands.
import re
import time

import gdb
import gdb.unwinder

STATES = {0: "running", 1: "runnable", 2: "parked", 3: "done", 4: "parking"}
GT_STATE = 7  # gt__thread.state's state bits (8 is NOTIFIED, several workers)
FUT_SPAWNED = 1 << 4
FUT_COMPLETE = 1 << 1
FUT_IN_READY = 1 << 0
FUT_NOTIFIED = 1 << 5
# include/greenfut/rt.h's enum rt__op, in the words of the C dump.
OPS = {"RT__OP_SLEEP": "sleep", "RT__OP_SEND": "channel send",
       "RT__OP_RECV": "channel recv",
       "RT__OP_RECV_UNTIL": "channel recv with deadline",
       "RT__OP_LOCK": "mutex", "RT__OP_SEM": "semaphore",
       "RT__OP_COND": "condition", "RT__OP_WG": "wait group",
       "RT__OP_NOTIFY": "notify", "RT__OP_BLOCKING": "blocking pool",
       "RT__OP_JOIN": "join", "RT__OP_YIELD": "yield", "RT__OP_READ": "read",
       "RT__OP_READ_UNTIL": "read", "RT__OP_WRITE": "write",
       "RT__OP_WRITE_UNTIL": "write",
       "RT__OP_ACCEPT": "accept", "RT__OP_CONNECT": "connect",
       "RT__OP_CHILD": "child", "RT__OP_NONE": None}


def field_offset(type_name, field):
    for f in gdb.lookup_type(type_name).fields():
        if f.name == field:
            return f.bitpos // 8
    raise gdb.GdbError("greenfut: %s has no field %s" % (type_name, field))


def container_of(addr, type_name, field):
    t = gdb.lookup_type(type_name).pointer()
    return gdb.Value(int(addr) - field_offset(type_name, field)).cast(t)


def list_nodes(head):
    """The nodes of the struct rt_list `head` (a value, not a pointer)."""
    end = int(head.address)
    n = head["next"]
    while int(n) != end and int(n) != 0:
        yield n
        n = n["next"]


def name_of(pc):
    pc = int(pc)
    if not pc:
        return "?"
    b = gdb.block_for_pc(pc)
    while b is not None and b.function is None:
        b = b.superblock
    if b is not None:
        return b.function.name
    sym = gdb.execute("info symbol %#x" % pc, to_string=True).split()
    return sym[0] if sym and sym[0] != "No" else "?"


def where(pc):
    """file:line of code address `pc`, or ""."""
    sal = gdb.find_pc_line(int(pc))
    if sal.symtab is None:
        return ""
    return "%s:%d" % (sal.symtab.filename.split("/")[-1], sal.line)


def per_thread(symbol):
    """(OS thread, value) of the thread-local `symbol` where it is set."""
    out = []
    here = gdb.selected_thread()
    try:
        for th in gdb.selected_inferior().threads():
            th.switch()
            try:
                v = gdb.parse_and_eval(symbol)
            except gdb.error:
                continue
            if int(v):
                out.append((th, v))
    finally:
        if here is not None:
            here.switch()
    return out


# ---- the saved fcontext

_layout = None


def fcontext_layout():
    """{register: offset} of what jump_fcontext saves below the saved
    pointer, and "ra" for the return address, read from the instructions
    of the Boost.Context in use (x86-64 SysV: `lea -N(%rsp),%rsp`, then one
    `mov %reg,off(%rsp)` per callee-saved register)."""
    global _layout
    if _layout is not None:
        return _layout
    try:
        text = gdb.execute("x/24i jump_fcontext", to_string=True)
    except gdb.error as e:
        raise gdb.GdbError("greenfut: no jump_fcontext to read (%s)" % e)
    layout = {}
    for line in text.splitlines():
        m = re.search(r"lea\s+-0x([0-9a-f]+)\(%rsp\),%rsp", line)
        if m and "ra" not in layout:
            layout["ra"] = int(m.group(1), 16)
            continue
        m = re.search(r"mov\s+%(r\w+),0x([0-9a-f]+)\(%rsp\)", line)
        if m:
            layout[m.group(1)] = int(m.group(2), 16)
        if re.search(r"mov\s+%rsp,%rax", line):
            break
    need = {"ra", "rbx", "rbp", "r12", "r13", "r14", "r15"}
    if not need <= set(layout):
        raise gdb.GdbError(
            "greenfut: jump_fcontext's layout is not the x86-64 SysV one "
            "this script knows (found %s)" % sorted(layout))
    _layout = layout
    return layout


def read_u64(addr):
    t = gdb.lookup_type("unsigned long").pointer()
    return int(gdb.Value(addr).cast(t).dereference())


class FrameId:
    """What create_unwind_info wants (gdb 14 has gdb.unwinder.FrameId)."""

    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class GreenUnwinder(gdb.unwinder.Unwinder):
    """While a green thread is selected, unwinds the selected OS thread's
    innermost frame into the green thread's saved context: frame #1 onward
    is the parked thread's own stack."""

    def __init__(self):
        super().__init__("greenfut green thread")
        self.ctx = None   # saved fcontext of the selected green thread
        self.os_thread = None
        # (sp, pc) of the OS thread's innermost frame: the one to unwind
        # into the green thread. Its level is 0, or more when gdb shows
        # inlined calls at that pc as frames of their own (a worker
        # stopped in an inlined read(2), say).
        self.first = None

    def __call__(self, pending):
        if self.ctx is None:
            return None
        th = gdb.selected_thread()
        if th is None or th.num != self.os_thread:
            return None
        sp = pending.read_register("rsp")
        pc = pending.read_register("rip")
        if pending.level() > 0 and self.first != (int(sp), int(pc)):
            # make_fcontext's trampoline is the green stack's first frame:
            # end the walk there (caller pc 0) instead of reading past it.
            if not name_of(pc).startswith("make_fcontext"):
                return None
            info = pending.create_unwind_info(FrameId(sp, pc))
            info.add_saved_register("rip", gdb.Value(0).cast(pc.type))
            info.add_saved_register("rsp", sp)
            return info
        lay = fcontext_layout()
        ctx = self.ctx
        # Frame #0's id takes the saved pointer as its stack address: the
        # green stack lies anywhere in memory, and gdb stops a backtrace
        # whose next frame looks inner to this one.
        info = pending.create_unwind_info(
            FrameId(gdb.Value(ctx).cast(sp.type), pc))
        info.add_saved_register(
            "rip", gdb.Value(read_u64(ctx + lay["ra"])).cast(pc.type))
        info.add_saved_register(
            "rsp", gdb.Value(ctx + lay["ra"] + 8).cast(sp.type))
        for r in ("rbx", "rbp", "r12", "r13", "r14", "r15"):
            t = pending.read_register(r).type
            info.add_saved_register(r, gdb.Value(read_u64(ctx + lay[r])).cast(t))
        return info


UNWINDER = GreenUnwinder()
gdb.unwinder.register_unwinder(None, UNWINDER, replace=True)


# ---- what a portable frame waits on (common/dump_internal.h's
# rt__frame_wait, in the same words)

IO_OPS = {"RT__OP_READ", "RT__OP_READ_UNTIL", "RT__OP_WRITE",
          "RT__OP_WRITE_UNTIL", "RT__OP_ACCEPT", "RT__OP_CONNECT"}
OBJ_OPS = {"RT__OP_SEND", "RT__OP_RECV", "RT__OP_RECV_UNTIL", "RT__OP_LOCK",
           "RT__OP_SEM", "RT__OP_COND", "RT__OP_WG", "RT__OP_NOTIFY"}
DEADLINE_MAX = (1 << 64) - 2


def op_names():
    """{value: enumerator name} of enum rt__op."""
    try:
        t = gdb.lookup_type("enum rt__op")
    except gdb.error:
        return {}
    return {int(f.enumval): f.name for f in t.fields()}


def on_core_file():
    try:
        return gdb.selected_inferior().connection.type == "core"
    except AttributeError:
        return False


def time_left(deadline):
    """", 12.3 ms left" for a live process (the host's CLOCK_MONOTONIC is
    the inferior's); on a core file the clock has moved on, so the
    deadline itself."""
    if deadline >= DEADLINE_MAX:
        return ", forever"
    if on_core_file():
        return ", deadline %d ns" % deadline
    now = time.monotonic_ns()
    ms = abs(deadline - now) / 1e6
    unit = "ms"
    if ms >= 10000.0:
        ms, unit = ms / 1000.0, "s"
    if deadline <= now:
        return ", due %.1f %s ago" % (ms, unit)
    return ", %.1f %s left" % (ms, unit)


def joined_task(join):
    """" of task 7 (fn)" for a stackless portable join handle (its j.task,
    alive while the handle holds it), "" when it is not one."""
    try:
        t = join["j"]["task"]
    except gdb.error:
        return ""  # stackful's handle is an id: the thread's `joining` says
    if not int(join) or not int(t):
        return ""
    h = portable_frame(task_future(t))
    return " of task %d (%s)" % (int(t["id"]),
                                 name_of(h["fn"]) if h is not None else "?")


def frame_wait(h):
    """What frame h (innermost) waits on: "channel recv 0x5581c0",
    "read (fd 5)", "sleep, 12.3 ms left"; None when it waits on nothing."""
    op = op_names().get(int(h["op"]), "")
    what = OPS.get(op, op)
    if not what or what == "child":
        return None
    u = h["u"]
    deadline = 0
    if op in IO_OPS:
        what += " (fd %d)" % int(h["obj"].cast(gdb.lookup_type("long")))
    elif op in OBJ_OPS:
        what += " %#x" % int(h["obj"])
    elif op == "RT__OP_BLOCKING":
        what += " %#x" % int(u["job"])
    elif op == "RT__OP_JOIN":
        what += joined_task(u["join"])
    if op in ("RT__OP_SLEEP", "RT__OP_READ_UNTIL", "RT__OP_WRITE_UNTIL"):
        deadline = int(u["sleep"]["deadline"])
    elif op == "RT__OP_RECV_UNTIL" and int(u["chan"]["msg"]):
        t = u["chan"]["msg"].cast(
            gdb.lookup_type("struct rt_timer").pointer()).dereference()
        if int(t["idx"]) != (1 << 64) - 1:  # RT_TIMER_IDLE: not armed
            deadline = int(t["deadline"])
    if deadline:
        what += time_left(deadline)
    return what


# ---- green threads (stackful)

def green_threads():
    """(OS thread, scheduler, [gt__thread *]) for every scheduler."""
    out = []
    try:
        gdb.lookup_type("struct gt__thread")
    except gdb.error:
        return out  # no stackful backend in this program
    seen = set()
    for th, s in per_thread("gt__current_sched"):
        if int(s) in seen:
            continue  # another worker of a scheduler already listed
        seen.add(int(s))
        ts = [container_of(n, "struct gt__thread", "all")
              for n in list_nodes(s["threads"])]
        out.append((th, s, ts))
    return out


def workers_of(s):
    """[(index, OS thread or None, gt__worker)] of stackful scheduler s."""
    where = {int(w): th for th, w in per_thread("gt__cur_worker")}
    return [(i, where.get(int(s["wk"][i].address)), s["wk"][i])
            for i in range(int(s["n"]))]


def thread_state(t, on=None):
    """t's state; given `on` (running_on's map), a thread RUNNING on no
    worker is a yielder queued again (its state stays RUNNING with several
    workers): runnable."""
    st = int(t["state"]) & GT_STATE
    if st == 0 and on is not None and int(t) not in on:
        return 1
    return st


def running_on(s):
    """{green thread address: worker index} of the threads that stackful
    scheduler s's workers run now."""
    out = {}
    for i, _, w in workers_of(s):
        if int(w["current"]) != int(w["main"].address):
            out[int(w["current"])] = i
    return out


def worker_idle(ws, i):
    """What worker i of struct rt_workers *ws does when it runs nothing,
    in the C dump's words (common/workers.h: `turner` holds the index + 1
    of the worker in the reactor's turn)."""
    if not int(ws):
        return "in its loop"
    if int(ws["turner"]) == i + 1:
        return "turning the reactor"
    if int(ws["w"][i]["parked"]):
        return "parked"
    return "in its loop"


def thread_wait(t):
    """The dump's words for what a parked green thread waits on: its
    portable frame's wait when it parked in one, else gt_park's `what`."""
    if thread_state(t) != 2:
        return ""
    if int(t["waiting_frame"]):
        h = t["waiting_frame"].cast(
            gdb.lookup_type("struct rt_frame").pointer())
        while int(h["op"]) == op_value("RT__OP_CHILD") and \
                int(h["u"]["child"]):
            h = h["u"]["child"]
        w = frame_wait(h)
        if w:
            return w
    w = t["waiting"].string() if int(t["waiting"]) else "?"
    if int(t["waiting_fd"]) >= 0:
        w += " (fd %d)" % int(t["waiting_fd"])
    j = t["joining"]
    if int(j):  # gt_join: the thread joined (alive while waited for)
        w += " of green thread %d" % int(j["id"])
        if j["name"].string():
            w += ' "%s"' % j["name"].string()
        w += " (%s)" % name_of(j["entry"])
    if int(t["waiting_deadline"]):  # gt_sleep
        w += time_left(int(t["waiting_deadline"]))
    return w


def op_value(name):
    for v, n in op_names().items():
        if n == name:
            return v
    return -1


def thread_stack(t, on=None):
    """Bytes between the top of the stack and its saved pointer (parked)."""
    top = int(t["stack"]["lo"]) + int(t["stack"]["size"])
    if thread_state(t, on) == 0:
        return None
    return top - int(t["ctx"])


class InfoGreenThreads(gdb.Command):
    """info green-threads: every green thread of every scheduler: id,
    name, function, state, what it waits on, stack bytes in use."""

    def __init__(self):
        super().__init__("info green-threads", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        found = green_threads()
        if not found:
            print("no green-thread scheduler in this process")
            return
        for th, s, ts in found:
            print("scheduler %#x on thread %d (LWP %d): %d live, %d parked"
                  % (int(s), th.num, th.ptid[1], int(s["live"]),
                     int(s["parked"])))
            on = running_on(s)
            print("  %4s %-10s %-20s %-19s %-30s %s" % (
                "id", "name", "function", "state", "waits on", "stack"))
            for t in ts:
                state = STATES.get(thread_state(t, on), "?")
                if int(t) in on and int(s["n"]) > 1:
                    state += " on worker %d" % on[int(t)]
                used = thread_stack(t, on)
                print("  %4d %-10s %-20s %-19s %-30s %s" % (
                    int(t["id"]), t["name"].string() or "-",
                    name_of(t["entry"]), state,
                    thread_wait(t) or "-",
                    "-" if used is None else "%d bytes" % used))


class GreenThread(gdb.Command):
    """green-thread N: makes green thread N the frame source, so bt, frame,
    up/down and info locals show its own stack (from frame #1; frame #0 is
    the OS thread's). green-thread with no argument returns to the OS
    thread."""

    def __init__(self):
        super().__init__("green-thread", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if not arg:
            UNWINDER.ctx = None
            gdb.invalidate_cached_frames()
            print("back to the OS thread's own stack")
            return
        want = int(arg)
        for th, s, ts in green_threads():
            for t in ts:
                if int(t["id"]) != want:
                    continue
                on = running_on(s)
                if thread_state(t, on) == 0:
                    for _, wth, w in workers_of(s):
                        if int(w["current"]) == int(t) and wth is not None:
                            th = wth  # the worker's OS thread runs it
                    UNWINDER.ctx = None
                    th.switch()
                    gdb.invalidate_cached_frames()
                    print("green thread %d is running on thread %d: its "
                          "stack is that thread's" % (want, th.num))
                    return
                fcontext_layout()
                th.switch()
                UNWINDER.ctx = None
                gdb.invalidate_cached_frames()
                f = gdb.newest_frame()
                UNWINDER.first = (int(f.read_register("rsp")), int(f.pc()))
                UNWINDER.ctx = int(t["ctx"])
                UNWINDER.os_thread = th.num
                gdb.invalidate_cached_frames()
                print("green thread %d (%s), %s: frames from #1 are its own"
                      % (want, name_of(t["entry"]),
                         STATES.get(thread_state(t, on), "?")))
                return
        raise gdb.GdbError("no green thread %d" % want)


# ---- futures (stackless)

def frame_ops():
    try:
        t = gdb.lookup_type("enum rt__op")
    except gdb.error:
        return {}
    return {int(f.enumval): OPS.get(f.name, f.name) for f in t.fields()}


def portable_frame(fut):
    """The struct rt_frame * of a portable task's future, or None."""
    try:
        vt = gdb.parse_and_eval("portable_vt").address
    except gdb.error:
        return None
    if int(fut["vt"]) != int(vt):
        return None
    return fut.cast(gdb.lookup_type("struct rt_frame").pointer())


def await_chain(h):
    """[(function, file:line of the resume point, what it waits on)]
    outermost first: the file is the one the await noted when it parked
    (the frame's `file`, __FILE__), the line its state (__LINE__)."""
    ops = frame_ops()
    out = []
    while h is not None and int(h):
        fn = int(h["fn"])
        line = int(h["state"])
        if int(h["file"]):
            f = h["file"].string().split("/")[-1]
        else:  # not parked yet: the function's own file
            sal = gdb.find_pc_line(fn)
            f = sal.symtab.filename.split("/")[-1] if sal.symtab else "?"
        op = ops.get(int(h["op"]), "?")
        if op != "child":
            op = frame_wait(h) or op
        out.append((name_of(fn), "%s:%d" % (f, line) if line else "start",
                    op))
        if op != "child":
            break
        h = h["u"]["child"]
    return out


def executors():
    """(OS thread, struct fut__tasks *, [struct fut__task *]) pending."""
    out = []
    try:
        task_t = gdb.lookup_type("struct fut__task").pointer()
    except gdb.error:
        return out  # no stackless backend in this program
    seen = set()
    for th, ts in per_thread("fut__current"):
        if int(ts) in seen:
            continue  # another worker of an executor already listed
        seen.add(int(ts))
        tasks = []
        for n in list_nodes(ts["slab"]["chunks"]):
            c = container_of(n, "struct fut__chunk", "link")
            base = int(c["data"].address) + int(c["first"])
            for i in range(int(c["used"])):
                t = gdb.Value(base + i * int(c["slot"])).cast(task_t)
                fl = int(t["flags"])
                if fl & (FUT_SPAWNED | FUT_COMPLETE) == FUT_SPAWNED:
                    tasks.append(t)
        tasks.sort(key=lambda t: int(t["id"]))
        out.append((th, ts, tasks))
    return out


def task_future(t):
    fp = gdb.lookup_type("struct fut_future").pointer()
    return t["frame"].address.cast(fp)


def self_workers():
    """{OS thread number: struct rt_worker *} of the threads that are
    workers of a multi-worker scheduler (common/workers.c's self_worker)."""
    try:
        return {th.num: w for th, w in per_thread("self_worker")}
    except gdb.error:
        return {}


def polled_on(ts):
    """{task address: worker index} of the tasks the workers of executor
    ts poll now (each worker thread's fut__polling)."""
    if not int(ts["ws"]):
        return {}
    ws = self_workers()
    out = {}
    for th, t in per_thread("fut__polling"):
        w = ws.get(th.num)
        if w is not None and int(w["ws"]) == int(ts["ws"]):
            out[int(t)] = int(w["index"])
    return out


def task_state(ts, t, on=None):
    """The C dump's state of task t: with workers the IN_READY bit is
    RUNNING (a worker polls it, or it yielded and waits in a queue with
    the bit kept), and `on` says which worker polls it."""
    fl = int(t["flags"])
    if int(ts["ws"]):
        if fl & FUT_IN_READY:
            w = (on or {}).get(int(t))
            if w is None:
                return "running" if on is None else "runnable"
            return "running on worker %d" % w
        return "runnable" if fl & FUT_NOTIFIED else "parked"
    if int(ts["cur"]) == int(t):
        return "running"
    if fl & (FUT_IN_READY | FUT_NOTIFIED):
        return "runnable"
    return "parked"


class InfoFutures(gdb.Command):
    """info futures: every pending task of every stackless executor: id,
    its function, state, resume point (file:line) and what it waits on."""

    def __init__(self):
        super().__init__("info futures", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        found = executors()
        if not found:
            print("no stackless executor in this process")
            return
        for th, ts, tasks in found:
            print("executor tasks %#x on thread %d (LWP %d): %d pending"
                  % (int(ts), th.num, th.ptid[1], int(ts["pending"])))
            on = polled_on(ts)
            print("  %4s %-20s %-19s %-30s %s" % (
                "id", "function", "state", "resumes at", "waits on"))
            for t in tasks:
                fut = task_future(t)
                h = portable_frame(fut)
                if h is None:
                    name = fut["vt"]["name"]
                    print("  %4d %-20s %-19s %-30s %s" % (
                        int(t["id"]), name.string() if int(name) else "?",
                        task_state(ts, t, on), "-", "-"))
                    continue
                chain = await_chain(h)
                fn, at, _ = chain[0]
                wait = chain[-1][2]
                if len(chain) > 1:
                    wait += " (in %s)" % chain[-1][0]
                state = task_state(ts, t, on)
                if state.startswith("running"):
                    at, wait = "-", ""  # its resume point is not written yet
                print("  %4d %-20s %-19s %-30s %s" % (
                    int(t["id"]), fn, state, at, wait or "-"))


def typed_frame(h):
    """The frame as its task function's own struct: the type of the first
    local that points at a struct whose first field is the RT_FRAME `rt`
    (the portable macros' `f`), else the bare struct rt_frame."""
    try:
        block = gdb.block_for_pc(int(h["fn"]))
    except RuntimeError:
        block = None
    while block is not None:
        for sym in block:
            t = sym.type.strip_typedefs() if sym.type else None
            if not sym.is_variable or t is None or t.code != gdb.TYPE_CODE_PTR:
                continue
            target = t.target().strip_typedefs()
            if target.code == gdb.TYPE_CODE_STRUCT and target.fields() and \
                    target.fields()[0].name == "rt":
                return h.cast(t)
        if block.function is not None:
            break
        block = block.superblock
    return h


class Future(gdb.Command):
    """future N: task N's frame (its fields, typed) and its await chain,
    each child frame's function and resume point, innermost last."""

    def __init__(self):
        super().__init__("future", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        want = int(arg)
        for th, ts, tasks in executors():
            for t in tasks:
                if int(t["id"]) != want:
                    continue
                fut = task_future(t)
                h = portable_frame(fut)
                if h is None:
                    print("task %d: native future, vtable %s" %
                          (want, fut["vt"].dereference()))
                    return
                print("task %d (%s), %s" % (want, name_of(h["fn"]),
                                            task_state(ts, t, polled_on(ts))))
                print("frame: %s" % typed_frame(h).dereference())
                print("await chain (innermost last):")
                for i, (fn, at, op) in enumerate(await_chain(h)):
                    print("  #%d %s at %s, awaiting %s" % (i, fn, at, op))
                return
        raise gdb.GdbError("no pending task %d" % want)


class InfoRt(gdb.Command):
    """info rt: the schedulers and executors of the process and each
    one's reactor (registered fds, IO waiters, armed timers, holds)."""

    def __init__(self):
        super().__init__("info rt", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        for th, s, ts in green_threads():
            ws = workers_of(s)
            # One worker counts its runnable threads itself, several in s.
            runnable = int(s["runnable"]) + sum(
                int(w["queued"]) for _, _, w in ws) if len(ws) > 1 else \
                int(ws[0][2]["runnable"])
            print("stackful scheduler %#x: %d worker(s), %d live, %d "
                  "runnable, %d parked, %d switches" % (
                      int(s), len(ws), int(s["live"]), runnable,
                      int(s["parked"]),
                      sum(int(w["switches"]) for _, _, w in ws)))
            for i, wth, w in ws:
                cur = w["current"]
                if int(cur) == int(w["main"].address):
                    doing = worker_idle(s["ws"], i)
                else:
                    name = cur["name"].string()
                    doing = "running green thread %d%s (%s)" % (
                        int(cur["id"]), ' "%s"' % name if name else "",
                        name_of(cur["entry"]))
                print("  worker %d on %s: %s, %d switches" % (
                    i, "thread %d" % wth.num if wth else "no thread now",
                    doing, int(w["switches"])))
            reactor(s["reactor"])
        for th, ts, tasks in executors():
            ws = ts["ws"]
            n = int(ws["n"]) if int(ws) else 1
            print("stackless executor on thread %d: %d worker(s), %d "
                  "pending, %d polls" % (th.num, n, int(ts["pending"]),
                                         int(ts["polls"])))
            if int(ws):
                executor_workers(ts, ws, tasks)
            reactor(ts["reactor"])


def executor_workers(ts, ws, tasks):
    """info rt's line per worker of a multi-worker executor: its OS thread
    and what it does (polling task N, else its idle state)."""
    threads = {int(w): num for num, w in self_workers().items()}
    ids = {int(t): int(t["id"]) for t in tasks}
    polled = {w: t for t, w in polled_on(ts).items()}
    for i in range(int(ws["n"])):
        w = ws["w"][i]
        num = threads.get(int(w.address))
        if i in polled:
            doing = "running task %s" % ids.get(polled[i], "?")
        else:
            doing = worker_idle(ws, i)
        print("  worker %d on %s: %s, %d taken, %d stolen" % (
            i, "thread %d" % num if num is not None else "no thread now",
            doing, int(w["taken"]), int(w["stolen"])))


def waker_of(w):
    """Who a stored waker wakes: a green thread's or a task's id, or -."""
    if not int(w["vt"]):
        return "-"
    for kind, vt, typ in (("green thread", "waker_vt", "struct gt__thread"),
                          ("green thread", "waker_vt_mt", "struct gt__thread"),
                          ("task", "fut__task_waker_vt", "struct fut__task"),
                          ("task", "fut__task_waker_vt_mt",
                           "struct fut__task")):
        try:
            if int(w["vt"]) == int(gdb.parse_and_eval("&" + vt)):
                t = w["data"].cast(gdb.lookup_type(typ).pointer())
                return "%s %d" % (kind, int(t["id"]))
        except gdb.error:
            continue
    return "waker %s" % w["vt"]


def reactor(r):
    try:
        r = r.dereference()
        print("  reactor %#x: %d fds registered, %d IO waiters, %d timers "
              "armed, %d holds, %d turns" % (
                  int(r.address), int(r["fds"]), int(r["io_waiters"]),
                  int(r["timers"]["len"]), int(r["holds"]), int(r["turns"])))
        for fd in range(int(r["io_cap"])):
            io = r["io"][fd]
            if int(io["registered"]):
                print("    fd %d: ready bits %#x, reader %s, writer %s" % (
                    fd, int(io["ready"]), waker_of(io["rd"]),
                    waker_of(io["wr"])))
    except gdb.error as e:
        print("  reactor: %s" % e)


InfoGreenThreads()
GreenThread()
InfoFutures()
Future()
InfoRt()
