"""Tests of the comparison runner's parsing, table and file output
(bench/compare.py), run by CTest with label `bench`."""
import csv
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "bench"))
import compare  # noqa: E402
import docfigs  # noqa: E402

SAMPLE = """\
# park stackful 1000: 1000 guarded stacks
# park stackful 1000: 1000 guarded stacks
handoff,stackful,1000,ns_per_handoff,40,ns,3,38,45
handoff,stackless,1000,ns_per_handoff,20,ns,3,19,30
handoff,baseline:fcontext,5000,ns_per_handoff,10,ns,3,9,11
park,stackful,1000,bytes_per_task,4300,bytes,3,4200,4400
park,stackless,1000,bytes_per_task,200,bytes,3,190,210
park,stackful,100000,bytes_per_task,4250,bytes,3,4250,4250
park,baseline:pthread,1000,bytes_per_task,8600,bytes,3,8500,8700
spawn,stackless,,ns_per_spawn_join,30,ns,3,29,31
"""


class ParseRows(unittest.TestCase):
    def test_rows_and_notes(self):
        rows, notes = compare.parse_rows(SAMPLE)
        self.assertEqual(len(rows), 8)
        self.assertEqual(notes, ["park stackful 1000: 1000 guarded stacks"])
        self.assertEqual(rows[0]["value"], 40.0)
        self.assertEqual(rows[0]["runs"], 3)
        self.assertEqual(rows[7]["param"], "")

    def test_bad_rows_are_refused(self):
        for bad in ["a,b,c",
                    "handoff,stackful,1e5,ns,1,ns,3,1,1",    # not an integer
                    "handoff,stackful,10,ns,5,ns,3,6,9",     # median < min
                    "handoff,stackful,10,ns,x,ns,3,1,9"]:   # not a number
            with self.assertRaises(ValueError, msg=bad):
                compare.parse_rows(bad)


class Table(unittest.TestCase):
    def setUp(self):
        self.rows, _ = compare.parse_rows(SAMPLE)
        self.table = compare.build_table(self.rows)

    def find(self, w, p):
        return [t for t in self.table if t["workload"] == w and
                t["param"] == p][0]

    def test_ratios_against_the_same_runs_baseline(self):
        h = self.find("handoff", "1000")
        self.assertEqual(h["baseline"], "fcontext")  # any param for handoff
        self.assertAlmostEqual(h["sf_base"], 4.0)
        self.assertAlmostEqual(h["sl_base"], 2.0)
        self.assertAlmostEqual(h["sl_sf"], 0.5)

    def test_park_baseline_needs_the_same_param(self):
        self.assertAlmostEqual(self.find("park", "1000")["sf_base"],
                               4300 / 8600)
        big = self.find("park", "100000")
        self.assertIsNone(big["base"])
        self.assertIsNone(big["sl_sf"])  # no stackless row at 100000

    def test_order_and_baselines_kept_out_of_main_rows(self):
        self.assertEqual([t["workload"] for t in self.table],
                         ["handoff", "spawn", "park", "park"])
        text = compare.format_table(self.table)
        self.assertIn("4.00x", text)
        self.assertNotIn("baseline:fcontext", text)
        md = compare.markdown_table(self.table)
        self.assertEqual(md.count("\n"), len(self.table) + 1)

    def test_csv_has_exactly_the_columns(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "r", "results.csv")
            compare.write_csv(self.rows, path)
            with open(path) as f:
                got = list(csv.reader(f))
        self.assertEqual(got[0], ["workload", "backend", "param", "metric",
                                  "value", "unit", "runs", "min", "max"])
        self.assertEqual(len(got), len(self.rows) + 1)
        self.assertEqual(got[1][:4],
                         ["handoff", "stackful", "1000", "ns_per_handoff"])

    def test_results_page_names_the_command(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.md")
            info = {"cpu": "cpu", "cores": 2, "kernel": "k", "compiler": "cc"}
            compare.write_results_md(path, self.rows, ["n"], info,
                                     "bench/compare --quick", None, 1.0)
            with open(path) as f:
                text = f.read()
        self.assertIn("bench/compare --quick", text)
        self.assertIn("No plots", text)
        self.assertIn("| fcontext |", text)

    def test_design_rows_get_their_own_table(self):
        rows, _ = compare.parse_rows(
            SAMPLE + "sf_switch,design:push_jmp,,ns_per_switch,5.5,ns,9,"
                     "5.4,6.3\n")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.md")
            info = {"cpu": "cpu", "cores": 2, "kernel": "k", "compiler": "cc"}
            compare.write_results_md(path, rows, [], info, "bench/compare",
                                     [], 1.0)
            with open(path) as f:
                text = f.read()
        self.assertIn("| sf_switch | push_jmp | - | ns_per_switch | 5.50 | "
                      "5.40 | 6.30 |", text)
        # Design rows stay out of the side-by-side table.
        self.assertNotIn("push_jmp", compare.markdown_table(
            compare.build_table(rows)))
        for t in compare.generated_tables(rows):
            self.assertIn(t, text)


class Figures(unittest.TestCase):
    """bench/docfigs.py: what --update-docs and --render-docs write into
    the docs, and what the docs test compares."""

    def setUp(self):
        rows, _ = compare.parse_rows(SAMPLE)
        self.rows = {(r["workload"], r["backend"], r["param"], r["metric"]): r
                     for r in rows}

    def test_render_rewrites_numbers_and_keeps_the_rest(self):
        text = ("a 1.0 ns<!--ref handoff,stackful,1000,ns_per_handoff-->, "
                "ratio 9x<!--ref handoff,stackful,1000,ns_per_handoff / "
                "handoff,baseline:fcontext,5000,ns_per_handoff-->, max "
                "1<!--ref handoff,stackful,1000,ns_per_handoff,max--> and "
                "`7 ns<!--ref handoff,stackful,1000,ns_per_handoff-->`\n")
        new, errors = docfigs.render(text, self.rows)
        self.assertEqual(errors, [])
        self.assertEqual(new, text.replace("1.0 ns", "40.0 ns", 1)
                         .replace("9x", "4.00x")
                         .replace(" 1<", " 45.0<"))
        self.assertIn("`7 ns", new)  # code is quoted as it is
        self.assertEqual(docfigs.check(new, self.rows), [])

    def test_check_names_the_line_and_the_figure(self):
        text = "x\n4,301 bytes<!--ref park,stackful,1000,bytes_per_task-->\n"
        probs = docfigs.check(text, self.rows)
        self.assertEqual(len(probs), 1, probs)
        self.assertEqual(probs[0][0], 2)
        self.assertIn("4,301 bytes is 4,300", probs[0][1])

    def test_unknown_rows_are_errors_and_change_nothing(self):
        text = "1 ns<!--ref handoff,stackful,999,ns_per_handoff-->"
        new, errors = docfigs.render(text, self.rows)
        self.assertEqual(new, text)
        self.assertEqual(len(errors), 1)
        self.assertIn("not a row", errors[0][1])

    def test_update_docs_refuses_the_quick_size(self):
        with self.assertRaises(SystemExit):
            compare.main(["--quick", "--update-docs"])


class Plan(unittest.TestCase):
    def test_every_workload_runs_on_both_backends(self):
        trees = {"stackful": "/sf", "stackless": "/sl"}
        for size in compare.SIZES:
            labels = [j[0] for j in compare.jobs(size, trees)]
            for w in compare.WORKLOADS:
                for b in compare.BACKENDS:
                    self.assertIn("%s on %s" % (w, b), labels)
            # Parameters are plain integers (100000, never 1e5).
            for j in compare.jobs(size, trees):
                for a in j[1][1:]:
                    if a[0].isdigit():
                        self.assertTrue(a.isdigit(), a)


if __name__ == "__main__":
    unittest.main()
