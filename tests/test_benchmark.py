"""The benchmark's suites pass on the installed SQLAlchemy: a suite that fails would time (or
count) a test that does not do the work the table says it does."""

import importlib.util
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

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
                    if name in benchmark.NEEDS_SQLALCHEMY_2 and sqlalchemy.__version__ < "2":
                        self.skipTest(f"suite {name} is written for SQLAlchemy 2.0+")
                    try:
                        figures = benchmark.run_suite(directory, name)
                    except subprocess.CalledProcessError as error:
                        # the suite's runner exits with its first failure
                        self.fail(f"suite {name} failed:\n{error.stderr}")
                    self.assertGreater(figures["per_test"], 0)


if __name__ == "__main__":
    sys.exit(unittest.main())
