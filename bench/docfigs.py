"""Figures in docs/ that come from the committed reference run.

A page quotes a measured figure by writing it with a reference after it, an
HTML comment that names the CSV rows it comes from:

    a handoff costs 24.7 ns<!--ref handoff,stackful,10000000,ns_per_handoff-->

A reference is `workload,backend,param,metric` (the first four CSV columns;
an empty param is written as nothing between two commas), optionally
followed by `,min` or `,max` for the spread instead of the median. Two
references joined by ` / `, ` - ` or ` + ` give a ratio, a difference or a
sum. `bench/compare --update-docs` rewrites every referenced figure from the
new run (render); the docs test renders again and fails on any figure that
differs (check), so the prose cannot disagree with docs/results.csv.

Python 3, standard library only; bench/compare.py and
tests/docs/check_docs.py both import it.
"""
import csv
import re

# A number as the docs write it, its optional unit, and its reference.
UNITS = r"(?:ns|µs|us|ms|s|B|KiB|MiB|GiB|bytes|x|%)"
REF = re.compile(r"(?P<num>-?\d+(?:,\d{3})*(?:\.\d+)?)(?P<unit>\s?" + UNITS +
                 r")?<!--ref (?P<expr>[^>]*?)\s*-->")
OPS = {"/": lambda a, b: a / b if b else None,
       "-": lambda a, b: a - b,
       "+": lambda a, b: a + b}


def fmt(v):
    """A figure with three significant digits (thousands with commas), as
    every table of the project prints it; '-' when missing."""
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    if abs(v) >= 10:
        return "{:.1f}".format(v)
    return "{:.2f}".format(v)


def load(path):
    """The rows of a results CSV as a dict keyed by (workload, backend,
    param, metric); values are floats for value/min/max."""
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            for k in ("value", "min", "max"):
                r[k] = float(r[k])
            rows[(r["workload"], r["backend"], r["param"], r["metric"])] = r
    return rows


def lookup(rows, ref):
    """The value one reference names and its unit, or raises KeyError with
    a message that says which part is unknown."""
    parts = [p.strip() for p in ref.split(",")]
    stat = "value"
    if len(parts) == 5 and parts[4] in ("min", "max", "median"):
        stat = {"median": "value"}.get(parts[4], parts[4])
        parts = parts[:4]
    if len(parts) != 4:
        raise KeyError("reference %r is not workload,backend,param,metric"
                       "[,min|max]" % ref)
    row = rows.get(tuple(parts))
    if row is None:
        raise KeyError("reference %r is not a row of the reference run" % ref)
    return row[stat], row["unit"]


def evaluate(rows, expr):
    """The value of a reference expression (one reference, or two joined by
    an operator) and its unit (None for a ratio)."""
    m = re.match(r"^(.*?)\s+([/+-])\s+(.*)$", expr)
    if m:
        (a, unit), (b, _) = lookup(rows, m.group(1)), lookup(rows, m.group(3))
        return OPS[m.group(2)](a, b), None if m.group(2) == "/" else unit
    return lookup(rows, expr)


# Code is quoted as it is: fenced blocks and code spans are not prose.
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def render(text, rows):
    """Rewrites every referenced figure of a page's prose from `rows`.
    Returns (new text, [(line, message)]) where each message names an
    unknown reference."""
    errors = []

    def one(mo, base):
        try:
            v, unit = evaluate(rows, mo.group("expr"))
        except KeyError as e:
            line = text.count("\n", 0, base + mo.start()) + 1
            errors.append((line, str(e.args[0])))
            return mo.group(0)
        # The number opens the match; the unit and the reference stay.
        # Counts are whole numbers.
        num = "{:,.0f}".format(v) if unit == "count" else fmt(v)
        return num + mo.group(0)[len(mo.group("num")):]

    out, at = [], 0
    for code in list(CODE.finditer(text)) + [None]:
        end = code.start() if code else len(text)
        out.append(REF.sub(lambda mo: one(mo, at), text[at:end]))
        if code:
            out.append(code.group(0))
            at = code.end()
    return "".join(out), errors


def check(text, rows):
    """Problems of one page against `rows`: [(line, message)], one for each
    referenced figure that is not what the reference run gives and each
    unknown reference."""
    new, errors = render(text, rows)
    problems = list(errors)
    if new != text:
        # render keeps every reference where it was, so the figures of a
        # changed line pair up in order.
        for n, (a, b) in enumerate(zip(text.split("\n"), new.split("\n"))):
            for old, m in zip(REF.finditer(a), REF.finditer(b)):
                if old.group("num") != m.group("num"):
                    problems.append((n + 1, "figure %s%s is %s in the "
                                     "reference run (%s)"
                                     % (old.group("num"),
                                        m.group("unit") or "",
                                        m.group("num"), m.group("expr"))))
    return problems
