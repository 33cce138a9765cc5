"""The docs checker itself must catch what it claims to catch: each test
builds a small tree (sources, docs/, a reference CSV) and checks it."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_docs  # noqa: E402

HEAD = "workload,backend,param,metric,value,unit,runs,min,max\n"
CSV = HEAD + ("handoff,stackful,1000,ns_per_handoff,35.9,ns,3,35,37\n"
              "handoff,baseline:fcontext,,ns_per_handoff,5.5,ns,3,5.4,5.6\n"
              "park,stackful,1000,bytes_per_task,4162,bytes,3,4100,4200\n"
              "http,stackful,100,cpu_us_per_request,8.52,us,3,8.4,8.6\n")
SRC = ("struct rt_waker;\n"                       # 1 forward declaration
       "struct rt_waker {\n"                      # 2 definition
       "    int x;\n"                             # 3
       "};\n"                                     # 4
       "static void switch_to(int x);\n"          # 5 prototype in a .c
       "static void switch_to(int x)\n"           # 6 definition
       "{\n"                                      # 7
       "    x++;\n"                               # 8
       "}\n"                                      # 9
       "static void run(void)\n"                  # 10
       "{\n"                                      # 11
       "    switch_to(1);\n"                      # 12 a use
       "}\n")                                     # 13


def tree(files, csv=CSV):
    d = tempfile.mkdtemp()
    files = dict(files)
    if csv is not None:
        files["docs/results.csv"] = csv
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    return d


def results_md():
    """A results page holding the tables that CSV generates."""
    check_docs.load_bench(os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", ".."))
    import compare
    rows, _ = compare.parse_rows("\n".join(CSV.split("\n")[1:]))
    return "# Results\n\n" + "\n\n".join(compare.generated_tables(rows)) + \
        "\n"


def probs(page, extra=None):
    files = {"src/s.c": SRC, "docs/results.md": results_md(),
             "docs/tour.md": page}
    files.update(extra or {})
    return check_docs.check(tree(files))


class Checker(unittest.TestCase):
    def test_good_tree_passes(self):
        page = ("See [`switch_to`](../src/s.c#L6) and the "
                "[call of `switch_to`](../src/s.c#L12): 35.9 ns"
                "<!--ref handoff,stackful,1000,ns_per_handoff-->, "
                "6.53x<!--ref handoff,stackful,1000,ns_per_handoff / "
                "handoff,baseline:fcontext,,ns_per_handoff-->, a 64 KiB"
                "<!--const--> stack, `12 ns` in code.\n"
                "<!-- from: src/s.c -->\n```c\n{\n    x++;\n}\n```\n")
        self.assertEqual(probs(page), [])

    def test_substring_is_not_a_match(self):
        # 5.9 is inside 35.9 in the reference run, yet it is not that
        # figure: unmarked it fails, and marked with the row it is wrong.
        p = probs("It costs 5.9 ns there.\n")
        self.assertTrue(any("figure 5.9 ns has no" in x for x in p), p)
        p = probs("It costs 5.9 ns<!--ref handoff,stackful,1000,"
                  "ns_per_handoff-->.\n")
        self.assertTrue(any("tour.md:1: figure 5.9 ns is 35.9" in x
                            for x in p), p)

    def test_microseconds_and_bytes(self):
        p = probs("CPU 8.52 µs a request, 4,162 B a task.\n")
        self.assertTrue(any("figure 8.52 µs" in x for x in p), p)
        self.assertTrue(any("figure 4,162 B" in x for x in p), p)
        p = probs("CPU 8.61 µs<!--ref http,stackful,100,cpu_us_per_request-->"
                  " and 4,163 B<!--ref park,stackful,1000,"
                  "bytes_per_task-->.\n")
        self.assertTrue(any("8.61 µs is 8.52" in x for x in p), p)
        self.assertTrue(any("4,163 B is 4,162" in x for x in p), p)

    def test_table_cells(self):
        table = ("| what | value | ratio |\n|---|---:|---:|\n"
                 "| handoff | 35.9 | 6.52x |\n")
        p = probs(table)
        self.assertTrue(any("tour.md:3: figure 35.9 has no" in x
                            for x in p), p)
        self.assertTrue(any("figure 6.52x has no" in x for x in p), p)
        ok = ("| what | value |\n|---|---:|\n| 1,000 | 35.9"
              "<!--ref handoff,stackful,1000,ns_per_handoff--> |\n")
        self.assertEqual(probs(ok), [])  # the first column labels rows

    def test_link_to_a_use_or_declaration_is_not_the_definition(self):
        p = probs("[`switch_to`](../src/s.c#L12)\n")
        self.assertTrue(any("not where switch_to is defined (line 6 is)"
                            in x for x in p), p)
        p = probs("[`switch_to`](../src/s.c#L5)\n")
        self.assertTrue(any("line 6 is" in x for x in p), p)
        p = probs("[`struct rt_waker`](../src/s.c#L1)\n")
        self.assertTrue(any("line 2 is" in x for x in p), p)
        p = probs("[the call of `run`](../src/s.c#L12)\n")
        self.assertTrue(any("does not contain run" in x for x in p), p)

    def test_excerpts_and_unknown_rows(self):
        p = probs("<!-- from: src/s.c -->\n```c\n    x--;\n```\n"
                  "```c\nint b;\n```\n1 ns<!--ref no,such,,row-->\n")
        self.assertTrue(any("no longer matches" in x for x in p), p)
        self.assertTrue(any("must be marked" in x for x in p), p)
        self.assertTrue(any("not a row of the reference run" in x
                            for x in p), p)

    def test_results_page_must_hold_the_generated_tables(self):
        p = probs("", {"docs/results.md": results_md().replace("35.9",
                                                               "36.0")})
        self.assertTrue(any("results.md: a table" in x for x in p), p)

    def test_fix_moves_links(self):
        d = tree({"src/s.c": SRC, "docs/results.md": results_md(),
                  "docs/a.md": "[`switch_to`](../src/s.c#L12)\n"})
        check_docs.check(d, fix=True)
        with open(os.path.join(d, "docs/a.md")) as f:
            self.assertIn("#L6)", f.read())
        self.assertEqual(check_docs.check(d), [])


if __name__ == "__main__":
    unittest.main()
