"""The docs checker itself must catch what it claims to catch."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_docs  # noqa: E402


def tree(files):
    d = tempfile.mkdtemp()
    for rel, text in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    return d


SRC = "int a;\nstatic void switch_to(int x)\n{\n    x++;\n}\n"


class Checker(unittest.TestCase):
    def test_good_tree_passes(self):
        d = tree({"src/s.c": SRC,
                  "docs/results.md": "| 37.9 | 4,162 |\n",
                  "docs/tour.md": "See [`switch_to`](../src/s.c#L2): 37.9 ns,"
                                  " 4,162 bytes.\n<!-- from: src/s.c -->\n"
                                  "```c\n{\n    x++;\n}\n```\n"})
        self.assertEqual(check_docs.check(d), [])

    def test_each_kind_of_drift_is_caught(self):
        d = tree({"src/s.c": SRC,
                  "docs/results.md": "| 37.9 |\n",
                  "docs/tour.md": "[`switch_to`](../src/s.c#L4) 12.5 ns\n"
                                  "<!-- from: src/s.c -->\n```c\n    x--;\n```\n"
                                  "```c\nint b;\n```\n"})
        probs = check_docs.check(d)
        self.assertEqual(len(probs), 4, probs)
        self.assertTrue(any("line 2 does" in p for p in probs))
        self.assertTrue(any("no longer matches" in p for p in probs))
        self.assertTrue(any("must be marked" in p for p in probs))
        self.assertTrue(any("12.5" in p for p in probs))

    def test_fix_moves_links(self):
        d = tree({"src/s.c": SRC, "docs/results.md": "",
                  "docs/a.md": "[`switch_to`](../src/s.c#L5)\n"})
        check_docs.check(d, fix=True)
        with open(os.path.join(d, "docs/a.md")) as f:
            self.assertIn("#L2)", f.read())
        self.assertEqual(check_docs.check(d), [])


if __name__ == "__main__":
    unittest.main()
