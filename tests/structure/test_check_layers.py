#!/usr/bin/env python3
"""Self-test of check_layers.py: a tiny tree that follows the order passes;
a back edge, a cycle and a backend header in common/ each fail, naming the
file and the edge."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_layers  # noqa: E402


def tree(files):
    root = tempfile.mkdtemp(prefix="check_layers.")
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
    return root


GOOD = {
    "common/reactor.h": "",
    "common/reactor.c": '#include "reactor.h"\n',
    "common/rt.h": '#include "rt_stackless.h"\n',  # selects the backend
    "stackless/slab.h": "",
    "stackless/slab.c": '#include "slab.h"\n',
    "stackless/task_internal.h": '#include "slab.h"\n',
    "stackless/task.c": '#include "task.h"\n#include "task_internal.h"\n',
    "stackless/task.h": "",
    "stackless/executor.c": '#include "task_internal.h"\n',
    "stackless/rt_stackless.h": '#include "task.h"\n',
    "stackful/sched.c": '#include "gt.h"\n',
    "stackful/gt.h": "",
}


def problems(extra):
    files = dict(GOOD)
    files.update(extra)
    root = tree(files)
    try:
        return check_layers.check(root)
    finally:
        shutil.rmtree(root)


def expect(extra, *words):
    bad = problems(extra)
    assert bad, f"no problem reported for {extra}"
    assert any(all(w in line for w in words) for line in bad), bad


def main():
    assert problems({}) == [], problems({})
    # A lower module includes a higher one's header.
    expect({"stackless/slab.c": '#include "slab.h"\n#include "task_internal.h"\n'},
           "stackless/slab.c", "back edge slab -> task")
    # Two modules of a folder without an order need each other.
    expect({"common/timer.h": "",
            "common/timer.c": '#include "reactor.h"\n',
            "common/reactor.c": '#include "timer.h"\n'},
           "cycle", "common/")
    # common/ includes a backend header.
    expect({"common/reactor.c": '#include "gt.h"\n'},
           "common/reactor.c", "backend header")
    # A public header counts for the backend that implements it.
    expect({"include/greenfut/leaf.h": "",
            "stackless/leaf.c": '#include <greenfut/leaf.h>\n',
            "stackless/executor.c": '#include <greenfut/leaf.h>\n'},
           "stackless/executor.c", "back edge executor -> leaf")
    expect({"include/greenfut/gt.h": "",
            "common/reactor.c": '#include <greenfut/gt.h>\n'},
           "common/reactor.c", "backend header")
    # A module missing from the order is named.
    expect({"stackless/extra.c": '#include "task_internal.h"\n'},
           "stackless/extra.c", "not in the order")
    print("check_layers self-test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
