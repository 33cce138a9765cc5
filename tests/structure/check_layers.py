#!/usr/bin/env python3
"""Keeps the source folders' dependencies one way. Fails (exit 1, one line
per problem, naming the file, the include and the edge) when:

- a .c file of a folder includes, through a `#include "..."` of its folder,
  the header of a module that the folder's order puts above it (a back
  edge): each folder with an order below lists its modules top first, a
  module may include only its own headers and those of modules after it,
  and every .c file of such a folder must have a place in the order;
- the include graph between a folder's modules has a cycle (every folder,
  with or without an order: two .c files that need each other are one
  concept or a missing third);
- a file of common/ includes a header of stackful/ or stackless/ (common
  never depends on a backend), except common/rt.h, the portable header,
  whose job is to include the backend RT_BACKEND selects.

A header belongs to the module named in the folder's HEADERS table, else to
module X when it is X.h or X_internal.h and X.c exists; other headers (the
public umbrella headers, such as stackless/task.h, which declares the API of
several modules at once) carry no edge. Public headers are checked as much
as their implementations need: a header's own includes count for the module
that owns it.

Usage: check_layers.py [ROOT]
"""
import os
import re
import sys

# The allowed order per folder, top (may include anything below) first.
ORDER = {
    "stackless": ["portable", "combinators", "leaf", "executor", "join",
                  "task", "slab"],
}

# Headers whose module is not their stem.
HEADERS = {
    "stackless": {
        "wait_note.h": "task",  # the note is the task's (task.c defines it)
        "rt_stackless.h": "portable",
        "task.h": None,  # the public API of executor, join and task together
        "future.h": None,  # the future contract: no implementation module
    },
}

# Folders whose include graph is checked for cycles.
FOLDERS = ["common", "stackful", "stackless"]

BACKENDS = ["stackful", "stackless"]

# common/ files that include a backend header by design.
COMMON_SELECTS_BACKEND = {"rt.h"}

# The public headers (include/greenfut/) that a backend implements; every
# other public header is common/'s.
PUBLIC_OF = {
    "stackful": {"gt.h", "rt_stackful.h"},
    "stackless": {"future.h", "task.h", "leaf.h", "combinators.h",
                  "rt_stackless.h"},
}
PUBLIC_DIR = os.path.join("include", "greenfut")

INCLUDE = re.compile(r'^\s*#\s*include\s+(?:"([^"]+)"|<greenfut/([^>]+)>)',
                     re.M)


def includes(path):
    """The headers a file includes by name: "x.h" and <greenfut/x.h>."""
    with open(path, encoding="utf-8") as f:
        return [a or b for a, b in INCLUDE.findall(f.read())]


def public_headers(root, folder):
    """{name: path} of the public headers that belong to `folder`."""
    d = os.path.join(root, PUBLIC_DIR)
    if not os.path.isdir(d):
        return {}
    names = [n for n in os.listdir(d) if n.endswith(".h")]
    if folder in PUBLIC_OF:
        names = [n for n in names if n in PUBLIC_OF[folder]]
    else:
        every = set().union(*PUBLIC_OF.values())
        names = [n for n in names if n not in every]
    return {n: os.path.join(d, n) for n in names}


def folder_files(root, folder):
    """{name: path} of a folder's files and its public headers."""
    d = os.path.join(root, folder)
    out = public_headers(root, folder) if folder in FOLDERS else {}
    if os.path.isdir(d):
        out.update({n: os.path.join(d, n) for n in os.listdir(d)})
    return out


def module_of(folder, files, header):
    """The module a header of `folder` belongs to, or None."""
    table = HEADERS.get(folder, {})
    if header in table:
        return table[header]
    stem = header[:-2] if header.endswith(".h") else header
    if stem.endswith("_internal"):
        stem = stem[: -len("_internal")]
    return stem if stem + ".c" in files else None


def edges(root, folder):
    """{(from_module, to_module): (file, header)} for one folder."""
    paths = folder_files(root, folder)
    files = set(paths)
    out = {}
    for name in sorted(files):
        if name.endswith(".c"):
            src = name[:-2]
        elif name.endswith(".h"):
            src = module_of(folder, files, name)
            if src is None:
                continue
        else:
            continue
        for inc in includes(paths[name]):
            if inc not in files:
                continue
            dst = module_of(folder, files, inc)
            if dst is None or dst == src:
                continue
            out.setdefault((src, dst), (os.path.relpath(paths[name], root),
                                        inc))
    return out


def back_edges(folder, graph):
    order = ORDER.get(folder)
    if not order:
        return []
    rank = {m: i for i, m in enumerate(order)}
    bad = []
    for (a, b), (path, inc) in sorted(graph.items()):
        if a in rank and b in rank and rank[b] < rank[a]:
            bad.append(f'{path}: includes "{inc}": back edge {a} -> {b} '
                       f'(allowed order: {" -> ".join(order)})')
    return bad


def unordered(root, folder):
    """The .c files of an ordered folder whose module has no place in it."""
    order = ORDER.get(folder)
    d = os.path.join(root, folder)
    if not order or not os.path.isdir(d):
        return []
    return [f"{folder}/{n}: module {n[:-2]} is not in the order of "
            f"{folder}/ (add it to ORDER in {os.path.basename(__file__)})"
            for n in sorted(os.listdir(d))
            if n.endswith(".c") and n[:-2] not in order]


def cycles(folder, graph):
    nexts = {}
    for a, b in graph:
        nexts.setdefault(a, []).append(b)
    bad, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(nexts.get(m, [])):
            if state.get(n) == 1:
                loop = stack[stack.index(n):] + [n]
                path, inc = graph[(m, n)]
                bad.append(f'{path}: includes "{inc}": cycle '
                           f'{" -> ".join(loop)} in {folder}/')
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(nexts):
        if m not in state:
            visit(m)
    return bad


def common_clean(root):
    backend_headers = set()
    for b in BACKENDS:
        backend_headers |= {n for n in folder_files(root, b)
                            if n.endswith(".h")}
    paths = folder_files(root, "common")
    bad = []
    for name in sorted(paths):
        if not name.endswith((".c", ".h")) or name in COMMON_SELECTS_BACKEND:
            continue
        for inc in includes(paths[name]):
            base = os.path.basename(inc)
            if inc not in paths and (base in backend_headers or
                                     inc.split("/")[0] in BACKENDS):
                bad.append(f'{os.path.relpath(paths[name], root)}: includes '
                           f'"{inc}", a backend header (common never depends '
                           "on a backend)")
    return bad


def check(root):
    bad = common_clean(root)
    for folder in FOLDERS:
        graph = edges(root, folder)
        bad += unordered(root, folder)
        bad += back_edges(folder, graph)
        bad += cycles(folder, graph)
    return bad


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    bad = check(root)
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
