"""Tests of the comparison runner's parsing, table and file output
(bench/compare.py), run by CTest with label `bench`."""
import csv
import os
import shutil
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

    def test_fault_baseline_row_goes_to_the_baseline_table(self):
        rows, _ = compare.parse_rows(
            SAMPLE + "timers,stackful,100000,ns_per_timer,6000,ns,3,5900,6100\n"
            "timers,baseline:fault,100000,ns_per_fault,1900,ns,3,1800,2000\n")
        table = compare.build_table(rows)
        timers = [t for t in table if t["workload"] == "timers"]
        self.assertEqual([t["metric"] for t in timers], ["ns_per_timer"])
        self.assertIsNone(timers[0]["base"])  # another metric: no ratio
        self.assertIn("| fault | 100000 | ns_per_fault | 1,900 | 1,800 | "
                      "2,000 |", compare.baseline_table(rows))
        labels = [j[0] for j in compare.jobs(
            "quick", {"stackful": "sf", "stackless": "sl"})]
        self.assertIn("baseline fault", labels)
        for name in ("sm", "pool", "sm_spawn", "cpus"):
            self.assertIn("baseline " + name, labels)

    def test_cpu_rows_go_to_the_baseline_table(self):
        rows, _ = compare.parse_rows(
            SAMPLE +
            "cpus,baseline:cpu0,50000000,ns_per_handoff,2.4,ns,3,2.3,2.5\n"
            "cpus,baseline:cpu1,50000000,ns_per_handoff,3.7,ns,3,3.6,3.8\n")
        self.assertNotIn("cpus", [t["workload"]
                                  for t in compare.build_table(rows)])
        base = compare.baseline_table(rows)
        self.assertIn("| cpu0 | 50000000 | ns_per_handoff |", base)
        self.assertIn("| cpu1 | 50000000 | ns_per_handoff |", base)

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


MC_SAMPLE = """\
skynet,stackful,workers=1,ns_per_task,300,ns,3,290,310
skynet,stackful,workers=2,ns_per_task,160,ns,3,150,170
skynet,stackless,workers=1,ns_per_task,200,ns,3,190,210
skynet,stackless,workers=2,ns_per_task,250,ns,3,240,260
skynet,stackful,workers=1,bytes_per_task,4000,bytes,3,4000,4000
skynet,stackful,workers=2,bytes_per_task,800,bytes,3,700,900
ping_pong,stackless,workers=2,ns_per_ping,90,ns,3,80,95
ping_pong,stackless,workers=1,ns_per_ping,100,ns,3,100,100
"""


class MultiCore(unittest.TestCase):
    """The rows of the multi-core workloads: param workers=N, a scaling
    column per backend, their jobs and their plot."""

    def setUp(self):
        self.rows, _ = compare.parse_rows(SAMPLE + MC_SAMPLE)
        self.table = compare.build_table(self.rows)

    def find(self, w, p, m):
        return [t for t in self.table if t["workload"] == w and
                t["param"] == p and t["metric"] == m][0]

    def test_workers_params_parse(self):
        rows, _ = compare.parse_rows(MC_SAMPLE)
        self.assertEqual(len(rows), 8)
        self.assertEqual(rows[1]["param"], "workers=2")
        self.assertEqual(rows[1]["value"], 160.0)

    def test_bad_workers_params_are_refused(self):
        for p in ("workers=", "workers=0", "workers=x", "workers=1.5",
                  "workers:2", "threads=2", "workers=2=3"):
            with self.assertRaises(ValueError, msg=p):
                compare.parse_rows("skynet,stackful,%s,ns_per_task,1,ns,1,"
                                   "1,1" % p)

    def test_scaling_is_time_at_one_over_time_at_n(self):
        t = self.find("skynet", "workers=2", "ns_per_task")
        self.assertAlmostEqual(t["sf_scale"], 300 / 160)
        self.assertAlmostEqual(t["sl_scale"], 200 / 250)
        one = self.find("skynet", "workers=1", "ns_per_task")
        self.assertIsNone(one["sf_scale"])
        self.assertIsNone(one["sl_scale"])
        # Not a time: no scaling ratio; a row of another workload: none.
        mem = self.find("skynet", "workers=2", "bytes_per_task")
        self.assertIsNone(mem["sf_scale"])
        self.assertIsNone(self.find("handoff", "1000",
                                    "ns_per_handoff")["sf_scale"])
        # One backend missing: its column is empty, the other's is not.
        pp = self.find("ping_pong", "workers=2", "ns_per_ping")
        self.assertIsNone(pp["sf_scale"])
        self.assertAlmostEqual(pp["sl_scale"], 100 / 90)

    def test_order_and_columns(self):
        names = [(t["workload"], t["param"], t["metric"])
                 for t in self.table]
        # After the one-core workloads, in MC_WORKLOADS order, workers
        # ascending (workers=1 first even when printed after workers=2).
        self.assertLess(names.index(("park", "1000", "bytes_per_task")),
                        names.index(("ping_pong", "workers=1",
                                     "ns_per_ping")))
        self.assertLess(names.index(("ping_pong", "workers=1",
                                     "ns_per_ping")),
                        names.index(("ping_pong", "workers=2",
                                     "ns_per_ping")))
        self.assertLess(names.index(("ping_pong", "workers=2",
                                     "ns_per_ping")),
                        names.index(("skynet", "workers=1", "ns_per_task")))
        text = compare.format_table(self.table)
        self.assertIn("sf 1/N", text)
        self.assertIn("1.88x", text)  # 300 / 160
        md = compare.markdown_table(self.table)
        lines = md.split("\n")
        self.assertEqual(len(lines), len(self.table) + 2)
        cols = len(compare.HEAD)
        for line in lines:
            self.assertEqual(line.count("|"), cols + 1, line)
        row = [l for l in lines if l.startswith("| skynet | workers=2 | "
                                                "ns_per_task")][0]
        self.assertTrue(row.endswith("| 1.88x | 0.80x |"), row)

    def test_docs_reference_a_workers_row_and_a_scaling_ratio(self):
        rows = {(r["workload"], r["backend"], r["param"], r["metric"]): r
                for r in self.rows}
        text = ("160 ns<!--ref skynet,stackful,workers=2,ns_per_task-->, "
                "1.00x<!--ref skynet,stackful,workers=1,ns_per_task / "
                "skynet,stackful,workers=2,ns_per_task-->\n")
        new, errors = docfigs.render(text, rows)
        self.assertEqual(errors, [])
        self.assertIn("160 ns<!--", new)
        self.assertIn("1.88x<!--", new)

    def test_jobs_run_every_workload_at_one_and_every_core(self):
        trees = {"stackful": "/sf", "stackless": "/sl"}
        counts = [str(n) for n in compare.mc_workers()]
        self.assertEqual(counts[0], "1")
        self.assertEqual(int(counts[-1]), os.cpu_count() or 1)
        for size in compare.SIZES:
            jobs = dict(compare.jobs(size, trees))
            for w in compare.MC_WORKLOADS:
                for b in compare.BACKENDS:
                    argv = jobs["%s on %s" % (w, b)]
                    self.assertEqual(argv[0], os.path.join(
                        trees[b], "bench", "bench_" + w))
                    self.assertIn("--size", argv)
                    self.assertEqual(argv[-len(counts):], counts)
        # The quick size runs skynet, smaller than the default size.
        quick = dict(compare.jobs("quick", trees))["skynet on stackful"]
        default = dict(compare.jobs("default", trees))["skynet on stackful"]
        size = lambda a: int(a[a.index("--size") + 1])  # noqa: E731
        self.assertLess(size(quick), size(default))

    def test_results_page_explains_the_columns(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.md")
            info = {"cpu": "cpu", "cores": 2, "kernel": "k", "compiler": "cc"}
            compare.write_results_md(path, self.rows, [], info,
                                     "bench/compare", None, 1.0)
            with open(path) as f:
                text = f.read()
        self.assertIn("`sf 1/N`", text)
        self.assertIn("- `skynet`:", text)
        for t in compare.generated_tables(self.rows):
            self.assertIn(t, text)

    def test_http_on_every_core_has_nginx_as_its_baseline(self):
        rows, _ = compare.parse_rows(
            "http_percore,stackful,100,cpu_us_per_request,6,us,3,5,7\n"
            "http_percore,baseline:nginx,100,cpu_us_per_request,8,us,3,7,9\n"
            "http_steal,stackless,100,cpu_us_per_request,10,us,3,9,11\n"
            "http_steal,baseline:nginx,100,cpu_us_per_request,8,us,3,7,9\n")
        t = {x["workload"]: x for x in compare.build_table(rows)}
        self.assertEqual(t["http_percore"]["baseline"], "nginx")
        self.assertAlmostEqual(t["http_percore"]["sf_base"], 0.75)
        self.assertAlmostEqual(t["http_steal"]["sl_base"], 1.25)
        self.assertEqual(list(t), ["http_steal", "http_percore"])

    @unittest.skipUnless(shutil.which("gnuplot"), "gnuplot not installed")
    def test_workers_plot(self):
        with tempfile.TemporaryDirectory() as d:
            files = compare.plot(self.rows, d)
            self.assertIn(os.path.join(d, "workers.png"), files)
            self.assertGreater(os.path.getsize(files[-1]), 0)


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
