"""Run the sample project's suite under each test runner, in a subprocess, and read the counts.

The sample suite (tests/sample_project/sample_*.py) has five passing tests and two that fail on
purpose. Each runner must report those counts, name the two failures, show the library's
failure messages, and point each failure's traceback at the user's line.
"""

import fnmatch
import os
import pickle
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT = REPO / "tests" / "sample_project"
SAMPLE_MODULES = ("sample_service", "sample_users")
PASSED = 5
FAILING = {
    "test_deliberately_failing_expects_no_commit": (
        "AssertionError: Expected no commit; 1 happened: transaction: commit (operation 4)."
    ),
    "test_deliberately_failing_expects_a_commit": (
        "AssertionError: Expected a commit; none happened."
    ),
}
SEPARATOR = "=" * 70


def failing_lines():
    """Return the line of each deliberately failing assertion of the sample, by test name."""
    text = (SAMPLE_PROJECT / "sample_users.py").read_text(encoding="utf-8")
    lines, test = {}, None
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s+async def (test_\w+)", line)
        if match:
            test = match.group(1)
        if "# fails here" in line:
            lines[test] = number
    return lines


def run(*args, cwd=SAMPLE_PROJECT):
    """Run ``python *args`` with the package and the sample project importable."""
    env = dict(os.environ)
    paths = [str(REPO), str(SAMPLE_PROJECT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PY_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    for name in ("FORCE_COLOR", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=str(cwd),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )


def unittest_counts(output):
    """Read unittest's summary: ``{"ran": 7, "failures": 2}``; None if there is none."""
    ran = re.findall(r"^Ran (\d+) tests? in ", output, re.MULTILINE)
    status = re.findall(r"^(OK|FAILED|NO TESTS RAN)(?: \((.*)\))?$", output, re.MULTILINE)
    if not ran or not status:
        return None
    counts = {"ran": int(ran[-1])}
    for part in filter(None, status[-1][1].split(", ")):
        key, value = part.split("=")
        counts[key] = int(value)
    return counts


def unittest_failures(output):
    """Return the report of each failed test, by test name, from unittest's output."""
    reports = {}
    for report in output.split(SEPARATOR + "\n")[1:]:
        heading = re.sub(r"^(FAIL|ERROR): ", "", report.splitlines()[0])
        reports[heading.split(" ")[0]] = report
    return reports


def pytest_counts(output):
    """Read pytest's last summary line: ``{"failed": 2, "passed": 5}``; None if there is none."""
    summaries = re.findall(r"^=*\s*(\d+ \w+.*) in [\d.]+s", output, re.MULTILINE)
    if not summaries:
        return None
    return {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summaries[-1])}


class RunnerTestCase(unittest.TestCase):
    maxDiff = None

    def require(self, module, *args):
        """Fail, never skip, when a runner the ``[test]`` extra installs is missing."""
        completed = run("-m", module, *args)
        if completed.returncode != 0:
            self.fail(
                f"{module} is not usable with {sys.executable} (pip install -e '.[test]' "
                f"installs it): `python -m {module} {' '.join(args)}` exited with "
                f"{completed.returncode}:\n{completed.stdout}"
            )


class RunnersTest(RunnerTestCase):
    def check_unittest_output(self, completed, returncode=1):
        output = completed.stdout
        self.assertEqual(
            unittest_counts(output), {"ran": PASSED + len(FAILING), "failures": 2}, output
        )
        self.assertEqual(completed.returncode, returncode, output)
        reports = unittest_failures(output)
        self.assertEqual(sorted(reports), sorted(FAILING), output)
        for name, line in failing_lines().items():
            self.assertIn(f"\n{FAILING[name]}\n", reports[name])
            # the traceback points at the user's line
            self.assertRegex(reports[name], rf'File ".*sample_users\.py", line {line}, in {name}\n')

    def test_python_m_unittest_with_module_names(self):
        completed = run("-m", "unittest", *SAMPLE_MODULES)

        self.check_unittest_output(completed)

    def test_python_m_unittest_discover(self):
        completed = run("-m", "unittest", "discover", "-s", ".", "-p", "sample_*.py")

        self.check_unittest_output(completed)

    def test_pytest(self):
        self.require("pytest", "--version")

        completed = run(
            "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf",
            *(f"{module}.py" for module in SAMPLE_MODULES),
        )  # fmt: skip

        output = completed.stdout
        self.assertEqual(pytest_counts(output), {"failed": 2, "passed": PASSED}, output)
        self.assertEqual(completed.returncode, 1, output)
        self.assertEqual(
            sorted(re.findall(r"^FAILED \S*::(\w+)", output, re.MULTILINE)), sorted(FAILING)
        )
        for message in FAILING.values():
            self.assertIn(f"E       {message}\n", output)
        for line in failing_lines().values():
            self.assertIn(f"sample_users.py:{line}: AssertionError", output)

    def test_unittest_parallel_in_threads(self):
        # one module per thread: the two modules never patch the same name
        self.require("unittest_parallel", "--help")

        completed = run(
            "-m", "unittest_parallel", "-s", ".", "-p", "sample_*.py", "--thread", "-j", "2"
        )

        self.assertIn("Running 2 test suites (7 total tests) across 2 workers", completed.stdout)
        # it exits with the number of failed tests
        self.check_unittest_output(completed, returncode=2)

    def test_unittest_parallel_in_processes(self):
        # unittest-parallel's default mode pickles the tests to send them to worker processes;
        # IsolatedAsyncioTestCase keeps an unpicklable Context from 3.11 on, which the mixin
        # leaves out of its pickled state and makes anew.
        self.require("unittest_parallel", "--help")

        completed = run(
            "-m", "unittest_parallel", "-s", ".", "-p", "sample_*.py", "--level", "class",
            "-j", "2",
        )  # fmt: skip

        self.assertIn("Running 3 test suites (7 total tests) across 2 workers", completed.stdout)
        self.check_unittest_output(completed, returncode=2)


class ProjectSuiteTest(unittest.TestCase):
    """What the project's own suite needs of each runner mode docs/legacy.rst recommends.

    Running the whole suite under each runner from inside itself would run this test again:
    .ci/run runs those commands instead. What process mode needs beyond running the tests,
    that each can be pickled, is checked here.
    """

    def test_every_test_of_the_suite_can_be_pickled_for_worker_processes(self):
        suite = unittest.TestLoader().discover(str(REPO / "tests"), top_level_dir=str(REPO))
        unpicklable = []
        for test in iterate_tests(suite):
            try:
                pickle.loads(pickle.dumps(test))
            except Exception as error:
                unpicklable.append(f"{test.id()}: {type(error).__name__}: {error}")

        self.assertEqual(unpicklable, [])


def iterate_tests(suite):
    """Yield the tests of ``suite`` and of the suites in it, in order."""
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from iterate_tests(test)
        else:
            yield test


class SampleStaysOutOfTheMainSuiteTest(RunnerTestCase):
    """The deliberately failing sample tests never run with asyncsessiontest's own suite."""

    def test_no_sample_file_matches_a_default_test_pattern(self):
        names = [path.name for path in SAMPLE_PROJECT.rglob("*.py")]

        self.assertIn("sample_users.py", names)
        for pattern in ("test*.py", "*_test.py"):
            self.assertEqual(fnmatch.filter(names, pattern), [], pattern)
        # unittest's discovery enters only packages
        self.assertFalse((SAMPLE_PROJECT / "__init__.py").exists())

    def test_unittest_discovery_from_the_repository_does_not_enter_the_sample(self):
        for pattern in ("sample_*.py", "recipe_*.py"):
            with self.subTest(pattern=pattern):
                completed = run(
                    "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-p", pattern, cwd=REPO
                )

                self.assertEqual(unittest_counts(completed.stdout)["ran"], 0, completed.stdout)

    def test_pytest_collects_nothing_from_the_sample(self):
        self.require("pytest", "--version")

        completed = run(
            "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
            "tests/sample_project", cwd=REPO,
        )  # fmt: skip

        self.assertIn("no tests collected", completed.stdout)
        self.assertEqual(completed.returncode, 5, completed.stdout)



END_CHECK_MODULE = """
from asyncsessiontest import AsyncSessionTestCase


class EndCheckTest(AsyncSessionTestCase):
    async def test_leaves_a_coroutine(self):
        self.session.commit().close()
"""
END_CHECK_MESSAGE = (
    "AssertionError: Session coroutines created but never awaited:\n"
    "commit() called at {path}:7\n"
    "Await them, or set check_awaited = False on the test class."
)


class EndCheckTracebackTest(RunnerTestCase):
    """A failure of the end-of-test checks shows its message and one frame, on every runner:
    the test method has returned, and unittest's frames and case.py's are hidden."""

    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.module = Path(directory.name) / "end_check_sample.py"
        self.module.write_text(END_CHECK_MODULE, encoding="utf-8")

    def check_traceback(self, report):
        self.assertIn(END_CHECK_MESSAGE.format(path=self.module), report)
        self.assertIn("ending.py", report)
        for hidden in ("async_case.py", "case.py\", line", "testPartExecutor", "def fail"):
            self.assertNotIn(hidden, report)

    def test_unittest(self):
        completed = run("-m", "unittest", "end_check_sample", cwd=self.module.parent)

        self.assertEqual(unittest_counts(completed.stdout), {"ran": 1, "failures": 1})
        self.check_traceback(completed.stdout)

    def test_pytest(self):
        self.require("pytest", "--version")

        completed = run(
            "-m", "pytest", "-p", "no:cacheprovider", "-q", "end_check_sample.py",
            cwd=self.module.parent,
        )  # fmt: skip

        self.assertEqual(pytest_counts(completed.stdout), {"failed": 1}, completed.stdout)
        report = completed.stdout.split(" FAILURES ")[1].split("short test summary")[0]
        self.check_traceback(re.sub(r"^E   ", "", report, flags=re.MULTILINE))

if __name__ == "__main__":
    unittest.main()
