"""Measure what asyncsessiontest costs a suite, side by side with the alternatives.

Run from the repository root, in an environment with the package and aiosqlite installed::

    python benchmarks/run.py            # the full run: 1000-test suites, 7 repetitions
    python benchmarks/run.py --quick    # 200-test suites, 3 repetitions
    python benchmarks/run.py --instructions   # instructions per test, under valgrind

Every figure is a median of several repetitions, and every suite comparison is a ratio to the
floor measured in the same run: a bare IsolatedAsyncioTestCase test that builds the same
statements and objects and does nothing else. Suites run alternately, each in a fresh
subprocess, from byte-compiled generated modules; only ``TextTestRunner.run`` is timed.

Wall time moves with the machine (a shared machine's neighbours, its clock): ``--instructions``
counts instead the instructions the CPU runs per test (valgrind's cachegrind, without its cache
simulation), whose ratios barely move from run to run. A suite's count per test is the difference
between a 250-test and a 50-test run of it, divided by 200, so interpreter start-up and imports
cancel out.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import timeit
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent


def _environment() -> Dict[str, str]:
    # the suites import this checkout's package, installed or not
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}

# The models and the work one test does, shared by every suite so that all build the same
# statements and objects. {body} is each suite's own way of doing the work.
MODULE = '''\
import asyncio
import re
import unittest
from unittest.mock import AsyncMock, MagicMock, create_autospec

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base

from asyncsessiontest import AsyncSessionTestCase

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String)


{body}


def _make(number):
    async def test(self):
        # three equal statements, built apart, as a test and its code build them
        statements = [sa.select(User).where(User.id == number) for _ in range(3)]
        user = User(name="new")
        found = User(id=number, name="found")
        await self.work(statements, user, found)
    return test


for _number in range({count}):
    setattr(Suite, f"test_{{_number:05d}}", _make(_number))
'''

# The work of one test, done with asyncsessiontest and done by hand with a stock mock.
OURS = """
class Suite(AsyncSessionTestCase):
    asyncio_debug = {debug}

    async def work(self, statements, user, found):
        routed, executed, asserted = {which}
        self.addResult([found], statement=routed)
        result = (await self.session.execute(executed)).scalar_one()
        assert result is found
        self.session.add(user)
        await self.session.commit()
        self.assertCommitted(user)
        self.assertExecutedOnce(asserted)
"""
# the very statement routed, executed and asserted; or three equal ones built apart
SAME = "statements[0], statements[0], statements[0]"
APART = "statements"

# SQLAlchemy's own share of the routed test, done by hand: a real sync Session (bound to an
# engine it never connects, its flush writing nothing) attaches the routed object as loaded,
# hands it out in a real Result, adds the new object and commits (expiring both); at the end
# both leave it transient. Statements built apart are compared by their cache keys (three,
# one per statement); the very statement needs none.
SQLALCHEMY_ONLY = """
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached


class SessionWithoutIO(Session):
    def flush(self, objects=None):
        pass

    def _is_clean(self):
        return True


ENGINE = sa.create_engine("sqlite://")
METADATA = SimpleResultMetaData(["User"])


class Suite(unittest.IsolatedAsyncioTestCase):
    async def work(self, statements, user, found):
        if {cache_keys}:
            for statement in statements:
                statement._generate_cache_key()
        session = SessionWithoutIO(bind=ENGINE, expire_on_commit=True)
        session.begin()
        make_transient_to_detached(found)
        session.add(found)
        result = IteratorResult(METADATA, iter([(found,)])).scalars().one()
        assert result is found
        session.add(user)
        session.commit()
        make_transient(found)
        make_transient(user)
        session.close()
"""

BY_HAND = """
class Suite(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.session = {make_mock}

    async def work(self, statements, user, found):
        statement = statements[0]
        self.session.execute.return_value = MagicMock()
        self.session.execute.return_value.scalar_one.return_value = found
        result = (await self.session.execute(statement)).scalar_one()
        assert result is found
        self.session.add(user)
        await self.session.commit()
        self.session.commit.assert_awaited_once()
        self.session.add.assert_called_once_with(user)
        self.session.execute.assert_awaited_once()
"""

SUITES: Dict[str, str] = {
    "bare": """
class Suite(unittest.IsolatedAsyncioTestCase):
    async def work(self, statements, user, found):
        pass
""",
    "asyncsessiontest_apart": OURS.format(debug=True, which=APART),
    "asyncsessiontest": OURS.format(debug=True, which=SAME),
    "asyncsessiontest_empty": """
class Suite(AsyncSessionTestCase):
    async def work(self, statements, user, found):
        self.session
""",
    # what SQLAlchemy itself must do for the routed test, with no mock at all: the floor
    # beneath the two rows above (see docs/performance.rst)
    "sqlalchemy_only_apart": SQLALCHEMY_ONLY.format(cache_keys=True),
    "sqlalchemy_only": SQLALCHEMY_ONLY.format(cache_keys=False),
    "asyncsessiontest_nodebug": OURS.format(debug=False, which=APART),
    "asyncmock_spec": BY_HAND.format(make_mock="AsyncMock(spec=AsyncSession)"),
    "create_autospec": BY_HAND.format(make_mock="create_autospec(AsyncSession, instance=True)"),
    "aiosqlite": """
class Suite(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.engine = create_async_engine("sqlite+aiosqlite://")
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        self.session = AsyncSession(self.engine, expire_on_commit=False)

    async def asyncTearDown(self):
        await self.session.close()
        await self.engine.dispose()

    async def work(self, statements, user, found):
        statement = statements[0]
        self.session.add(found)
        await self.session.flush()
        result = (await self.session.execute(statement)).scalar_one()
        assert result is found
        self.session.add(user)
        await self.session.commit()
        count = await self.session.scalar(sa.select(sa.func.count()).select_from(User))
        assert count == 2
""",
    # database mode, and the same work with SQLAlchemy's rollback-per-test recipe by hand
    "database_mode": """
class Suite(AsyncSessionTestCase):
    database_url = "sqlite+aiosqlite://"
    metadata = Base.metadata

    async def work(self, statements, user, found):
        self.addResult([found], statement=statements[0])
        result = (await self.session.execute(statements[1])).scalar_one()
        assert result is found
        self.session.add(user)
        await self.session.commit()
        self.assertCommitted(user)
        self.assertExecutedOnce(statements[2])
""",
    "rollback_recipe": """
from sqlalchemy import event
from sqlalchemy.pool import StaticPool


class Suite(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)

        @event.listens_for(self.engine.sync_engine, "connect")
        def connect(dbapi_connection, record):
            dbapi_connection.isolation_level = None

        @event.listens_for(self.engine.sync_engine, "begin")
        def begin(connection):
            connection.exec_driver_sql("BEGIN")

        self.connection = await self.engine.connect()
        self.outer = await self.connection.begin()
        await self.connection.run_sync(Base.metadata.create_all)
        self.session = AsyncSession(
            bind=self.connection, join_transaction_mode="create_savepoint"
        )

    async def asyncTearDown(self):
        await self.session.close()
        await self.outer.rollback()
        await self.connection.close()
        await self.engine.dispose()

    async def work(self, statements, user, found):
        self.session.add(found)
        await self.session.flush()
        result = (await self.session.execute(statements[1])).scalar_one()
        assert result is found
        self.session.add(user)
        await self.session.commit()
        assert user in self.session
""",
}

# Suites written with what SQLAlchemy 1.4 lacks (join_transaction_mode): the benchmark runs on 2.0+
NEEDS_SQLALCHEMY_2 = frozenset({"rollback_recipe"})

# Suites too slow to run at full size are measured on fewer tests; per-test figures compare.
SLOW = {"create_autospec": 5, "aiosqlite": 5, "database_mode": 5, "rollback_recipe": 5}

RUNNER = '''\
import json, resource, sys, time, unittest
sys.path.insert(0, sys.argv[1])
import {module} as module
suite = unittest.defaultTestLoader.loadTestsFromModule(module)
count = suite.countTestCases()
runner = unittest.TextTestRunner(stream=open("/dev/null", "w"), verbosity=0)
start = time.perf_counter()
result = runner.run(suite)
elapsed = time.perf_counter() - start
if not result.wasSuccessful():
    sys.exit("suite {module} failed: " + repr((result.failures + result.errors)[:1]))
print(json.dumps({{"per_test": elapsed / count,
                   "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
'''


def write_suites(directory: Path, count: int) -> None:
    """Write one byte-compiled module per suite into ``directory``."""
    for name, body in SUITES.items():
        size = max(1, count // SLOW.get(name, 1))
        source = MODULE.format(body=textwrap.dedent(body), count=size)
        (directory / f"suite_{name}.py").write_text(source)
    compileall.compile_dir(str(directory), quiet=1)


def run_suite(directory: Path, name: str) -> Dict[str, float]:
    """Run one suite in a fresh interpreter; return its per-test time and peak RSS."""
    code = RUNNER.format(module=f"suite_{name}")
    output = subprocess.run(
        [sys.executable, "-c", code, str(directory)],
        check=True, capture_output=True, text=True, env=_environment(),
    )
    result: Dict[str, float] = json.loads(output.stdout)
    return result


def measure_suites(count: int, repetitions: int) -> Dict[str, Dict[str, float]]:
    """Run every suite ``repetitions`` times, alternating; return medians."""
    samples: Dict[str, List[Dict[str, float]]] = {name: [] for name in SUITES}
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        write_suites(directory, count)
        for _ in range(repetitions):
            for name in SUITES:
                samples[name].append(run_suite(directory, name))
    return {
        name: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
        for name, runs in samples.items()
    }


MICRO_SETUP = '''
import asyncio, re
import sqlalchemy as sa
from unittest.mock import AsyncMock, create_autospec
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import declarative_base
from asyncsessiontest.fake import SessionState
from asyncsessiontest.session import create_session, release_session
from asyncsessiontest.matching import matcher_for
from asyncsessiontest.results import make_result
from asyncsessiontest.routing import CannedAnswer
Base = declarative_base()
class User(Base):
    __tablename__ = "users"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String)
statement = sa.select(User).where(User.id == 5)
user = User(name="x")
loop = asyncio.new_event_loop()
async def first_use(session):
    await session.execute(statement)
    session.add(user)
    await session.commit()
def ours():
    state = SessionState(AsyncSession)
    loop.run_until_complete(first_use(create_session(state)))
    release_session(state)  # as the test's end does: the user leaves the session
def plain():
    loop.run_until_complete(first_use(AsyncMock(spec=AsyncSession)))
def autospec():
    loop.run_until_complete(first_use(create_autospec(AsyncSession, instance=True)))
state = SessionState(AsyncSession)
routed = create_session(state)
for number in range(10):
    state.responder.add(CannedAnswer(make_result([number]), matcher_for(
        sa.select(User).where(User.id == 100 + number)), None))
last = sa.select(User).where(User.id == 109)
async def execute_routed(times):
    for _ in range(times):
        await routed.execute(last)
recorded = create_session(SessionState(AsyncSession))
recorded_user = User(name="y")
recorded.add(recorded_user)
# code under test builds its own statements: equal to the routed one, never the same object
apart_state = SessionState(AsyncSession)
apart = create_session(apart_state)
apart_state.responder.add(CannedAnswer(make_result([user]), matcher_for(
    sa.select(User).where(User.id == 5)), None))
built_apart = iter([sa.select(User).where(User.id == 5) for _ in range(500)])
async def execute_apart(times):
    for _ in range(times):
        await apart.execute(next(built_apart))
'''

MICRO: Dict[str, str] = {
    "create asyncsessiontest session": "create_session(SessionState(AsyncSession))",
    "create AsyncMock(spec=AsyncSession)": "AsyncMock(spec=AsyncSession)",
    "create create_autospec(AsyncSession)": "create_autospec(AsyncSession, instance=True)",
    "create + first execute/add/commit: asyncsessiontest": "ours()",
    "create + first execute/add/commit: AsyncMock(spec)": "plain()",
    "create + first execute/add/commit: create_autospec": "autospec()",
    "one execute through 10 routes (last matches)": "loop.run_until_complete(execute_routed(100))",
    "one routed execute of a statement built apart": "loop.run_until_complete(execute_apart(100))",
    "one recorded add": "recorded.add(recorded_user)",
}


def measure_micro(repetitions: int) -> Dict[str, float]:
    """Return the median time in microseconds of each micro benchmark."""
    sys.path.insert(0, str(ROOT))
    results = {}
    for name, statement in MICRO.items():
        timer = timeit.Timer(statement, setup=MICRO_SETUP)
        number = 5 if "autospec" in statement else 200
        # executions inside one loop run
        per_run = 100 if "execute_routed" in statement or "execute_apart" in statement else 1
        if per_run > 1:
            number = 5
        runs = timer.repeat(repeat=repetitions, number=number)
        results[name] = statistics.median(runs) / number / per_run * 1e6
    return results


IMPORT = '''
import time
start = time.perf_counter()
import sqlalchemy.ext.asyncio
middle = time.perf_counter()
import asyncsessiontest
end = time.perf_counter()
print((middle - start) * 1e3, (end - middle) * 1e3)
'''


def measure_import(repetitions: int) -> Dict[str, float]:
    """Return median milliseconds to import sqlalchemy.ext.asyncio, then asyncsessiontest."""
    base, added = [], []
    for _ in range(repetitions):
        output = subprocess.run(
            [sys.executable, "-c", IMPORT],
            check=True, capture_output=True, text=True, env=_environment(),
        ).stdout.split()
        base.append(float(output[0]))
        added.append(float(output[1]))
    return {"sqlalchemy.ext.asyncio": statistics.median(base),
            "asyncsessiontest on top": statistics.median(added)}


def _over_sqlalchemy(per_test: Dict[str, float]) -> List[str]:
    """Return the lines saying what the package's tests cost beyond SQLAlchemy's own work.

    :param per_test: each suite's cost per test (time or instructions).
    """
    floor = per_test["bare"]
    apart = (per_test["asyncsessiontest_apart"] - per_test["sqlalchemy_only_apart"]) / floor
    same = (per_test["asyncsessiontest"] - per_test["sqlalchemy_only"]) / floor
    return [
        f"  built apart over SQLAlchemy's work alone:         {apart:.3f}x of the floor",
        f"  the very statement over SQLAlchemy's work alone:  {same:.3f}x of the floor",
    ]


def report(suites: Dict[str, Dict[str, float]], micro: Dict[str, float],
           imports: Dict[str, float], count: int, repetitions: int) -> str:
    """Return the results as a reStructuredText-friendly plain table."""
    floor = suites["bare"]["per_test"]
    lines = [
        f"Python {sys.version.split()[0]}, SQLAlchemy {__import__('sqlalchemy').__version__}, "
        f"{count}-test suites, medians of {repetitions} runs",
        "",
        "Per test (ratio to the bare IsolatedAsyncioTestCase floor):",
    ]
    for name, values in suites.items():
        lines.append(
            f"  {name:<26} {values['per_test'] * 1e3:8.3f} ms  {values['per_test'] / floor:7.2f}x"
            f"   peak RSS {values['rss_kb'] / 1024:6.1f} MB"
            f" ({values['rss_kb'] / suites['bare']['rss_kb']:.2f}x)"
        )
    lines += ["", "Micro benchmarks (median microseconds):"]
    for name, value in micro.items():
        lines.append(f"  {name:<55} {value:10.1f} us")
    ours = micro["create + first execute/add/commit: asyncsessiontest"]
    creation = micro["create asyncsessiontest session"]
    lines += [
        "",
        "Ratios:",
        f"  session creation + first use vs AsyncMock(spec):  "
        f"{ours / micro['create + first execute/add/commit: AsyncMock(spec)']:.3f}x",
        f"  session creation + first use vs create_autospec:  "
        f"{ours / micro['create + first execute/add/commit: create_autospec']:.4f}x",
        f"  session creation vs AsyncMock(spec):              "
        f"{creation / micro['create AsyncMock(spec=AsyncSession)']:.3f}x",
        f"  session creation vs create_autospec:              "
        f"{creation / micro['create create_autospec(AsyncSession)']:.4f}x",
        *_over_sqlalchemy({name: values["per_test"] for name, values in suites.items()}),
        f"  database mode vs the rollback recipe by hand:     "
        f"{suites['database_mode']['per_test'] / suites['rollback_recipe']['per_test']:.3f}x",
        "",
        f"Import: sqlalchemy.ext.asyncio {imports['sqlalchemy.ext.asyncio']:.1f} ms; "
        f"asyncsessiontest adds {imports['asyncsessiontest on top']:.1f} ms",
    ]
    return "\n".join(lines)


# the suites counted under valgrind: the library's, and the floors they are read against
INSTRUCTION_SUITES = (
    "bare", "asyncsessiontest_apart", "asyncsessiontest", "asyncsessiontest_empty",
    "sqlalchemy_only_apart", "sqlalchemy_only", "asyncsessiontest_nodebug",
)
INSTRUCTION_SIZES = (50, 250)

INSTRUCTION_RUNNER = """\
import sys, unittest
sys.path.insert(0, sys.argv[1])
import {module} as module
result = unittest.TextTestRunner(stream=open("/dev/null", "w"), verbosity=0).run(
    unittest.defaultTestLoader.loadTestsFromModule(module))
if not result.wasSuccessful():
    sys.exit("suite {module} failed: " + repr((result.failures + result.errors)[:1]))
"""


def count_instructions(directory: Path, module: str) -> int:
    """Run ``module`` under valgrind's cachegrind; return the instructions it ran."""
    output = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", INSTRUCTION_RUNNER.format(module=module), str(directory)],
        # a fixed hash seed: sets and dicts of strings iterate alike in every run
        check=True, capture_output=True, text=True, env={**_environment(), "PYTHONHASHSEED": "0"},
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", output.stderr)
    if found is None:
        sys.exit(f"valgrind reported no instruction count:\n{output.stderr}")
    return int(found.group(1).replace(",", ""))


def measure_instructions() -> Dict[str, float]:
    """Return each suite's instructions per test (see the module docstring)."""
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    small, large = INSTRUCTION_SIZES
    per_test: Dict[str, float] = {}
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        for name in INSTRUCTION_SUITES:
            for size in INSTRUCTION_SIZES:
                source = MODULE.format(body=textwrap.dedent(SUITES[name]), count=size)
                (directory / f"suite_{name}_{size}.py").write_text(source)
        compileall.compile_dir(str(directory), quiet=1)
        for name in INSTRUCTION_SUITES:
            counts = [count_instructions(directory, f"suite_{name}_{n}") for n in (small, large)]
            per_test[name] = (counts[1] - counts[0]) / (large - small)
    return per_test


def report_instructions(per_test: Dict[str, float]) -> str:
    """Return the instruction counts as a plain table."""
    floor = per_test["bare"]
    small, large = INSTRUCTION_SIZES
    lines = [
        f"Python {sys.version.split()[0]}, SQLAlchemy {__import__('sqlalchemy').__version__}, "
        f"instructions per test under valgrind: ({large}-test run - {small}-test run) / "
        f"{large - small}",
        "",
        "Per test (ratio to the bare IsolatedAsyncioTestCase floor):",
    ]
    for name, value in per_test.items():
        lines.append(f"  {name:<26} {value / 1e6:8.3f} M  {value / floor:8.3f}x")
    lines += ["", "Ratios:", *_over_sqlalchemy(per_test)]
    return "\n".join(lines)


def refuse_sqlalchemy_1(version: str) -> None:
    """Exit saying why if SQLAlchemy ``version`` is older than the benchmark's suites need."""
    if version.startswith("1."):
        sys.exit(f"the benchmark needs SQLAlchemy 2.0 or later, found {version}: its "
                 f"{', '.join(sorted(NEEDS_SQLALCHEMY_2))} suite uses join_transaction_mode")


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 tests, 3 repetitions")
    parser.add_argument("--output", help="also write the table to this file")
    parser.add_argument(
        "--instructions", action="store_true",
        help="count instructions per test under valgrind instead of timing",
    )
    arguments = parser.parse_args()
    refuse_sqlalchemy_1(__import__("sqlalchemy").__version__)
    # as an installed package would be: byte-compiled, so imports do not measure the compiler
    compileall.compile_dir(str(ROOT / "asyncsessiontest"), quiet=1)
    if arguments.instructions:
        table = report_instructions(measure_instructions())
        print(table)
        if arguments.output:
            Path(arguments.output).write_text(table + "\n")
        return
    count, repetitions = (200, 3) if arguments.quick else (1000, 7)
    suites = measure_suites(count, repetitions)
    micro = measure_micro(repetitions)
    imports = measure_import(max(repetitions, 5))
    table = report(suites, micro, imports, count, repetitions)
    print(table)
    if arguments.output:
        Path(arguments.output).write_text(table + "\n")


if __name__ == "__main__":
    main()
