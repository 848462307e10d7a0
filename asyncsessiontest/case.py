"""The TestCase and the mixin: the only module that fails tests."""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import unittest
import unittest.mock
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Optional, Sequence

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from asyncsessiontest.ending import check_end_of_test
from asyncsessiontest.errors import SessionNotSetUpError
from asyncsessiontest.factory import SessionFactoryStandIn
from asyncsessiontest.kinds import is_exception
from asyncsessiontest.matching import matcher_for
from asyncsessiontest.recording import ExecutedStatement, History, Operation
from asyncsessiontest.results import CannedResult, build_result
from asyncsessiontest.routing import CannedAnswer
from asyncsessiontest.session import SessionState, create_session
from asyncsessiontest.statement_assertions import StatementAssertions
from asyncsessiontest.uow_assertions import UnitOfWorkAssertions

__all__ = ["AsyncSessionMixin", "AsyncSessionTestCase"]

# hides this module's frames from failure tracebacks, so they point at the user's line
__unittest = True

if TYPE_CHECKING:
    _TestCaseBase = unittest.TestCase
else:
    _TestCaseBase = object

# what a finished test keeps instead of its session state (suites keep test objects alive)
_FINISHED = object()


class AsyncSessionMixin(UnitOfWorkAssertions, StatementAssertions):
    """Give each test a fresh ``self.session``: a mock shaped exactly like an ``AsyncSession``.

    Mix it into a suite that already has its own base class, before that class::

        class UserServiceTest(AsyncSessionMixin, ProjectTestCase):
            ...

    The base class must be an :class:`unittest.IsolatedAsyncioTestCase` (or a subclass), so the
    session's coroutine methods can be awaited. Suites without a base class of their own use
    :class:`AsyncSessionTestCase`.

    The session is created in :meth:`setUp`, so every ``setUp`` and ``asyncSetUp`` that runs
    after ``super().setUp()`` can use it.
    """

    session_class: ClassVar[type] = AsyncSession
    """The class ``self.session`` imitates: ``AsyncSession`` or the project's subclass of it.

    Its coroutine methods become awaitable mocks and its plain methods plain ones, extra methods
    of a subclass included, each checking calls against the real signature.
    """

    strict: ClassVar[bool] = False
    """Fail executions that no configured result answers, and results never used.

    When True, an execution that matches no route and finds no queued result raises
    ``failureException`` at the call, naming the statement and why each route did not match;
    as code under test may swallow that error, the test also fails at its end. Results added
    but never used fail the test at its end. End-of-test checks are skipped for a test that
    already failed.
    """

    asyncio_debug: ClassVar[bool] = True
    """Run each test's event loop in asyncio's debug mode, as IsolatedAsyncioTestCase does.

    Debug mode finds real bugs (never-awaited coroutines, slow callbacks, calls from the wrong
    thread) but costs most of a test's overhead; set False on a class for speed.
    """

    check_awaited: ClassVar[bool] = True
    """Fail a test whose code created a session coroutine (``self.session.commit()``) and never
    awaited it, naming the method and the line that called it. Set False on a class to turn
    the check off."""

    assign_primary_keys: ClassVar[bool] = False
    """Give added instances primary keys as a database would, when they are flushed.

    When True, on ``flush()``, ``commit()`` and a ``begin()`` block's commit, every added
    instance whose single integer autoincrement primary key is None gets the next integer for
    its table (1, 2, 3..., after any key set by hand), so that code such as
    ``session.add(user); await session.commit(); return user.id`` can be tested.
    """

    sql_dialect: ClassVar[Any] = None
    """The dialect that renders SQL in failure messages: a dialect instance, a dialect name
    (``"postgresql"``, ``"mysql"``, ``"sqlite"``...), or None for SQLAlchemy's default string
    dialect (what ``str(statement)`` uses)."""

    _asyncsessiontest_state: Any

    def setUp(self) -> None:
        """Create this test's session, then run the next ``setUp`` in the method order."""
        state = SessionState(
            self.session_class,
            strict=self.strict,
            dialect=_resolve_dialect(self.sql_dialect),
            failure_exception=self.failureException,
            assign_primary_keys=self.assign_primary_keys,
        )
        create_session(state)
        self._asyncsessiontest_state = state
        self.addCleanup(self._asyncsessiontest_finish)
        if not self.asyncio_debug:
            _event_loop_of_this_test(self).set_debug(False)
        super().setUp()

    def _callTestMethod(self, method: Any) -> None:
        # Run the test method, then, if it passed, the end-of-test checks (see strict and
        # check_awaited), as part of the test: a test that already failed reports only its own
        # failure, of which leftovers are usually a consequence. unittest calls this hook for
        # the test method alone, on every Python since 3.8 (the tests check it on each); a
        # wrapper around the method would cost more, in every test, than this one frame.
        super()._callTestMethod(method)  # type: ignore[misc]
        check_end_of_test(self)

    def _asyncsessiontest_check_end(self) -> None:
        state = self.__dict__.get("_asyncsessiontest_state")
        # a subtest that failed leaves the test running: unittest notes it in _outcome.success
        # (the same private attribute on Python 3.8 to 3.13)
        subtests_passed = getattr(getattr(self, "_outcome", None), "success", True)
        if isinstance(state, SessionState) and subtests_passed:
            problems = _end_of_test_problems(state, self.check_awaited)
            if problems:
                self.fail("\n\n".join(problems))

    def __getstate__(self) -> Dict[str, Any]:
        """Return the test's state for pickling, as process-parallel runners need.

        IsolatedAsyncioTestCase keeps a ``contextvars.Context`` from Python 3.11 on, which
        cannot be pickled: it is left out, and a fresh one made on unpickling.
        """
        state = dict(self.__dict__)
        state.pop("_asyncioTestContext", None)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        """Restore a pickled test (see :meth:`__getstate__`)."""
        self.__dict__.update(state)
        if hasattr(unittest.IsolatedAsyncioTestCase, "_setupAsyncioRunner"):  # Python 3.11+
            self.__dict__.setdefault("_asyncioTestContext", contextvars.copy_context())

    def _asyncsessiontest_finish(self) -> None:
        state = self.__dict__.get("_asyncsessiontest_state")
        self._asyncsessiontest_state = _FINISHED
        if isinstance(state, SessionState):
            state.release()

    # -- code that builds its own sessions -----------------------------------------------------

    @property
    def session_factory(self) -> SessionFactoryStandIn:
        """A stand-in for ``async_sessionmaker`` (or ``sessionmaker(class_=AsyncSession)``).

        ``self.session_factory()`` returns ``self.session``, and so do
        ``async with self.session_factory() as s`` and ``async with self.session_factory.begin()
        as s``; the latter commits on a clean exit and rolls back on an exception, recorded like
        ``self.session.begin()``, then closes the session. Give it to code that keeps a factory
        (``service.session_local = self.session_factory``), or see :meth:`patchSessionFactory`.
        """
        state = self._asyncsessiontest
        if state.factory is None:
            state.factory = SessionFactoryStandIn(self.session)
        return state.factory

    def patchSessionFactory(self, target: str) -> SessionFactoryStandIn:
        """Replace the factory at ``target`` with :attr:`session_factory` for the rest of the test.

        The original is restored when the test ends, whether it passed or not.

        :param target: the dotted path of the factory, e.g. ``"app.db.SessionLocal"``, as for
            :func:`unittest.mock.patch`.
        :returns: :attr:`session_factory`.
        :raises TypeError: ``target`` is not a dotted path string.
        :raises AttributeError: ``target`` names an attribute that does not exist.
        :raises ModuleNotFoundError: ``target`` names a module that does not exist.
        """
        parts = target.split(".") if isinstance(target, str) else []
        if len(parts) < 2 or not all(part.isidentifier() for part in parts):
            raise TypeError(
                f"patchSessionFactory(): target must be a dotted path such as "
                f"'app.db.SessionLocal', got {target!r}"
            )
        patcher = unittest.mock.patch(target, self.session_factory)
        try:
            _import_modules_of(parts)
            patcher.start()
        except (AttributeError, ImportError) as error:
            raise type(error)(
                f"patchSessionFactory(): cannot patch {target!r}, it does not exist: {error}"
            ) from None
        self.addCleanup(patcher.stop)
        return self.session_factory

    # -- configuring answers -----------------------------------------------------------------

    def addResult(
        self,
        rows: Any = (),
        *,
        statement: Any = None,
        columns: Optional[Sequence[str]] = None,
        rowcount: Optional[int] = None,
        times: Optional[int] = 1,
    ) -> None:
        """Make executions answer with ``rows``, a real SQLAlchemy result.

        Without ``statement`` the result is queued: the next execution that no routed result
        matches gets it, first in, first out. With ``statement`` it is routed: it answers only
        executions whose statement matches. Routes are tried in the order added. Every execution
        gets a fresh result. Applies to ``execute`` (the result), ``scalars`` (its first column),
        ``scalar`` (the first value or None), ``stream`` and ``stream_scalars``.

        :param rows: the rows, in any form :func:`make_result` takes, or a result it made.
        :param statement: which executions it answers: a SQLAlchemy statement (equal as
            ``compare()`` judges, bound values included), a SQL string (as ``str(statement)``
            renders it, ignoring case and spacing), a compiled ``re.Pattern`` (searched in that
            SQL), or a mapped class or ``Table`` (any statement on it).
        :param columns: the column names, as for :func:`make_result`.
        :param rowcount: the row count, as for :func:`make_result`.
        :param times: how many executions it answers; None for no limit.
        :raises TypeError: an argument has the wrong type.
        :raises ValueError: the rows do not fit together (see :func:`make_result`).
        """
        if isinstance(rows, CannedResult):
            if columns is not None or rowcount is not None:
                raise TypeError(
                    "addResult(): rows is already a result; give columns and rowcount to "
                    "make_result() instead"
                )
            result = rows
        else:
            result = build_result(rows, columns, rowcount, caller="addResult")
        self._asyncsessiontest_add("addResult", result, statement, times)

    def addException(self, exc: Any, *, statement: Any = None, times: Optional[int] = 1) -> None:
        """Make executions raise ``exc``, routed or queued exactly like :meth:`addResult`.

        :param exc: an exception instance or class, e.g. ``IntegrityError("...", {}, None)``.
        :param statement: which executions raise it (as for :meth:`addResult`).
        :param times: how many executions raise it; None for no limit.
        :raises TypeError: ``exc`` is not an exception.
        """
        if not is_exception(exc):
            raise TypeError(
                f"addException(): exc must be an exception instance or class, got {exc!r}"
            )
        self._asyncsessiontest_add("addException", exc, statement, times)

    def addObject(self, *instances: Any) -> None:
        """Make ``await self.session.get(Model, pk)`` find these instances.

        ``get()`` returns the added instance of that class whose primary key (read through the
        mapper; a tuple for a composite key) equals ``pk``, else None; ``get_one()`` raises
        ``NoResultFound`` instead of returning None.

        :param instances: ORM instances with their primary keys set.
        :raises TypeError: one of them is not an instance of a mapped class.
        """
        self._asyncsessiontest.objects.add(instances)

    # -- what happened ---------------------------------------------------------------------------

    @property
    def session_history(self) -> History:
        """Every operation on ``self.session`` so far, in order (a list of :class:`Operation`).

        Its repr numbers the operations one per line, as failure messages show them.
        """
        return self._asyncsessiontest.history

    @property
    def executed_statements(self) -> List[ExecutedStatement]:
        """Every statement passed to ``execute``, ``scalars``, ``scalar``, ``stream`` or
        ``stream_scalars`` so far, in order (a list of :class:`ExecutedStatement`)."""
        return [op for op in self._asyncsessiontest.history if isinstance(op, ExecutedStatement)]

    def _asyncsessiontest_add(self, caller: str, answer: Any, statement: Any, times: Any) -> None:
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise TypeError(f"{caller}(): times must be a positive int or None, got {times!r}")
        if times is not None and times < 1:
            raise ValueError(f"{caller}(): times must be at least 1 (or None), got {times!r}")
        state = self._asyncsessiontest
        matcher = (
            None
            if statement is None
            else matcher_for(statement, f"{caller}(): statement", state.dialect)
        )
        state.responder.add(CannedAnswer(answer, matcher, times))

    @property
    def session(self) -> Any:
        """This test's session mock: an ``AsyncMock`` spec'd on :attr:`session_class`.

        ``isinstance(self.session, AsyncSession)`` is true. Coroutine methods must be awaited;
        plain methods (``add``, ``begin``, ``expire`` ...) must not. Unless configured otherwise
        it answers like a session over an empty database: ``execute()`` returns a real, empty
        ``Result``, ``get()`` returns None.
        """
        return self._asyncsessiontest.session

    @session.setter
    def session(self, value: Any) -> None:
        raise AttributeError(
            f"self.session is provided by AsyncSessionMixin and cannot be assigned "
            f"(in {type(self).__name__}); configure the provided session instead, e.g. "
            f"self.session.execute.return_value = ..., or remove the assignment"
        )

    @property
    def _asyncsessiontest(self) -> SessionState:
        state = self.__dict__.get("_asyncsessiontest_state")
        if state is None:
            raise SessionNotSetUpError(_not_set_up_message(type(self)))
        if state is _FINISHED:
            raise SessionNotSetUpError(
                f"self.session of {type(self).__name__} is only available while a test runs "
                f"(from setUp() to the cleanups); each test gets a new one."
            )
        session_state: SessionState = state
        return session_state


def _end_of_test_problems(state: SessionState, check_awaited: bool) -> List[str]:
    problems = [f"Strict mode: {explanation}" for explanation in state.unmatched]
    if state.strict:
        unused = state.responder.unused()
        if unused:
            problems.append(
                "Strict mode: results added but never used:\n"
                + "\n".join(f"{number}. {answer!r}" for number, answer in enumerate(unused, 1))
            )
    if check_awaited:
        unawaited = [op for op in state.history if op.is_coroutine and not op.awaited]
        if unawaited:
            problems.append(
                "Session coroutines created but never awaited:\n"
                + "\n".join(f"{op.describe_call()} called at {_where(op)}" for op in unawaited)
                + "\nAwait them, or set check_awaited = False on the test class."
            )
    return problems


def _where(operation: Operation) -> str:
    if operation.location is None:
        return "an unknown place"
    return f"{operation.location[0]}:{operation.location[1]}"


def _import_modules_of(parts: List[str]) -> None:
    # mock.patch reports a missing module as a missing attribute from Python 3.11 on: import
    # the path's modules first, so that every Python raises ModuleNotFoundError for them
    owner: Any = importlib.import_module(parts[0])
    for index in range(1, len(parts) - 1):
        owner = getattr(owner, parts[index], None) or importlib.import_module(
            ".".join(parts[: index + 1])
        )


def _event_loop_of_this_test(test: Any) -> asyncio.AbstractEventLoop:
    # IsolatedAsyncioTestCase creates the test's loop (in debug mode) before setUp() runs, and
    # keeps it in a private attribute: _asyncioRunner on 3.11+, _asyncioTestLoop before. The
    # public fallback, the current loop, is the same loop unless a loop_factory (3.13) is set.
    runner = getattr(test, "_asyncioRunner", None)
    if runner is not None:
        loop: asyncio.AbstractEventLoop = runner.get_loop()
        return loop
    if getattr(test, "_asyncioTestLoop", None) is not None:
        loop = test._asyncioTestLoop
        return loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop()


def _resolve_dialect(dialect: Any) -> Any:
    if dialect is None or isinstance(dialect, Dialect):
        return dialect
    if isinstance(dialect, str):
        from sqlalchemy.dialects import registry

        try:
            return registry.load(dialect)()
        except Exception as error:  # NoSuchModuleError, or a driver that is not installed
            raise ValueError(
                f"sql_dialect: no SQLAlchemy dialect named {dialect!r} ({error}); give a name "
                f"such as 'postgresql', 'mysql' or 'sqlite', or a dialect instance"
            ) from None
    raise TypeError(
        f"sql_dialect must be a dialect instance, a dialect name such as 'postgresql', or None; "
        f"got {dialect!r}"
    )


def _not_set_up_message(test_class: type) -> str:
    skipping: List[str] = []
    for klass in test_class.__mro__:
        if klass is AsyncSessionMixin:
            break
        if "setUp" in vars(klass):
            skipping.append(klass.__name__)
    culprit = " or ".join(f"{name}.setUp()" for name in skipping) or "a setUp()"
    return (
        f"self.session is not set up: {culprit} does not call super().setUp(), so "
        f"AsyncSessionMixin.setUp() never ran. Add super().setUp() to it "
        f"(first thing in the method, if setUp itself uses self.session)."
    )


class AsyncSessionTestCase(AsyncSessionMixin, unittest.IsolatedAsyncioTestCase):
    """An :class:`unittest.IsolatedAsyncioTestCase` whose tests each get a fresh ``self.session``.

    Example::

        class RenameUserTest(AsyncSessionTestCase):
            async def test_renames(self):
                user = User(id=5, name="old")
                self.addResult([user], statement=select(User).where(User.id == 5))

                await rename_user(self.session, 5, "new")

                self.assertEqual(user.name, "new")
                self.assertCommitted()

    See :class:`AsyncSessionMixin` for everything it adds.
    """
