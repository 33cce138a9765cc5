#!/usr/bin/env python3
"""Keeps docs/ honest. Fails (exit 1, one line per problem) when:

- a ```c block is neither marked `<!-- from: PATH -->` on the line before
  (then its lines must appear, in order and contiguous, in PATH) nor
  `<!-- sketch -->` (an illustration that is not the real code);
- a link of the form [`symbol`](../PATH#LN) points at a line of PATH that
  does not contain `symbol` (run with --fix to move every such link to the
  line where the symbol is defined, or first appears);
- a figure quoted in a page that cites measurements (a number followed by
  ns, bytes or x) does not appear in docs/results.md, the page the
  comparison runner writes.

Usage: check_docs.py [--fix] [ROOT]
"""
import os
import re
import sys

CITING = ["green-threads.md", "concepts.md", "tour.md", "README.md",
          "network.md", "stackful.md", "stackless.md", "architecture.md",
          "portable.md"]
LINK = re.compile(r"\[`([^`]+)`\]\((\.\./[^)#\s]+)#L(\d+)\)")
FIGURE = re.compile(r"(?<![\w.#/-])(\d[\d,]*(?:\.\d+)?)\s?(ns|bytes|x)\b")


def blocks(lines):
    """Yields (marker line, start index, code lines) for ```c blocks."""
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```c":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            marker = lines[i - 1].strip() if i > 0 else ""
            yield marker, i, lines[i + 1:j]
            i = j
        i += 1


def contiguous_in(code, text_lines):
    want = [l.rstrip() for l in code]
    while want and not want[0].strip():
        want.pop(0)
    while want and not want[-1].strip():
        want.pop()
    have = [l.rstrip() for l in text_lines]
    n = len(want)
    return any(have[k:k + n] == want for k in range(len(have) - n + 1))


def symbol_line(symbol, src_lines):
    """The line (1-based) that best defines `symbol`: a definition at the
    start of a line, else a #define, else the first mention."""
    name = symbol.rstrip("()")
    pats = [re.compile(r"^\S.*\b%s\s*\(" % re.escape(name)),
            re.compile(r"^#\s*define\s+%s\b" % re.escape(name)),
            re.compile(r"^(struct|enum|union)\s+%s\b" % re.escape(name)),
            re.compile(r"\b%s\b" % re.escape(name))]
    for p in pats:
        for k, l in enumerate(src_lines):
            if p.search(l) and not l.lstrip().startswith(("*", "/*", "//")):
                return k + 1
    return None


def check(root, fix=False):
    docs = os.path.join(root, "docs")
    problems = []
    try:
        with open(os.path.join(docs, "results.md")) as f:
            results = f.read()
    except OSError:
        results = None
    for name in sorted(os.listdir(docs)):
        if not name.endswith(".md"):
            continue
        path = os.path.join(docs, name)
        with open(path) as f:
            text = f.read()
        lines = text.split("\n")
        for marker, at, code in blocks(lines):
            where = "%s:%d" % (name, at + 1)
            m = re.match(r"<!--\s*from:\s*(\S+)\s*-->", marker)
            if m:
                src = os.path.join(root, m.group(1))
                try:
                    with open(src) as f:
                        src_lines = f.read().split("\n")
                except OSError:
                    problems.append("%s: excerpt source %s is missing"
                                    % (where, m.group(1)))
                    continue
                if not contiguous_in(code, src_lines):
                    problems.append("%s: excerpt no longer matches %s"
                                    % (where, m.group(1)))
            elif "<!-- sketch -->" not in marker:
                problems.append("%s: a C block must be marked "
                                "<!-- from: PATH --> or <!-- sketch -->"
                                % where)

        def relink(mo):
            symbol, rel, ln = mo.group(1), mo.group(2), int(mo.group(3))
            src = os.path.normpath(os.path.join(docs, rel))
            try:
                with open(src) as f:
                    src_lines = f.read().split("\n")
            except OSError:
                problems.append("%s: link to missing file %s" % (name, rel))
                return mo.group(0)
            bare = symbol.rstrip("()")
            if 0 < ln <= len(src_lines) and bare in src_lines[ln - 1]:
                return mo.group(0)
            best = symbol_line(symbol, src_lines)
            if fix and best:
                return "[`%s`](%s#L%d)" % (symbol, rel, best)
            problems.append("%s: [`%s`](%s#L%d) does not point at %s%s"
                            % (name, symbol, rel, ln, bare,
                               " (line %d does)" % best if best else ""))
            return mo.group(0)

        new = LINK.sub(relink, text)
        if fix and new != text:
            with open(path, "w") as f:
                f.write(new)
        if name in CITING and results is not None:
            prose = re.sub(r"```.*?```", "", text, flags=re.S)
            for mo in FIGURE.finditer(prose):
                if mo.group(1) not in results:
                    problems.append("%s: figure %s %s is not in results.md"
                                    % (name, mo.group(1), mo.group(2)))
    return problems


def main(argv):
    fix = "--fix" in argv
    args = [a for a in argv if a != "--fix"]
    root = args[0] if args else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    problems = check(root, fix)
    for p in problems:
        print(p)
    print("docs: %d problem%s" % (len(problems), "" if len(problems) == 1
                                  else "s"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
