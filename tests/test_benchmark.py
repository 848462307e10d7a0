"""The benchmark's suites pass on the installed SQLAlchemy: a suite that fails would time (or
count) a test that does not do the work the table says it does."""

import importlib.util
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import sqlalchemy

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("asyncsessiontest_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BenchmarkSuitesTest(unittest.TestCase):
    def test_every_suite_passes(self):
        benchmark = _load_benchmark()
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary)
            benchmark.write_suites(directory, count=2)
            for name in benchmark.SUITES:
                with self.subTest(suite=name):
                    if name in benchmark.NEEDS_SQLALCHEMY_2 and sqlalchemy.__version__.startswith("1."):
                        self.skipTest(f"suite {name} is written for SQLAlchemy 2.0+")
                    try:
                        figures = benchmark.run_suite(directory, name)
                    except subprocess.CalledProcessError as error:
                        # the suite's runner exits with its first failure
                        self.fail(f"suite {name} failed:\n{error.stderr}")
                    self.assertGreater(figures["per_test"], 0)


class BenchmarkRefusalsTest(unittest.TestCase):
    def test_sqlalchemy_1_is_refused_saying_why(self):
        benchmark = _load_benchmark()
        with self.assertRaises(SystemExit) as caught:
            benchmark.refuse_sqlalchemy_1("1.4.54")
        self.assertEqual(
            str(caught.exception),
            "the benchmark needs SQLAlchemy 2.0 or later, found 1.4.54: its rollback_recipe "
            "suite uses join_transaction_mode",
        )
        benchmark.refuse_sqlalchemy_1("2.0.58")  # and 2.0 is not

    def test_counting_instructions_without_valgrind_says_what_to_install(self):
        benchmark = _load_benchmark()
        with mock.patch("shutil.which", return_value=None):
            with self.assertRaises(SystemExit) as caught:
                benchmark.measure_instructions()
        self.assertEqual(
            str(caught.exception),
            "--instructions needs valgrind (Debian: apt-get install valgrind)",
        )

    def test_a_run_valgrind_gave_no_count_for_is_reported_with_its_output(self):
        benchmark = _load_benchmark()
        ran = subprocess.CompletedProcess([], 0, stdout="", stderr="valgrind: bad option\n")
        with mock.patch("subprocess.run", return_value=ran):
            with self.assertRaises(SystemExit) as caught:
                benchmark.count_instructions(Path("."), "suite_bare_50")
        self.assertEqual(
            str(caught.exception),
            "valgrind reported no instruction count:\nvalgrind: bad option\n",
        )


if __name__ == "__main__":
    sys.exit(unittest.main())
