"""Every Python block of README.rst and docs/ runs, and every output block is what the code prints.

How a ``.. code-block:: python`` runs depends on what it holds:

- a block with a file path for ``:caption:`` (``myapp/users.py``) is a file of the page's
  project: the page's files are written into an empty directory, which then runs the page's
  ``python -m unittest`` block, and its output block must match;
- a block with imports or classes at its top level runs as a module; the TestCases it defines run;
- a block of test methods (``async def test_...(self):``) runs as the methods of an
  ``AsyncSessionTestCase``;
- any other block runs as the body of a test method, ``session`` being ``self.session``;
- a block that imports ``myapp`` (README.rst's and the index's example) runs in the quickstart's
  project, against its code.

Every block sees the names of PRELUDE: the sample application of
tests/sample_project (app.models, app.service) and the usual SQLAlchemy imports. The tests it
defines must pass, unless an output block (``.. code-block:: text`` with ``:class: output``)
follows: then it holds what the block printed, or the ``Type: message`` of the one failure or
error the block's test met, compared verbatim, with the sample project's directory shown as
``...``. Every ``text`` block is such an output block.

A block preceded by the comment ``.. not-run: <reason>`` is only compiled: NOT_RUN lists them.
"""

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT = REPO / "tests" / "sample_project"
PAGES = [REPO / "README.rst", *sorted((REPO / "docs").glob("*.rst"))]

PRELUDE = """\
import re

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from unittest.mock import AsyncMock

from asyncsessiontest import AsyncSessionMixin, AsyncSessionTestCase, make_result

from app.models import Order, User
from app.users import UserRepository
from app.service import (
    DuplicateName, cancel_orders, count_orders, create_user, import_orders, order_items,
    place_order, rename_user,
)
"""

# Blocks only compiled, by page: (first line of the block, why).
NOT_RUN = {
    "integrating.rst": [("async with httpx.AsyncClient(", "needs FastAPI and httpx")],
    "migrating.rst": [("from unittest import TestCase, mock", "needs mock-alchemy")],
}

_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: (?P<language>\w+) *$")
_OPTION = re.compile(r"^ +:(?P<name>[\w-]+):(?: (?P<value>.*))?$")
_NOT_RUN = re.compile(r"^ *\.\. not-run: (?P<reason>.+)$")
_TIMING = re.compile(r"Ran (\d+) tests? in \d+\.\d+s")
# what asyncio's debug mode logs of a step slower than 0.1 s, as a loaded machine may take
_SLOW_STEP = re.compile(r"Executing <.*?> took \d+\.\d+ seconds\n")


class Block:
    def __init__(self, page, line, language, options, code, not_run):
        self.page, self.line, self.language = page, line, language
        self.options, self.code, self.not_run = options, code, not_run
        self.output = None  # the output block that follows, if any

    def __repr__(self):
        return f"{self.page}:{self.line}"

    @property
    def first_line(self):
        return self.code.splitlines()[0] if self.code else ""


def blocks_of(path):
    """Return the code blocks of an .rst file, each output block attached to the block before."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, number, not_run = [], 0, None
    while number < len(lines):
        line = lines[number]
        comment = _NOT_RUN.match(line)
        if comment:
            not_run = comment["reason"]
        match = _DIRECTIVE.match(line)
        number += 1
        if not match:
            continue
        indent, options = len(match["indent"]), {}
        while number < len(lines) and _OPTION.match(lines[number]):
            option = _OPTION.match(lines[number])
            options[option["name"]] = option["value"] or ""
            number += 1
        start, body = number + 1, []
        while number < len(lines) and (
            not lines[number].strip() or len(lines[number]) - len(lines[number].lstrip()) > indent
        ):
            body.append(lines[number])
            number += 1
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        content_indent = min(len(b) - len(b.lstrip()) for b in body if b.strip()) if code.strip() else 0
        for option_line in lines[number - len(body) - len(options) : number - len(body)]:
            if options and len(option_line) - len(option_line.lstrip()) != content_indent:
                # Sphinx would keep the difference as leading spaces on every line
                raise AssertionError(f"{path.name}:{start}: indent the options as the content")
        block = Block(path.name, start, match["language"], options, code, not_run)
        not_run = None
        if options.get("class") == "output":
            if not blocks:
                raise AssertionError(f"{block}: an output block must follow a code block")
            blocks[-1].output = block
        else:
            blocks.append(block)
    return blocks


def is_project_file(block):
    return block.options.get("caption", "").endswith(".py")


def kind_of(block):
    if is_project_file(block):
        return "file"
    top_level = [line for line in block.code.splitlines() if line and not line[0].isspace()]
    if any(re.match(r"(import|from|class) ", line) for line in top_level):
        return "module"
    if top_level and all(
        re.match(r"((async )?def \w+\(self|\w+ = )", line) or line.startswith(("@", "#"))
        for line in top_level
    ):
        return "methods"
    return "body"


def source_of(block):
    kind = kind_of(block)
    if kind == "module":
        return PRELUDE + "\n\n" + block.code
    if kind == "methods":
        return PRELUDE + "\n\nclass DocsExample(AsyncSessionTestCase):\n" + _indent(block.code)
    return (
        PRELUDE
        + "\n\nclass DocsExample(AsyncSessionTestCase):\n"
        + "    async def test_example(self):\n"
        + "        session = self.session\n"
        + _indent(_indent(block.code))
    )


def _indent(code):
    return textwrap.indent(code, "    ")


class _Recorder(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.problems = []

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.problems.append(err)

    def addError(self, test, err):
        super().addError(test, err)
        self.problems.append(err)


def run_block(block):
    """Run the block's tests; return (TestResult, what it printed, 'Type: message' or None)."""
    module_name = f"docs_example_{Path(block.page).stem}_{block.line}"
    namespace = {"__name__": module_name}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source_of(block), f"{block.page}:{block.line}", "exec"), namespace)
        cases = [
            value
            for value in namespace.values()
            if isinstance(value, type)
            and issubclass(value, unittest.TestCase)
            and value.__module__ == module_name
        ]
        suite = unittest.TestSuite(
            unittest.defaultTestLoader.loadTestsFromTestCase(case) for case in cases
        )
        result = _Recorder()
        suite.run(result)
    failure = None
    if result.problems:
        kind, error, _ = result.problems[-1]
        failure = f"{kind.__name__}: {error}"
    return result, _shown(printed.getvalue()), failure and _shown(failure)


def _shown(text):
    """Show the sample project's directory as ``...``, as the output blocks do."""
    return text.replace(str(SAMPLE_PROJECT), "...")


def _report(result):
    return "\n".join(text for _, text in result.failures + result.errors)


def _sample_modules():
    return [name for name in sys.modules if name == "app" or name.startswith("app.")]


def setUpModule():
    existing = sys.modules.get("app")
    if existing is not None and not str(existing.__file__).startswith(str(SAMPLE_PROJECT)):
        raise RuntimeError(f"another 'app' package is imported already: {existing!r}")
    sys.path.insert(0, str(SAMPLE_PROJECT))


def tearDownModule():
    sys.path.remove(str(SAMPLE_PROJECT))


class PythonBlocksTest(unittest.TestCase):
    """Every Python block outside a project page runs, passes, and prints its output block."""

    maxDiff = None

    def test_every_block_runs(self):
        ran = 0
        for page in PAGES:
            for block in blocks_of(page):
                if block.language != "python" or is_project_file(block):
                    continue
                if "from myapp" in block.code:
                    continue  # runs in QuickstartProjectTest (README's also in test_readme.py)
                with self.subTest(block=repr(block), first_line=block.first_line):
                    if block.not_run:
                        listed = [line for line, _ in NOT_RUN.get(page.name, [])]
                        self.assertTrue(
                            any(block.first_line.startswith(line) for line in listed),
                            "list the block in NOT_RUN",
                        )
                        compile("async def _():\n" + _indent(block.code), repr(block), "exec")
                        continue
                    result, printed, failure = run_block(block)
                    ran += 1
                    if block.output is None:
                        self.assertEqual(result.problems, [], _report(result))
                        self.assertEqual(printed, "")
                    elif failure is not None:
                        self.assertEqual(failure + "\n", block.output.code, _report(result))
                    else:
                        self.assertEqual(printed, block.output.code)
        self.assertGreater(ran, 20)

    def test_every_not_run_block_is_marked(self):
        for page_name, listed in NOT_RUN.items():
            marked = [
                block.first_line for block in blocks_of(REPO / "docs" / page_name) if block.not_run
            ]
            self.assertEqual(len(marked), len(listed), page_name)

    def test_every_text_block_is_an_output_block(self):
        for page in PAGES:
            for block in blocks_of(page):
                with self.subTest(block=repr(block)):
                    self.assertNotEqual(block.language, "text", "give it :class: output")

    def test_no_block_is_in_a_language_the_tests_do_not_know(self):
        for page in PAGES:
            for block in blocks_of(page):
                with self.subTest(block=repr(block)):
                    self.assertIn(block.language, {"python", "text", "console", "ini", "toml"})


class QuickstartProjectTest(unittest.TestCase):
    """The quickstart's files, written into an empty directory, make a project whose
    ``python -m unittest`` prints what the page shows; README.rst's example passes in it."""

    maxDiff = None

    def setUp(self):
        self.blocks = blocks_of(REPO / "docs" / "quickstart.rst")
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.project = Path(directory.name)
        commands = "\n".join(block.code for block in self.blocks if block.language == "console")
        self.assertIn("touch myapp/__init__.py tests/__init__.py", commands)
        for package in ("myapp", "tests"):
            (self.project / package).mkdir()
            (self.project / package / "__init__.py").write_text("")
        for block in self.blocks:
            if is_project_file(block):
                (self.project / block.options["caption"]).write_text(block.code, encoding="utf-8")

    def run_unittest(self, *args):
        environment = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run(
            [sys.executable, "-m", "unittest", *args],
            cwd=self.project,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def test_the_project_prints_what_the_page_shows(self):
        runs = [
            block
            for block in self.blocks
            if block.language == "console" and block.code.strip() == "python -m unittest"
        ]
        self.assertEqual(len(runs), 1)
        self.assertIsNotNone(runs[0].output, "the run needs an output block")

        completed = self.run_unittest()

        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual(
            _TIMING.sub(r"Ran \1 tests in T", _SLOW_STEP.sub("", completed.stderr)),
            _TIMING.sub(r"Ran \1 tests in T", runs[0].output.code),
        )

    def test_the_examples_of_myapp_pass_against_the_quickstart_code(self):
        examples = [
            block
            for page in PAGES
            for block in blocks_of(page)
            if block.language == "python"
            and "from myapp" in block.code
            and not is_project_file(block)
        ]
        self.assertEqual([block.page for block in examples], ["README.rst", "index.rst"])
        for number, block in enumerate(examples):
            (self.project / "tests" / f"test_example_{number}.py").write_text(block.code)

        completed = self.run_unittest("-v", "tests.test_example_0", "tests.test_example_1")

        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertIn("Ran 2 tests", completed.stderr)

    def test_the_quickstart_function_is_the_sample_applications(self):
        import inspect

        from app.service import rename_user

        users = next(b for b in self.blocks if b.options.get("caption") == "myapp/users.py")
        self.assertIn(inspect.getsource(rename_user), users.code)


if __name__ == "__main__":
    unittest.main()
