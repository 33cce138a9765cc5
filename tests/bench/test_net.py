"""Tests of bench/net.py's parsing and row building (label `bench`)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "bench"))
import net  # noqa: E402

WRK = """Running 3s test @ http://127.0.0.1:4321/
  1 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.00us  120.00us   5.01ms   90.00%
    Req/Sec   160.00k     5.00k  170.00k    70.00%
  Latency Distribution
     50%  580.00us
     75%  650.00us
     90%  700.00us
     99%    1.20ms
  480123 requests in 3.00s, 40.00MB read
  Socket errors: connect 0, read 2, write 1, timeout 0
  Non-2xx or 3xx responses: 4
Requests/sec: 160041.00
Transfer/sec:     13.33MB
"""


class ParseWrk(unittest.TestCase):
    def test_fields(self):
        r = net.parse_wrk(WRK)
        self.assertEqual(r["requests"], 480123)
        self.assertAlmostEqual(r["rps"], 160041.0)
        self.assertAlmostEqual(r["p50"], 0.58)
        self.assertAlmostEqual(r["p99"], 1.2)
        self.assertEqual(r["errors"], 3)
        self.assertEqual(r["non2xx"], 4)

    def test_units(self):
        self.assertAlmostEqual(net.to_ms("250us"), 0.25)
        self.assertAlmostEqual(net.to_ms("2.5s"), 2500.0)
        with self.assertRaises(ValueError):
            net.to_ms("fast")


PERF = """# started on Tue Dec  1 20:00:00 2026

324117,,raw_syscalls:sys_enter,3001234567,100.00,,
150044,,syscalls:sys_enter_read,3001234567,100.00,,
<not counted>,,syscalls:sys_enter_recvfrom,0,100.00,,
0,,syscalls:sys_enter_readv,3001234567,100.00,,
"""


class ParsePerf(unittest.TestCase):
    def test_counts(self):
        c = net.parse_perf(PERF)
        self.assertEqual(c["raw_syscalls:sys_enter"], 324117)
        self.assertEqual(c["syscalls:sys_enter_read"], 150044)
        self.assertEqual(c["syscalls:sys_enter_readv"], 0)
        self.assertNotIn("syscalls:sys_enter_recvfrom", c)


class Rows(unittest.TestCase):
    def test_median_and_spread_of_runs(self):
        runs = [{"rps": r, "p50": 1, "p99": p, "cpu_us": c}
                for r, p, c in ((100, 9, 6.0), (300, 3, 5.0), (200, 4, 7.0))]
        rows = {r["metric"]: r for r in net.http_rows("stackful", runs, 100)}
        self.assertEqual(rows["requests_per_s"]["value"], 200.0)
        self.assertEqual(rows["p99_ms"]["value"], 4.0)
        self.assertEqual(rows["p99_ms"]["min"], 3.0)
        self.assertEqual(rows["p99_ms"]["max"], 9.0)
        self.assertEqual(rows["cpu_us_per_request"]["runs"], 3)
        self.assertEqual(rows["p50_ms"]["param"], "100")


class MultiCore(unittest.TestCase):
    """The HTTP example on every core: both designs, both backends, and
    nginx with as many workers."""

    def test_servers_and_their_options(self):
        servers = net.mc_servers(2)
        self.assertEqual(len(servers), 4)
        names = [s[0] for s in servers]
        self.assertEqual(len(set(names)), 4)
        for name, w, args, b in servers:
            self.assertIn(b, net.BACKENDS)
            opt = dict(net.MC_MODES)[w]
            self.assertEqual(args, ["-p", "0", opt, "2"])

    def test_rows_per_design_and_nginx_under_each(self):
        def runs(cpu):
            return [{"rps": 1000, "p50": 1, "p99": 2, "cpu_us": c}
                    for c in cpu]
        results = {name: runs([4.0, 6.0, 5.0])
                   for name, _, _, _ in net.mc_servers(2)}
        results["nginx"] = runs([8.0, 6.0, 10.0])
        rows = net.mc_http_rows(results, 1000, 2)
        got = {(r["workload"], r["backend"], r["metric"]): r for r in rows}
        for w, _ in net.MC_MODES:
            for b in net.BACKENDS + ["baseline:nginx"]:
                self.assertIn((w, b, "cpu_us_per_request"), got)
                self.assertEqual(got[(w, b, "p99_ms")]["param"], "1000")
            for b in net.BACKENDS:
                ratio = got[(w, b, "cpu_vs_nginx")]
                # Round by round: 4/8, 6/6, 5/10; their median.
                self.assertAlmostEqual(ratio["value"], 0.5)
                self.assertAlmostEqual(ratio["max"], 1.0)
            self.assertEqual(got[(w, "baseline:nginx",
                                  "cpu_us_per_request")]["value"], 8.0)
        self.assertEqual(len(rows), 2 * 2 * 5 + 2 * 4)

    def test_without_nginx_no_baseline_rows(self):
        results = {name: [{"rps": 1, "p50": 1, "p99": 1, "cpu_us": 1}]
                   for name, _, _, _ in net.mc_servers(2)}
        rows = net.mc_http_rows(results, 100, 2)
        self.assertFalse([r for r in rows if "nginx" in r["backend"] or
                          r["metric"] == "cpu_vs_nginx"])

    def test_every_size_measures_a_point(self):
        for size, s in net.SIZES.items():
            self.assertGreaterEqual(len(s["mc_conns"]), 1, size)
            self.assertGreaterEqual(s["mc_runs"], 1, size)
        self.assertIn(100, net.SIZES["quick"]["mc_conns"])
        self.assertEqual(net.SIZES["default"]["mc_conns"], [100, 1000])


ECHO = ("echo backend=stackful port=4321\n"
        "round_trips=100000 conns=100 bytes=64 seconds=0.712 "
        "round_trips_per_s=140449 p50_us=690.5 p99_us=1234.0\n")


class Echo(unittest.TestCase):
    def test_parse(self):
        r = net.parse_echo(ECHO)
        self.assertEqual(r["requests"], 100000)
        self.assertAlmostEqual(r["rps"], 140449.0)
        self.assertAlmostEqual(r["p50"], 0.6905)
        self.assertAlmostEqual(r["p99"], 1.234)

    def test_parse_failure_names_the_output(self):
        with self.assertRaises(RuntimeError):
            net.parse_echo("echo: client failed (a connection broke)\n")

    def test_rows(self):
        runs = [{"rps": 1, "p99": 2, "cpu_us": c} for c in (5.0, 4.0, 6.0)]
        rows = {r["metric"]: r for r in net.echo_rows("stackless", runs, 100)}
        self.assertEqual(rows["cpu_us_per_message"]["value"], 5.0)
        self.assertEqual(rows["cpu_us_per_message"]["workload"], "echo")
        self.assertEqual(set(rows), {"round_trips_per_s", "p99_ms",
                                     "cpu_us_per_message"})


class Rounds(unittest.TestCase):
    def test_rotation_puts_each_server_first_once(self):
        servers = [("a", None, 1), ("b", None, 2), ("c", None, 3)]
        firsts = [net.rotated(servers, i)[0][0] for i in range(3)]
        self.assertEqual(sorted(firsts), ["a", "b", "c"])
        self.assertEqual([s[0] for s in net.rotated(servers, 1)],
                         ["b", "c", "a"])

    def test_paired_ratio_is_per_round(self):
        # Each round's drift falls on both: the ratios are steady even
        # though the figures are not.
        mine = [{"cpu_us": v} for v in (8.0, 16.0, 4.0)]
        base = [{"cpu_us": v} for v in (10.0, 20.0, 5.0)]
        r = net.paired_ratio_row("http", "stackful", 100, "cpu_vs_nginx",
                                 mine, base, "cpu_us")
        self.assertAlmostEqual(r["value"], 0.8)
        self.assertAlmostEqual(r["min"], 0.8)
        self.assertAlmostEqual(r["max"], 0.8)
        self.assertEqual(r["runs"], 3)
        self.assertIsNone(net.paired_ratio_row(
            "http", "stackful", 100, "cpu_vs_nginx", mine,
            [{"cpu_us": 0}] * 3, "cpu_us"))

    def test_process_cpu_of_self(self):
        self.assertGreater(net.process_cpu(os.getpid()), 0)


if __name__ == "__main__":
    unittest.main()
