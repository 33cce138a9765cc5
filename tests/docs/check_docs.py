#!/usr/bin/env python3
"""Keeps docs/ honest. Fails (exit 1, one line per problem, each naming the
file and line) when:

- a ```c block is neither marked `<!-- from: PATH -->` on the line before
  (then its lines must appear, in order and contiguous, in PATH) nor
  `<!-- sketch -->` (an illustration that is not the real code);
- a line link [text](../PATH#LN) is wrong. When the text is a symbol alone
  (`name`, `name()`, `struct name`, `enum name`), line LN must be where the
  symbol is defined: a function's body (or its documented prototype in a
  header), a struct, union or enum with its braces, a macro, a typedef, a
  variable's definition or an enumerator. A text with other words ("the
  spawn of `conn_task`") or a code quote (`a->b = c`) names a use: the line
  must contain it. `--fix` moves each symbol link to the definition;
- a figure in prose or in a table cell is not backed by the committed
  reference run. A figure is a number with a unit (ns, µs, ms, B, bytes,
  KiB, MiB, GiB, x, %) or a bare number in a table cell other than the
  first column. It must be followed by `<!--ref ROW-->` naming the rows of
  docs/results.csv it comes from, and then equal what that row gives
  (bench/docfigs.py), or by `<!--const-->` when it is not a measurement (a
  default, a size the code sets). Code blocks and `code spans` are not
  prose;
- docs/results.md lacks a table that its CSV (docs/results.csv) generates.

Usage: check_docs.py [--fix] [ROOT]
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LINK = re.compile(r"\[([^\]\n]+)\]\((\.\./[^)#\s]+)#L(\d+)\)")
SYMBOL = re.compile(r"^(?:(struct|enum|union)\s+)?([A-Za-z_]\w*)(\(\))?$")
NUMBER = r"(?<![\w.,#/+-])(\d+(?:,\d{3})*(?:\.\d+)?)"
UNIT = r"(?:ns|µs|ms|B|bytes|KiB|MiB|GiB|x|%)"
FIGURE = re.compile(NUMBER + r"(\s?" + UNIT + r")(?![\w])")
BARE = re.compile(r"^\s*(\d[\d,]*(?:\.\d+)?)\s*$")
MARK = re.compile(r"^<!--(ref [^>]*?|const)\s*-->")


def load_bench(root):
    """bench/docfigs.py and bench/compare.py of the tree being checked (or
    of this checkout, when a test tree has none)."""
    for d in (os.path.join(root, "bench"),
              os.path.join(HERE, "..", "..", "bench")):
        if os.path.exists(os.path.join(d, "docfigs.py")):
            sys.path.insert(0, d)
            break
    import docfigs
    import compare
    return docfigs, compare


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


def is_comment(line):
    return line.lstrip().startswith(("*", "/*", "//"))


def ends_in(src, k):
    """'{' or ';', whichever comes first from line k on (after the
    parameter list of a function), or None."""
    depth = 0
    for l in src[k:k + 40]:
        for c in l:
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif depth <= 0 and c in "{;":
                return c
    return None


def defines(kind, name, src, k, header):
    """Whether line k (0-based) of src defines `name`."""
    line = src[k]
    if is_comment(line):
        return False
    n = re.escape(name)
    if kind:
        if not re.match(r"^\s*(typedef\s+)?%s\s+%s\b" % (kind, n), line):
            return False
        rest = line.split(name, 1)[1].strip()
        return rest.startswith("{") or (
            rest == "" and k + 1 < len(src) and
            src[k + 1].strip().startswith("{"))
    if re.match(r"^\s*#\s*define\s+%s\b" % n, line):
        return True
    if re.match(r"^typedef\b.*(\b%s\s*;|\(\s*\*\s*%s\s*\))" % (n, n), line):
        return True
    if re.match(r"^}\s*%s\s*;" % n, line):
        return True
    # A function: the name at file scope, before its parameter list.
    m = re.match(r"^(?:[A-Za-z_][\w\s\*]*[\s\*])?%s\s*\(" % n, line)
    if m and not re.match(r"^\s", line):
        end = ends_in(src, k)
        return end == "{" or (end == ";" and header)
    # A variable at file scope: initialised, or its only declaration.
    if re.match(r"^[A-Za-z_][\w\s\*]*[\s\*]%s\s*(\[[^\]]*\])?\s*=" % n, line):
        return True
    if re.match(r"^[A-Za-z_][\w\s\*]*[\s\*]%s\s*(\[[^\]]*\])?\s*;" % n, line):
        init = re.compile(r"^[A-Za-z_][\w\s\*]*[\s\*]%s\s*(\[[^\]]*\])?\s*="
                          % n)
        return not any(init.match(l) for l in src)
    # An enumerator or a struct field.
    if re.match(r"^\s+%s\s*(=[^=].*)?,?\s*(/\*.*)?$" % n, line):
        return True
    if re.match(r"^\s+[A-Za-z_][\w\s\*]*[\s\*]%s\s*(\[[^\]]*\])?\s*;" % n,
                line):
        return True
    return False


def definition_line(kind, name, src, header):
    """The 1-based line defining `name` in src, or None."""
    for k in range(len(src)):
        if name in src[k] and defines(kind, name, src, k, header):
            return k + 1
    return None


def check_links(name, text, docs, fix, problems):
    """Checks (and with fix, moves) the line links of one page; returns the
    page's text with the links as they should be."""

    def one(mo):
        label, rel, ln = mo.group(1), mo.group(2), int(mo.group(3))
        ln_at = text.count("\n", 0, mo.start()) + 1
        where = "docs/%s:%d" % (name, ln_at)
        src_path = os.path.normpath(os.path.join(docs, rel))
        try:
            with open(src_path) as f:
                src = f.read().split("\n")
        except OSError:
            problems.append("%s: link to missing file %s" % (where, rel))
            return mo.group(0)
        if not 0 < ln <= len(src):
            problems.append("%s: %s has no line %d" % (where, rel, ln))
            return mo.group(0)
        spans = re.findall(r"`([^`]+)`", label)
        sym = SYMBOL.match(spans[0]) if len(spans) == 1 and \
            label.strip() == "`%s`" % spans[0] else None
        if sym:
            kind, ident = sym.group(1), sym.group(2)
            if defines(kind, ident, src, ln - 1, rel.endswith(".h")):
                return mo.group(0)
            best = definition_line(kind, ident, src, rel.endswith(".h"))
            if fix and best:
                return "[%s](%s#L%d)" % (label, rel, best)
            problems.append("%s: [%s](%s#L%d) is not where %s is defined%s"
                            % (where, label, rel, ln, spans[0],
                               " (line %d is)" % best if best
                               else " (no definition found)"))
            return mo.group(0)
        # A use or a quote: the line must contain what the text names.
        for s in spans:
            sym = SYMBOL.match(s)
            want = sym.group(2) if sym else s
            if want not in src[ln - 1]:
                problems.append("%s: [%s](%s#L%d): line %d does not contain "
                                "%s" % (where, label, rel, ln, ln, want))
        return mo.group(0)

    return LINK.sub(one, text)


def prose_lines(text):
    """(line number, line) of the prose of a page: outside fenced blocks,
    with code spans and line links' targets blanked out (so positions in
    the line still hold)."""
    out, fenced = [], False
    for n, line in enumerate(text.split("\n")):
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        line = re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), line)
        line = re.sub(r"\]\([^)]*\)", lambda m: " " * len(m.group(0)), line)
        out.append((n + 1, line))
    return out


def check_figures(name, text, problems):
    """Every figure of a page carries a mark (ref or const)."""
    for n, line in prose_lines(text):
        # Search with the marks blanked (their row names hold numbers);
        # look for the mark after each figure in the line itself.
        search = re.sub(r"<!--.*?-->", lambda m: " " * len(m.group(0)), line)
        spots = [(m.start(), m.end(), m.group(0)) for m in
                 FIGURE.finditer(search)]
        if line.lstrip().startswith("|"):
            pos = line.index("|") + 1
            cells = line.strip().strip("|").split("|")
            for i, cell in enumerate(cells):
                start = pos
                pos += len(cell) + 1
                body = re.sub(r"<!--.*?-->", "", cell)
                m = BARE.match(body)
                if i == 0 or not m:
                    continue
                at = start + cell.index(m.group(1))
                end = at + len(m.group(1))
                if not any(s <= at < e for s, e, _ in spots):
                    spots.append((at, end, m.group(1)))
        for s, e, fig in spots:
            if not MARK.match(line[e:]):
                problems.append("docs/%s:%d: figure %s has no <!--ref ROW--> "
                                "(from docs/results.csv) nor <!--const-->"
                                % (name, n, fig.strip()))


def check(root, fix=False):
    docfigs, compare = load_bench(root)
    docs = os.path.join(root, "docs")
    problems = []
    ref_csv = os.path.join(docs, "results.csv")
    rows = docfigs.load(ref_csv) if os.path.exists(ref_csv) else None
    for name in sorted(os.listdir(docs)):
        if not name.endswith(".md"):
            continue
        path = os.path.join(docs, name)
        with open(path) as f:
            text = f.read()
        lines = text.split("\n")
        for marker, at, code in blocks(lines):
            where = "docs/%s:%d" % (name, at + 1)
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
        new = check_links(name, text, docs, fix, problems)
        if fix and new != text:
            with open(path, "w") as f:
                f.write(new)
        if name == "results.md":
            continue  # written whole by bench/compare, checked below
        check_figures(name, text, problems)
        if rows is None:
            if docfigs.render(text, {})[1]:
                problems.append("docs/%s: quotes the reference run, but "
                                "docs/results.csv is missing" % name)
            continue
        for ln, msg in docfigs.check(text, rows):
            problems.append("docs/%s:%d: %s" % (name, ln, msg))
    if rows is not None:
        with open(ref_csv) as f:
            parsed, _ = compare.parse_rows(
                "\n".join(f.read().split("\n")[1:]))
        try:
            with open(os.path.join(docs, "results.md")) as f:
                page = f.read()
        except OSError:
            page = ""
        for t in compare.generated_tables(parsed):
            if t not in page:
                problems.append("docs/results.md: a table generated from "
                                "docs/results.csv is missing or edited "
                                "(its header: %s)" % t.split("\n")[0])
    return problems


def main(argv):
    fix = "--fix" in argv
    args = [a for a in argv if a != "--fix"]
    root = args[0] if args else os.path.dirname(os.path.dirname(HERE))
    problems = check(root, fix)
    for p in problems:
        print(p)
    print("docs: %d problem%s" % (len(problems), "" if len(problems) == 1
                                  else "s"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
