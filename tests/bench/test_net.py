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


if __name__ == "__main__":
    unittest.main()
